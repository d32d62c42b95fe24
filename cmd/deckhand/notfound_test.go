package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// ghosts are bindings whose service, or cluster, does not exist.
const ghosts = `  - name: ghost
    cluster: prod
    service: ghost
    template: templates/web.json
    images:
      web:   { repository: web,   tags: "semver:>=1.0.0 <2.0.0" }
      proxy: { repository: proxy, tags: "glob:stable-*" }
  - name: lost
    cluster: nowhere
    service: web
    template: templates/web.json
    images:
      web:   { repository: web,   tags: "semver:>=1.0.0 <2.0.0" }
      proxy: { repository: proxy, tags: "glob:stable-*" }
`

func TestMissingServicesAndClustersExitNotFound(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	m := localManifest(t, ghosts)
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"status of a missing service says so and exits 3": {
			args: []string{"status", "ghost"}, wantCode: 3,
			wantStdout: `service "prod/ghost" not found`, wantStderr: `service "prod/ghost" not found`},
		"status of everything shows what exists and exits 3 for what does not": {
			args: []string{"status"}, wantCode: 3, wantStdout: "web:1", wantStderr: `cluster "nowhere" not found`},
		"status as JSON prints the document and exits 3": {
			args: []string{"status", "ghost", "-o", "json"}, wantCode: 3, wantStdout: `"error": "service \"prod/ghost\" not found`},
		"status of a service that exists exits 0": {
			args: []string{"status", "web"}, wantCode: 0, wantStdout: "web:1"},
		"deploy to a missing cluster names it and exits 3": {
			args: []string{"deploy", "lost", "--image", "web:1.1.0"}, wantCode: 3,
			wantStderr: `cluster "nowhere" not found; binding lost names it`},
		"diff against a missing cluster names it and exits 3": {
			args: []string{"diff", "lost", "--image", "web:1.1.0"}, wantCode: 3, wantStderr: `cluster "nowhere" not found`},
		"deploy to a missing service names it and exits 3": {
			args: []string{"deploy", "ghost", "--image", "web:1.1.0"}, wantCode: 3, wantStderr: `service "prod/ghost" not found`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := deckhand(t, w.argsWith(m, tc.args...)...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d", r.code, tc.wantCode)
			}
			if !strings.Contains(r.stdout, tc.wantStdout) {
				t.Errorf("stdout lacks %q", tc.wantStdout)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stderr lacks %q", tc.wantStderr)
			}
			if strings.Contains(r.stderr, "operation error") {
				t.Errorf("stderr shows a raw SDK error:\n%s", r.stderr)
			}
			if strings.HasSuffix(tc.args[len(tc.args)-1], "json") {
				var v any
				if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
					t.Errorf("stdout is not JSON: %v", err)
				}
			}
		})
	}
}

func TestAMissingLocalTemplateNamesItsPath(t *testing.T) {
	m := localManifest(t, `  - name: orphan
    cluster: prod
    service: orphan
    template: templates/missing.json
    images:
      web: { repository: web, tags: "semver:*" }
`)
	want := "read template " + filepath.Join(filepath.Dir(m), "templates", "missing.json") + ": no such file"
	r := deckhand(t, "render", "orphan", "--image", "web:1.1.0", "--manifest", m, "--region", "us-west-2")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q", want)
	}
}
