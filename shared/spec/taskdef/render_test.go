package taskdef

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	acct   = "123456789012"
	region = "us-west-2"
	webSHA = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678"
	pxySHA = "sha256:9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
)

var roles = []string{
	"arn:aws:iam::123456789012:role/web-task",
	"arn:aws:iam::123456789012:role/web-execution",
	"arn:aws:iam::123456789012:role/report-execution",
}

func sampleData() Data {
	reg := Registry(acct, region)
	return Data{
		Account: acct, Region: region, Cluster: "prod", Service: "web",
		Primary: "web",
		Images: map[string]Image{
			"web":   {Registry: reg, Repository: "web", Tag: "1.4.0", Digest: webSHA},
			"proxy": {Registry: reg, Repository: "proxy", Tag: "stable-3", Digest: pxySHA},
		},
		Vars: map[string]string{"LOG_LEVEL": "info"},
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGolden renders every fixture and compares it, parsed, with its golden
// file. Refresh with `go test ./shared/spec/taskdef -update`.
func TestGolden(t *testing.T) {
	tests := map[string]struct {
		template string
		data     func() Data
	}{
		"the Go-template form with two containers": {"web.gotmpl.json", sampleData},
		"the seeds' legacy @@ form": {"web.legacy.json", func() Data {
			d := sampleData()
			delete(d.Images, "proxy")
			return d
		}},
		"describe-task-definition output is stripped": {"describe-task-definition-output.json", func() Data {
			return Data{Account: acct, Region: region, Cluster: "prod"}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := Render(readTestdata(t, tc.template), tc.data(), Options{Key: tc.template, Roles: roles})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(tc.template, ".json")+".golden")
			var pretty any
			if err := json.Unmarshal(r.JSON, &pretty); err != nil {
				t.Fatal(err)
			}
			if *update {
				b, _ := json.MarshalIndent(pretty, "", "  ")
				if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var want any
			if err := json.Unmarshal(readTestdata(t, filepath.Base(golden)), &want); err != nil {
				t.Fatalf("golden %s: %v (run with -update)", golden, err)
			}
			if diff := cmp.Diff(want, pretty); diff != "" {
				t.Errorf("rendered %s (-want +got):\n%s", tc.template, diff)
			}
		})
	}
}

func TestRenderPinsDigestAndKeepsTag(t *testing.T) {
	r, err := Render(readTestdata(t, "web.gotmpl.json"), sampleData(), Options{Key: "web", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Input.ContainerDefinitions
	if got, want := *c[0].Image, Registry(acct, region)+"/web@"+webSHA; got != want {
		t.Errorf("web image = %s, want %s", got, want)
	}
	if got, want := *c[1].Image, Registry(acct, region)+"/proxy@"+pxySHA; got != want {
		t.Errorf("proxy image = %s, want %s", got, want)
	}
	if got := *c[0].Environment[0].Value; got != "1.4.0" {
		t.Errorf("APP_VERSION = %s, want the tag 1.4.0", got)
	}
	if got := *c[0].Environment[1].Value; got != "none" {
		t.Errorf("FEATURE_FLAGS = %q, want the default none", got)
	}
	if len(r.Hash) != 64 {
		t.Errorf("hash %q is not hex sha256", r.Hash)
	}
	again, _ := Render(readTestdata(t, "web.gotmpl.json"), sampleData(), Options{Key: "web", Roles: roles})
	if again.Hash != r.Hash {
		t.Error("rendering twice gave different hashes")
	}
	d := sampleData()
	d.Images["web"] = Image{Registry: Registry(acct, region), Repository: "web", Tag: "1.5.0", Digest: pxySHA}
	other, _ := Render(readTestdata(t, "web.gotmpl.json"), d, Options{Key: "web", Roles: roles})
	if other.Hash == r.Hash {
		t.Error("a new digest did not change the content hash")
	}
}

func TestNumberWholeValue(t *testing.T) {
	tmpl := `{"family":"w","cpu":"{{ .Vars.cpu }}","memory":"1024","containerDefinitions":[{"name":"w","image":"{{ .Image }}","memory":"{{ .Vars.mem | number }}"}]}`
	d := sampleData()
	d.Images = map[string]Image{"w": d.Images["web"]}
	d.Primary = "w"
	d.Vars = map[string]string{"cpu": "512", "mem": "256"}
	r, err := Render([]byte(tmpl), d, Options{Key: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Input.ContainerDefinitions[0].Memory; got == nil || *got != 256 {
		t.Errorf("memory = %v, want 256", got)
	}
	if !strings.Contains(string(r.JSON), `"memory":256`) {
		t.Errorf("JSON does not carry memory as a number: %s", r.JSON)
	}
}

func TestInjectionCannotChangeStructure(t *testing.T) {
	d := sampleData()
	d.Vars = map[string]string{"LOG_LEVEL": `info"}],"taskRoleArn":"arn:aws:iam::999999999999:role/admin","x":[{"a":"`}
	r, err := Render(readTestdata(t, "web.legacy.json"), func() Data { delete(d.Images, "proxy"); return d }(), Options{Key: "web", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	if got := *r.Input.TaskRoleArn; got != "arn:aws:iam::123456789012:role/web-task" {
		t.Errorf("taskRoleArn = %s: a variable changed the structure", got)
	}
	if got := *r.Input.ContainerDefinitions[0].Environment[1].Value; got != d.Vars["LOG_LEVEL"] {
		t.Errorf("LOG_LEVEL value = %q, want the raw variable", got)
	}
}

func TestErrors(t *testing.T) {
	container := `{"name":"web","image":"{{ .Image }}"}`
	td := func(extra string) string {
		return `{"family":"web",` + extra + `"containerDefinitions":[` + container + `]}`
	}
	many := strings.TrimSuffix(strings.Repeat(`{"name":"c%d","image":"x"},`, 11), ",")
	for i := 0; i < 11; i++ {
		many = strings.Replace(many, "%d", string(rune('a'+i)), 1)
	}
	tests := map[string]struct {
		tmpl     string
		data     func(d *Data)
		wantPath string
		wantMsg  string
	}{
		"invalid JSON names line and column": {
			tmpl: "{\n  \"family\": \"web\",\n  oops\n}", wantMsg: "line 3, column 3",
		},
		"an unknown placeholder field": {
			tmpl: td(`"cpu":"{{ .Nope }}",`), wantPath: "$.cpu", wantMsg: "can't evaluate field Nope",
		},
		"an unknown function": {
			tmpl: td(`"cpu":"{{ .Vars.X | shout }}",`), wantPath: "$.cpu", wantMsg: `function "shout" not defined`,
		},
		"a missing variable": {
			tmpl: td(`"cpu":"{{ .Vars.CPU }}",`), wantPath: "$.cpu", wantMsg: `missing variable "CPU"`,
		},
		"a missing legacy variable": {
			tmpl: td(`"cpu":"@@CPU@@",`), wantPath: "$.cpu", wantMsg: "@@CPU@@",
		},
		"an unknown field": {
			tmpl: `{"family":"web","containerDefinitions":[{"name":"web","image":"x","colour":"blue"}]}`, wantPath: "$.containerDefinitions[0].colour", wantMsg: "unknown field",
		},
		"a wrong type": {
			tmpl: `{"family":"web","containerDefinitions":[{"name":"web","image":"x","memory":"lots"}]}`, wantPath: "$.containerDefinitions[0].memory", wantMsg: "want an integer",
		},
		"a role outside the allow-list": {
			tmpl: td(`"taskRoleArn":"arn:aws:iam::123456789012:role/admin",`), wantPath: "$.taskRoleArn", wantMsg: "not in the manifest's roles",
		},
		"more than ten containers": {
			tmpl: `{"family":"web","containerDefinitions":[` + many + `]}`, data: func(d *Data) { d.Images = nil; d.Primary = "" }, wantPath: "$.containerDefinitions", wantMsg: "at most 10",
		},
		"an oversize string fails where it is": {
			tmpl: td(`"cpu":"` + strings.Repeat("x", MaxSize) + `",`), wantPath: "$.cpu", wantMsg: "strings are larger than a task definition may be: at most 65536",
		},
		"an oversize definition once encoded": {
			tmpl: td(`"cpu":"` + strings.Repeat(`\u0001`, MaxSize/4) + `",`), wantPath: "$", wantMsg: "at most 65536",
		},
		"a bad family name": {
			tmpl: `{"family":"web app","containerDefinitions":[` + container + `]}`, wantPath: "$.family", wantMsg: "family",
		},
		"a family name longer than 255": {
			tmpl: `{"family":"` + strings.Repeat("f", 256) + `","containerDefinitions":[` + container + `]}`, wantPath: "$.family", wantMsg: "family",
		},
		"invalid Fargate cpu and memory": {
			tmpl: td(`"networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"4096",`), wantPath: "$.cpu", wantMsg: "not valid with cpu 256",
		},
		"Fargate without awsvpc": {
			tmpl: td(`"requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512",`), wantPath: "$.networkMode", wantMsg: "only networkMode awsvpc",
		},
		"an images entry for a container the template lacks": {
			tmpl: td(""), data: func(d *Data) {}, wantPath: "$.containerDefinitions", wantMsg: `container "proxy" is not in the template`,
		},
		"number used inside a larger string": {
			tmpl: td(`"cpu":"x{{ .Vars.LOG_LEVEL | number }}",`), wantPath: "$.cpu", wantMsg: "must be the whole value",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := sampleData()
			if tc.data != nil {
				tc.data(&d)
			} else {
				delete(d.Images, "proxy")
			}
			_, err := Render([]byte(tc.tmpl), d, Options{Key: "templates/web.json", Roles: roles})
			var te *Error
			if !errors.As(err, &te) || !errors.Is(err, ErrTemplate) {
				t.Fatalf("err = %v, want *taskdef.Error", err)
			}
			if te.Key != "templates/web.json" || te.Path != tc.wantPath || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v (path %q)\nwant key templates/web.json, path %q, message containing %q", err, te.Path, tc.wantPath, tc.wantMsg)
			}
		})
	}
}

func readTestdataErr(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}
