package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// The gates' clock (DESIGN §11). Deckhand keeps no database and no
// Lambda waits, so what a gate holds back is found again here, on every
// pass (rate(5 minutes) by default), from what ECS and ECR keep:
//
//   - a freeze: the binding is behind ECR (or its promotion source) while
//     frozen; when the window ends the pass sends the newest image, which
//     the deployer then deploys (BLOCKED pushes are not lost);
//   - a soak: a promotion is sent once its source has served the digest
//     for gates.soak since ECS's service deployment reached SUCCESSFUL
//     (promote.go);
//   - a scan: an image whose scan is still running is left to its scan
//     event, one that finished (its event missed) or ran out of time is
//     sent once, for the deployer to deploy or to report BLOCKED and mark
//     (deckhand:blocked:<container>), after which it is left alone while
//     its scan says the same;
//   - an approval: a pending revision past its expiry is tagged expired
//     and reported EXPIRED; an image pending, rejected or expired is not
//     sent again.
//
// The precision is the reconciler's rate: a window ends, a soak is over or
// an approval expires at most one pass late.

// emitter puts Deckhand events; *emit.Bus implements it.
type emitter interface {
	Put(ctx context.Context, evs ...emit.Event) error
}

// gateReader reads gates with the reconciler's clients.
func (r *Reconciler) gateReader() gate.Reader { return gate.Reader{ECS: r.Gates, ECR: r.Scans} }

// gates expires a gated binding's pending approval when it is overdue,
// then returns the pushes it is behind on that its gates would act on now
// (gated).
func (r *Reconciler) gates(ctx context.Context, b *manifest.Service, svc *ecstypes.Service, pushes []Push, rep *Report) ([]Push, error) {
	if !b.Gated() {
		return pushes, nil
	}
	g, err := r.approvals(ctx, b, svc)
	if err != nil {
		return nil, err
	}
	return r.gated(ctx, b, svc, g, pushes, rep)
}

// gated returns the pushes a gated binding is behind on that its gates
// would act on now, reporting the others in rep.Skipped. g is its gated
// revision, if any.
func (r *Reconciler) gated(ctx context.Context, b *manifest.Service, svc *ecstypes.Service, g *gate.Gated, pushes []Push, rep *Report) ([]Push, error) {
	if !b.Gated() || len(pushes) == 0 {
		return pushes, nil
	}
	if w, frozen := b.Frozen(r.now()); frozen {
		rep.Skipped[b.Name] = fmt.Sprintf("%s: frozen until %s", w, w.End.UTC().Format(time.RFC3339))
		return nil, nil
	}
	var out []Push
	for _, p := range pushes {
		for _, c := range containersOf(b, p.Repository) {
			why, err := r.held(ctx, b, svc, g, c, p)
			if err != nil {
				return nil, err
			}
			if why != "" {
				rep.Skipped[b.Name] = why
				continue
			}
			out = append(out, p)
			break
		}
	}
	return out, nil
}

// held says why the gates hold back image p of container c now ("" when
// the deployer should have it): a scan still running, a block already
// reported, an approval pending or refused for it.
func (r *Reconciler) held(ctx context.Context, b *manifest.Service, svc *ecstypes.Service, g *gate.Gated, c string, p Push) (string, error) {
	if block := b.Gates.ScanBlocks(); len(block) > 0 && r.Scans != nil {
		res, err := gate.ReadScan(ctx, r.Scans, gate.Image{Registry: registryOf(p, r), Repository: p.Repository, Digest: p.Digest}, block)
		if err != nil {
			return "", err
		}
		res = gate.Overdue(res, p.PushedAt, r.now(), b.Gates.ScanTimeout())
		mark := revision.TagsOf(svc.Tags)[revision.TagBlocked+c]
		switch {
		case res.Status == events.ScanStatePending:
			return fmt.Sprintf("container %s: image %s waits for its scan (until %s)", c, p.Digest,
				p.PushedAt.Add(b.Gates.ScanTimeout()).UTC().Format(time.RFC3339)), nil
		case res.Status != events.ScanStateClean && mark == p.Digest+" "+res.Status:
			return fmt.Sprintf("container %s: image %s was BLOCKED by its scan (%s)", c, p.Digest, strings.ToLower(res.Status)), nil
		}
	}
	if g != nil && g.Tags[revision.TagDigest+c] == p.Digest {
		switch st := g.State(); st {
		case revision.ApprovalPending, revision.ApprovalRejected, revision.ApprovalExpired:
			return fmt.Sprintf("container %s: image %s is %s approval in revision %s", c, p.Digest, approvalWord(st), g.ARN), nil
		}
	}
	return "", nil
}

func approvalWord(state string) string {
	if state == revision.ApprovalPending {
		return "pending"
	}
	return state + " for"
}

// approvals reads an approval-gated binding's gated revision and expires
// it when it is past its expiry: EXPIRED is emitted, then the revision is
// tagged expired (a failed tag emits EXPIRED again on the next pass rather
// than never). It returns the gated revision, or nil.
func (r *Reconciler) approvals(ctx context.Context, b *manifest.Service, svc *ecstypes.Service) (*gate.Gated, error) {
	if !b.Gates.ApprovalRequired() || r.Gates == nil {
		return nil, nil
	}
	g, err := r.gateReader().GatedRevision(ctx, b, revision.OfService(*svc), nil)
	if err != nil || g == nil || !g.Expired(r.now()) {
		return g, err
	}
	now := r.now()
	ev := events.DeploymentStateChange{Status: events.StatusExpired, Binding: b.Name, Cluster: b.Cluster, Service: b.Service,
		OldRevision: revision.OfService(*svc), NewRevision: g.ARN, Trigger: events.Trigger(g.Tags[revision.TagTrigger]),
		EventID: g.Tags[revision.TagEventID], Containers: gate.Containers(g.Tags),
		Reason: fmt.Sprintf("nobody approved or rejected revision %s by %s; push a new image, or ask again with `deckhand deploy --force`",
			g.ARN, g.Expires().UTC().Format(time.RFC3339)),
		Gate: &events.GateDetail{Name: events.GateApproval, Until: ptr(g.Expires().UTC())}}
	if r.Events != nil {
		if err := r.Events.Put(ctx, emit.Deployments(ev)...); err != nil {
			return nil, fmt.Errorf("emit EXPIRED for %s: %w", g.ARN, err)
		}
	}
	if err := gate.Record(ctx, r.ECS, g.ARN, gate.Decision{State: revision.ApprovalExpired, At: now}, nil); err != nil {
		return nil, err
	}
	g.Tags[revision.TagApproval] = revision.ApprovalExpired
	r.logger().InfoContext(ctx, "pending approval expired", "binding", b.Name, "revision", g.ARN, "outcome", string(events.StatusExpired))
	return g, nil
}

// containersOf are b's containers whose images come from repository.
func containersOf(b *manifest.Service, repository string) []string {
	var out []string
	for _, c := range slices.Sorted(maps.Keys(b.Images)) {
		if b.Images[c].Origin() == repository {
			out = append(out, c)
		}
	}
	return out
}

func registryOf(p Push, r *Reconciler) string {
	if p.Account == "" || p.Account == r.Account {
		return ""
	}
	return p.Account
}

func ptr[T any](v T) *T { return &v }
