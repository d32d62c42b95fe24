package chaos

import (
	"bytes"
	"testing"
)

// TestChaosCatchesBrokenGates proves invariants 13 to 15 can fail: each
// breaks one gate from outside the engine (gates_break.go) and its
// invariant reports it, while the same run unbroken passes them.
func TestChaosCatchesBrokenGates(t *testing.T) {
	gated := []string{InvGatesPassed, InvPromotedSoaked, InvGatesNothingLost}
	tests := map[string]struct {
		brk  GateBreakage
		want string // the invariant that must fail; "" for none
		// events is the run's size (600 unless set): early promotions come
		// only after a source's SUCCEEDED, a few an hour.
		events int
	}{
		"unbroken, the gated world passes its invariants":                                     {GateBreakNothing, "", 0},
		"a deployer whose ECR says every scan is clean deploys images with CRITICAL findings": {BreakScanGate, InvGatesPassed, 0},
		"a deployer whose clock runs 30 minutes ahead promotes inside the soak":               {BreakSoakClock, InvPromotedSoaked, 2000},
		"without the gates' clock, what a gate held back is never sent again":                 {BreakGateClock, InvGatesNothingLost, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			events := 600
			if tc.events > 0 {
				events = tc.events
			}
			// The gated chain alone (no targets, no retention): what it holds
			// back depends on the world's pace, which they change.
			rep := run(t, Config{Seed: 5, Events: events, Services: 10, FaultRate: -1, Gates: true, BreakGate: tc.brk, Targets: -1, Keep: -1})
			var out bytes.Buffer
			rep.Write(&out)
			for _, inv := range gated {
				n := len(rep.Row(inv).Violations)
				switch {
				case inv == tc.want && n == 0:
					t.Errorf("invariant %q found nothing:\n%s", inv, out.String())
				case tc.want == "" && n > 0:
					t.Errorf("invariant %q failed unbroken:\n%s", inv, out.String())
				case inv == tc.want:
					t.Logf("invariant %q: %d violations, e.g. %s", inv, n, rep.Row(inv).Violations[0])
				}
			}
		})
	}
}
