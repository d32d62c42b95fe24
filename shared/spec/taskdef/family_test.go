package taskdef

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestFamilyIsTheFamilyRenderNames(t *testing.T) {
	tests := map[string]struct {
		template string
		mutate   func(*Data)
	}{
		"a literal family":                      {template: `{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}"}]}`},
		"a family from the service":             {template: `{"family":"{{ .Service }}-{{ .Cluster }}","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}"}]}`},
		"a family from a variable":              {template: `{"family":"{{ .Vars.LOG_LEVEL }}","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}"}]}`},
		"a legacy family":                       {template: `{"family":"@@SERVICE@@","containerDefinitions":[{"name":"web","image":"@@IMAGE@@"},{"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}"}]}`},
		"the describe-task-definition wrapper":  {template: `{"taskDefinition":{"family":"{{ .Service }}","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}"}]}}`},
		"a family from the primary image's tag": {template: `{"family":"web-{{ .Tag | replace \".\" \"-\" }}","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}"}]}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := sampleData()
			r, err := Render([]byte(tc.template), d, Options{Key: "t.json"})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got, err := Family([]byte(tc.template), d)
			if err != nil {
				t.Fatalf("Family: %v", err)
			}
			if want := aws.ToString(r.Input.Family); got != want {
				t.Errorf("Family = %q, Render's family = %q", got, want)
			}
		})
	}
}

func TestFamilyNeedsOnlyWhatTheFamilyNames(t *testing.T) {
	d := sampleData()
	delete(d.Images, "proxy") // the other container's image comes from the running revision, later
	tmpl := readTestdata(t, "web.gotmpl.json")
	if _, err := Render(tmpl, d, Options{Key: "web", Roles: roles}); err == nil {
		t.Fatal("Render succeeded without the proxy's image: the test no longer shows that Family needs less")
	}
	got, err := Family(tmpl, d)
	if err != nil || got != "web" {
		t.Errorf("Family = %q, %v; want web", got, err)
	}
}

func TestFamilyErrors(t *testing.T) {
	tests := map[string]struct {
		template string
		want     string
	}{
		"no family":                {`{"containerDefinitions":[]}`, "$.family: not a string"},
		"a number":                 {`{"family":3}`, "$.family: not a string"},
		"a missing variable":       {`{"family":"{{ .Vars.NOPE }}"}`, "$.family"},
		"a family rendering empty": {`{"family":"{{ if false }}x{{ end }}"}`, "not a name"},
		"not JSON":                 {`{"family":`, "invalid JSON"},
		"not an object":            {`["web"]`, "a JSON object"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Family([]byte(tc.template), sampleData())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Family error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
