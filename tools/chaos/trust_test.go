package chaos

import (
	"bytes"
	"testing"
)

// The trust invariants can fail: each breakage (trust_break.go) breaks one
// promise the outside review found broken, and the suite reports it.
func TestChaosCatchesBrokenTrustPromises(t *testing.T) {
	tests := map[string]struct {
		seed   uint64
		events int
		brk    Breakage
		row    string
		extra  string // a second row that may report it instead
	}{
		"a tracker that believes forged FAILED events (10.5)":        {3, 400, BreakTrustingTracker, InvVerdictsAgree, ""},
		"a deployer blind to rollbacks it was not told about (10.2)": {3, 1200, BreakLostRollbackMarks, InvStaysRolledBack, ""},
		"same-second pushes ordered without ECR's times (10.4)":      {3, 400, BreakTieOrder, InvConverged, InvNoBackward},
		"a template body cached across versions (17)":                {3, 400, BreakStaleTemplates, InvTemplates, ""},
		"event times trusted however far ahead (10.3)":               {3, 400, BreakTrustedEventTimes, InvEventTimes, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The breakages wrap Deckhand's own clients: every service runs
			// in its own account and Region here.
			rep := run(t, Config{Seed: tc.seed, Events: tc.events, Services: 10, FaultRate: -1, TrustShare: 0.3, Break: tc.brk, Targets: -1})
			n := len(rep.Row(tc.row).Violations)
			if tc.extra != "" {
				n += len(rep.Row(tc.extra).Violations)
			}
			if n == 0 {
				var out bytes.Buffer
				rep.Write(&out)
				t.Errorf("invariant %q found nothing with the promise broken:\n%s", tc.row, out.String())
			}
		})
	}
}
