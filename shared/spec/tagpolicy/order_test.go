package tagpolicy

import (
	"testing"
	"time"
)

// TestOrder is DESIGN §5 rule 5's order, and Newer the "newest eligible
// image" rule built on it.
func TestOrder(t *testing.T) {
	t0 := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	semver, _ := Parse("semver:*")
	glob, _ := Parse("glob:*")
	tests := map[string]struct {
		policy    Policy
		a, b      Pushed
		wantOrder int
		wantNewer bool
	}{
		"the later push is newer, whatever its version": {semver, Pushed{"1.4.1", t0.Add(time.Second)}, Pushed{"1.5.0", t0}, 1, true},
		"the earlier push is older":                     {semver, Pushed{"1.5.0", t0}, Pushed{"1.4.1", t0.Add(time.Second)}, -1, false},
		"in one instant the higher version is newer":    {semver, Pushed{"1.10.0", t0}, Pushed{"1.9.0", t0}, 1, true},
		"in one instant the lower version is older":     {semver, Pushed{"1.9.0", t0}, Pushed{"1.10.0", t0}, -1, false},
		"one instant and no version order: the tag":     {glob, Pushed{"stable-b", t0}, Pushed{"stable-a", t0}, 0, true},
		"one instant and one version: the tag":          {semver, Pushed{"v1.0.0", t0}, Pushed{"1.0.0", t0}, 0, true},
		"the same push is not newer than itself":        {semver, Pushed{"1.0.0", t0}, Pushed{"1.0.0", t0}, 0, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.policy.Order(tc.a, tc.b); got != tc.wantOrder {
				t.Errorf("Order = %d, want %d", got, tc.wantOrder)
			}
			if got := tc.policy.Newer(tc.a, tc.b); got != tc.wantNewer {
				t.Errorf("Newer = %v, want %v", got, tc.wantNewer)
			}
		})
	}
}
