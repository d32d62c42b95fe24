package taskdef

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// shape describes a JSON document's structure without its string values.
func shape(v any) string {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("{")
		for _, k := range keys {
			fmt.Fprintf(&b, "%q:%s,", k, shape(t[k]))
		}
		return b.String() + "}"
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = shape(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return "s"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// FuzzRenderVars proves that for arbitrary variable values the output is
// valid JSON with exactly the template's structure.
func FuzzRenderVars(f *testing.F) {
	for _, s := range []string{"info", `"}],"x":{"`, "{{ .Account }}", "@@IMAGE@@", "\x00\u2028\\", "</script>"} {
		f.Add(s, "flags")
	}
	legacy := readFile(f, "web.legacy.json")
	gotmpl := readFile(f, "web.gotmpl.json")
	base := sampleData()
	refLegacy := mustShape(f, legacy, base, true)
	refGo := mustShape(f, gotmpl, base, false)
	f.Fuzz(func(t *testing.T, level, flags string) {
		d := sampleData()
		d.Vars = map[string]string{"LOG_LEVEL": level, "FEATURE_FLAGS": flags}
		for _, tc := range []struct {
			tmpl   []byte
			legacy bool
			want   string
		}{{legacy, true, refLegacy}, {gotmpl, false, refGo}} {
			dd := d
			if tc.legacy {
				dd.Images = map[string]Image{"web": d.Images["web"]}
			}
			r, err := Render(tc.tmpl, dd, Options{Key: "fuzz", Roles: roles})
			if err != nil {
				t.Fatalf("Render with %q: %v", level, err)
			}
			var doc any
			if err := json.Unmarshal(r.JSON, &doc); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, r.JSON)
			}
			if got := shape(doc); got != tc.want {
				t.Fatalf("structure changed with %q:\n got %s\nwant %s", level, got, tc.want)
			}
		}
	})
}

// FuzzExecMatchesTextTemplate runs fuzzed placeholder strings through the
// evaluator and through text/template on the same data: the evaluator must
// not panic, and must give text/template's output or error message, or an
// unsupported error. It also compares renderer.execute with its
// text/template version (number, variable pre-checks, defaults).
func FuzzExecMatchesTextTemplate(f *testing.F) {
	for _, s := range append(append([]string{}, diffCases...), unsupportedCases...) {
		f.Add(s)
	}
	for _, tc := range hostileTemplates {
		f.Add(tc.placeholder)
	}
	for _, name := range []string{"web.gotmpl.json", "web.legacy.json"} {
		var doc any
		if err := json.Unmarshal(readFile(f, name), &doc); err != nil {
			f.Fatal(err)
		}
		for _, s := range stringsOf(doc) {
			if strings.Contains(s, "{{") {
				f.Add(s)
			}
		}
	}
	v := diffView(f)
	f.Fuzz(func(t *testing.T, s string) {
		if textTemplatePanics(s, v) {
			// Not ours to judge; ours still must not panic.
			_, _ = ourExec(s, v)
			return
		}
		if diff, _ := sameAsTextTemplate(s, v); diff != "" {
			t.Fatalf("%q\n%s", s, diff)
		}
		if diff, _ := sameExecuteAsTextTemplate(s, v); diff != "" {
			t.Fatalf("%q\n%s", s, diff)
		}
	})
}

// FuzzRenderBounded renders fuzzed placeholder strings inside a template:
// Render must not panic, what it accepts must fit a task definition, a
// placeholder whose text/template output would not fit must fail with
// ErrTooLarge, and no render may allocate more than renderAllocLimit, what
// the budget allows and then some (the class of {{ printf "%0999999d" 1 }}:
// a few bytes of template asking for gigabytes).
func FuzzRenderBounded(f *testing.F) {
	for _, tc := range hostileTemplates {
		f.Add(tc.placeholder)
	}
	for _, s := range []string{`{{ .Image }}`, `{{ printf "%05d-%s" 7 .Tag }}`, `{{ replace "." "-" .Tag }}`, `{{ print .Vars }}`} {
		f.Add(s)
	}
	d := hostileData(map[string]string{"big": strings.Repeat("b", 10000), "LOG_LEVEL": "info"})
	v, err := d.view()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			t.Skip("the bound is for small templates")
		}
		s = strings.ToValidUTF8(s, "\uFFFD") // what a JSON template can hold
		tmpl := hostileTemplate(s)
		var r *Rendered
		var err error
		got := allocated(1, func() { r, err = Render(tmpl, d, Options{Key: "fuzz", Roles: roles}) })
		if got > renderAllocLimit {
			t.Fatalf("%q: Render allocated %d bytes, over %d", s, got, renderAllocLimit)
		}
		if err == nil && len(r.JSON) > MaxSize {
			t.Fatalf("%q: accepted a %d-byte definition", s, len(r.JSON))
		}
		if textTemplatePanics(s, v) {
			return
		}
		if out, terr := textTemplateExec(s, v); terr == nil && len(out) > MaxSize && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%q: text/template writes %d bytes; Render says %v, want ErrTooLarge", s, len(out), err)
		}
	})
}

// renderAllocLimit is what FuzzRenderBounded lets one render of a small
// template allocate: the budget's 64 KiB of output and 256 KiB of function
// results, with room for copies and the JSON round trips.
const renderAllocLimit = 4 << 20

// textTemplatePanics reports whether text/template panics on s (a bug there
// would otherwise stop the fuzzer).
func textTemplatePanics(s string, data any) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	_, _ = textTemplateExec(s, data)
	return false
}

// stringsOf lists the string values of a JSON document.
func stringsOf(v any) []string {
	switch t := v.(type) {
	case map[string]any:
		var out []string
		for _, e := range t {
			out = append(out, stringsOf(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, stringsOf(e)...)
		}
		return out
	case string:
		return []string{t}
	}
	return nil
}

func readFile(f *testing.F, name string) []byte {
	b, err := readTestdataErr(name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func mustShape(f *testing.F, tmpl []byte, d Data, legacy bool) string {
	if legacy {
		d.Images = map[string]Image{"web": d.Images["web"]}
	}
	r, err := Render(tmpl, d, Options{Key: "ref", Roles: roles})
	if err != nil {
		f.Fatal(err)
	}
	var doc any
	_ = json.Unmarshal(r.JSON, &doc)
	return shape(doc)
}

func BenchmarkRender(b *testing.B) {
	tmpl, err := readTestdataErr("web.gotmpl.json")
	if err != nil {
		b.Fatal(err)
	}
	d := sampleData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(tmpl, d, Options{Key: "bench", Roles: roles}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzRenderPrivileges renders fuzzed templates (and a fuzzed variable)
// for a binding without allow: whatever Render accepts must not raise a
// container's privileges (DESIGN §9): no privileged container, no host
// network, PID or IPC namespace, no host path (volume, local bind or
// device), no added capability, and every container not bound in images:
// pulls from Deckhand's own registry. The checks here read the decoded
// definition on their own, apart from privilege.go.
func FuzzRenderPrivileges(f *testing.F) {
	own := Registry(acct, region) + "/"
	for _, s := range []string{
		`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}"}]}`,
		`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"s","image":"` + own + `s:1","privileged":true}]}`,
		`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}","Privileged":true}]}`,
		`{"family":"web","networkMode":"host","pidMode":"host","ipcMode":"host","containerDefinitions":[{"name":"web","image":"{{ .Image }}"}]}`,
		`{"family":"web","volumes":[{"name":"v","host":{"sourcePath":"/"}}],"containerDefinitions":[{"name":"web","image":"{{ .Image }}"}]}`,
		`{"family":"web","volumes":[{"name":"v","dockerVolumeConfiguration":{"driverOpts":{"device":"/etc","o":"bind"}}}],"containerDefinitions":[{"name":"web","image":"{{ .Image }}"}]}`,
		`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}","linuxParameters":{"capabilities":{"add":["SYS_ADMIN"]},"devices":[{"hostPath":"/dev/mem"}]}}]}`,
		`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"s","image":"{{ .Vars.X }}"}]}`,
		`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"s","image":"nginx"}]}`,
		`{"taskDefinition":{"family":"web","containerDefinitions":[{"name":"web","image":"evil.example.com/web"},{"name":"s","image":"` + own + `../../x"}]}}`,
	} {
		f.Add([]byte(s), "docker.io/library/nginx")
	}
	f.Add(readFile(f, "web.legacy.json"), own+"s:1")
	f.Fuzz(func(t *testing.T, tmpl []byte, x string) {
		d := sampleData()
		delete(d.Images, "proxy")
		d.Vars = map[string]string{"X": x, "LOG_LEVEL": "info", "FEATURE_FLAGS": "a"}
		r, err := Render(tmpl, d, Options{Key: "fuzz", Roles: roles})
		if err != nil {
			return
		}
		in := r.Input
		for _, mode := range []string{string(in.NetworkMode), string(in.PidMode), string(in.IpcMode)} {
			if mode == "host" {
				t.Fatalf("accepted a host namespace:\n%s", r.JSON)
			}
		}
		for _, v := range in.Volumes {
			if v.Host != nil && aws.ToString(v.Host.SourcePath) != "" || v.DockerVolumeConfiguration != nil && v.DockerVolumeConfiguration.DriverOpts["device"] != "" &&
				strings.HasPrefix(v.DockerVolumeConfiguration.DriverOpts["device"], "/") {
				t.Fatalf("accepted a host path:\n%s", r.JSON)
			}
		}
		for _, c := range in.ContainerDefinitions {
			if aws.ToBool(c.Privileged) {
				t.Fatalf("accepted a privileged container:\n%s", r.JSON)
			}
			if lp := c.LinuxParameters; lp != nil && (lp.Capabilities != nil && len(lp.Capabilities.Add) > 0 || len(lp.Devices) > 0) {
				t.Fatalf("accepted an added capability or a device:\n%s", r.JSON)
			}
			image := aws.ToString(c.Image)
			if img, bound := d.Images[aws.ToString(c.Name)]; bound {
				if uri, _ := img.URI(); image != uri {
					t.Fatalf("bound container %s runs %s, not Deckhand's %s", aws.ToString(c.Name), image, uri)
				}
				continue
			}
			if !strings.HasPrefix(image, own) {
				t.Fatalf("accepted image %q from outside %s:\n%s", image, own, r.JSON)
			}
		}
	})
}
