package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The job path, as the CDK app builds it: each job's EventBridge Scheduler
// schedule sends {"job", "scheduledTime"} into the job FIFO queue with
// MessageGroupId = the job (the queue deduplicates by content), and the
// runner consumes the queue with partial batch responses. The tracker
// sends its re-runs into the same queue.

type jobQueue struct {
	url, arn, dlqURL string
}

func (r *Router) createJobQueue() (*jobQueue, error) {
	name := r.cfg.JobQueueName
	dlqName := trimFIFO(name) + "-dlq.fifo"
	q := &jobQueue{arn: fmt.Sprintf("arn:aws:sqs:%s:%s:%s", r.s.opts.Region, r.s.opts.Account, name)}
	var err error
	if q.dlqURL, err = r.createQueue(dlqName, map[string]string{"FifoQueue": "true"}); err != nil {
		return nil, err
	}
	q.url, err = r.createQueue(name, map[string]string{
		"FifoQueue":                 "true",
		"ContentBasedDeduplication": "true",
		"VisibilityTimeout":         fmt.Sprint(int(r.cfg.VisibilityTimeout / time.Second)),
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":"arn:aws:sqs:%s:%s:%s","maxReceiveCount":%d}`,
			r.s.opts.Region, r.s.opts.Account, dlqName, r.cfg.MaxReceiveCount),
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// errNoJobQueue is returned by the job methods of a Router without a Runner.
var errNoJobQueue = errors.New("the router has no job queue: RouterConfig.Runner is nil")

// JobQueueURL returns the job queue's URL (what DECKHAND_JOB_QUEUE_URL
// names), or "" without a Runner.
func (r *Router) JobQueueURL() string {
	if r.jobs == nil {
		return ""
	}
	return r.jobs.url
}

// Schedule delivers one invocation of a job's schedule as EventBridge
// Scheduler's SQS target does: the schedule's input, with the scheduled
// time filled in, into the job's message group, deduplicated by content
// (the same scheduled time sent again within five minutes is dropped).
// It is safe to call from several goroutines, as Scheduler delivers
// concurrently.
func (r *Router) Schedule(job string, scheduled time.Time) error {
	if r.jobs == nil {
		return errNoJobQueue
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Job           string `json:"job"`
		ScheduledTime string `json:"scheduledTime"`
	}{job, scheduled.UTC().Format(time.RFC3339)}); err != nil {
		return fmt.Errorf("schedule %s: %w", job, err)
	}
	err := r.sqsCall("SendMessage", map[string]string{
		"QueueUrl": r.jobs.url, "MessageBody": string(bytes.TrimSpace(b.Bytes())), "MessageGroupId": job,
	}, nil)
	if err != nil {
		return fmt.Errorf("schedule %s at %s: %w", job, scheduled.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// JobDLQ returns the bodies of the messages in the job queue's DLQ,
// oldest first, without receiving them.
func (r *Router) JobDLQ() []string {
	if r.jobs == nil {
		return nil
	}
	return r.s.sqs.peek(r.jobs.dlqURL)
}

// pumpRunner delivers one batch of the job queue to the runner.
func (r *Router) pumpRunner(ctx context.Context, st *PumpStats) (int, error) {
	b, err := r.pumpQueue(ctx, r.jobs.url, r.jobs.arn, r.cfg.Runner, "deckhand-runner")
	st.RunnerInvocations += b.invocations
	st.RunnerItemFailures += b.itemFailures
	st.RunnerErrors += b.errors
	return b.messages, err
}

// PumpJobs delivers the job queue to the runner until no message is
// visible. Several goroutines may pump at once, as Lambda's pollers do: the
// FIFO queue hands out a message group to one of them at a time.
func (r *Router) PumpJobs(ctx context.Context) (PumpStats, error) {
	var st PumpStats
	if r.jobs == nil {
		return st, errNoJobQueue
	}
	for range maxPumpRounds {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("pump jobs: %w", err)
		}
		n, err := r.pumpRunner(ctx, &st)
		if err != nil || n == 0 {
			return st, err
		}
	}
	return st, fmt.Errorf("pump jobs: still busy after %d rounds", maxPumpRounds)
}
