package burst

import (
	"context"
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestSmallBurstConverges runs a small burst: every service converges with
// no failed deployment, and coalescing saves registers. Timing goals live
// in make bench, not here.
func TestSmallBurstConverges(t *testing.T) {
	sb := sandboxtest.Start(t)
	res, err := Run(context.Background(), sb, t.TempDir(), Config{Pushes: 40, Repositories: 10, Services: 30, Duplicates: 0.2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Behind) > 0 || res.Failed > 0 {
		t.Errorf("behind %v, failed %d", res.Behind, res.Failed)
	}
	if res.Registers >= res.Naive || res.Registers < res.Needed {
		t.Errorf("registers %d: want at least the %d needed and fewer than the naive %d", res.Registers, res.Needed, res.Naive)
	}
	if res.Converged <= 0 || res.Bound <= 0 {
		t.Errorf("converged %v, bound %v", res.Converged, res.Bound)
	}
}
