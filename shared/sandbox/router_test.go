package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// stubDeployer fails every record whose push has the tag "bad" and the whole
// batch when a push has the tag "crash", recording what it saw.
type stubDeployer struct {
	mu      sync.Mutex
	seen    []string // tag@receiveCount
	records []events.SQSMessage
}

func (d *stubDeployer) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := lambdacontext.FromContext(ctx); !ok {
		return events.SQSEventResponse{}, errors.New("no Lambda context")
	}
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		push, err := events.DecodeImageAction([]byte(rec.Body))
		if err != nil {
			return resp, err
		}
		d.seen = append(d.seen, push.Detail.ImageTag+"@"+rec.Attributes["ApproximateReceiveCount"])
		d.records = append(d.records, rec)
		switch push.Detail.ImageTag {
		case "bad":
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		case "crash":
			return resp, errors.New("crashed")
		}
	}
	return resp, nil
}

func (d *stubDeployer) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.seen
	d.seen = nil
	return s
}

func groupOf(repo string) (string, bool) {
	switch repo {
	case "web", "api":
		return "frontend", true
	}
	return "", false
}

func TestRouterRedeliversFailedItemsThenDeadLetters(t *testing.T) {
	c := start(t)
	d := &stubDeployer{}
	r, err := sandbox.NewRouter(c.sb, sandbox.RouterConfig{QueueName: "deploy.fifo", MaxReceiveCount: 3,
		GroupOf: groupOf, Deployer: lambda.NewHandler(d.handle)})
	if err != nil {
		t.Fatal(err)
	}
	c.sb.PushImage("web", "1.0")
	c.sb.PushImage("api", "bad")
	c.sb.PushImage("other", "1.0") // no group: the rule does not match
	c.sb.PushImage("web", "")      // untagged: not routed

	pump := func(wantSeen []string, want sandbox.PumpStats) {
		t.Helper()
		st, err := r.Pump(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantSeen, d.take()); diff != "" {
			t.Errorf("deployer saw (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("stats (-want +got):\n%s", diff)
		}
	}
	pump([]string{"1.0@1", "bad@1"}, sandbox.PumpStats{DeployerInvocations: 1, Messages: 2, Deleted: 1, ItemFailures: 1})
	rec := d.records[0]
	if rec.EventSource != "aws:sqs" || rec.EventSourceARN != r.QueueARN() || rec.Attributes["MessageGroupId"] != "frontend" {
		t.Errorf("record = %+v", rec)
	}
	pump(nil, sandbox.PumpStats{}) // in flight until the visibility timeout passes
	c.sb.Clock().Advance(30 * time.Second)
	pump([]string{"bad@2"}, sandbox.PumpStats{DeployerInvocations: 1, Messages: 1, ItemFailures: 1})
	c.sb.Clock().Advance(30 * time.Second)
	pump([]string{"bad@3"}, sandbox.PumpStats{DeployerInvocations: 1, Messages: 1, ItemFailures: 1})
	if len(r.DLQ()) != 0 {
		t.Fatalf("DLQ before maxReceiveCount: %v", r.DLQ())
	}
	c.sb.Clock().Advance(30 * time.Second)
	pump(nil, sandbox.PumpStats{})
	dlq := r.DLQ()
	if len(dlq) != 1 || !strings.Contains(dlq[0], `"image-tag":"bad"`) {
		t.Errorf("DLQ = %v, want the bad push", dlq)
	}

	// A handler error fails the whole batch; nothing is deleted.
	c.sb.PushImage("web", "crash")
	pump([]string{"crash@1"}, sandbox.PumpStats{DeployerInvocations: 1, Messages: 1, BatchErrors: 1})
	c.sb.Clock().Advance(30 * time.Second)
	pump([]string{"crash@2"}, sandbox.PumpStats{DeployerInvocations: 1, Messages: 1, BatchErrors: 1})
}

func TestRouterDeliverDeduplicatesLikeEventBridgeToFIFO(t *testing.T) {
	c := start(t)
	d := &stubDeployer{}
	r, err := sandbox.NewRouter(c.sb, sandbox.RouterConfig{GroupOf: groupOf, Deployer: lambda.NewHandler(d.handle)})
	if err != nil {
		t.Fatal(err)
	}
	c.sb.PushImage("web", "1.0")
	raw := mustJSON(t, c.sb.Events()[0])
	if err := r.Deliver(raw); err != nil { // same event id: deduplicated
		t.Fatal(err)
	}
	if _, err := r.Pump(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.0@1"}, d.take()); diff != "" {
		t.Errorf("deployer saw (-want +got):\n%s", diff)
	}
	if err := r.Deliver([]byte(`{"source":`)); err == nil {
		t.Error("Deliver accepted malformed JSON")
	}
}

func TestRouterHandsECSEventsToTracker(t *testing.T) {
	c := start(t)
	var (
		mu   sync.Mutex
		seen []string
	)
	tracker := lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) error {
		ev, err := events.Decode[events.Raw](raw, "event")
		if err != nil {
			return err
		}
		var detail struct {
			LastStatus string `json:"lastStatus"`
		}
		json.Unmarshal(ev.Detail, &detail)
		mu.Lock()
		seen = append(seen, ev.DetailType+" "+detail.LastStatus)
		mu.Unlock()
		return nil
	})
	r, err := sandbox.NewRouter(c.sb, sandbox.RouterConfig{GroupOf: groupOf, Tracker: tracker})
	if err != nil {
		t.Fatal(err)
	}
	client := ecs.NewFromConfig(c.sb.AWSConfig())
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if err := registerTaskDefinition(client); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	c.sb.Clock().Advance(2 * time.Minute)
	st, err := r.Pump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if st.TrackerInvocations == 0 || st.TrackerInvocations != len(seen) || st.TrackerErrors != 0 {
		t.Errorf("stats = %+v, seen %v", st, seen)
	}
	if len(seen) == 0 || seen[len(seen)-1] != "ECS Task State Change STOPPED" {
		t.Errorf("tracker saw %v, want the task's changes ending STOPPED", seen)
	}
}

// TestRouterKeepsJobTaskEventsOnly pins the task rule of the CDK app:
// with TaskStartedBy set, the tracker gets the task state changes of tasks
// started with that prefix and none of a service's tasks, while deployment
// state changes all arrive.
func TestRouterKeepsJobTaskEventsOnly(t *testing.T) {
	c := start(t)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	tracker := lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) error {
		ev, err := events.Decode[events.Raw](raw, "event")
		if err != nil {
			return err
		}
		var detail struct {
			StartedBy string `json:"startedBy"`
		}
		json.Unmarshal(ev.Detail, &detail)
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(detail.StartedBy, "ecs-svc/") {
			detail.StartedBy = "ecs-svc/…"
		}
		seen[ev.DetailType+" "+detail.StartedBy]++
		return nil
	})
	r, err := sandbox.NewRouter(c.sb, sandbox.RouterConfig{Tracker: tracker, TaskStartedBy: "deckhand/"})
	if err != nil {
		t.Fatal(err)
	}
	client := ecs.NewFromConfig(c.sb.AWSConfig())
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if err := registerTaskDefinition(client); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String("web"), StartedBy: aws.String("deckhand/report")}); err != nil {
		t.Fatal(err)
	}
	c.sb.Clock().Advance(2 * time.Minute)
	if _, err := r.Pump(ctx); err != nil {
		t.Fatal(err)
	}
	serviceTaskEvents := 0
	for _, ev := range c.sb.Events() {
		if ev.DetailType == events.DetailTypeTaskStateChange && strings.Contains(string(ev.Detail), `"startedBy":"ecs-svc/`) {
			serviceTaskEvents++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"ECS Deployment State Change ": 2, "ECS Task State Change deckhand/report": 5}
	if diff := cmp.Diff(want, seen); diff != "" || serviceTaskEvents == 0 {
		t.Errorf("tracker deliveries (-want +got):\n%s\n(%d service task events on the bus)", diff, serviceTaskEvents)
	}
}

// TestRouterInterceptDropsAndDeliverRoutesLater: an event the intercept
// refuses is not routed (EventBridge lost it); Deliver routes it later
// without the intercept seeing it again.
func TestRouterInterceptDropsAndDeliverRoutesLater(t *testing.T) {
	c := start(t)
	d := &stubDeployer{}
	r, err := sandbox.NewRouter(c.sb, sandbox.RouterConfig{GroupOf: groupOf, Deployer: lambda.NewHandler(d.handle)})
	if err != nil {
		t.Fatal(err)
	}
	var held []events.Raw
	r.Intercept(func(ev events.Raw) bool {
		if strings.Contains(string(ev.Detail), `"image-tag":"1.1"`) {
			held = append(held, ev)
			return false
		}
		return true
	})
	c.sb.PushImage("web", "1.0")
	c.sb.PushImage("web", "1.1")
	if _, err := r.Pump(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.0@1"}, d.take()); diff != "" {
		t.Fatalf("deployer saw with 1.1 held back (-want +got):\n%s", diff)
	}
	if len(held) != 1 {
		t.Fatalf("intercept held %d events, want the push of 1.1", len(held))
	}
	if err := r.Deliver(mustJSON(t, held[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Pump(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.1@1"}, d.take()); diff != "" {
		t.Errorf("deployer saw after Deliver (-want +got):\n%s", diff)
	}
	if len(held) != 1 {
		t.Errorf("the intercept saw the delivered event again")
	}
}
