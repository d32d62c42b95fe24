package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// StopOverdue stops every task of a job with a timeout that has been running
// (since it started, or since it was created when it never started) for
// longer than the timeout. Each is stopped with a reason starting
// ReasonTimedOutPrefix and reported as TIMED_OUT. A stopped task is no longer
// listed as running, so a second call in a row stops and emits nothing.
// It returns the ARNs of the tasks it stopped; errors of one job do not keep
// the others from being checked.
func (e *Engine) StopOverdue(ctx context.Context, m *manifest.Manifest) ([]string, error) {
	var stopped []string
	var errs []error
	now := e.now()
	for i := range m.Jobs {
		job := &m.Jobs[i]
		limit := job.TimeoutDuration()
		if limit <= 0 {
			continue
		}
		ctx, err := e.inTarget(ctx, m, job.Target, job.Name)
		if err != nil {
			if !revision.Retryable(err) {
				// A target role that refuses the hub refuses every pass:
				// said, not retried.
				e.logger().ErrorContext(ctx, "job's target unreachable; its timeout is not enforced", "job", job.Name,
					"outcome", "skipped", "reason", revision.Reason(err), "error", err)
				continue
			}
			errs = append(errs, err)
			continue
		}
		tasks, err := e.runningTasks(ctx, job.Cluster, job.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, t := range tasks {
			since := t.StartedAt
			if since == nil {
				since = t.CreatedAt
			}
			if since == nil || now.Sub(*since) <= limit {
				continue
			}
			arn := aws.ToString(t.TaskArn)
			ran := now.Sub(*since).Round(time.Second)
			reason := fmt.Sprintf("%s after %s (timeout %s)", ReasonTimedOutPrefix, ran, job.Timeout)
			if err := e.stopTask(ctx, job.Cluster, arn, reason); err != nil {
				errs = append(errs, err)
				continue
			}
			change := events.JobStateChange{Status: events.JobTimedOut, Job: job.Name, Cluster: job.Cluster,
				TaskARNs: []string{arn}, StopCode: StopUserInitiated, Reason: reason, Attempt: attemptOf(t),
				DurationMS: ran.Milliseconds()}
			if s, err := time.Parse(time.RFC3339, revision.TagsOf(t.Tags)[revision.TagScheduledTime]); err == nil {
				change.ScheduledTime = &s
			}
			if err := e.emit(ctx, change); err != nil {
				errs = append(errs, err)
				continue
			}
			stopped = append(stopped, arn)
		}
	}
	return stopped, errors.Join(errs...)
}
