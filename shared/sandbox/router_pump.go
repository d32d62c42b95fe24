package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/deckhand-ecs/deckhand/events"
)

// PumpStats counts what one Pump delivered.
type PumpStats struct {
	DeployerInvocations int // SQS batches handed to the deployer
	Messages            int // messages in those batches
	Deleted             int // messages the deployer reported as done
	ItemFailures        int // messages reported in batchItemFailures
	BatchErrors         int // invocations that returned an error (whole batch failed)
	TrackerInvocations  int // events handed to the tracker
	TrackerErrors       int // tracker invocations that returned an error
	RunnerInvocations   int // SQS batches handed to the runner
	RunnerItemFailures  int // messages the runner reported in batchItemFailures
	RunnerErrors        int // runner invocations that returned an error
}

// maxPumpRounds bounds Pump against handlers that keep producing work.
const maxPumpRounds = 1000

// Pump delivers until no work is left: it receives batches from the deploy
// queue and invokes the deployer with the SQS event Lambda would send,
// deletes the messages not reported in batchItemFailures (failed ones are
// redelivered after the visibility timeout passes on the virtual clock, and
// go to the DLQ after MaxReceiveCount receives), then hands queued ECS events
// to the tracker one by one as raw EventBridge JSON. A deployer error fails
// the whole batch. Tracker errors are counted, and the event is dropped as an
// exhausted asynchronous invocation would be. Pump returns routing errors and
// malformed handler responses; handler errors are only counted.
func (r *Router) Pump(ctx context.Context) (PumpStats, error) {
	var st PumpStats
	var errs []error
	for range maxPumpRounds {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("pump: %w", err)
		}
		progressed := false
		if r.cfg.Deployer != nil {
			n, err := r.pumpDeployer(ctx, &st)
			if err != nil {
				errs = append(errs, err)
			}
			progressed = progressed || n > 0
		}
		if r.jobs != nil {
			n, err := r.pumpRunner(ctx, &st)
			if err != nil {
				errs = append(errs, err)
			}
			progressed = progressed || n > 0
		}
		if raw, ok := r.nextTrackerEvent(); ok {
			progressed = true
			st.TrackerInvocations++
			if _, err := r.cfg.Tracker.Invoke(r.lambdaContext(ctx, "deckhand-tracker"), raw); err != nil {
				st.TrackerErrors++
				r.s.log.Warn("tracker invocation failed", "error", err)
			}
		}
		if !progressed {
			errs = append(errs, r.takeErrors())
			return st, errors.Join(errs...)
		}
	}
	errs = append(errs, r.takeErrors(), fmt.Errorf("pump: still busy after %d rounds", maxPumpRounds))
	return st, errors.Join(errs...)
}

func (r *Router) nextTrackerEvent() ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tracker) == 0 {
		return nil, false
	}
	raw := r.tracker[0]
	r.tracker = r.tracker[1:]
	return raw, true
}

// pumpDeployer delivers one batch of the deploy queue, returning how many
// messages it held.
func (r *Router) pumpDeployer(ctx context.Context, st *PumpStats) (int, error) {
	b, err := r.pumpQueue(ctx, r.queueURL, r.queueARN, r.cfg.Deployer, "deckhand-deployer")
	st.DeployerInvocations += b.invocations
	st.Messages += b.messages
	st.Deleted += b.deleted
	st.ItemFailures += b.itemFailures
	st.BatchErrors += b.errors
	return b.messages, err
}

// batchStats counts one pumpQueue.
type batchStats struct {
	invocations, messages, deleted, itemFailures, errors int
}

// pumpQueue receives one batch from a queue and invokes h with the SQS
// event Lambda would send, then deletes the messages not reported in
// batchItemFailures. A handler error fails the whole batch.
func (r *Router) pumpQueue(ctx context.Context, url, arn string, h lambda.Handler, function string) (batchStats, error) {
	var b batchStats
	var recv struct {
		Messages []receivedMessage
	}
	err := r.sqsCall("ReceiveMessage", map[string]any{
		"QueueUrl": url, "MaxNumberOfMessages": r.cfg.BatchSize, "MessageSystemAttributeNames": []string{"All"},
	}, &recv)
	if err != nil || len(recv.Messages) == 0 {
		return b, err
	}
	ev := events.SQSEvent{}
	for _, m := range recv.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: m.MessageID, ReceiptHandle: m.ReceiptHandle, Body: m.Body, Md5OfBody: m.MD5OfBody,
			Attributes: m.Attributes, MessageAttributes: map[string]lambdaevents.SQSMessageAttribute{},
			EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: r.s.opts.Region,
		})
	}
	b.invocations++
	b.messages = len(ev.Records)
	payload, err := json.Marshal(ev)
	if err != nil {
		return b, fmt.Errorf("pump: encode SQS event: %w", err)
	}
	out, err := h.Invoke(r.lambdaContext(ctx, function), payload)
	if err != nil {
		b.errors++
		r.s.log.Warn(function+" invocation failed", "error", err)
		return b, nil
	}
	failed, err := batchItemFailures(out, ev)
	if err != nil {
		b.errors++
		return b, fmt.Errorf("pump: %w", err)
	}
	b.itemFailures = len(failed)
	for _, m := range recv.Messages {
		if failed[m.MessageID] {
			continue
		}
		if err := r.sqsCall("DeleteMessage", map[string]string{"QueueUrl": url, "ReceiptHandle": m.ReceiptHandle}, nil); err != nil {
			return b, fmt.Errorf("pump: %w", err)
		}
		b.deleted++
	}
	return b, nil
}

// batchItemFailures reads a partial batch response. As with Lambda, an
// identifier that is not in the batch fails the whole batch.
func batchItemFailures(out []byte, ev events.SQSEvent) (map[string]bool, error) {
	failed := map[string]bool{}
	if len(out) == 0 || string(out) == "null" {
		return failed, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("decode deployer response: %w", err)
	}
	ids := map[string]bool{}
	for _, rec := range ev.Records {
		ids[rec.MessageId] = true
	}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			for id := range ids {
				failed[id] = true
			}
			return failed, fmt.Errorf("deployer reported unknown item %q; whole batch failed", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}
