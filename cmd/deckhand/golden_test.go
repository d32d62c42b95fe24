package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// volatile are values that differ between runs, with what they become.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(manual|rollback)-[0-9]{6,}`), "$1-<id>"},
	{regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`), "http://127.0.0.1:<port>"},
	{regexp.MustCompile(`(templates/[A-Za-z0-9_.-]+\.json)@[^"\s]+`), "$1@<version>"},
	// ECS service events name tasks and deployments, numbered in the order
	// the services were created (a map's order in seed).
	{regexp.MustCompile(`\(task [0-9a-f]{32}\)`), "(task <id>)"},
	{regexp.MustCompile(`ecs-svc/[0-9]{19}`), "ecs-svc/<id>"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uuid>"},
}

func normalise(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// golden compares got with testdata/<name>: JSON files after parsing, text
// line by line, both with volatile values normalised. -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got = normalise(got)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	want := normalise(string(raw))
	if strings.HasSuffix(name, ".json") {
		var w, g any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatalf("golden %s: %v", name, err)
		}
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, got)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
		}
		return
	}
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestOfflineGolden(t *testing.T) {
	example := filepath.Join(examples, "deckhand.yaml")
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := map[string]struct {
		args     []string
		wantCode int
		golden   string
	}{
		"validate says a valid manifest is ok": {
			args: []string{"validate", "--manifest", example}, golden: "validate-ok.txt"},
		"validate lists every problem and exits 1": {
			args: []string{"validate", "--manifest", "testdata/bad/deckhand.yaml"}, wantCode: 1, golden: "validate-bad.txt"},
		"validate lists every problem as JSON": {
			args: []string{"validate", "--manifest", "testdata/bad/deckhand.yaml", "-o", "json"}, wantCode: 1, golden: "validate-bad.json"},
		"validate warns on literal secrets and still passes": {
			args: []string{"validate", "--manifest", "testdata/warn/deckhand.yaml"}, golden: "validate-warn.txt"},
		"render prints the task definition of a binding": {
			args: []string{"render", "web", "--manifest", example, "--image", "web:1.4.0", "--digest", digest, "--region", "us-west-2"}, golden: "render-web.txt"},
		"render describes the rendering as JSON": {
			args: []string{"render", "web", "--manifest", example, "--image", "web@" + digest, "--image", "proxy:stable-2", "--var", "FEATURE_FLAGS=beta", "--region", "us-west-2", "-o", "json"}, golden: "render-web.json"},
		"render renders a job": {
			args: []string{"render", "nightly-report", "--manifest", example, "--image", "report:1.2.0", "--region", "eu-central-1"}, golden: "render-job.txt"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := deckhand(t, tc.args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.wantCode, r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func TestExitCodes(t *testing.T) {
	example := filepath.Join(examples, "deckhand.yaml")
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		"an unknown binding exits 3 and lists the known ones": {
			args: []string{"render", "nope", "--manifest", example, "--image", "web:1.0.0"}, wantCode: 3,
			wantStderr: `binding or job "nope" not found; known bindings and jobs: web, api, worker, checkout, search, nightly-report (job), cache-warm (job)`},
		"an unknown flag exits 2": {
			args: []string{"render", "web", "--bogus"}, wantCode: 2, wantStderr: "unknown flag: --bogus"},
		"a missing argument exits 2": {
			args: []string{"render", "--manifest", example}, wantCode: 2, wantStderr: "render: want one binding or job name, got 0 argument(s)"},
		"an image of another repository exits 2": {
			args: []string{"render", "web", "--manifest", example, "--image", "api:2.0.0"}, wantCode: 2,
			wantStderr: "web has no container from repository api; its repositories: proxy, web"},
		"a tag outside the policy exits 2": {
			args: []string{"render", "web", "--manifest", example, "--image", "web:3.0.0"}, wantCode: 2,
			wantStderr: `tag 3.0.0 does not match web's policy "semver:>=1.0.0 <2.0.0" for container web`},
		"a bad output format exits 2": {
			args: []string{"validate", "--manifest", example, "-o", "yaml"}, wantCode: 2, wantStderr: `--output "yaml": want text or json`},
		"a missing manifest exits 1": {
			args: []string{"validate", "--manifest", "testdata/none.yaml"}, wantCode: 1, wantStderr: "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := deckhand(t, tc.args...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d", r.code, tc.wantCode)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, r.stderr)
			}
		})
	}
}

func TestEveryCommandHasAnExample(t *testing.T) {
	a := &app{getenv: func(string) string { return "" }, http: http.DefaultClient}
	for _, c := range a.root().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Example == "" {
			t.Errorf("deckhand %s --help has no example", c.Name())
		}
	}
}
