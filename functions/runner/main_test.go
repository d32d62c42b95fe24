package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/jobstest"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// These end-to-end tests run the runner through the real Lambda handler
// path against the sandbox; task events reach the jobs tracker through the
// sandbox router, and pushes reach the real deployer.

func runner(w *jobstest.World) lambda.Handler {
	return lambda.NewHandler(handler(wire.Jobs(w.Parts())))
}

func invoke(t *testing.T, h lambda.Handler, job string, scheduled time.Time) jobs.Result {
	t.Helper()
	payload := fmt.Sprintf(`{"job": %q, "scheduledTime": %q}`, job, scheduled.Format(time.RFC3339))
	out, err := h.Invoke(context.Background(), []byte(payload))
	if err != nil {
		t.Fatalf("invoke runner %s: %v", payload, err)
	}
	var res jobs.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode runner result %s: %v", out, err)
	}
	return res
}

var tick = time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC)

func TestDuplicateDeliveriesStartOneTask(t *testing.T) {
	w := jobstest.Start(t)
	w.SB.PushImage("report", "1.0.0")
	h := runner(w)

	first := invoke(t, h, "report", tick)
	second := invoke(t, h, "report", tick)
	if first.Status != events.JobStarted || len(first.TaskARNs) != 1 {
		t.Fatalf("first delivery = %+v, want STARTED with one task", first)
	}
	if !second.Duplicate || second.TaskARNs[0] != first.TaskARNs[0] {
		t.Errorf("second delivery = %+v, want a duplicate of %s", second, first.TaskARNs[0])
	}
	// A late duplicate, after the task finished, still starts nothing: the
	// client token makes ECS return the first task.
	w.Settle(time.Minute)
	late := invoke(t, h, "report", tick)
	if len(late.TaskARNs) != 1 || late.TaskARNs[0] != first.TaskARNs[0] {
		t.Errorf("late duplicate = %+v, want task %s", late, first.TaskARNs[0])
	}
	if n := len(w.Tasks("report")); n != 1 {
		t.Errorf("tasks of report = %d, want 1", n)
	}
	if n := w.SB.CountCalls(sandbox.ServiceECS, "RegisterTaskDefinition"); n != 1 {
		t.Errorf("RegisterTaskDefinition calls = %d, want 1 (later runs reuse the revision)", n)
	}
}

func TestForbidSkipsOverlap(t *testing.T) {
	w := jobstest.Start(t)
	digest := w.SB.PushImage("report", "1.0.0")
	w.SB.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: time.Hour})
	h := runner(w)

	invoke(t, h, "report", tick)
	w.Settle(30 * time.Second)
	next := invoke(t, h, "report", tick.Add(15*time.Minute))
	if next.Status != events.JobSkippedOverlap {
		t.Fatalf("next tick = %+v, want SKIPPED_OVERLAP", next)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobStarted, events.JobSkippedOverlap}, w.Statuses("report")); diff != "" {
		t.Errorf("job events (-want +got):\n%s", diff)
	}
	if n := len(w.Tasks("report")); n != 1 {
		t.Errorf("tasks of report = %d, want 1", n)
	}
}

func TestReplaceStopsTheOldTaskFirstAndFromServiceFollowsDeploys(t *testing.T) {
	w := jobstest.Start(t)
	d1 := w.CreateWebService("1.0.0")
	w.SB.ECS().ScriptImage(d1, ecssim.TaskScript{RunFor: time.Hour})
	h := runner(w)

	first := invoke(t, h, "warm", tick)
	if first.Status != events.JobStarted {
		t.Fatalf("first run = %+v", first)
	}
	if got := w.TaskDefinitionDigest(first.TaskDefinition); got != d1 {
		t.Errorf("warm runs %s, want the web service's %s", got, d1)
	}
	w.Settle(30 * time.Second)
	w.SB.ResetCalls()
	second := invoke(t, h, "warm", tick.Add(15*time.Minute))
	if second.Status != events.JobStarted || second.TaskARNs[0] == first.TaskARNs[0] {
		t.Fatalf("second run = %+v, want a new task", second)
	}
	var writes []string
	for _, c := range w.SB.Calls() {
		if c.Op == "StopTask" || c.Op == "RunTask" {
			writes = append(writes, c.Op)
		}
	}
	if diff := cmp.Diff([]string{"StopTask", "RunTask"}, writes); diff != "" {
		t.Errorf("replace order (-want +got):\n%s", diff)
	}
	for _, task := range w.Tasks("warm") {
		if aws.ToString(task.TaskArn) == first.TaskARNs[0] && !strings.HasPrefix(aws.ToString(task.StoppedReason), jobs.ReasonReplacedPrefix) {
			t.Errorf("old task stopped with %q, want a replaced reason", aws.ToString(task.StoppedReason))
		}
	}

	// A deploy of web moves the next run to the new digest.
	d2 := w.SB.PushImage("web", "1.1.0")
	w.Settle(time.Minute)
	if got := w.ServiceDigest("web"); got != d2 {
		t.Fatalf("web runs %s after the push, want %s", got, d2)
	}
	third := invoke(t, h, "warm", tick.Add(30*time.Minute))
	if got := w.TaskDefinitionDigest(third.TaskDefinition); got != d2 {
		t.Errorf("after the deploy warm runs %s, want %s", got, d2)
	}
}

func TestExitCodesGiveTheVerdict(t *testing.T) {
	w := jobstest.Start(t)
	ok := w.SB.PushImage("report", "1.0.0")
	w.SB.ECS().ScriptImage(ok, ecssim.TaskScript{RunFor: time.Minute, ExitCode: 0})
	h := runner(w)

	invoke(t, h, "report", tick)
	w.Settle(2 * time.Minute)
	bad := w.SB.PushImage("report", "1.1.0")
	w.SB.ECS().ScriptImage(bad, ecssim.TaskScript{RunFor: time.Minute, ExitCode: 3})
	invoke(t, h, "report", tick.Add(time.Hour))
	w.Settle(2 * time.Minute)

	type verdict struct {
		Status    events.JobStatus
		ExitCodes map[string]int32
		Scheduled time.Time
	}
	var got []verdict
	for _, d := range w.JobEvents("report") {
		if d.Status == events.JobSucceeded || d.Status == events.JobFailed {
			got = append(got, verdict{d.Status, d.ExitCodes, *d.ScheduledTime})
		}
	}
	want := []verdict{
		{events.JobSucceeded, map[string]int32{"report": 0}, tick},
		{events.JobFailed, map[string]int32{"report": 3}, tick.Add(time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
}

func TestPullFailureIsRetriedThenFailed(t *testing.T) {
	w := jobstest.Start(t)
	digest := w.SB.PushImage("report", "1.0.0")
	w.SB.ECS().ScriptImage(digest, ecssim.TaskScript{StartFailure: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"})
	h := runner(w)

	invoke(t, h, "report", tick)
	w.Settle(3 * time.Minute)

	want := []events.JobStatus{events.JobStarted, events.JobRetrying, events.JobStarted, events.JobRetrying, events.JobStarted, events.JobFailed}
	if diff := cmp.Diff(want, w.Statuses("report")); diff != "" {
		t.Errorf("job events (-want +got):\n%s", diff)
	}
	var attempts []string
	for _, task := range w.Tasks("report") {
		for _, tag := range task.Tags {
			if aws.ToString(tag.Key) == revision.TagAttempt {
				attempts = append(attempts, aws.ToString(tag.Value))
			}
		}
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, attempts); diff != "" {
		t.Errorf("task attempts (-want +got):\n%s", diff)
	}
	last := w.JobEvents("report")[5]
	if !strings.Contains(last.Reason, "CannotPullContainerError") || last.Attempt != 3 {
		t.Errorf("final event = %+v, want FAILED on attempt 3 naming the pull error", last)
	}
}

// TestLostRegisterResponseRegistersOnce loses RegisterTaskDefinition's
// answer after the revision was written (a 500 after the write, then a
// throttle): the runner must not register the same content twice, and the
// run still starts.
func TestLostRegisterResponseRegistersOnce(t *testing.T) {
	for _, kind := range []sandbox.FaultKind{sandbox.FaultAfter500, sandbox.FaultReset} {
		t.Run(kind.String(), func(t *testing.T) {
			w := jobstest.Start(t)
			w.SB.PushImage("report", "1.0.0")
			w.SB.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "RegisterTaskDefinition", Kind: kind, Count: 1})
			res := invoke(t, runner(w), "report", tick)
			if res.Status != events.JobStarted {
				t.Fatalf("run = %+v, want STARTED", res)
			}
			hashes := map[string]int{}
			for _, td := range w.SB.ECS().TaskDefinitions(res.TaskDefinition[strings.LastIndex(res.TaskDefinition, "/")+1 : strings.LastIndex(res.TaskDefinition, ":")]) {
				hashes[td.Tags[revision.TagContentHash]]++
			}
			if len(hashes) == 0 || hashes[""] > 0 {
				t.Fatalf("revisions of the job's family by content hash: %v; want every revision tagged", hashes)
			}
			for h, n := range hashes {
				if n > 1 {
					t.Errorf("%d revisions with content hash %s", n, h)
				}
			}
		})
	}
}
