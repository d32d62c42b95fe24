package economy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

// TestColdDeploymentCalls checks, through the real SDK clients against the
// sandbox, which calls a cold deployer configured as the CDK app ships it
// (its message group's manifest part) makes with and without the
// deployment's snapshot (what runs in parallel is
// TestDeploymentCallGraph's, in shared/engine/deploy, without timing).
func TestColdDeploymentCalls(t *testing.T) {
	sb := sandboxtest.Start(t)
	f, err := coldstart.Setup(context.Background(), sb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Measure(context.Background(), f, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ops := func(d Deployment) []string {
		var out []string
		for _, c := range d.Calls {
			out = append(out, fmt.Sprintf("%s→%d", c.Op, c.Status))
		}
		sort.Strings(out)
		return out
	}
	want := []string{
		"ecs:DescribeServices→200", "ecs:DescribeTaskDefinition→200", "ecs:RegisterTaskDefinition→200", "ecs:UpdateService→200",
		"events:PutEvents→200", "s3:GET /deckhand-config/" + coldstart.PartsPrefix + "r0.yaml→200", "s3:GET /deckhand-config/t.json→200",
	}
	if diff := cmp.Diff(want, ops(res.Cold)); diff != "" {
		t.Errorf("cold deployment with the snapshot (-want +got):\n%s", diff)
	}
	want = append(want, "ecs:DescribeTaskDefinition→200")
	sort.Strings(want)
	if diff := cmp.Diff(want, ops(res.ColdNoSnapshot)); diff != "" {
		t.Errorf("cold deployment without a snapshot (-want +got):\n%s", diff)
	}
	t.Logf("critical paths: cold %d, warm %d, cold without a snapshot %d", res.Cold.Depth, res.Warm.Depth, res.ColdNoSnapshot.Depth)
}

// TestLaunchedDeployerUsesItsSnapshot launches the real deployer binary
// with DECKHAND_SNAPSHOT, as the CDK app deploys it: its cold invocation
// makes the snapshot's calls (one DescribeTaskDefinition, by family, beside
// the service), its warm one the warm path's. The build and the launch have
// no deadline but go test's own.
func TestLaunchedDeployerUsesItsSnapshot(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/deckhand-ecs/deckhand/functions/deployer")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the deployer: %v\n%s", err, b)
	}
	sb := sandboxtest.Start(t)
	f, err := coldstart.Setup(t.Context(), sb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := MeasureLaunch(t.Context(), f, bin)
	if err != nil {
		t.Fatal(err)
	}
	count := func(d Deployment, op string) int {
		n := 0
		for _, c := range d.Calls {
			if c.Op == op {
				n++
			}
		}
		return n
	}
	if n, total := count(l.Cold, "ecs:DescribeTaskDefinition"), len(l.Cold.Calls); n != 1 || total != 7 {
		t.Errorf("cold invocation: %d DescribeTaskDefinition of %d calls, want 1 of 7: %+v", n, total, l.Cold.Calls)
	}
	if n, total := count(l.Warm, "ecs:DescribeTaskDefinition"), len(l.Warm.Calls); n != 0 || total != 6 {
		t.Errorf("warm invocation: %d DescribeTaskDefinition of %d calls, want 0 of 6: %+v", n, total, l.Warm.Calls)
	}
	if l.Cold.ToUpdate <= 0 || l.Warm.ToUpdate <= 0 {
		t.Errorf("push to UpdateService: cold %v, warm %v; want both measured", l.Cold.ToUpdate, l.Warm.ToUpdate)
	}
}
