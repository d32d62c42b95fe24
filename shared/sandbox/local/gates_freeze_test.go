package local

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// frozenManifest is examples/gates.yaml with a one-off freeze of staging
// from 01:10 to 01:40 on the sandbox's first day, and of production from
// 01:30 to 02:30.
func frozenManifest(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../../examples/gates.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(raw), "      scan: { block: [CRITICAL], timeout: 30m }\n",
		"      scan: { block: [CRITICAL], timeout: 30m }\n      freeze: [{ schedule: \"at(2026-11-16T01:10:00)\", duration: 30m }]\n", 1)
	s = strings.Replace(s, `schedule: "cron(0 18 ? * FRI *)", duration: 54h, timezone: Europe/Berlin`, `schedule: "at(2026-11-16T01:30:00)", duration: 1h`, 1)
	if !strings.Contains(s, "2026-11-16T01:10:00") || !strings.Contains(s, "2026-11-16T01:30:00") {
		t.Fatal("examples/gates.yaml changed; the test cannot place its freezes")
	}
	return s
}

// TestFreeze: pushes in a freeze window are BLOCKED with the window and its
// end, not lost: when it ends the reconciler sends the newest, which
// deploys; a promotion due in production's window waits for its end.
func TestFreeze(t *testing.T) {
	st := gatesStack(t, frozenManifest(t))
	st.SB.Clock().Advance(time.Date(2026, 11, 16, 1, 15, 0, 0, time.UTC).Sub(st.SB.Clock().Now()))
	n := len(st.Deployments())
	st.SB.PushImage("shop", "1.1.0")
	st.advance(t, time.Minute)
	newest := st.SB.PushImage("shop", "1.2.0")
	st.advance(t, time.Minute)
	// Each push, and each scan result that wakes it again, is BLOCKED.
	want := []events.DeploymentStatus{events.StatusBlocked, events.StatusBlocked, events.StatusBlocked, events.StatusBlocked}
	if diff := cmp.Diff(want, st.decisions(n, "shop-staging")); diff != "" {
		t.Fatalf("pushes in the window (-want +got):\n%s", diff)
	}
	blocked := st.last(t, n, "shop-staging", events.StatusBlocked)
	end := time.Date(2026, 11, 16, 1, 40, 0, 0, time.UTC)
	if g := blocked.Gate; g == nil || g.Name != events.GateFreeze || g.Until == nil || !g.Until.Equal(end) || !strings.Contains(blocked.Reason, "until 2026-11-16T01:40:00Z") {
		t.Errorf("BLOCKED %q, gate %+v; want the freeze window and its end %s", blocked.Reason, g, end)
	}
	st.SB.Clock().Advance(10 * time.Minute)
	st.reconcile(t) // 01:27: still frozen, nothing sent
	if got := st.decisions(n, "shop-staging"); len(got) != len(want) {
		t.Fatalf("a reconcile pass in the window sent something: %v", got)
	}
	st.SB.Clock().Advance(end.Add(time.Minute).Sub(st.SB.Clock().Now()))
	st.reconcile(t)
	st.advance(t, 2*time.Minute)
	want = append(want, events.StatusStarted, events.StatusSucceeded)
	if diff := cmp.Diff(want, st.decisions(n, "shop-staging")); diff != "" {
		t.Errorf("after the window (-want +got):\n%s", diff)
	}
	if !st.runs(t, "shop-staging", newest) {
		t.Errorf("shop-staging runs %s, want the newest blocked push %s", st.image(t, "shop-staging", "shop"), newest)
	}
	// 01:44: staging succeeded at about 01:42; its soak ends at about
	// 01:52, inside production's window (until 02:30).
	st.SB.Clock().Advance(15 * time.Minute)
	rep, err := st.Reconciler.Run(context.Background())
	if err != nil || len(rep.Promotions) != 0 || !strings.Contains(rep.Skipped["shop-prod"], "frozen until 2026-11-16T02:30:00Z") {
		t.Fatalf("promotion in production's window: sent %v, skipped %q, %v", rep.Promotions, rep.Skipped["shop-prod"], err)
	}
	st.SB.Clock().Advance(time.Date(2026, 11, 16, 2, 31, 0, 0, time.UTC).Sub(st.SB.Clock().Now()))
	st.reconcile(t)
	if got := st.decisions(n, "shop-prod"); !slices.Equal(got, []events.DeploymentStatus{events.StatusPendingApproval}) {
		t.Errorf("production after its window: %v, want PENDING_APPROVAL", got)
	}
}

// TestApprovalBadInput: approve or reject with nothing pending, reject
// without a reason, approve twice, approve of a held binding: each a
// clear error, and nothing written.
func TestApprovalBadInput(t *testing.T) {
	ctx := context.Background()
	st := gatesStack(t, "")
	person := st.person()
	writes := func() int {
		return st.SB.CountCalls(sandbox.ServiceECS, "TagResource") + st.SB.CountCalls(sandbox.ServiceECS, "UpdateService") + len(st.Deployments())
	}
	before := writes()
	if _, err := person.Approve(ctx, "shop-prod"); !errors.Is(err, cli.ErrNothingPending) || !strings.Contains(err.Error(), "shop-prod") {
		t.Errorf("approve with nothing pending: %v, want ErrNothingPending naming shop-prod", err)
	}
	if _, err := person.Reject(ctx, "shop-prod", "no"); !errors.Is(err, cli.ErrNothingPending) {
		t.Errorf("reject with nothing pending: %v", err)
	}
	calls := len(st.SB.Calls())
	if _, err := person.Reject(ctx, "shop-prod", "  "); !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "--reason") {
		t.Errorf("reject without a reason: %v, want a usage error naming --reason", err)
	}
	if got := len(st.SB.Calls()); got != calls {
		t.Errorf("a reject without a reason made %d AWS calls, want none", got-calls)
	}
	if _, err := person.Approve(ctx, "shop-nope"); !errors.Is(err, cli.ErrNotFound) {
		t.Errorf("approve of an unknown binding: %v", err)
	}
	if got := writes(); got != before {
		t.Errorf("refused decisions wrote %d tags, updates or events", got-before)
	}
	_, pending := st.toPending(t, "1.1.0")
	if _, err := person.Hold(ctx, "shop-prod", "incident 4711", false); err != nil {
		t.Fatal(err)
	}
	before = writes()
	if _, err := person.Approve(ctx, "shop-prod"); !errors.Is(err, cli.ErrGateClosed) || !strings.Contains(err.Error(), "incident 4711") {
		t.Errorf("approve of a held binding: %v, want ErrGateClosed with the hold's reason", err)
	}
	if got := writes(); got != before {
		t.Errorf("a refused approval wrote %d tags, updates or events", got-before)
	}
	if _, err := person.Release(ctx, "shop-prod"); err != nil {
		t.Fatal(err)
	}
	if _, err := person.Approve(ctx, "shop-prod"); err != nil {
		t.Fatalf("approve after the release: %v", err)
	}
	if _, err := person.Approve(ctx, "shop-prod"); !errors.Is(err, cli.ErrNothingPending) || !strings.Contains(err.Error(), "approved by "+alice) {
		t.Errorf("approving twice: %v, want ErrNothingPending saying alice approved it", err)
	}
	_ = pending
}
