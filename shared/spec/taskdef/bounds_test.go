package taskdef

import (
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// hostileTemplates are small templates whose placeholders ask for far more
// than a task definition may hold: each must fail with ErrTooLarge at the
// string's JSON path, without allocating what it asks for.
var hostileTemplates = map[string]struct {
	placeholder string
	vars        map[string]string
}{
	"printf with a huge width":                 {placeholder: `{{ printf "%0999999d" 1 }}`},
	"printf with a huge precision":             {placeholder: `{{ printf "%.999999f" 1.5 }}`},
	"printf with a huge width from an operand": {placeholder: `{{ printf "%*d" 999999 1 }}`},
	"printf repeating a large operand": {
		placeholder: `{{ printf "` + strings.Repeat("%[1]s", 200) + `" (printf "%060000d" 1) }}`,
	},
	"replace multiplying a string": {placeholder: `{{ replace "0" (printf "%0100d" 0) (printf "%060000d" 0) }}`},
	"discarded results adding up": {
		placeholder: strings.Repeat(`{{ if printf "%060000d" 1 }}{{ end }}`, 20),
	},
	"print of many large values": {
		placeholder: `{{ print ` + strings.Repeat(".Vars.big ", 10) + `}}`,
		vars:        map[string]string{"big": strings.Repeat("b", 10000)},
	},
	"a printed map of large values": {
		placeholder: strings.Repeat(`{{ .Vars }}`, 10),
		vars:        map[string]string{"big": strings.Repeat("b", 10000)},
	},
	"upper of a value grown by printf": {placeholder: `{{ upper (printf "%-60000s" "x") }}{{ upper (printf "%-60000s" "x") }}`},
}

// hostileTemplate is a template whose only command string is placeholder.
func hostileTemplate(placeholder string) []byte {
	q, _ := json.Marshal(placeholder)
	return []byte(`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}","command":[` + string(q) + `]}]}`)
}

func hostileData(vars map[string]string) Data {
	d := sampleData()
	delete(d.Images, "proxy")
	d.Vars = vars
	return d
}

// TestHostileTemplatesFailFast renders each hostile template: it must fail
// with ErrTooLarge, located at the offending string.
func TestHostileTemplatesFailFast(t *testing.T) {
	for name, tc := range hostileTemplates {
		t.Run(name, func(t *testing.T) {
			tmpl := hostileTemplate(tc.placeholder)
			if len(tmpl) > 2048 {
				t.Fatalf("the template is %d bytes; a hostile one here is small", len(tmpl))
			}
			_, err := Render(tmpl, hostileData(tc.vars), Options{Key: "k", Roles: roles})
			var te *Error
			if !errors.Is(err, ErrTooLarge) || !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *taskdef.Error wrapping ErrTooLarge", err)
			}
			if te.Path != "$.containerDefinitions[0].command[0]" {
				t.Errorf("path = %q, want the offending string's", te.Path)
			}
		})
	}
	big := append([]byte(`{"family":"web","x":"`), make([]byte, MaxTemplateSize)...)
	if _, err := Render(big, sampleData(), Options{Key: "k"}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a template over MaxTemplateSize: err = %v, want ErrTooLarge", err)
	}
}

// allocated returns the bytes f allocates, over n runs.
func allocated(n int, f func()) uint64 {
	f() // warm up: lazily built tables are not the render's
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

// TestHostileTemplatesAllocateLittle holds the bound: a hostile template
// allocates at most a small multiple of what rendering the example web
// template does (before the bound, "printf with a huge width" alone
// allocated over a megabyte per placeholder, and "replace multiplying a
// string" six).
func TestHostileTemplatesAllocateLittle(t *testing.T) {
	normal := readTestdata(t, "web.gotmpl.json")
	base := allocated(20, func() {
		if _, err := Render(normal, sampleData(), Options{Key: "k", Roles: roles}); err != nil {
			t.Fatal(err)
		}
	})
	const most = 32 // the budget lets one template's functions produce 256 KiB; a normal render takes about 40 KiB
	for name, tc := range hostileTemplates {
		got := allocated(5, func() {
			_, _ = Render(hostileTemplate(tc.placeholder), hostileData(tc.vars), Options{Key: "k", Roles: roles})
		})
		if got > most*base {
			t.Errorf("%s: allocates %d bytes, %.0f times a normal render (%d); want at most %d times", name, got, float64(got)/float64(base), base, most)
		}
	}
}

// BenchmarkRenderHostile reports what the worst of hostileTemplates
// allocates per render as a ratio to the web template's render, measured
// in the same run (BENCHMARKS.md's rule: goals are ratios).
func BenchmarkRenderHostile(b *testing.B) {
	normal, err := readTestdataErr("web.gotmpl.json")
	if err != nil {
		b.Fatal(err)
	}
	base := allocated(20, func() { _, _ = Render(normal, sampleData(), Options{Key: "k", Roles: roles}) })
	worst, worstName := uint64(0), ""
	for name, tc := range hostileTemplates {
		if got := allocated(3, func() {
			_, _ = Render(hostileTemplate(tc.placeholder), hostileData(tc.vars), Options{Key: "k", Roles: roles})
		}); got > worst {
			worst, worstName = got, name
		}
	}
	tc := hostileTemplates[worstName]
	tmpl, data := hostileTemplate(tc.placeholder), hostileData(tc.vars)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(tmpl, data, Options{Key: "k", Roles: roles}); !errors.Is(err, ErrTooLarge) {
			b.Fatalf("%s: err = %v, want ErrTooLarge", worstName, err)
		}
	}
	b.ReportMetric(float64(worst)/float64(base), "x-normal-alloc")
	b.ReportMetric(float64(base), "normal-B/op")
}
