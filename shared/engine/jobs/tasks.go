package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// The job's tasks as ECS reports them: what the rules (rules.go) read and
// what a new run waits for.

// jobTasks returns every task Deckhand started for a job that ECS still
// lists: those not told to stop and the recently stopped ones (ECS keeps a
// stopped task for at least an hour), described with their tags.
func (e *Engine) jobTasks(ctx context.Context, cluster, job string) ([]ecstypes.Task, error) {
	var arns []string
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		listed, err := e.listTasks(ctx, cluster, job, status)
		if err != nil {
			return nil, err
		}
		for _, arn := range listed {
			if !slices.Contains(arns, arn) { // a task that stopped between the two lists
				arns = append(arns, arn)
			}
		}
	}
	return e.describeTasks(ctx, cluster, arns)
}

// runningTasks returns the job's tasks not yet told to stop, with tags.
func (e *Engine) runningTasks(ctx context.Context, cluster, job string) ([]ecstypes.Task, error) {
	arns, err := e.listTasks(ctx, cluster, job, ecstypes.DesiredStatusRunning)
	if err != nil {
		return nil, err
	}
	return e.describeTasks(ctx, cluster, arns)
}

func (e *Engine) listTasks(ctx context.Context, cluster, job string, status ecstypes.DesiredStatus) ([]string, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(e.ecs(ctx), &ecs.ListTasksInput{Cluster: aws.String(cluster), StartedBy: aws.String(StartedBy(job)),
		DesiredStatus: status})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s tasks of job %s: %w", strings.ToLower(string(status)), job, err)
		}
		arns = append(arns, out.TaskArns...)
	}
	return arns, nil
}

func (e *Engine) describeTasks(ctx context.Context, cluster string, arns []string) ([]ecstypes.Task, error) {
	var tasks []ecstypes.Task
	for len(arns) > 0 {
		n := min(len(arns), 100)
		out, err := e.ecs(ctx).DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns[:n],
			Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("describe tasks in %s: %w", cluster, err)
		}
		tasks = append(tasks, out.Tasks...)
		arns = arns[n:]
	}
	return tasks, nil
}

// ErrNotListed is returned when ECS does not list a task it has just
// started within the checks awaitListed makes. The invocation is retried;
// the retry finds the task and starts nothing new.
var ErrNotListed = errors.New("ECS does not list the new task yet")

// Checks of awaitListed: the first at once, then after waits doubling from
// listedFirstWait up to listedMaxWait (about 16 s in all).
const (
	listedChecks    = 8
	listedFirstWait = 250 * time.Millisecond
	listedMaxWait   = 4 * time.Second
)

// awaitListed returns once ListTasks lists the task arn (among the job's
// running or stopped tasks). The ECS API is eventually consistent: a task
// RunTask just started may be missing from ListTasks for a while, and the
// next invocation of the job's message group decides its overlap from
// ListTasks. Holding the group until the task is listed makes that
// decision see it (read-your-write); ECS's guidance is to poll with
// exponential backoff ("Amazon ECS API reference: eventual consistency").
func (e *Engine) awaitListed(ctx context.Context, job *manifest.Job, arn string) error {
	wait := listedFirstWait
	var last error
	for check := 1; ; check++ {
		ok, err := e.listed(ctx, job, arn)
		if err == nil && ok {
			return nil
		}
		last = err
		if check == listedChecks {
			break
		}
		if err := e.sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, listedMaxWait)
	}
	if last != nil {
		return fmt.Errorf("await task %s of job %s in ListTasks: %w", arn, job.Name, last)
	}
	return fmt.Errorf("task %s of job %s after %d checks: %w", arn, job.Name, listedChecks, ErrNotListed)
}

func (e *Engine) listed(ctx context.Context, job *manifest.Job, arn string) (bool, error) {
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		arns, err := e.listTasks(ctx, job.Cluster, job.Name, status)
		if err != nil {
			return false, err
		}
		if slices.Contains(arns, arn) {
			return true, nil
		}
	}
	return false, nil
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	return revision.SleepContext(ctx, d)
}

func (e *Engine) stopTask(ctx context.Context, cluster, arn, reason string) error {
	if len(reason) > 255 {
		reason = reason[:255]
	}
	if _, err := e.ecs(ctx).StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String(reason)}); err != nil {
		return fmt.Errorf("stop task %s: %w", arn, err)
	}
	return nil
}

func taskARNs(tasks []ecstypes.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = aws.ToString(t.TaskArn)
	}
	return out
}

// attemptOf reads the deckhand:attempt tag (1 when absent).
func attemptOf(t ecstypes.Task) int {
	if n, err := strconv.Atoi(revision.TagsOf(t.Tags)[revision.TagAttempt]); err == nil && n > 0 {
		return n
	}
	return 1
}

// scheduledOf reads the deckhand:scheduled-time tag ("" when absent).
func scheduledOf(t ecstypes.Task) string {
	return revision.TagsOf(t.Tags)[revision.TagScheduledTime]
}

func failureReason(fs []ecstypes.Failure) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		s := aws.ToString(f.Reason)
		if d := aws.ToString(f.Detail); d != "" {
			s += " (" + d + ")"
		}
		if a := aws.ToString(f.Arn); a != "" {
			s += " [" + a + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
