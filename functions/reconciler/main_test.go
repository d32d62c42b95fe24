package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/reconcile"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/jobstest"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// These end-to-end tests run the reconciler through the real Lambda handler
// path against the sandbox; its synthetic pushes go through the sandbox's
// FIFO queue to the real deployer.

func reconciler(w *jobstest.World) lambda.Handler {
	p := w.Parts()
	p.Queue = queue.New(w.AWS, w.Config.QueueURL)
	return lambda.NewHandler(handler(wire.Reconciler(p, wire.Jobs(p))))
}

func invoke(t *testing.T, h lambda.Handler) reconcile.Report {
	t.Helper()
	out, err := h.Invoke(context.Background(), []byte(`{}`))
	if err != nil {
		t.Fatalf("invoke reconciler: %v", err)
	}
	var rep reconcile.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("decode report %s: %v", out, err)
	}
	return rep
}

func TestMissedPushIsDeployedOnce(t *testing.T) {
	w := jobstest.Start(t)
	d1 := w.CreateWebService("1.0.0")
	d2 := w.SB.PushImageSilently("web", "1.1.0")
	w.Settle(time.Minute)
	if got := w.ServiceDigest("web"); got != d1 {
		t.Fatalf("web runs %s before reconciling, want %s: the push was meant to be missed", got, d1)
	}
	h := reconciler(w)

	first := invoke(t, h)
	again := invoke(t, h) // before the deployer ran: the FIFO deduplicates
	if len(first.Enqueued) != 1 || first.Enqueued[0].Digest != d2 || !strings.HasPrefix(first.Enqueued[0].ID, reconcile.IDPrefix) {
		t.Fatalf("first pass enqueued %+v, want the missed push of %s", first.Enqueued, d2)
	}
	if len(again.Enqueued) != 1 || again.Enqueued[0].ID != first.Enqueued[0].ID {
		t.Errorf("second pass before deploying enqueued %+v, want the same id %s", again.Enqueued, first.Enqueued[0].ID)
	}
	st := w.Pump()
	if st.Messages != 1 {
		t.Errorf("deployer received %d messages, want 1 (deduplicated)", st.Messages)
	}
	w.Settle(time.Minute)
	if got := w.ServiceDigest("web"); got != d2 {
		t.Fatalf("web runs %s after reconciling, want %s", got, d2)
	}
	var trigger string
	for _, ev := range w.SB.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandDeployment {
			continue
		}
		d, _ := events.Decode[events.DeploymentStateChange](ev.Detail, "deployment")
		if d.Status == events.StatusStarted && strings.HasPrefix(d.EventID, reconcile.IDPrefix) {
			trigger = string(d.Trigger)
		}
	}
	if trigger != string(events.TriggerReconcile) {
		t.Errorf("deployment trigger = %q, want reconcile", trigger)
	}

	sends := w.SB.CountCalls(sandbox.ServiceSQS, "SendMessage")
	after := invoke(t, h)
	if len(after.Enqueued) != 0 || len(after.Behind) != 0 {
		t.Errorf("pass after the deploy = %+v, want a no-op", after)
	}
	if n := w.SB.CountCalls(sandbox.ServiceSQS, "SendMessage"); n != sends {
		t.Errorf("SendMessage calls went from %d to %d on a no-op pass", sends, n)
	}
}

// TestLowerVersionPushedLaterIsCaughtUp: a hotfix on an older line (1.4.1)
// pushed after 1.5.0 is the newest eligible image by rule 5 (push time
// first), so a missed push of it is caught up and deployed.
func TestLowerVersionPushedLaterIsCaughtUp(t *testing.T) {
	w := jobstest.Start(t)
	w.CreateWebService("1.5.0")
	w.SB.Clock().Advance(time.Minute)
	hotfix := w.SB.PushImageSilently("web", "1.4.1")
	rep := invoke(t, reconciler(w))
	if len(rep.Enqueued) != 1 || rep.Enqueued[0].Digest != hotfix {
		t.Fatalf("pass enqueued %+v, want the missed push of 1.4.1 (%s)", rep.Enqueued, hotfix)
	}
	w.Settle(time.Minute)
	if got := w.ServiceDigest("web"); got != hotfix {
		t.Errorf("web runs %s after reconciling, want 1.4.1 (%s)", got, hotfix)
	}
}

func TestHeldServiceIsLeftBehind(t *testing.T) {
	w := jobstest.Start(t)
	w.CreateWebService("1.0.0")
	w.SB.PushImageSilently("web", "1.1.0")
	ctx := context.Background()
	svc, err := w.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: svc.Services[0].ServiceArn,
		Tags: []ecstypes.Tag{{Key: aws.String(revision.TagHold), Value: aws.String("incident-42")}}}); err != nil {
		t.Fatal(err)
	}
	rep := invoke(t, reconciler(w))
	if len(rep.Enqueued) != 0 || !cmp.Equal(rep.Held, []string{"web"}) {
		t.Errorf("pass over a held service = %+v, want web held and nothing enqueued", rep)
	}
}

func TestJobPastTimeoutIsStopped(t *testing.T) {
	w := jobstest.Start(t)
	digest := w.SB.PushImage("report", "1.0.0")
	w.SB.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: 5 * time.Hour})
	start := w.SB.Clock().Now().Truncate(time.Minute)
	res, err := w.JobsEngine().Run(context.Background(), jobs.Invocation{Job: "report", ScheduledTime: start.Format(time.RFC3339)})
	if err != nil || res.Status != events.JobStarted {
		t.Fatalf("run report = %+v, %v", res, err)
	}
	w.Settle(time.Minute)
	h := reconciler(w)
	if rep := invoke(t, h); len(rep.TimedOut) != 0 {
		t.Fatalf("a run within its timeout was stopped: %+v", rep)
	}

	w.SB.Clock().Advance(2 * time.Hour)
	w.Pump()
	rep := invoke(t, h)
	if diff := cmp.Diff(res.TaskARNs, rep.TimedOut); diff != "" {
		t.Fatalf("timed out (-want +got):\n%s", diff)
	}
	w.Settle(time.Minute)
	if rep := invoke(t, h); len(rep.TimedOut) != 0 {
		t.Errorf("second pass stopped %v again", rep.TimedOut)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobStarted, events.JobTimedOut}, w.Statuses("report")); diff != "" {
		t.Errorf("job events (-want +got):\n%s", diff)
	}
	tasks := w.Tasks("report")
	if len(tasks) != 1 || aws.ToString(tasks[0].LastStatus) != "STOPPED" || !strings.HasPrefix(aws.ToString(tasks[0].StoppedReason), jobs.ReasonTimedOutPrefix) {
		t.Errorf("task after the timeout: %+v, want STOPPED with a timeout reason", tasks)
	}
}
