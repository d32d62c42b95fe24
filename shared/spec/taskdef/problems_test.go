package taskdef

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMistypedPlaceholdersListValidNames: a placeholder that names nothing
// fails with the names that were valid there and the closest one.
func TestMistypedPlaceholdersListValidNames(t *testing.T) {
	tests := map[string]struct {
		placeholder string
		want        []string
	}{
		"a misspelt field":                  {`{{ .Imgae }}`, []string{"there is no field .Imgae", ".Account, .Cluster", ".Tag and .Vars", "did you mean .Image?"}},
		"a field in the wrong case":         {`{{ .region }}`, []string{"did you mean .Region?"}},
		"a misspelt variable":               {`{{ .Vars.LOG_LEVL }}`, []string{`missing variable "LOG_LEVL"`, "the vars are FEATURE_FLAGS and LOG_LEVEL", "did you mean LOG_LEVEL?"}},
		"a misspelt variable through index": {`{{ index .Vars "LOG_LEVL" | upper }}x{{ .Nope }}`, []string{"the vars are FEATURE_FLAGS and LOG_LEVEL", "did you mean LOG_LEVEL?"}},
		"a misspelt legacy variable":        {`@@LOG_LEVL@@`, []string{"@@LOG_LEVL@@", "the vars are FEATURE_FLAGS and LOG_LEVEL", "did you mean LOG_LEVEL?"}},
		"a misspelt container":              {`{{ (index .Images "prxy").URI }}`, []string{"the containers with images are proxy and web", "did you mean proxy?"}},
		"a misspelt container as a field":   {`{{ .Images.prxy.URI }}`, []string{"the containers with images are proxy and web", "did you mean proxy?"}},
		"a misspelt image field":            {`{{ (index .Images "proxy").Uri }}`, []string{"an image has .Digest, .Registry, .Repository, .Tag and .URI", "did you mean .URI?"}},
		"a misspelt function":               {`{{ .Tag | uper }}`, []string{`function "uper" not defined`, "the functions are default, lower", "did you mean upper?"}},
		"a field of a string":               {`{{ .Account.Id }}`, []string{".Account is a string and has no field .Id"}},
		"after $":                           {`{{ with .Vars }}{{ $.Servce }}{{ end }}`, []string{"did you mean .Service?"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := sampleData()
			d.Vars = map[string]string{"LOG_LEVEL": "info", "FEATURE_FLAGS": "a"}
			tmpl := `{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}","command":["` + strings.ReplaceAll(tc.placeholder, `"`, `\"`) + `"]},{"name":"proxy","image":"x"}]}`
			_, err := Render([]byte(tmpl), d, Options{Key: "k", Roles: roles})
			var te *Error
			if !errors.As(err, &te) || te.Path != "$.containerDefinitions[0].command[0]" {
				t.Fatalf("err = %v, want one at $.containerDefinitions[0].command[0]", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(te.Error(), w) {
					t.Errorf("error %q lacks %q", te.Error(), w)
				}
			}
		})
	}
}

// TestEveryProblemIsReported renders a template with a problem of each
// kind: one run reports them all, each at its path.
func TestEveryProblemIsReported(t *testing.T) {
	tmpl := `{"family":"web","taskRoleArn":"arn:aws:iam::123456789012:role/admin",
	  "containerDefinitions":[
	    {"name":"web","image":"{{ .Image }}","environment":[{"name":"A","value":"{{ .Vars.NOPE }}"},{"name":"B","value":"{{ .Imgae }}"}]},
	    {"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}","privileged":true}]}`
	_, err := Render([]byte(tmpl), sampleData(), Options{Key: "k", Roles: roles})
	var got []string
	for _, p := range Problems(err) {
		got = append(got, p.Path)
		if p.Key != "k" {
			t.Errorf("problem %v has key %q", p, p.Key)
		}
	}
	want := []string{
		"$.containerDefinitions[0].environment[0].value", "$.containerDefinitions[0].environment[1].value",
		"$.taskRoleArn", "$.containerDefinitions[1].privileged",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
	if !errors.Is(err, ErrTemplate) {
		t.Errorf("errors.Is(err, ErrTemplate) is false for %v", err)
	}

	// Shape problems are all reported too; the definition cannot be
	// decoded past them.
	_, err = Render([]byte(`{"family":"web","colour":"blue","containerDefinitions":[{"name":"web","image":"{{ .Image }}","memory":"lots","size":1}]}`),
		func() Data { d := sampleData(); delete(d.Images, "proxy"); return d }(), Options{Key: "k"})
	got = nil
	for _, p := range Problems(err) {
		got = append(got, p.Path)
	}
	want = []string{"$.colour", "$.containerDefinitions[0].memory", "$.containerDefinitions[0].size"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shape problem paths (-want +got):\n%s", diff)
	}
}

// TestAFailedStringHidesOnlyItsConsequences: a placeholder that fails in
// the image of a container is one problem, not also "has no image"; one in
// the family is not also a bad family name.
func TestAFailedStringHidesOnlyItsConsequences(t *testing.T) {
	tmpl := `{"family":"{{ .Famly }}","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"side","image":"{{ .Imag }}"}]}`
	d := sampleData()
	delete(d.Images, "proxy")
	_, err := Render([]byte(tmpl), d, Options{Key: "k", Roles: roles})
	var got []string
	for _, p := range Problems(err) {
		got = append(got, p.Path)
	}
	if diff := cmp.Diff([]string{"$.containerDefinitions[1].image", "$.family"}, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
}
