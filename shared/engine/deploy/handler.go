package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// Handler is the deployer Lambda's handler. It accepts an SQS batch whose
// bodies are EventBridge events (answering with a partial batch response)
// or a bare EventBridge event (answering with an error when the push must
// be retried or dead-lettered).
type Handler struct {
	Engine *Engine
}

// Handle is the function passed to lambda.Start / lambda.NewHandler.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	head, err := events.Decode[struct {
		Records    []json.RawMessage `json:"Records"`
		DetailType string            `json:"detail-type"`
	}](payload, "deployer input")
	if err != nil {
		return nil, err
	}
	if head.Records != nil {
		ev, err := events.Decode[events.SQSEvent](payload, "SQS event")
		if err != nil {
			return nil, err
		}
		return h.HandleSQS(ctx, ev)
	}
	if head.DetailType == "" {
		return nil, &events.DecodeError{What: "deployer input", Path: "$", Err: errors.New("neither an SQS batch (Records) nor an EventBridge event (detail-type)")}
	}
	outcomes, err := h.run(ctx, []record{{body: payload}})
	if err != nil {
		return nil, err
	}
	for _, o := range outcomes {
		if o.Err != nil {
			return nil, fmt.Errorf("deploy %s: %w", o.Event.Binding, o.Err)
		}
	}
	return summary(outcomes), nil
}

// HandleSQS deploys an SQS batch and reports the messages to retry: those
// with a retryable failure (retried in order) and those with a permanent one
// (which reach the DLQ after maxReceiveCount instead of vanishing).
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	recs := make([]record, len(ev.Records))
	for i, r := range ev.Records {
		recs[i] = record{messageID: r.MessageId, body: []byte(r.Body),
			redelivered: r.Attributes["ApproximateReceiveCount"] != "" && r.Attributes["ApproximateReceiveCount"] != "1"}
	}
	var resp events.SQSEventResponse
	outcomes, err := h.run(ctx, recs)
	failedIDs := map[string]bool{}
	if err != nil {
		// Nothing was decided (manifest unreadable) or events could not be
		// emitted: retry the whole batch, and say why, since a message that
		// ends in the DLQ this way carries no reason of its own.
		ids := make([]string, len(recs))
		for i, r := range recs {
			failedIDs[r.messageID] = true
			ids[i] = r.messageID
		}
		h.Engine.init()
		h.Engine.Logger.ErrorContext(ctx, "batch failed; every message will be retried", "error", err,
			"outcome", "batch_failed", "reason", revision.Reason(err), "message_ids", ids)
	}
	for _, o := range outcomes {
		if o.Err == nil {
			continue
		}
		for _, p := range o.Pushes {
			if p.MessageID != "" {
				failedIDs[p.MessageID] = true
			}
		}
	}
	for _, r := range recs {
		if failedIDs[r.messageID] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: r.messageID})
		}
	}
	return resp, nil
}

type record struct {
	messageID   string
	body        []byte
	redelivered bool
}

// run decodes the records, deploys the pushes and records the rest.
func (h *Handler) run(ctx context.Context, recs []record) ([]Outcome, error) {
	var pre []Outcome
	var pushes []Push
	for _, r := range recs {
		ev, err := events.DecodeImageAction(r.body)
		if err != nil {
			pre = append(pre, Malformed(r.messageID, err))
			continue
		}
		p, ok, reason := PushFromEvent(ev)
		if !ok {
			pre = append(pre, Ignored(ev.ID, ev.Detail.RepositoryName, reason))
			continue
		}
		p.MessageID, p.Redelivered = r.messageID, r.redelivered
		pushes = append(pushes, p)
	}
	recordErr := h.Engine.Record(ctx, pre)
	if len(pushes) == 0 {
		return pre, recordErr
	}
	outcomes, err := h.Engine.Deploy(ctx, pushes)
	if err != nil && outcomes == nil {
		// The manifest could not be loaded: every push fails alike.
		lost := make([]Outcome, len(pushes))
		for i, p := range pushes {
			lost[i] = failed(Outcome{Pushes: []Push{p}, Event: pushEvent(p, "", "")}, err)
		}
		return append(pre, lost...), errors.Join(recordErr, h.Engine.Record(ctx, lost))
	}
	return append(pre, outcomes...), errors.Join(recordErr, err)
}

// Summary is the deployer's reply to a direct invocation.
type Summary struct {
	Outcomes map[string]int `json:"outcomes"`
}

func summary(os []Outcome) Summary {
	s := Summary{Outcomes: map[string]int{}}
	for _, o := range os {
		s.Outcomes[string(o.Event.Status)]++
	}
	return s
}
