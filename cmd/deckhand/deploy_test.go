package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
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

// TestDeployWaitShowsTheStepsOfALinearDeployment: --wait shows the
// strategy, the traffic and the step as ECS shifts them, live.
func TestDeployWaitShowsTheStepsOfALinearDeployment(t *testing.T) {
	w := seed(t)
	w.push("search", "1.1.0")
	r := deckhand(t, w.args("deploy", "search", "--image", "search:1.1.0", "--wait")...)
	if r.code != 0 || !strings.Contains(r.stdout, "verdict: SUCCEEDED") {
		t.Fatalf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
	for _, step := range []string{"LINEAR 25% (step 1/4)", "LINEAR 50% (step 2/4)", "LINEAR 75% (step 3/4)", "LINEAR 100% (step 4/4) BAKE_TIME, bake"} {
		if !strings.Contains(r.stderr, step) {
			t.Errorf("the live progress lacks %q:\n%s", step, r.stderr)
		}
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

// TestDeployDryRunIsDiff checks that deploy --dry-run prints what diff
// prints for the same flags, and writes nothing.
func TestDeployDryRunIsDiff(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	mustRun(t, w, "hold", "api", "--reason", "incident 4711")
	tests := map[string][]string{
		"a deploy":                 {"web", "--image", "web:1.1.0"},
		"a forced deploy":          {"web", "--image", "web:1.0.0", "--force"},
		"a held service":           {"api", "--image", "api:2.0.0"},
		"a deploy as JSON":         {"web", "--image", "web:1.1.0", "-o", "json"},
		"a deploy with --wait too": {"web", "--image", "web:1.1.0", "--wait"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			w.sb.ResetCalls()
			dry := deckhand(t, w.args(append([]string{"deploy", "--dry-run"}, args...)...)...)
			if dry.code != 0 {
				t.Fatalf("deploy --dry-run: exit %d, want 0", dry.code)
			}
			for _, op := range []string{"RegisterTaskDefinition", "UpdateService", "TagResource"} {
				if n := w.sb.CountCalls(sandbox.ServiceECS, op); n != 0 {
					t.Errorf("deploy --dry-run called %s %d times", op, n)
				}
			}
			diffArgs := append([]string{"diff"}, args...)
			if i := slices.Index(diffArgs, "--wait"); i >= 0 {
				diffArgs = slices.Delete(diffArgs, i, i+1)
			}
			diff := deckhand(t, w.args(diffArgs...)...)
			if d := cmp.Diff(diff.stdout, dry.stdout); d != "" {
				t.Errorf("deploy --dry-run differs from diff (-diff +dry-run):\n%s", d)
			}
		})
	}
	if got := w.image(t, "web", "web"); !strings.HasSuffix(got, "@"+w.digests["web:1.0.0"]) {
		t.Errorf("after dry runs web runs %s, want 1.0.0 still", got)
	}
}
