package taskdef

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
)

// TestBoundContainersGetDeckhandsImage renders the shape `aws ecs
// describe-task-definition` prints, unchanged, as a template: the container
// bound in images: runs the image Deckhand resolved (pinned by digest), not
// the literal one, and an unbound container keeps what the template says.
func TestBoundContainersGetDeckhandsImage(t *testing.T) {
	described, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "..", "shared", "fixtures", "templates", "describe-task-definition-output.json"))
	if err != nil { // outside the workspace: the same file, kept beside the tests
		described = readTestdata(t, "describe-task-definition-output.json")
	}
	pushed := Image{Registry: Registry(acct, region), Repository: "report", Tag: "2026.12.0", Digest: webSHA}
	tests := map[string]struct {
		images map[string]Image
		want   map[string]string // container → image
	}{
		"a bound container's literal image is replaced by the pushed digest": {
			images: map[string]Image{"report": pushed},
			want:   map[string]string{"report": Registry(acct, region) + "/report@" + webSHA},
		},
		"without images: the literal image runs as written": {
			want: map[string]string{"report": "123456789012.dkr.ecr.us-west-2.amazonaws.com/report:2026.11.1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := Render(described, Data{Account: acct, Region: region, Cluster: "prod", Images: tc.images},
				Options{Key: "described.json", Roles: roles})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got := map[string]string{}
			for _, c := range r.Input.ContainerDefinitions {
				got[aws.ToString(c.Name)] = aws.ToString(c.Image)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("images (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBoundImageWinsOverAnyTemplateImage checks the other forms a template
// may give a bound container: a tag-based placeholder and another image
// altogether both become the resolved image, and a bound container whose
// image is unresolved fails at its path instead of keeping the literal.
func TestBoundImageWinsOverAnyTemplateImage(t *testing.T) {
	d := sampleData()
	want := map[string]string{"web": Registry(acct, region) + "/web@" + webSHA, "proxy": Registry(acct, region) + "/proxy@" + pxySHA}
	tmpl := `{"family":"web","containerDefinitions":[
		{"name":"web","image":"{{ .Registry }}/{{ .Repository }}:{{ .Tag }}"},
		{"name":"proxy","image":"nginx:latest"}]}`
	r, err := Render([]byte(tmpl), d, Options{Key: "k", Roles: roles})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	got := map[string]string{}
	for _, c := range r.Input.ContainerDefinitions {
		got[aws.ToString(c.Name)] = aws.ToString(c.Image)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	d.Images["proxy"] = Image{Repository: "proxy", Tag: "stable-3"} // no digest
	_, err = Render([]byte(tmpl), d, Options{Key: "k", Roles: roles})
	if te := (*Error)(nil); !errors.As(err, &te) || te.Path != "$.containerDefinitions[1].image" {
		t.Errorf("an unresolved bound image: err = %v, want one at $.containerDefinitions[1].image", err)
	}
}
