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

// TestCatchUpSavesRegisters runs one burst with and without catch-up: with
// it, fewer registers reach the same end state, and some deployments say
// they caught up.
func TestCatchUpSavesRegisters(t *testing.T) {
	cfg := Config{Pushes: 60, Repositories: 10, Services: 30, Seed: 3}
	var runs [2]Result
	for i, off := range []bool{false, true} {
		cfg.NoCatchUp = off
		res, err := Run(context.Background(), sandboxtest.Start(t), t.TempDir(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Behind) > 0 || res.Failed > 0 {
			t.Fatalf("catch-up off=%v: behind %v, failed %d", off, res.Behind, res.Failed)
		}
		runs[i] = res
	}
	with, without := runs[0], runs[1]
	if with.CaughtUp == 0 || with.DescribeImages == 0 {
		t.Errorf("no deployment caught up (%d DescribeImages calls)", with.DescribeImages)
	}
	if without.CaughtUp != 0 || without.DescribeImages != 0 {
		t.Errorf("the baseline caught up %d times with %d DescribeImages calls", without.CaughtUp, without.DescribeImages)
	}
	if with.Registers >= without.Registers {
		t.Errorf("registers with catch-up %d, without %d: want fewer", with.Registers, without.Registers)
	}
}
