package console

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Fleet states of the gates of DESIGN §11.
const (
	StatePendingApproval = "pending-approval"
	StateFrozen          = "frozen"
	StateBlocked         = "blocked"
)

// readGates fills a row's gates of DESIGN §11 (cli.GatesOf): a revision
// waiting for approval (read only for bindings that require approval),
// a freeze in force, images the scan gate blocked. A pending revision
// that cannot be read is logged and left out.
func (s *Server) readGates(ctx context.Context, b *manifest.Service, svc *types.Service, r *Row) {
	var now time.Time
	if b.Gated() {
		now = s.env.Now(ctx)
	}
	var pending *cli.PendingApproval
	if b.Gates.ApprovalRequired() {
		var err error
		if pending, err = s.env.PendingOf(ctx, b, svc, now); err != nil {
			s.opts.Logger.WarnContext(ctx, "read pending approval", "binding", b.Name, "err", err)
		}
	}
	g := cli.GatesOf(b, svc, now, pending)
	r.ServiceStatus.Gates = g
	setGates(&r.Gates, g)
}

// setGates turns a gate status into the fleet's gate cells.
func setGates(out *Gates, g *cli.GateStatus) {
	if g == nil {
		return
	}
	if p := g.Pending; p != nil {
		var imgs []string
		for _, c := range slices.Sorted(maps.Keys(p.Images)) {
			imgs = append(imgs, fmt.Sprintf("%s %s", c, dashIfEmpty(p.Images[c].NewTag)))
		}
		why := fmt.Sprintf("%s (%s) waits for deckhand approve %s until %s", shortRevision(p.Revision), strings.Join(imgs, ", "),
			p.Binding, p.Expires.UTC().Format(time.RFC3339))
		if p.PromotedFrom != "" {
			why += "; promoted from " + p.PromotedFrom
		}
		out.Pending = &Gate{State: StatePendingApproval, Label: "pending approval", Reason: why}
	}
	if f := g.Frozen; f != nil {
		out.Frozen = &Gate{State: StateFrozen, Label: "frozen", Reason: fmt.Sprintf("until %s: %s", f.Until.Format(time.RFC3339), f.Window)}
	}
	if len(g.Blocked) > 0 {
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(g.Blocked)) {
			digest, why, _ := strings.Cut(g.Blocked[c], " ")
			parts = append(parts, fmt.Sprintf("%s %s (%s)", c, shortDigest(digest), strings.ToLower(why)))
		}
		out.Blocked = &Gate{State: StateBlocked, Label: "blocked by its scan", Reason: strings.Join(parts, ", ")}
	}
}
