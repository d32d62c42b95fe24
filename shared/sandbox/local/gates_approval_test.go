package local

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// toStaging pushes a shop image and lets shop-staging scan, deploy and
// reach SUCCEEDED with it.
func (st *Stack) toStaging(t *testing.T, tag string) string {
	t.Helper()
	n := len(st.Deployments())
	digest := st.SB.PushImage("shop", tag)
	st.advance(t, 2*time.Minute)
	if got := st.decisions(n, "shop-staging"); !slices.Contains(got, events.StatusSucceeded) {
		t.Fatalf("staging after pushing %s: %v, want SUCCEEDED", tag, got)
	}
	return digest
}

// toPending brings a staging image to shop-prod's approval: past the 10m
// soak the reconciler promotes it, through prod's scan gate, to
// PENDING_APPROVAL.
func (st *Stack) toPending(t *testing.T, tag string) (digest string, pending Deployment) {
	t.Helper()
	digest = st.toStaging(t, tag)
	n := len(st.Deployments())
	st.SB.Clock().Advance(10 * time.Minute)
	st.reconcile(t)
	return digest, st.last(t, n, "shop-prod", events.StatusPendingApproval)
}

// TestPromotionAndApproval drives shop-prod (examples/gates.yaml: promoted
// from shop-staging after a 10m soak, scanned, approved) through each
// transition out of PENDING_APPROVAL, with the real deployer, reconciler
// and tracker on the sandbox and the CLI's approve and reject.
func TestPromotionAndApproval(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		act func(t *testing.T, st *Stack) (digest string)
		// want are shop-prod's decisions after its PENDING_APPROVAL.
		want []events.DeploymentStatus
		// approval is the pending revision's approval state in the end.
		approval string
		// runs says shop-prod runs the promoted digest in the end.
		runs bool
	}{
		"approved: APPROVED, STARTED, SUCCEEDED": {
			act: func(t *testing.T, st *Stack) string {
				res, err := st.person().Approve(ctx, "shop-prod")
				if err != nil {
					t.Fatal(err)
				}
				if res.By != alice || res.Decision != revision.ApprovalApproved || len(res.Events) != 2 || res.Events[1].DeploymentID == "" {
					t.Errorf("approve = %+v, want alice's approval with APPROVED and STARTED of a deployment", res)
				}
				return ""
			},
			want:     []events.DeploymentStatus{events.StatusApproved, events.StatusStarted, events.StatusSucceeded},
			approval: revision.ApprovalApproved, runs: true,
		},
		"rejected: REJECTED with the reason, never sent again": {
			act: func(t *testing.T, st *Stack) string {
				if _, err := st.person().Reject(ctx, "shop-prod", "fails the load test"); err != nil {
					t.Fatal(err)
				}
				return ""
			},
			want:     []events.DeploymentStatus{events.StatusRejected},
			approval: revision.ApprovalRejected,
		},
		"nobody decides: EXPIRED on the reconciler's first pass past 24h, never sent again": {
			act: func(t *testing.T, st *Stack) string {
				st.SB.Clock().Advance(24*time.Hour + time.Minute)
				return ""
			},
			want:     []events.DeploymentStatus{events.StatusExpired},
			approval: revision.ApprovalExpired,
		},
		"a newer image supersedes it: the older SUPERSEDED, the newer pending": {
			act: func(t *testing.T, st *Stack) string {
				digest, _ := st.toPending(t, "1.2.0")
				return digest
			},
			want:     []events.DeploymentStatus{events.StatusSuperseded, events.StatusPendingApproval},
			approval: revision.ApprovalSuperseded,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := gatesStack(t, "")
			prodBefore := st.image(t, "shop-prod", "shop")
			digest, pending := st.toPending(t, "1.1.0")
			checkApprovalRequest(t, st, pending, digest)
			if st.image(t, "shop-prod", "shop") != prodBefore {
				t.Fatal("the service changed while its deploy waits for approval")
			}
			n := len(st.Deployments())
			newer := tc.act(t, st)
			st.advance(t, 2*time.Minute)
			for range 3 {
				st.SB.Clock().Advance(10 * time.Minute)
				st.reconcile(t)
			}
			if diff := cmp.Diff(tc.want, st.decisions(n, "shop-prod")); diff != "" {
				t.Errorf("shop-prod's decisions (-want +got):\n%s", diff)
			}
			tags := st.revisionTags(t, pending.NewRevision)
			if tags[revision.TagApproval] != tc.approval {
				t.Errorf("pending revision %s: %s=%q, want %q", pending.NewRevision, revision.TagApproval, tags[revision.TagApproval], tc.approval)
			}
			if got := st.runs(t, "shop-prod", digest); got != tc.runs {
				t.Errorf("shop-prod runs the promoted %s: %v, want %v", digest, got, tc.runs)
			}
			switch tc.approval {
			case revision.ApprovalApproved, revision.ApprovalRejected:
				if tags[revision.TagDecidedBy] != alice || tags[revision.TagDecidedAt] == "" {
					t.Errorf("decision recorded as %q at %q, want %s and a time", tags[revision.TagDecidedBy], tags[revision.TagDecidedAt], alice)
				}
				ev := st.Deployments()[n]
				if ev.Gate == nil || ev.Gate.DecidedBy != alice {
					t.Errorf("%s event's gate = %+v, want decidedBy %s", ev.Status, ev.Gate, alice)
				}
			}
			if tc.approval == revision.ApprovalRejected && tags[revision.TagDecisionReason] != "fails the load test" {
				t.Errorf("reason = %q", tags[revision.TagDecisionReason])
			}
			if newer != "" {
				p, err := st.person().Pending(ctx, nil)
				if err != nil || len(p) != 1 || p[0].Images["shop"].NewDigest != newer || p[0].PromotedFrom != "shop-staging" {
					t.Errorf("pending = %+v, %v; want the newer %s, promoted from shop-staging", p, err, newer)
				}
			}
			if tc.approval != revision.ApprovalSuperseded {
				if _, err := st.person().Approve(ctx, "shop-prod"); !errors.Is(err, cli.ErrNothingPending) {
					t.Errorf("approving again: %v, want ErrNothingPending", err)
				}
			}
		})
	}
}

// checkApprovalRequest checks that PENDING_APPROVAL carries what an
// approver needs, and that the revision waits tagged pending.
func checkApprovalRequest(t *testing.T, st *Stack, ev Deployment, digest string) {
	t.Helper()
	g := ev.Gate
	if g == nil || g.Name != events.GateApproval || g.Until == nil || !g.Until.Equal(ev.Time.Add(24*time.Hour)) {
		t.Fatalf("PENDING_APPROVAL gate = %+v, want approval until 24h after %s", g, ev.Time)
	}
	if ev.Trigger != events.TriggerPromote || ev.Containers["shop"].NewDigest != digest || ev.Containers["shop"].OldDigest == "" {
		t.Errorf("event = %+v, want trigger promote from the old digest to %s", ev.DeploymentStateChange, digest)
	}
	if g.Source == nil || g.Source.Binding != "shop-staging" || g.Source.Status != "SUCCEEDED" || g.Source.ServedMS < (10*time.Minute).Milliseconds() {
		t.Errorf("what staging said = %+v, want shop-staging SUCCEEDED, served at least the 10m soak", g.Source)
	}
	if s := g.Scans["shop"]; s.Status != events.ScanStateClean || s.Digest != digest {
		t.Errorf("scan = %+v, want CLEAN for %s", s, digest)
	}
	if len(g.Diff) != 2 || !strings.HasPrefix(g.Diff[0], "shop: sha256:") || !strings.Contains(g.Diff[0], "→ 1.1.0 (sha256:") || g.Approve != "deckhand approve shop-prod" || g.Push == "" {
		t.Errorf("diff %q, push %q, approve %q: want the image change, the template and the commands", g.Diff, g.Push, g.Approve)
	}
	tags := st.revisionTags(t, ev.NewRevision)
	want := revision.Tags{revision.TagApproval: revision.ApprovalPending, revision.TagTrigger: "promote", revision.TagPromotedFrom: "shop-staging",
		revision.TagDigest + "shop": digest, revision.TagBinding: "shop-prod"}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("pending revision tag %s = %q, want %q", k, tags[k], v)
		}
	}
}

// TestPromotionFollowsTheSource: a promotion waits for the soak, and a
// source that rolled back never promotes.
func TestPromotionFollowsTheSource(t *testing.T) {
	st := gatesStack(t, "")
	n := len(st.Deployments())
	st.toStaging(t, "1.1.0")
	st.SB.Clock().Advance(5 * time.Minute)
	rep, err := st.Reconciler.Run(context.Background())
	if err != nil || len(rep.Promotions) != 0 || !strings.Contains(rep.Skipped["shop-prod"], "soaking") {
		t.Fatalf("reconcile 5m into the soak: promotions %v, skipped %q, %v; want none, soaking", rep.Promotions, rep.Skipped["shop-prod"], err)
	}
	st.SB.Clock().Advance(5 * time.Minute)
	st.reconcile(t)
	if got := st.decisions(n, "shop-prod"); !slices.Equal(got, []events.DeploymentStatus{events.StatusPendingApproval}) {
		t.Fatalf("after the soak: %v, want PENDING_APPROVAL", got)
	}
	if _, err := st.person().Approve(context.Background(), "shop-prod"); err != nil {
		t.Fatal(err)
	}
	st.advance(t, 2*time.Minute)
	// A broken image: staging rolls it back; production never sees it.
	n = len(st.Deployments())
	broken := st.SB.PushImage("shop", "1.2.0")
	st.SB.ECS().SetImageHealth(broken, false)
	st.advance(t, 10*time.Minute)
	if got := st.decisions(n, "shop-staging"); !slices.Contains(got, events.StatusRolledBack) {
		t.Fatalf("staging: %v, want ROLLED_BACK", got)
	}
	for range 3 {
		st.SB.Clock().Advance(10 * time.Minute)
		st.reconcile(t)
	}
	if got := st.decisions(n, "shop-prod"); len(got) != 0 {
		t.Errorf("shop-prod's decisions after staging rolled back: %v, want none", got)
	}
	if st.runs(t, "shop-prod", broken) {
		t.Error("shop-prod runs the image staging rolled back")
	}
	_ = sandbox.ScanScript{}
}
