package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

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
	// DLQ is the deploy queue's dead-letter queue (DECKHAND_DLQ_URL). A
	// message that failed for good goes there at once, with its reason,
	// instead of being received maxReceiveCount times; nil leaves it to the
	// queue's redrive policy.
	DLQ deadLetters
}

// deadLetters takes messages that failed for good; *queue.FIFO implements
// it.
type deadLetters interface {
	DeadLetter(ctx context.Context, group, id string, body []byte, reason string) error
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
	outcomes, err := h.run(ctx, []record{{body: payload, receive: 0}})
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
// with a retryable failure (retried in order). A message whose failures are
// all permanent goes to the DLQ at once with its reason (its FAILED event
// was emitted on its first receive) and is acknowledged; when that send
// fails, or without a DLQ, it is failed too and reaches the DLQ after the
// queue's maxReceiveCount instead of vanishing.
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	recs := make([]record, len(ev.Records))
	for i, r := range ev.Records {
		n, err := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		if err != nil || n < 1 {
			n = 1
		}
		recs[i] = record{messageID: r.MessageId, body: []byte(r.Body), receive: n, group: r.Attributes["MessageGroupId"]}
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
	retry, permanent := map[string]bool{}, map[string][]string{}
	for _, o := range outcomes {
		if o.Err == nil {
			continue
		}
		for _, p := range o.Pushes {
			switch {
			case p.MessageID == "":
			case o.Retry:
				retry[p.MessageID] = true
			default:
				permanent[p.MessageID] = append(permanent[p.MessageID], o.Event.Reason)
			}
		}
	}
	for _, r := range recs {
		switch {
		case failedIDs[r.messageID] || retry[r.messageID]:
		case len(permanent[r.messageID]) > 0:
			if h.deadLetter(ctx, r, permanent[r.messageID]) {
				continue
			}
		default:
			continue
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: r.messageID})
	}
	return resp, nil
}

// deadLetter puts a message that failed for good on the DLQ with its
// reasons, and reports whether it may be acknowledged.
func (h *Handler) deadLetter(ctx context.Context, r record, reasons []string) bool {
	if h.DLQ == nil {
		return false
	}
	h.Engine.init()
	reason := strings.Join(reasons, "; ")
	if err := h.DLQ.DeadLetter(ctx, r.group, r.messageID, r.body, reason); err != nil {
		h.Engine.Logger.ErrorContext(ctx, "dead-letter send failed; the message will be retried", "message_id", r.messageID,
			"outcome", "dead_letter_failed", "reason", reason, "error", err)
		return false
	}
	h.Engine.Logger.ErrorContext(ctx, "message dead-lettered", "message_id", r.messageID, "receive", r.receive,
		"outcome", "dead_lettered", "reason", reason)
	return true
}

type record struct {
	messageID string
	body      []byte
	// receive is the queue's ApproximateReceiveCount (0 for a direct
	// invocation); group is the message group.
	receive int
	group   string
}

// run decodes the records, deploys the pushes and records the rest.
func (h *Handler) run(ctx context.Context, recs []record) ([]Outcome, error) {
	var pre []Outcome
	var pushes []Push
	for _, r := range recs {
		ps, outs := h.inputs(ctx, r)
		pre = append(pre, outs...)
		for _, p := range ps {
			p.MessageID, p.Receive, p.Redelivered, p.Group = r.messageID, r.receive, r.receive > 1, r.group
			pushes = append(pushes, p)
		}
	}
	recordErr := h.Engine.Record(ctx, pre)
	if len(pushes) == 0 {
		return pre, recordErr
	}
	errs := []error{recordErr}
	for _, batch := range h.batches(pushes) {
		outcomes, err := h.Engine.Deploy(ctx, batch)
		if err != nil && outcomes == nil {
			// The manifest could not be loaded: every push fails alike.
			lost := make([]Outcome, len(batch))
			for i, p := range batch {
				lost[i] = failed(Outcome{Pushes: []Push{p}, Event: pushEvent(p, "", "")}, err)
			}
			outcomes, err = lost, h.Engine.Record(ctx, lost)
		}
		pre = append(pre, outcomes...)
		errs = append(errs, err)
	}
	return pre, errors.Join(errs...)
}

// batches splits the pushes by message group when the engine decides from
// the groups' manifest parts (parts.go): each group's from its own part.
// Otherwise they are one batch.
func (h *Handler) batches(pushes []Push) [][]Push {
	if h.Engine.Parts == nil {
		return [][]Push{pushes}
	}
	var order []string
	byGroup := map[string][]Push{}
	for _, p := range pushes {
		if _, ok := byGroup[p.Group]; !ok {
			order = append(order, p.Group)
		}
		byGroup[p.Group] = append(byGroup[p.Group], p)
	}
	out := make([][]Push, len(order))
	for i, g := range order {
		out[i] = byGroup[g]
	}
	return out
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
