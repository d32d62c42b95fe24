package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// clusterEngine is an engine over a stateful fake cluster, with waits that
// return at once.
func clusterEngine(t *testing.T, overlap string, lag int) (*Engine, *fakeECS, *fakeEvents, *fakeCluster) {
	t.Helper()
	e, fe, ev := newEngine(t)
	e.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	job, _ := e.Source.(*fakeSource).m.Job("report")
	job.Overlap = overlap
	c := &fakeCluster{now: e.Now, lag: lag}
	c.install(fe)
	return e, fe, ev, c
}

func run(t *testing.T, e *Engine, scheduled string) Result {
	t.Helper()
	res, err := e.Run(context.Background(), Invocation{Job: "report", ScheduledTime: scheduled})
	if err != nil {
		t.Fatalf("Run %s: %v", scheduled, err)
	}
	return res
}

// TestForbidHoldsWhileListTasksLags runs two scheduled times of a forbid
// job one after the other, as the job's FIFO message group delivers them,
// while ECS's ListTasks does not show a new task for its next two calls
// (ECS is eventually consistent). The first run must not end before its
// task is visible, so the second sees it and is skipped.
func TestForbidHoldsWhileListTasksLags(t *testing.T) {
	e, _, ev, c := clusterEngine(t, manifest.OverlapForbid, 2)
	first := run(t, e, "2026-07-01T03:00:00Z")
	second := run(t, e, "2026-07-01T03:15:00Z")
	if first.Status != events.JobStarted {
		t.Fatalf("first run = %+v, want STARTED", first)
	}
	if second.Status != events.JobSkippedOverlap {
		t.Errorf("second run = %+v, want SKIPPED_OVERLAP", second)
	}
	if got := c.running(); len(got) != 1 {
		t.Errorf("running tasks = %v, want one", got)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobStarted, events.JobSkippedOverlap}, ev.statuses()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestReplaceNeverStopsANewerRun delivers a replace job's scheduled times
// out of order: the older one arrives while the newer one runs and must
// not replace it.
func TestReplaceNeverStopsANewerRun(t *testing.T) {
	tests := map[string]struct {
		order       []string
		wantResults []events.JobStatus
		wantRunning string // the scheduled time whose task runs at the end
	}{
		"in order, the newer run replaces the older": {
			order:       []string{"2026-07-01T03:00:00Z", "2026-07-01T03:15:00Z"},
			wantResults: []events.JobStatus{events.JobStarted, events.JobStarted},
			wantRunning: "2026-07-01T03:15:00Z",
		},
		"out of order, the older run is skipped": {
			order:       []string{"2026-07-01T03:15:00Z", "2026-07-01T03:00:00Z"},
			wantResults: []events.JobStatus{events.JobStarted, events.JobSkippedOverlap},
			wantRunning: "2026-07-01T03:15:00Z",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, fe, _, c := clusterEngine(t, manifest.OverlapReplace, 0)
			var got []events.JobStatus
			for _, at := range tc.order {
				got = append(got, run(t, e, at).Status)
			}
			if diff := cmp.Diff(tc.wantResults, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			running := c.running()
			if len(running) != 1 {
				t.Fatalf("running tasks = %v, want one", running)
			}
			out, _ := c.describeTasks(&ecs.DescribeTasksInput{Tasks: running})
			if got := revision.TagsOf(out.Tasks[0].Tags)[revision.TagScheduledTime]; got != tc.wantRunning {
				t.Errorf("the running task is scheduled at %s, want %s", got, tc.wantRunning)
			}
			for _, in := range inputsOf[*ecs.StopTaskInput](fe) {
				if !strings.Contains(*in.Reason, tc.wantRunning) {
					t.Errorf("a task was stopped with %q, by a run other than the newest", *in.Reason)
				}
			}
		})
	}
}

// TestRunTaskClientErrorsFailOnce: RunTask refusing the request (a client
// error retrying cannot fix) is FAILED once, with the cause, and not
// returned for a retry.
func TestRunTaskClientErrorsFailOnce(t *testing.T) {
	for _, code := range []string{"InvalidParameterException", "ClientException", "AccessDeniedException"} {
		t.Run(code, func(t *testing.T) {
			e, fe, ev := newEngine(t)
			fe.runTask = func(*ecs.RunTaskInput) (*ecs.RunTaskOutput, error) {
				return nil, &smithy.GenericAPIError{Code: code, Message: "Network Configuration must be provided when networkMode 'awsvpc' is specified."}
			}
			res, err := e.Run(context.Background(), Invocation{Job: "report", ScheduledTime: tick})
			if err != nil {
				t.Fatalf("Run returned %v; a refused RunTask must not be retried", err)
			}
			if res.Status != events.JobFailed || !strings.Contains(res.Reason, "Network Configuration") {
				t.Errorf("result = %+v, want FAILED with RunTask's message", res)
			}
			if diff := cmp.Diff([]events.JobStatus{events.JobFailed}, ev.statuses()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if n := len(inputsOf[*ecs.RunTaskInput](fe)); n != 1 {
				t.Errorf("RunTask calls = %d, want 1", n)
			}
		})
	}
}

// TestLateDuplicateSaysSo delivers a scheduled time again after its task
// has finished: nothing new starts, the result says Duplicate, and no
// second STARTED follows the run's verdict.
func TestLateDuplicateSaysSo(t *testing.T) {
	e, _, ev, c := clusterEngine(t, manifest.OverlapForbid, 0)
	first := run(t, e, tick)
	c.finish()
	late := run(t, e, tick)
	if !late.Duplicate || len(late.TaskARNs) != 1 || late.TaskARNs[0] != first.TaskARNs[0] {
		t.Errorf("late duplicate = %+v, want Duplicate naming %v", late, first.TaskARNs)
	}
	if n := len(c.tasks); n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobStarted}, ev.statuses()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestForbidCountsRunsUntilTheirContainersStop: a run told to stop (for its
// timeout) still blocks a forbid job through its stop grace; one whose
// containers have stopped does not.
func TestForbidCountsRunsUntilTheirContainersStop(t *testing.T) {
	tests := map[string]struct {
		desired, last string
		want          events.JobStatus
	}{
		"a running task blocks":                               {desired: "RUNNING", last: "RUNNING", want: events.JobSkippedOverlap},
		"a task told to stop, still running, blocks":          {desired: "STOPPED", last: "RUNNING", want: events.JobSkippedOverlap},
		"a task stopped before it ran, still pending, blocks": {desired: "STOPPED", last: "PENDING", want: events.JobSkippedOverlap},
		"a deprovisioning task does not block":                {desired: "STOPPED", last: "DEPROVISIONING", want: events.JobStarted},
		"a stopped task does not block":                       {desired: "STOPPED", last: "STOPPED", want: events.JobStarted},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, _, _, c := clusterEngine(t, manifest.OverlapForbid, 0)
			run(t, e, "2026-07-01T02:00:00Z")
			c.tasks[0].task.DesiredStatus, c.tasks[0].task.LastStatus = &tc.desired, &tc.last
			if got := run(t, e, tick); got.Status != tc.want {
				t.Errorf("run = %+v, want %s", got, tc.want)
			}
		})
	}
}

// TestANewTaskIsAwaitedInListTasks: when ListTasks keeps leaving the new
// task out, the invocation fails for a retry (its group stays held), and
// the retry, once ECS lists the task, starts nothing new.
func TestANewTaskIsAwaitedInListTasks(t *testing.T) {
	e, fe, _, c := clusterEngine(t, manifest.OverlapForbid, 1000)
	_, err := e.Run(context.Background(), Invocation{Job: "report", ScheduledTime: tick})
	if !errors.Is(err, ErrNotListed) {
		t.Fatalf("Run = %v, want ErrNotListed", err)
	}
	if !revision.Retryable(err) {
		t.Errorf("%v is not retryable; the invocation must be retried", err)
	}
	if n := len(inputsOf[*ecs.ListTasksInput](fe)); n != 2+2*listedChecks {
		t.Errorf("ListTasks calls = %d, want 2 before RunTask and 2 per check", n)
	}
	c.tasks[0].hidden = 0
	again := run(t, e, tick)
	if !again.Duplicate || len(c.tasks) != 1 {
		t.Errorf("retry = %+v with %d tasks, want a duplicate of the one task", again, len(c.tasks))
	}
}

// TestReRunStartsOnlyTheJobsRevision: a re-run names the failed attempt's
// revision; one Deckhand did not register for the job is refused.
func TestReRunStartsOnlyTheJobsRevision(t *testing.T) {
	const other = "arn:aws:ecs:us-east-1:123456789012:task-definition/admin:1"
	e, fe, ev, _ := clusterEngine(t, manifest.OverlapForbid, 0)
	fe.describeTaskDefinition = func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
		return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: aws.String(other)},
			Tags: tags(revision.TagJob, "admin")}, nil
	}
	res, err := e.Run(context.Background(), Invocation{Job: "report", ScheduledTime: tick, Attempt: 2, TaskDefinition: other})
	if err != nil || res.Status != events.JobFailed || !strings.Contains(res.Reason, "not registered for job report") {
		t.Errorf("Run = %+v, %v; want FAILED naming the foreign revision", res, err)
	}
	if n := len(inputsOf[*ecs.RunTaskInput](fe)); n != 0 {
		t.Errorf("RunTask calls = %d, want none", n)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobFailed}, ev.statuses()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
