package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// writeFiles writes name → content under a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// describedTemplate is the describe-task-definition fixture: a template
// with a literal image for its one container.
func describedTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "spec", "taskdef", "testdata", "describe-task-definition-output.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRenderShowsTheBoundImage renders a binding whose template is a
// described task definition: `deckhand render` must show the image given,
// pinned by digest, not the literal one the template carries (what deploy
// registers is the same rendering).
func TestRenderShowsTheBoundImage(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"deckhand.yaml": `version: 1
roles: [arn:aws:iam::123456789012:role/report-execution]
services:
  - name: report
    cluster: prod
    service: report
    template: templates/report.json
    images: { report: { repository: report, tags: "semver:*" } }
`,
		"templates/report.json": describedTemplate(t),
	})
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	res, err := Render(context.Background(), store.Dir{ManifestPath: filepath.Join(dir, "deckhand.yaml")}, RenderRequest{
		Name: "report", Account: "123456789012", Region: "us-west-2",
		Images: []Resolved{{Image: taskdef.Image{Repository: "report", Tag: "2026.12.0", Digest: digest}}},
	})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	want := "123456789012.dkr.ecr.us-west-2.amazonaws.com/report@" + digest
	if got := aws.ToString(res.Rendered.Input.ContainerDefinitions[0].Image); got != want {
		t.Errorf("rendered image = %s, want %s (the template's literal image would deploy nothing new)", got, want)
	}
}
