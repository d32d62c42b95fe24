package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/deckhand-ecs/deckhand/events"
)

// emit puts a "Deckhand Job State Change" on the bus and logs the decision.
// A partly failed PutEvents is an error.
func (e *Engine) emit(ctx context.Context, d events.JobStateChange) error {
	e.log().InfoContext(ctx, "job state change", "job", d.Job, "cluster", d.Cluster, "outcome", string(d.Status),
		"tasks", d.TaskARNs, "attempt", d.Attempt, "reason", d.Reason)
	detail, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode job state change: %w", err)
	}
	bus := e.EventBus
	if bus == "" {
		bus = "default"
	}
	now := e.now()
	out, err := e.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String(events.SourceDeckhand), DetailType: aws.String(events.DetailTypeDeckhandJob),
		Detail: aws.String(string(detail)), EventBusName: aws.String(bus), Resources: d.TaskARNs, Time: &now,
	}}})
	if err != nil {
		return fmt.Errorf("put job event %s %s: %w", d.Job, d.Status, err)
	}
	if out.FailedEntryCount > 0 {
		reason := ""
		if len(out.Entries) > 0 {
			reason = aws.ToString(out.Entries[0].ErrorCode) + ": " + aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("put job event %s %s: rejected: %s", d.Job, d.Status, reason)
	}
	return nil
}
