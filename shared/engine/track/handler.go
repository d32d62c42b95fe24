package track

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deckhand-ecs/deckhand/events"
)

// TaskHandler judges ECS Task State Changes of Deckhand's jobs
// (*jobs.Tracker implements it).
type TaskHandler interface {
	HandleTaskEvent(ctx context.Context, ev events.TaskEvent) error
}

// Handler is the tracker Lambda's handler: it routes ECS Deployment State
// Changes to Deployments and ECS Task State Changes to Tasks.
type Handler struct {
	Deployments *Deployments
	Tasks       TaskHandler
}

// Handle is the function passed to lambda.Start / lambda.NewHandler. An
// event it cannot decode is an error, so the asynchronous invocation's
// retries end in the function's DLQ rather than vanishing.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	source, detailType, err := events.Kind(payload)
	if err != nil {
		return nil, err
	}
	if source != events.SourceECS {
		return nil, &events.DecodeError{What: "tracker input", Path: "$.source", Err: fmt.Errorf("want %s, got %q", events.SourceECS, source)}
	}
	switch detailType {
	case events.DetailTypeDeploymentStateChange:
		ev, err := events.Decode[events.DeploymentEvent](payload, "ECS Deployment State Change")
		if err != nil {
			return nil, err
		}
		return h.Deployments.Handle(ctx, ev)
	case events.DetailTypeTaskStateChange:
		ev, err := events.Decode[events.TaskEvent](payload, "ECS Task State Change")
		if err != nil {
			return nil, err
		}
		if h.Tasks == nil {
			return Verdict{Ignored: "no task tracker configured"}, nil
		}
		return nil, h.Tasks.HandleTaskEvent(ctx, ev)
	}
	return nil, &events.DecodeError{What: "tracker input", Path: "$.detail-type", Err: fmt.Errorf("unexpected detail-type %q", detailType)}
}
