package cli

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// GateStatus is what holds a binding's next deploy at its gates (DESIGN
// §11), as status and the console show it.
type GateStatus struct {
	// PromotesFrom is the binding this one takes its digests from.
	PromotesFrom string `json:"promotesFrom,omitempty"`
	// Pending is the revision waiting for approval, if any.
	Pending *PendingApproval `json:"pending,omitempty"`
	// Frozen is the freeze window in force, if any.
	Frozen *FreezeStatus `json:"frozen,omitempty"`
	// Blocked are the images the scan gate blocked, per container
	// (deckhand:blocked:<container>: the digest and why).
	Blocked map[string]string `json:"blocked,omitempty"`
}

// FreezeStatus is a freeze window in force.
type FreezeStatus struct {
	Window string    `json:"window"`
	Until  time.Time `json:"until"`
}

// GatesOf is b's gate status from its service (DescribeServices with
// tags), the time, and its pending revision (PendingOf); nil when b has no
// gate and nothing is blocked.
func GatesOf(b *manifest.Service, svc *types.Service, now time.Time, pending *PendingApproval) *GateStatus {
	g := &GateStatus{PromotesFrom: b.PromoteFrom(), Pending: pending}
	if w, frozen := b.Frozen(now); frozen {
		g.Frozen = &FreezeStatus{Window: w.Freeze.String(), Until: w.End.UTC()}
	}
	for k, v := range revision.TagsOf(svc.Tags) {
		if c, ok := strings.CutPrefix(k, revision.TagBlocked); ok {
			if g.Blocked == nil {
				g.Blocked = map[string]string{}
			}
			g.Blocked[c] = v
		}
	}
	if !b.Gated() && g.Blocked == nil {
		return nil
	}
	return g
}

// Words are the gate states in force, as short phrases ("pending
// approval", "frozen", "blocked: shop").
func (g *GateStatus) Words() []string {
	if g == nil {
		return nil
	}
	var out []string
	if g.Pending != nil {
		out = append(out, "pending approval")
	}
	if g.Frozen != nil {
		out = append(out, "frozen")
	}
	if len(g.Blocked) > 0 {
		out = append(out, "blocked: "+strings.Join(slices.Sorted(maps.Keys(g.Blocked)), ", "))
	}
	return out
}

// gatesOf reads b's gate status for Status.
func (e *Env) gatesOf(ctx context.Context, b *manifest.Service, svc *types.Service, now time.Time) (*GateStatus, error) {
	var pending *PendingApproval
	if b.Gates.ApprovalRequired() {
		var err error
		if pending, err = e.PendingOf(ctx, b, svc, now); err != nil {
			return nil, err
		}
	}
	return GatesOf(b, svc, now, pending), nil
}
