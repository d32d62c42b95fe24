package economy

import (
	"context"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/tools/bench/coldstart"
)

func TestDepthCountsOnlySequentialCalls(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(a, b int) Call { return Call{Start: t0.Add(time.Duration(a)), End: t0.Add(time.Duration(b))} }
	tests := map[string]struct {
		calls []Call
		want  int
	}{
		"none":                          {nil, 0},
		"two in parallel":               {[]Call{at(0, 10), at(1, 11)}, 1},
		"three in a row":                {[]Call{at(0, 10), at(10, 20), at(20, 30)}, 3},
		"a parallel pair then one":      {[]Call{at(0, 10), at(2, 9), at(10, 20)}, 2},
		"order of recording is ignored": {[]Call{at(20, 30), at(0, 10), at(10, 20)}, 3},
	}
	for name, tc := range tests {
		if got := depth(tc.calls); got != tc.want {
			t.Errorf("%s: depth = %d, want %d", name, got, tc.want)
		}
	}
}

func TestWarmDeploymentUsesConditionalGets(t *testing.T) {
	sb := sandboxtest.Start(t)
	f, err := coldstart.Setup(context.Background(), sb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Measure(context.Background(), f, 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var notModified int
	for _, c := range res.Warm.Calls {
		if c.Status == 304 {
			notModified++
		}
	}
	if notModified != 2 {
		t.Errorf("warm deployment had %d 304s, want 2 (manifest and template): %+v", notModified, res.Warm.Calls)
	}
	for _, c := range res.Warm.Calls {
		if c.Op == "ecs:DescribeTaskDefinition" {
			t.Errorf("warm deployment described a task definition; the engine registered the running revision itself: %+v", res.Warm.Calls)
		}
	}
	if len(res.Warm.Calls) > 6 {
		t.Errorf("warm deployment made %d calls, issue 7 allows 6: %+v", len(res.Warm.Calls), res.Warm.Calls)
	}
	if res.Warm.Depth < 2 || res.Warm.Depth > len(res.Warm.Calls) {
		t.Errorf("warm depth %d of %d calls", res.Warm.Depth, len(res.Warm.Calls))
	}
}

// TestACanaryDeploymentChecksItsAlarmsOnce: a warm deploy of a canary
// binding with an alarm makes today's calls plus one DescribeAlarms
// (issue 12: the alarms must exist), and nothing more.
func TestACanaryDeploymentChecksItsAlarmsOnce(t *testing.T) {
	sb := sandboxtest.Start(t)
	f, err := coldstart.SetupWith(context.Background(), sb, t.TempDir(),
		"{strategy: canary, bake: 5m, canary: {percent: 10, bake: 5m}, alarms: [bench-5xx]}")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Measure(context.Background(), f, 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range res.Warm.Calls {
		ops = append(ops, c.Op)
	}
	t.Logf("warm canary deployment: %d calls, depth %d (%d before the event): %v", len(ops), res.Warm.Depth, res.Warm.DepthBeforeEvents, ops)
	alarms := 0
	for _, op := range ops {
		if op == "cloudwatch:DescribeAlarms" {
			alarms++
		}
	}
	if alarms != 1 || len(ops) != 7 {
		t.Errorf("warm canary deployment made %d calls with %d DescribeAlarms, want 7 with 1: %v", len(ops), alarms, ops)
	}
}
