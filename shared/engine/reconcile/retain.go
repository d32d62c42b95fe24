package reconcile

import (
	"context"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// retain applies the binding's retention to the service the pass read
// (retention.Pruner.Binding, the same code as `deckhand prune`), within
// the pass's removal budget. A held service is pruned too: a hold stops
// deployments, not the clean-up of revisions nothing can return to. It
// reports bindings that had revisions past keep; an error reading the
// family fails the pass (it is retried), a failed write is in the report.
func (r *Reconciler) retain(ctx context.Context, m *manifest.Manifest, b *manifest.Service, svc *ecstypes.Service, rep *Report, budget *int) error {
	if r.Retention == nil {
		return nil
	}
	if _, ok := m.RetentionOf(b); !ok {
		return nil
	}
	res, err := r.Retention.Binding(ctx, m, b, svc, budget)
	if err != nil {
		return err
	}
	if len(res.Removed) > 0 || res.Deferred > 0 {
		rep.Retention = append(rep.Retention, res)
		r.logger().InfoContext(ctx, "retention", "binding", b.Name, "removed", len(res.Removed), "deferred", res.Deferred, "outcome", "pruned")
	}
	return nil
}

// removalBudget is how many revisions one pass may remove.
func (r *Reconciler) removalBudget() int {
	if r.Retention == nil || r.Retention.MaxRemovals == 0 {
		return retention.DefaultMaxRemovals
	}
	return r.Retention.MaxRemovals
}
