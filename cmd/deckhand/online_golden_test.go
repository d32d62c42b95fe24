package main

import (
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// TestOnlineGolden records the table and JSON output of diff, status and
// history against one sandbox story: web deployed twice by Deckhand, api
// held, a newer web image pushed, and a report run that failed.
func TestOnlineGolden(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.1.0", "--wait")
	w.push("proxy", "stable-2")
	mustRun(t, w, "deploy", "web", "--image", "proxy:stable-2", "--wait")
	mustRun(t, w, "hold", "api", "--reason", "incident 4711")
	w.push("web", "1.2.0")
	w.sb.ECS().ScriptImage(w.digests["report:1.0.0"], ecssim.TaskScript{RunFor: 20 * time.Second, ExitCode: 2})
	if r := deckhand(t, w.args("run", "nightly-report", "--wait")...); r.code != 2 {
		t.Fatalf("run: exit %d, want 2", r.code)
	}

	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"diff shows the decision and the change", []string{"diff", "web", "--image", "web:1.2.0"}, "diff-web.txt"},
		{"diff as JSON", []string{"diff", "web", "--image", "web:1.2.0", "-o", "json"}, "diff-web.json"},
		{"diff of an older image says SUPERSEDED and what --force would do", []string{"diff", "web", "--image", "web:1.0.0"}, "diff-web-older.txt"},
		{"diff of a held service says HELD", []string{"diff", "api", "--image", "api:2.0.0"}, "diff-api-held.txt"},
		{"status shows services and jobs", []string{"status"}, "status.txt"},
		{"status as JSON", []string{"status", "-o", "json"}, "status.json"},
		{"history lists Deckhand revisions", []string{"history", "web"}, "history-web.txt"},
		{"history as JSON", []string{"history", "web", "-o", "json"}, "history-web.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := deckhand(t, w.args(tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func mustRun(t *testing.T, w *world, args ...string) {
	t.Helper()
	if r := deckhand(t, w.args(args...)...); r.code != 0 {
		t.Fatalf("deckhand %v: exit %d\n%s", args, r.code, r.stderr)
	}
}
