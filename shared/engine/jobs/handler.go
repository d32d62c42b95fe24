package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// Handler is the runner Lambda's handler (DESIGN §7). Its input is an SQS
// batch from the job FIFO queue, where EventBridge Scheduler sends each
// job's invocations into the job's message group (MessageGroup) and the
// tracker its re-runs: Lambda hands the runner one batch per group at a
// time, so a job's invocations are decided one after another. It answers
// with a partial batch response. A bare invocation {"job",
// "scheduledTime"} (a person's `aws lambda invoke`, tests) runs at once,
// outside any group, and is answered with its Result.
type Handler struct {
	Engine *Engine
}

// Handle is the function passed to lambda.Start / lambda.NewHandler.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	head, err := events.Decode[struct {
		Records []json.RawMessage `json:"Records"`
	}](payload, "runner input")
	if err != nil {
		return nil, err
	}
	if head.Records != nil {
		ev, err := events.Decode[events.SQSEvent](payload, "SQS event")
		if err != nil {
			return nil, err
		}
		return h.HandleSQS(ctx, ev), nil
	}
	var inv Invocation
	if err := json.Unmarshal(payload, &inv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInvocation, err)
	}
	return h.Engine.Run(ctx, inv)
}

// HandleSQS decides a batch's invocations in order. A message that fails
// (an error worth retrying, or a body that is not an invocation of its
// group's job) is reported in batchItemFailures, and so is every later
// message of its group in the batch, undecided: SQS then redelivers the
// group in order, after the visibility timeout, and a message that keeps
// failing reaches the DLQ after the queue's maxReceiveCount. One line is
// logged per message ("job run").
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	var resp events.SQSEventResponse
	failed := map[string]bool{} // message groups with a failed message
	log := h.Engine.logger()
	for _, r := range ev.Records {
		group := r.Attributes["MessageGroupId"]
		l := log.With("message_id", r.MessageId, "group", group, "receive_count", r.Attributes["ApproximateReceiveCount"])
		fail := func() {
			failed[group] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
		if failed[group] {
			l.InfoContext(ctx, "job run", "outcome", "held", "reason", "an earlier message of its group failed; redelivered in order")
			fail()
			continue
		}
		inv, err := invocationOf(r.Body, group)
		if err != nil {
			l.ErrorContext(ctx, "job run", "outcome", "bad_message", "reason", err.Error())
			fail()
			continue
		}
		l = l.With("job", inv.Job, "scheduled_time", inv.ScheduledTime, "attempt", max(inv.Attempt, 1))
		res, err := h.Engine.Run(ctx, inv)
		if errors.Is(err, ErrBadInvocation) {
			l.ErrorContext(ctx, "job run", "outcome", "bad_message", "reason", err.Error())
			fail()
			continue
		}
		if err != nil {
			l.WarnContext(ctx, "job run", "outcome", "retry", "reason", revision.Reason(err), "error", err.Error())
			fail()
			continue
		}
		l.InfoContext(ctx, "job run", "outcome", string(res.Status), "duplicate", res.Duplicate, "tasks", res.TaskARNs, "reason", res.Reason)
	}
	return resp
}

// invocationOf decodes a message body strictly. A message of another
// group than its job's would be decided outside the job's turn, so it is
// refused.
func invocationOf(body, group string) (Invocation, error) {
	inv, err := events.Decode[Invocation]([]byte(body), "runner invocation")
	if err != nil {
		return inv, fmt.Errorf("%w: %w", ErrBadInvocation, err)
	}
	if group != "" && inv.Job != "" && group != MessageGroup(inv.Job) {
		return inv, fmt.Errorf("%w: job %s in message group %q; a job's invocations go into group %q",
			ErrBadInvocation, inv.Job, group, MessageGroup(inv.Job))
	}
	return inv, nil
}
