package main

import (
	"strings"
	"testing"

	dhrevision "github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// TestHoldKeepsTheFirstReason checks the hold policy: a second hold with
// another reason is refused and keeps the first, unless --force; the same
// hold again, or a hold without a reason, is a no-op.
func TestHoldKeepsTheFirstReason(t *testing.T) {
	w := seed(t)
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
		wantHold   string
	}{
		{"the first hold holds", []string{"hold", "web", "--reason", "incident 4711"}, 0, "is held: incident 4711", "", "incident 4711"},
		{"the same hold again changes nothing", []string{"hold", "web", "--reason", "incident 4711"}, 0, "was already held: incident 4711", "", "incident 4711"},
		{"a hold without a reason keeps the reason", []string{"hold", "web"}, 0, "was already held: incident 4711", "", "incident 4711"},
		{"another reason is refused and keeps the first", []string{"hold", "web", "--reason", "release freeze"}, 1, "",
			"web (prod/web) is already held: incident 4711; pass --force to replace the reason", "incident 4711"},
		{"--force replaces the reason", []string{"hold", "web", "--reason", "release freeze", "--force"}, 0,
			"is held: release freeze (it was: incident 4711)", "", "release freeze"},
	}
	for _, s := range steps {
		r := deckhand(t, w.args(s.args...)...)
		if r.code != s.wantCode {
			t.Errorf("%s: exit %d, want %d", s.name, r.code, s.wantCode)
		}
		if !strings.Contains(r.stdout, s.wantStdout) {
			t.Errorf("%s: stdout lacks %q", s.name, s.wantStdout)
		}
		if !strings.Contains(r.stderr, s.wantStderr) {
			t.Errorf("%s: stderr lacks %q", s.name, s.wantStderr)
		}
		if got := dhrevision.TagsOf(w.service(t, "web").Tags)[dhrevision.TagHold]; got != s.wantHold {
			t.Errorf("%s: hold tag %q, want %q", s.name, got, s.wantHold)
		}
	}
}

// TestRollbackKeepsAnEarlierHold checks that a rollback of a held service
// keeps the hold it found, and says so.
func TestRollbackKeepsAnEarlierHold(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.1.0", "--wait")
	w.push("web", "1.2.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.2.0", "--wait")
	mustRun(t, w, "hold", "web", "--reason", "incident 4711")
	r := deckhand(t, w.args("rollback", "web")...)
	if r.code != 0 {
		t.Fatalf("rollback: exit %d, want 0", r.code)
	}
	if !strings.Contains(r.stdout, "web was already held (incident 4711)") {
		t.Errorf("rollback output does not say the hold was kept:\n%s", r.stdout)
	}
	if got := dhrevision.TagsOf(w.service(t, "web").Tags)[dhrevision.TagHold]; got != "incident 4711" {
		t.Errorf("hold tag %q, want the earlier hold kept", got)
	}
}
