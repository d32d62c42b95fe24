package jobs

import (
	"context"
	"fmt"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
)

// emit puts a "Deckhand Job State Change" on the bus and logs the decision.
// A partly failed PutEvents is an error.
func (e *Engine) emit(ctx context.Context, d events.JobStateChange) error {
	e.logger().InfoContext(ctx, "job state change", "job", d.Job, "cluster", d.Cluster, "outcome", string(d.Status),
		"tasks", d.TaskARNs, "attempt", d.Attempt, "reason", d.Reason)
	if e.Events == nil {
		return nil
	}
	if err := e.Events.Put(ctx, emit.Event{DetailType: events.DetailTypeDeckhandJob, Detail: d, Resources: d.TaskARNs}); err != nil {
		return fmt.Errorf("put job event %s %s: %w", d.Job, d.Status, err)
	}
	return nil
}
