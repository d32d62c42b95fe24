package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

func progressiveEnv(t *testing.T) (*Env, *local.Stack) {
	t.Helper()
	sb := sandboxtest.Start(t)
	st, err := local.New(context.Background(), sb, local.Options{Dir: "../../examples", InitialTags: local.ExampleTags})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{ECS: st.ECS, ECR: ecr.NewFromConfig(sb.AWSConfig()), Alarms: st.CloudWatch, Events: eventbridge.NewFromConfig(sb.AWSConfig()), Source: store.NewS3(st.S3, local.Bucket, "deckhand.yaml"),
		Account: sb.Account(), Region: sb.Region(), Clock: SandboxClock{Endpoint: sb.Endpoint()}}, st
}

// TestStatusShowsALinearDeploymentInFlight: the strategy, the step, the
// traffic and the bake left, and the binding's alarms in ALARM.
func TestStatusShowsALinearDeploymentInFlight(t *testing.T) {
	e, st := progressiveEnv(t)
	ctx := context.Background()
	st.SB.PushImage("search", "1.1.0")
	if err := st.Settle(ctx, 70*time.Second, 10*time.Second); err != nil { // 25% at +40 s
		t.Fatal(err)
	}
	s, err := e.Status(ctx, []string{"search", "checkout"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Services[0].Progress
	if p == nil {
		t.Fatalf("no progress for search: %+v", s.Services[0])
	}
	got := []any{s.Services[0].Strategy, p.Traffic, p.Step, p.Steps, string(p.Stage), p.BakeLeft}
	want := []any{"LINEAR", 25.0, 1, 4, "PRODUCTION_TRAFFIC_SHIFT", 30 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("search in flight (strategy, traffic, step, steps, stage, bake left) (-want +got):\n%s", diff)
	}
	if p.String() != "LINEAR 25% (step 1/4) PRODUCTION_TRAFFIC_SHIFT, bake 30s left" {
		t.Errorf("progress says %q", p.String())
	}
	if s.Services[1].Progress != nil || len(s.Services[1].AlarmsInAlarm) != 0 {
		t.Errorf("checkout, idle, shows %+v", s.Services[1])
	}
	if err := st.SB.SetAlarmState("checkout-5xx", "ALARM", "test"); err != nil {
		t.Fatal(err)
	}
	if s, err = e.Status(ctx, []string{"checkout"}, 0); err != nil || !cmp.Equal(s.Services[0].AlarmsInAlarm, []string{"checkout-5xx"}) {
		t.Errorf("checkout's alarms in ALARM %v (%v), want checkout-5xx", s.Services[0].AlarmsInAlarm, err)
	}
	problems, err := e.CheckAlarms(ctx)
	if err != nil || len(problems) != 0 {
		t.Errorf("CheckAlarms of the seeded alarms: %v, %v", problems, err)
	}
}

// TestRollbackStopsADeploymentInFlight: deckhand rollback of a canary in
// flight asks ECS to roll it back (StopServiceDeployment ROLLBACK) instead
// of updating the service again; the tracker says ROLLED_BACK, manual.
func TestRollbackStopsADeploymentInFlight(t *testing.T) {
	e, st := progressiveEnv(t)
	ctx := context.Background()
	before, _, _ := st.Running("checkout")
	mark := len(st.Deployments())
	st.SB.PushImage("checkout", "1.1.0")
	if err := st.Settle(ctx, 60*time.Second, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	updates := st.SB.CountCalls(sandbox.ServiceECS, "UpdateService")
	res, err := e.Rollback(ctx, "checkout", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped == "" || st.SB.CountCalls(sandbox.ServiceECS, "UpdateService") != updates || !strings.Contains(res.Event.Reason, "StopServiceDeployment") {
		t.Errorf("rollback %+v; want the deployment in flight stopped, no UpdateService", res)
	}
	if err := st.Settle(ctx, 2*time.Minute, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range st.Deployments()[mark:] {
		if d.Binding == "checkout" {
			got = append(got, string(d.Status)+"/"+string(d.Trigger)+"/"+d.Cause)
		}
	}
	want := []string{"STARTED/push/", "STARTED/rollback/", "ROLLED_BACK/push/" + events.CauseManual}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checkout's events (status/trigger/cause) (-want +got):\n%s", diff)
	}
	if after, _, _ := st.Running("checkout"); after != before {
		t.Errorf("checkout runs %s, want %s back", after, before)
	}
}
