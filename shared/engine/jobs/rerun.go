package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// sender sends to the job FIFO queue; *queue.FIFO implements it.
type sender interface {
	Send(ctx context.Context, group, id string, body []byte) error
}

// MessageGroup is the job FIFO queue's message group of a job's
// invocations: the job's name. EventBridge Scheduler sends each schedule's
// invocations into it (the CDK app), and the tracker its re-runs, so the
// runner decides a job's invocations one at a time.
func MessageGroup(job string) string { return job }

// rerun starts the next attempt of a run whose task failed to start for a
// transient reason, on the failed task's revision. With a job queue the attempt is sent into the job's
// message group, deduplicated by its client token, so it is decided in
// turn with the job's scheduled invocations; without one (the CLI, tests)
// it runs at once through Run, with the same rules.
func (e *Engine) rerun(ctx context.Context, job *manifest.Job, taskDef string, scheduled time.Time, attempt int) error {
	inv := Invocation{Job: job.Name, ScheduledTime: scheduled.UTC().Format(time.RFC3339), Attempt: attempt, TaskDefinition: taskDef}
	if e.Queue == nil {
		_, err := e.Run(ctx, inv)
		return err
	}
	body, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("encode re-run of job %s: %w", job.Name, err)
	}
	if err := e.Queue.Send(ctx, MessageGroup(job.Name), ClientToken(job.Name, scheduled, attempt), body); err != nil {
		return fmt.Errorf("send re-run %d of job %s: %w", attempt, job.Name, err)
	}
	e.logger().InfoContext(ctx, "re-run queued", "job", job.Name, "attempt", attempt, "outcome", "queued")
	return nil
}
