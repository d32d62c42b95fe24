package main

import (
	"strings"
	"testing"
)

func TestDeployWaitSucceeds(t *testing.T) {
	w := seed(t)
	d := w.push("web", "1.1.0")
	r := deckhand(t, w.args("deploy", "web", "--image", "web:1.1.0", "--wait")...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if !strings.Contains(r.stdout, "verdict: SUCCEEDED") {
		t.Errorf("stdout lacks the SUCCEEDED verdict:\n%s", r.stdout)
	}
	if got := w.image(t, "web", "web"); !strings.HasSuffix(got, "@"+d) {
		t.Errorf("web runs %s, want digest %s", got, d)
	}
}

func TestDeployWaitRolledBack(t *testing.T) {
	w := seed(t)
	before := w.image(t, "web", "web")
	d := w.push("web", "1.2.0")
	w.sb.ECS().SetImageHealth(d, false)
	r := deckhand(t, w.args("deploy", "web", "--image", "web:1.2.0", "--wait")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 for a rolled-back deployment", r.code)
	}
	if !strings.Contains(r.stdout, "verdict: ROLLED_BACK") {
		t.Errorf("stdout lacks the ROLLED_BACK verdict:\n%s", r.stdout)
	}
	w.sb.Clock().Advance(120e9)
	if got := w.image(t, "web", "web"); got != before {
		t.Errorf("after the rollback web runs %s, want %s", got, before)
	}
}
