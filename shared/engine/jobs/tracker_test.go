package jobs

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

func code(n int32) *int32 { return &n }

func TestJudge(t *testing.T) {
	ess := map[string]bool{"report": true}
	tests := map[string]struct {
		detail        events.ECSTaskStateChange
		essential     map[string]bool
		wantStatus    events.JobStatus
		wantCodes     map[string]int32
		wantTransient bool
		wantReason    string
	}{
		"every essential container exited 0": {
			detail: events.ECSTaskStateChange{StopCode: StopEssentialContainerExited, Containers: []events.ECSContainer{
				{Name: "report", ExitCode: code(0)}, {Name: "sidecar", ExitCode: code(137)}}},
			essential: ess, wantStatus: events.JobSucceeded, wantCodes: map[string]int32{"report": 0, "sidecar": 137},
		},
		"a non-zero essential exit code fails with the code": {
			detail: events.ECSTaskStateChange{StopCode: StopEssentialContainerExited, Containers: []events.ECSContainer{
				{Name: "report", ExitCode: code(3)}, {Name: "sidecar", ExitCode: code(0)}}},
			essential: ess, wantStatus: events.JobFailed, wantCodes: map[string]int32{"report": 3, "sidecar": 0},
			wantReason: "container report exited with code 3",
		},
		"without the task definition every container counts": {
			detail: events.ECSTaskStateChange{StopCode: StopEssentialContainerExited, Containers: []events.ECSContainer{
				{Name: "report", ExitCode: code(0)}, {Name: "sidecar", ExitCode: code(1)}}},
			wantStatus: events.JobFailed, wantCodes: map[string]int32{"report": 0, "sidecar": 1}, wantReason: "sidecar exited with code 1",
		},
		"an essential container without an exit code fails": {
			detail: events.ECSTaskStateChange{StopCode: StopEssentialContainerExited, Containers: []events.ECSContainer{
				{Name: "report", Reason: "OutOfMemoryError: Container killed due to memory usage"}}},
			essential: ess, wantStatus: events.JobFailed, wantCodes: map[string]int32{}, wantReason: "OutOfMemoryError",
		},
		"stopped by a user fails even with exit code 0": {
			detail: events.ECSTaskStateChange{StopCode: StopUserInitiated, StoppedReason: "Task stopped by user", Containers: []events.ECSContainer{
				{Name: "report", ExitCode: code(0)}}},
			essential: ess, wantStatus: events.JobFailed, wantCodes: map[string]int32{"report": 0}, wantReason: "stopped (UserInitiated)",
		},
		"a Spot interruption fails": {
			detail: events.ECSTaskStateChange{StopCode: "SpotInterruption", StoppedReason: "Your Spot Task was interrupted.", Containers: []events.ECSContainer{
				{Name: "report", ExitCode: code(143)}}},
			essential: ess, wantStatus: events.JobFailed, wantCodes: map[string]int32{"report": 143}, wantReason: "SpotInterruption",
		},
		"CannotPullContainerError is a transient start failure": {
			detail: events.ECSTaskStateChange{StopCode: StopTaskFailedToStart, StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
				Containers: []events.ECSContainer{{Name: "report"}}},
			essential: ess, wantStatus: events.JobFailed, wantCodes: map[string]int32{}, wantTransient: true, wantReason: "CannotPullContainerError",
		},
		"ResourceInitializationError is a transient start failure": {
			detail:    events.ECSTaskStateChange{StopCode: StopTaskFailedToStart, StoppedReason: "ResourceInitializationError: unable to pull secrets or registry auth"},
			essential: ess, wantStatus: events.JobFailed, wantCodes: map[string]int32{}, wantTransient: true, wantReason: "ResourceInitializationError",
		},
		"a bad container definition is a permanent start failure": {
			detail:    events.ECSTaskStateChange{StopCode: StopTaskFailedToStart, StoppedReason: "CannotStartContainerError: exec: \"./report\": not found"},
			essential: ess, wantStatus: events.JobFailed, wantCodes: map[string]int32{}, wantReason: "CannotStartContainerError",
		},
		"a task Deckhand stopped for its timeout is TIMED_OUT": {
			detail: events.ECSTaskStateChange{StopCode: StopUserInitiated, StoppedReason: ReasonTimedOutPrefix + " after 2h0m1s (timeout 2h)",
				Containers: []events.ECSContainer{{Name: "report", ExitCode: code(143)}}},
			essential: ess, wantStatus: events.JobTimedOut, wantCodes: map[string]int32{"report": 143}, wantReason: "timed out",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := Judge(tc.detail, tc.essential)
			if v.Status != tc.wantStatus || v.Transient != tc.wantTransient {
				t.Errorf("verdict = %s transient=%v, want %s transient=%v (reason %q)", v.Status, v.Transient, tc.wantStatus, tc.wantTransient, v.Reason)
			}
			if diff := cmp.Diff(tc.wantCodes, v.ExitCodes); diff != "" {
				t.Errorf("exit codes (-want +got):\n%s", diff)
			}
			if !strings.Contains(v.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", v.Reason, tc.wantReason)
			}
		})
	}
}

const taskARN = "arn:aws:ecs:us-east-1:123456789012:task/prod/abc"

// stoppedEvent is a STOPPED task event of the report job.
func stoppedEvent(version int64, stopCode, reason string, containers ...events.ECSContainer) events.TaskEvent {
	start, stop := testNow.Add(-5*time.Minute), testNow
	return events.TaskEvent{Source: events.SourceECS, DetailType: events.DetailTypeTaskStateChange, Detail: events.ECSTaskStateChange{
		ClusterARN: "arn:aws:ecs:us-east-1:123456789012:cluster/prod", TaskARN: taskARN,
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:123456789012:task-definition/report:4",
		StartedBy:         "deckhand/report", LastStatus: "STOPPED", DesiredStatus: "STOPPED", Version: version,
		StopCode: stopCode, StoppedReason: reason, Containers: containers, StartedAt: &start, StoppedAt: &stop,
	}}
}

// withTaskTags makes DescribeTasks return the task with the run's tags and
// DescribeTaskDefinition the report definition (sidecar not essential).
func withTaskTags(f *fakeECS, attempt string) {
	f.describeTasks = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
		return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(taskARN),
			Tags: tags(revision.TagScheduledTime, tick, revision.TagAttempt, attempt, revision.TagJob, "report")}}}, nil
	}
	f.describeTaskDefinition = func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
		return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("report")}, {Name: aws.String("sidecar"), Essential: aws.Bool(false)}}},
			Tags: tags(revision.TagJob, "report")}, nil
	}
}

func TestTrackerVerdicts(t *testing.T) {
	scheduled := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	pull := "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
	tests := map[string]struct {
		attempt    string
		events     []events.TaskEvent
		wantEvents []events.JobStateChange
		wantRuns   []string // client tokens of RunTask calls
	}{
		"exit code 0 is SUCCEEDED": {
			attempt: "1",
			events:  []events.TaskEvent{stoppedEvent(5, StopEssentialContainerExited, "Essential container in task exited", events.ECSContainer{Name: "report", ExitCode: code(0)})},
			wantEvents: []events.JobStateChange{{Status: events.JobSucceeded, Job: "report", Cluster: "prod", TaskARNs: []string{taskARN},
				ExitCodes: map[string]int32{"report": 0}, StopCode: StopEssentialContainerExited, ScheduledTime: &scheduled, Attempt: 1, DurationMS: 300000}},
		},
		"a non-zero exit is FAILED with the code": {
			attempt: "1",
			events:  []events.TaskEvent{stoppedEvent(5, StopEssentialContainerExited, "Essential container in task exited", events.ECSContainer{Name: "report", ExitCode: code(2)})},
			wantEvents: []events.JobStateChange{{Status: events.JobFailed, Job: "report", Cluster: "prod", TaskARNs: []string{taskARN},
				ExitCodes: map[string]int32{"report": 2}, StopCode: StopEssentialContainerExited, Reason: "container report exited with code 2",
				ScheduledTime: &scheduled, Attempt: 1, DurationMS: 300000}},
		},
		"a repeated or older version is ignored": {
			attempt: "1",
			events: []events.TaskEvent{
				stoppedEvent(5, StopEssentialContainerExited, "", events.ECSContainer{Name: "report", ExitCode: code(0)}),
				stoppedEvent(5, StopEssentialContainerExited, "", events.ECSContainer{Name: "report", ExitCode: code(0)}),
				stoppedEvent(4, StopEssentialContainerExited, "", events.ECSContainer{Name: "report", ExitCode: code(0)}),
			},
			wantEvents: []events.JobStateChange{{Status: events.JobSucceeded, Job: "report", Cluster: "prod", TaskARNs: []string{taskARN},
				ExitCodes: map[string]int32{"report": 0}, StopCode: StopEssentialContainerExited, ScheduledTime: &scheduled, Attempt: 1, DurationMS: 300000}},
		},
		"a pull failure with retries left is RETRYING and runs the next attempt": {
			attempt: "2",
			events:  []events.TaskEvent{stoppedEvent(3, StopTaskFailedToStart, pull, events.ECSContainer{Name: "report", Reason: pull})},
			wantEvents: []events.JobStateChange{
				{Status: events.JobRetrying, Job: "report", Cluster: "prod", TaskARNs: []string{taskARN}, StopCode: StopTaskFailedToStart,
					Reason: "failed to start: " + pull, ScheduledTime: &scheduled, Attempt: 2, DurationMS: 300000},
				{Status: events.JobStarted, Job: "report", Cluster: "prod", TaskARNs: []string{"arn:aws:ecs:us-east-1:123456789012:task/prod/new"},
					ScheduledTime: &scheduled, Attempt: 3},
			},
			wantRuns: []string{ClientToken("report", scheduled, 3)},
		},
		"a pull failure on the last attempt is FAILED": {
			attempt: "3",
			events:  []events.TaskEvent{stoppedEvent(3, StopTaskFailedToStart, pull)},
			wantEvents: []events.JobStateChange{{Status: events.JobFailed, Job: "report", Cluster: "prod", TaskARNs: []string{taskARN}, StopCode: StopTaskFailedToStart,
				Reason: "failed to start: " + pull, ScheduledTime: &scheduled, Attempt: 3, DurationMS: 300000}},
		},
		"a task stopped for its timeout emits nothing more": {
			attempt: "1",
			events:  []events.TaskEvent{stoppedEvent(6, StopUserInitiated, ReasonTimedOutPrefix+" after 2h0m30s (timeout 2h)", events.ECSContainer{Name: "report", ExitCode: code(143)})},
		},
		"states other than STOPPED emit nothing": {
			attempt: "1",
			events: []events.TaskEvent{func() events.TaskEvent {
				ev := stoppedEvent(2, "", "")
				ev.Detail.LastStatus = "RUNNING"
				return ev
			}()},
		},
		"tasks not started by Deckhand are ignored": {
			attempt: "1",
			events: []events.TaskEvent{func() events.TaskEvent {
				ev := stoppedEvent(5, StopEssentialContainerExited, "", events.ECSContainer{Name: "report", ExitCode: code(1)})
				ev.Detail.StartedBy = "ecs-svc/123"
				return ev
			}()},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, fe, ev := newEngine(t)
			withTaskTags(fe, tc.attempt)
			tr := NewTracker(e)
			for _, te := range tc.events {
				if err := tr.HandleTaskEvent(context.Background(), te); err != nil {
					t.Fatalf("HandleTaskEvent: %v", err)
				}
			}
			if diff := cmp.Diff(tc.wantEvents, ev.changes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			var tokens []string
			for _, in := range inputsOf[*ecs.RunTaskInput](fe) {
				tokens = append(tokens, aws.ToString(in.ClientToken))
				if got := aws.ToString(in.TaskDefinition); got != "arn:aws:ecs:us-east-1:123456789012:task-definition/report:4" {
					t.Errorf("retry runs %s, want the failed task's revision", got)
				}
			}
			if diff := cmp.Diff(tc.wantRuns, tokens, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("RunTask client tokens (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeQueue records what is sent to the job queue.
type fakeQueue struct {
	sent []sentMessage
	err  error
}

type sentMessage struct {
	Group, ID string
	Body      Invocation
}

func (q *fakeQueue) Send(_ context.Context, group, id string, body []byte) error {
	if q.err != nil {
		return q.err
	}
	var inv Invocation
	if err := json.Unmarshal(body, &inv); err != nil {
		return err
	}
	q.sent = append(q.sent, sentMessage{group, id, inv})
	return nil
}

// TestTrackerQueuesReRuns: with a job queue, the next attempt goes into
// the job's message group (deduplicated by its client token), so it is
// decided in turn with the job's scheduled runs; the tracker starts no
// task itself.
func TestTrackerQueuesReRuns(t *testing.T) {
	e, fe, ev := newEngine(t)
	q := &fakeQueue{}
	e.Queue = q
	withTaskTags(fe, "1")
	pull := "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
	if err := NewTracker(e).HandleTaskEvent(context.Background(), stoppedEvent(3, StopTaskFailedToStart, pull)); err != nil {
		t.Fatalf("HandleTaskEvent: %v", err)
	}
	scheduled := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	want := []sentMessage{{Group: "report", ID: ClientToken("report", scheduled, 2),
		Body: Invocation{Job: "report", ScheduledTime: tick, Attempt: 2, TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/report:4"}}}
	if diff := cmp.Diff(want, q.sent); diff != "" {
		t.Errorf("sent to the job queue (-want +got):\n%s", diff)
	}
	if n := len(inputsOf[*ecs.RunTaskInput](fe)); n != 0 {
		t.Errorf("RunTask calls = %d, want none", n)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobRetrying}, ev.statuses()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestTrackerFailedHandlingIsRetried(t *testing.T) {
	e, fe, ev := newEngine(t)
	withTaskTags(fe, "1")
	ev.err = os.ErrDeadlineExceeded
	tr := NewTracker(e)
	te := stoppedEvent(5, StopEssentialContainerExited, "", events.ECSContainer{Name: "report", ExitCode: code(0)})
	if err := tr.HandleTaskEvent(context.Background(), te); err == nil {
		t.Fatal("HandleTaskEvent succeeded although PutEvents failed")
	}
	ev.err = nil
	if err := tr.HandleTaskEvent(context.Background(), te); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobSucceeded}, ev.statuses()); diff != "" {
		t.Errorf("events after redelivery (-want +got):\n%s", diff)
	}
}

func TestTrackerForgetsOldest(t *testing.T) {
	tr := &Tracker{MaxRemembered: 2}
	for _, arn := range []string{"a", "b", "c"} {
		if !tr.claim(arn, 1) {
			t.Fatalf("claim(%s, 1) refused", arn)
		}
	}
	if len(tr.seen) != 2 || tr.claim("c", 1) {
		t.Errorf("remembered %v; want the two newest, with c still claimed", tr.seen)
	}
	if !tr.claim("a", 1) {
		t.Error("the oldest task was not forgotten")
	}
}

func TestStopOverdue(t *testing.T) {
	e, fe, ev := newEngine(t)
	overdue := runningTask("arn:task/overdue", "2026-07-01T00:00:00Z")
	overdue.StartedAt = aws.Time(testNow.Add(-2*time.Hour - time.Minute))
	young := runningTask("arn:task/young", tick)
	fe.listTasks = func(in *ecs.ListTasksInput) (*ecs.ListTasksOutput, error) {
		if aws.ToString(in.StartedBy) != "deckhand/report" {
			return &ecs.ListTasksOutput{}, nil
		}
		return &ecs.ListTasksOutput{TaskArns: []string{"arn:task/overdue", "arn:task/young"}}, nil
	}
	fe.describeTasks = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
		return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{overdue, young}}, nil
	}
	m, _ := e.Source.Manifest(context.Background())
	stopped, err := e.StopOverdue(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"arn:task/overdue"}, stopped); diff != "" {
		t.Errorf("stopped (-want +got):\n%s", diff)
	}
	stops := inputsOf[*ecs.StopTaskInput](fe)
	if len(stops) != 1 || !strings.HasPrefix(aws.ToString(stops[0].Reason), ReasonTimedOutPrefix) {
		t.Fatalf("StopTask calls = %+v, want one with a timeout reason", stops)
	}
	scheduled := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	want := []events.JobStateChange{{Status: events.JobTimedOut, Job: "report", Cluster: "prod", TaskARNs: []string{"arn:task/overdue"},
		StopCode: StopUserInitiated, Reason: aws.ToString(stops[0].Reason), ScheduledTime: &scheduled, Attempt: 1, DurationMS: (2*time.Hour + time.Minute).Milliseconds()}}
	if diff := cmp.Diff(want, ev.changes); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
