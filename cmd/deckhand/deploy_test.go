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

func TestDeployRefusals(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	if r := deckhand(t, w.args("deploy", "web", "--image", "web:1.1.0")...); r.code != 0 {
		t.Fatalf("deploy 1.1.0: exit %d", r.code)
	}
	tests := map[string]struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		"an older image is refused as SUPERSEDED": {
			args: []string{"deploy", "web", "--image", "web:1.0.0"}, wantCode: 1, wantOut: "SUPERSEDED"},
		"the same image again is ALREADY_DEPLOYED": {
			args: []string{"deploy", "web", "--image", "web:1.1.0"}, wantCode: 0, wantOut: "ALREADY_DEPLOYED"},
		"an image that was never pushed is not found": {
			args: []string{"deploy", "web", "--image", "web:1.9.9"}, wantCode: 3},
		"an unknown binding is not found": {
			args: []string{"deploy", "nope", "--image", "web:1.1.0"}, wantCode: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := deckhand(t, w.args(tc.args...)...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d", r.code, tc.wantCode)
			}
			if !strings.Contains(r.stdout, tc.wantOut) {
				t.Errorf("stdout lacks %q", tc.wantOut)
			}
		})
	}
	// --force deploys the older image on purpose.
	if r := deckhand(t, w.args("deploy", "web", "--image", "web:1.0.0", "--force")...); r.code != 0 || !strings.Contains(r.stdout, "STARTED") {
		t.Errorf("deploy --force of an older image: exit %d, want 0 and STARTED", r.code)
	}
}
