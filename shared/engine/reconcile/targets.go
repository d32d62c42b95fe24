package reconcile

import (
	"context"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Targets (DESIGN §12). A binding with a target: is checked against its
// target's ECS, with the binding's session there (shared/aws/targets); the
// images it is compared with are the hub's, and the pushes it is behind
// on go into the hub's deploy queue like any other.

// inTarget scopes ctx to b's target. A target whose role refuses the hub
// refuses every pass: the binding is reported in Skipped, and the pass is
// not failed for it; any other error fails the pass (it is retried).
func (r *Reconciler) inTarget(ctx context.Context, m *manifest.Manifest, b *manifest.Service, rep *Report) (context.Context, bool, error) {
	ctx, err := targets.In(ctx, r.Targets, m, b.Target, b.Name)
	if err == nil {
		return ctx, true, nil
	}
	if revision.Retryable(err) {
		return ctx, false, err
	}
	rep.Skipped[b.Name] = err.Error()
	r.logger().ErrorContext(ctx, "binding's target unreachable", "binding", b.Name, "outcome", "skipped",
		"reason", revision.Reason(err), "error", err)
	return ctx, false, nil
}

// ecs is the ECS client of ctx's binding: its target's, or Deckhand's own.
func (r *Reconciler) ecs(ctx context.Context) ecsAPI {
	if s := targets.From(ctx); s != nil {
		return s.ECS
	}
	return r.ECS
}
