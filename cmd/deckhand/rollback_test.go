package main

import (
	"strings"
	"testing"

	dhrevision "github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

func TestRollbackGoesBackAndHolds(t *testing.T) {
	w := seed(t)
	first := w.push("web", "1.1.0")
	if r := deckhand(t, w.args("deploy", "web", "--image", "web:1.1.0", "--wait")...); r.code != 0 {
		t.Fatalf("deploy 1.1.0: exit %d", r.code)
	}
	w.push("web", "1.2.0")
	if r := deckhand(t, w.args("deploy", "web", "--image", "web:1.2.0", "--wait")...); r.code != 0 {
		t.Fatalf("deploy 1.2.0: exit %d", r.code)
	}

	r := deckhand(t, w.args("rollback", "web", "--wait")...)
	if r.code != 0 {
		t.Fatalf("rollback: exit %d, want 0", r.code)
	}
	for _, want := range []string{"web:3 -> web:2", "is now held", "verdict: SUCCEEDED"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("rollback output lacks %q", want)
		}
	}
	if got := w.image(t, "web", "web"); !strings.HasSuffix(got, "@"+first) {
		t.Errorf("after rollback web runs %s, want digest %s (1.1.0)", got, first)
	}
	svc := w.service(t, "web")
	if hold, ok := dhrevision.TagsOf(svc.Tags)[dhrevision.TagHold]; !ok || !strings.Contains(hold, "rollback to web:2") {
		t.Errorf("service hold tag = %q (present %v), want a rollback hold", hold, ok)
	}

	// The next push is HELD, and release lets it through.
	w.push("web", "1.3.0")
	if r := deckhand(t, w.args("deploy", "web", "--image", "web:1.3.0")...); r.code != 1 || !strings.Contains(r.stdout, "HELD") {
		t.Errorf("deploy while held: exit %d, want 1 and HELD", r.code)
	}
	if r := deckhand(t, w.args("release", "web")...); r.code != 0 || !strings.Contains(r.stdout, "released") {
		t.Errorf("release: exit %d", r.code)
	}
	if _, ok := dhrevision.TagsOf(w.service(t, "web").Tags)[dhrevision.TagHold]; ok {
		t.Errorf("hold tag still present after release")
	}
	if r := deckhand(t, w.args("deploy", "web", "--image", "web:1.3.0")...); r.code != 0 || !strings.Contains(r.stdout, "STARTED") {
		t.Errorf("deploy after release: exit %d, want 0 and STARTED", r.code)
	}
}

func TestRollbackWithoutEarlierRevision(t *testing.T) {
	w := seed(t)
	r := deckhand(t, w.args("rollback", "web")...)
	if r.code != 3 {
		t.Errorf("exit %d, want 3 (no earlier revision)", r.code)
	}
	if !strings.Contains(r.stderr, "deckhand history web") {
		t.Errorf("stderr does not say what to do next:\n%s", r.stderr)
	}
}

// TestRollbackAfterTheFirstDeployGoesToTheRevisionBefore checks that a
// rollback after Deckhand's first deploy goes back to the revision the
// service ran before it (one Deckhand did not register), holds the service
// and marks the digest it left.
func TestRollbackAfterTheFirstDeployGoesToTheRevisionBefore(t *testing.T) {
	w := seed(t)
	before := w.image(t, "web", "web")
	d := w.push("web", "1.1.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.1.0", "--wait")
	r := deckhand(t, w.args("rollback", "web", "--wait")...)
	if r.code != 0 {
		t.Fatalf("rollback: exit %d, want 0", r.code)
	}
	for _, want := range []string{"web:2 -> web:1", "web:1 is a revision Deckhand did not register", "is now held", "verdict: SUCCEEDED"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("rollback output lacks %q", want)
		}
	}
	if got := w.image(t, "web", "web"); got != before {
		t.Errorf("after the rollback web runs %s, want %s", got, before)
	}
	if got := dhrevision.TagsOf(w.service(t, "web").Tags)[dhrevision.TagRolledBack+"web"]; got != d {
		t.Errorf("rolled-back mark for web = %q, want the digest left, %s", got, d)
	}
}
