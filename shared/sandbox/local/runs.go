package local

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// A job's runs on the sandbox's virtual clock: what the demo, the job
// end-to-end tests and the chaos suite check overlap policies against.

// Run is one task Deckhand started for a job, as ECS describes it, with the
// instants that bound its activity on the sandbox's virtual clock.
type Run struct {
	TaskARN   string
	Scheduled string // its deckhand:scheduled-time tag
	Attempt   string // its deckhand:attempt tag
	Created   time.Time
	// Stopping is when the task was told to stop (StopTask) or its
	// essential container exited; zero while it is meant to run.
	Stopping time.Time
	// Ended is when its containers stopped (ECS's executionStoppedAt; for
	// a task that never ran, when it was told to stop, once it is
	// deprovisioning); zero while they may still run.
	Ended         time.Time
	StoppedReason string
}

// Active is the end of a run's activity for overlap: forbid. A run is
// active from its creation until its containers stopped.
func Active(r Run) time.Time { return r.Ended }

// Live is the end of a run's life for overlap: replace. A run is live
// from its creation until it was told to stop (or exited).
func Live(r Run) time.Time { return r.Stopping }

// ECSReader lists and describes tasks; *ecs.Client implements it.
type ECSReader interface {
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// Runs describes every task Deckhand started for job in cluster, running
// and stopped, in creation order.
func Runs(ctx context.Context, api ECSReader, cluster, job string) ([]Run, error) {
	var arns []string
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		p := ecs.NewListTasksPaginator(api, &ecs.ListTasksInput{Cluster: aws.String(cluster),
			StartedBy: aws.String(jobs.StartedBy(job)), DesiredStatus: status})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list tasks of job %s: %w", job, err)
			}
			arns = append(arns, out.TaskArns...)
		}
	}
	var runs []Run
	for len(arns) > 0 {
		n := min(len(arns), 100)
		out, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns[:n],
			Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("describe tasks of job %s: %w", job, err)
		}
		for _, t := range out.Tasks {
			runs = append(runs, runOf(t))
		}
		arns = arns[n:]
	}
	slices.SortStableFunc(runs, func(a, b Run) int { return a.Created.Compare(b.Created) })
	return runs, nil
}

func runOf(t ecstypes.Task) Run {
	tags := revision.TagsOf(t.Tags)
	r := Run{TaskARN: aws.ToString(t.TaskArn), Scheduled: tags[revision.TagScheduledTime], Attempt: tags[revision.TagAttempt],
		Created: aws.ToTime(t.CreatedAt), StoppedReason: aws.ToString(t.StoppedReason)}
	if aws.ToString(t.DesiredStatus) == "STOPPED" {
		r.Stopping = aws.ToTime(t.StoppingAt)
	}
	switch {
	case t.ExecutionStoppedAt != nil:
		r.Ended = *t.ExecutionStoppedAt
	case aws.ToString(t.LastStatus) == "DEPROVISIONING" || aws.ToString(t.LastStatus) == "STOPPED":
		r.Ended = r.Stopping
	}
	return r
}

// Overlap is an instant at which more than one run was active.
type Overlap struct {
	At    time.Time
	Tasks []string
}

// Overlaps returns every instant at which a run became active while
// another one was, with the runs active then. A run is active over
// [Created, until(run)), and for ever when until(run) is zero.
func Overlaps(runs []Run, until func(Run) time.Time) []Overlap {
	var out []Overlap
	for i, r := range runs {
		var with []string
		for j, o := range runs {
			if i == j {
				continue
			}
			end := until(o)
			if !o.Created.After(r.Created) && (o.Created.Before(r.Created) || j < i) && (end.IsZero() || end.After(r.Created)) {
				with = append(with, o.TaskARN)
			}
		}
		if len(with) > 0 {
			out = append(out, Overlap{At: r.Created, Tasks: append(with, r.TaskARN)})
		}
	}
	return out
}
