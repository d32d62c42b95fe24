package local

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

func newStack(t *testing.T) *Stack {
	t.Helper()
	sb := sandboxtest.Start(t)
	st, err := New(context.Background(), sb, Options{Dir: "../../../examples", InitialTags: ExampleTags})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return st
}

func (st *Stack) mustSettle(t *testing.T) {
	t.Helper()
	if err := st.Settle(context.Background(), 2*time.Minute, 10*time.Second); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

func since(ds []Deployment, n int) []Deployment { return ds[n:] }

func statusesByBinding(ds []Deployment) map[string][]events.DeploymentStatus {
	out := map[string][]events.DeploymentStatus{}
	for _, d := range ds {
		out[d.Binding] = append(out[d.Binding], d.Status)
	}
	return out
}

func (st *Stack) image(t *testing.T, binding, container string) string {
	t.Helper()
	_, imgs, err := st.Running(binding)
	if err != nil {
		t.Fatal(err)
	}
	return imgs[container]
}

func TestPushToSharedRepositoryDeploysEveryBoundService(t *testing.T) {
	st := newStack(t)
	webBefore := st.image(t, "web", "web")
	digest := st.SB.PushImage("proxy", "stable-2")
	st.mustSettle(t)
	want := map[string][]events.DeploymentStatus{
		"web": {events.StatusStarted, events.StatusSucceeded},
		"api": {events.StatusStarted, events.StatusSucceeded},
	}
	ds := st.Deployments()
	if diff := cmp.Diff(want, statusesByBinding(ds)); diff != "" {
		t.Errorf("deployment events (-want +got):\n%s", diff)
	}
	for _, b := range []string{"web", "api"} {
		if got := st.image(t, b, "proxy"); !strings.HasSuffix(got, "/proxy@"+digest) {
			t.Errorf("%s proxy = %s, want the pushed digest", b, got)
		}
	}
	if got := st.image(t, "web", "web"); got != webBefore {
		t.Errorf("web's own container moved from %s to %s on a proxy push", webBefore, got)
	}
	// The deployer's STARTED and the tracker's SUCCEEDED name one deployment.
	ids := map[string]map[events.DeploymentStatus]string{}
	for _, d := range ds {
		if ids[d.Binding] == nil {
			ids[d.Binding] = map[events.DeploymentStatus]string{}
		}
		ids[d.Binding][d.Status] = d.DeploymentID
	}
	for b, m := range ids {
		if m[events.StatusStarted] == "" || m[events.StatusStarted] != m[events.StatusSucceeded] {
			t.Errorf("%s: STARTED deployment %q, SUCCEEDED deployment %q", b, m[events.StatusStarted], m[events.StatusSucceeded])
		}
	}
}

func TestDuplicateAndOutOfOrderPushes(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	st.SB.PushImage("web", "1.1.0")
	st.SB.Clock().Advance(time.Minute)
	newest := st.SB.PushImage("web", "1.2.0")
	st.mustSettle(t)
	revs := len(st.SB.ECS().TaskDefinitions("web"))
	n := len(st.Deployments())
	// EventBridge delivers the newest push again, and then the older one late.
	var pushes []events.Raw
	for _, ev := range st.SB.Events() {
		if ev.Source == events.SourceECR {
			pushes = append(pushes, ev)
		}
	}
	for _, ev := range []events.Raw{pushes[len(pushes)-1], pushes[len(pushes)-2]} {
		ev.ID += "-redelivered" // a new EventBridge delivery id
		raw, _ := jsonMarshal(ev)
		if err := st.Router.Deliver(raw); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Pump(ctx); err != nil {
		t.Fatal(err)
	}
	got := statusesByBinding(since(st.Deployments(), n))
	// Both land in one batch: the late older push loses to the newest in the
	// batch (SUPERSEDED), and the newest is already running.
	want := map[string][]events.DeploymentStatus{"web": {events.StatusSuperseded, events.StatusAlreadyDeployed}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("late deliveries (-want +got):\n%s", diff)
	}
	if after := len(st.SB.ECS().TaskDefinitions("web")); after != revs {
		t.Errorf("revisions %d -> %d: a duplicate or older push registered", revs, after)
	}
	if img := st.image(t, "web", "web"); !strings.HasSuffix(img, newest) {
		t.Errorf("web runs %s, want the newest digest %s", img, newest)
	}
}

func TestHeldServiceIsNotDeployed(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	svc, _ := st.SB.ECS().Service("prod", "worker")
	if _, err := st.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(svc.ARN), Tags: []types.Tag{{Key: aws.String(revision.TagHold), Value: aws.String("freeze")}}}); err != nil {
		t.Fatal(err)
	}
	before := st.image(t, "worker", "worker")
	st.SB.PushImage("worker", "release-2")
	st.mustSettle(t)
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"worker": {events.StatusHeld}}, statusesByBinding(st.Deployments())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if after := st.image(t, "worker", "worker"); after != before {
		t.Errorf("held worker moved from %s to %s", before, after)
	}
}

func TestCircuitBreakerRollbackIsNeverSuccess(t *testing.T) {
	st := newStack(t)
	before, _, _ := st.Running("web")
	bad := st.SB.PushImage("web", "1.3.0")
	st.SB.ECS().SetImageHealth(bad, false)
	st.mustSettle(t)
	ds := st.Deployments()
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"web": {events.StatusStarted, events.StatusRolledBack}}, statusesByBinding(ds)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if ds[0].DeploymentID == "" || ds[0].DeploymentID != ds[1].DeploymentID {
		t.Errorf("STARTED deployment %q, ROLLED_BACK deployment %q", ds[0].DeploymentID, ds[1].DeploymentID)
	}
	after, _, _ := st.Running("web")
	if after != before {
		t.Errorf("web runs %s after the rollback, want the previous revision %s", after, before)
	}
	svc, _ := st.SB.ECS().Service("prod", "web")
	var failed bool
	for _, d := range svc.Deployments {
		failed = failed || (d.ID == ds[0].DeploymentID && d.RolloutState == "FAILED")
	}
	if !failed {
		t.Errorf("deployment %s is not FAILED in ECS: %+v", ds[0].DeploymentID, svc.Deployments)
	}
}

func TestCrashBetweenRegisterAndUpdateRegistersOnce(t *testing.T) {
	st := newStack(t)
	// UpdateService fails until the SDK's attempts run out: the message is
	// retried from the queue, and the retry must reuse the revision.
	st.SB.InjectFault(sandbox.Fault{Service: "ecs", Op: "UpdateService", Kind: sandbox.Fault500, Count: 3})
	digest := st.SB.PushImage("worker", "release-2")
	if _, err := st.Pump(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.SB.Clock().Advance(time.Minute) // the visibility timeout passes
	st.mustSettle(t)
	if img := st.image(t, "worker", "worker"); !strings.HasSuffix(img, digest) {
		t.Errorf("worker runs %s", img)
	}
	if n := len(st.SB.ECS().TaskDefinitions("worker")); n != 2 {
		t.Errorf("family worker has %d revisions, want 2 (seed + one)", n)
	}
}

func TestWarmInvocationTransfersNoConfigBodies(t *testing.T) {
	st := newStack(t)
	st.SB.PushImage("worker", "release-2")
	st.mustSettle(t)
	st.SB.ResetCalls()
	st.SB.PushImage("worker", "release-3")
	if _, err := st.Pump(context.Background()); err != nil {
		t.Fatal(err)
	}
	var gets []int
	for _, c := range st.SB.Calls() {
		if c.Service == "s3" && c.Op == "GetObject" {
			gets = append(gets, c.Status)
		}
	}
	if diff := cmp.Diff([]int{304, 304}, gets); diff != "" {
		t.Errorf("S3 GetObject statuses on the warm path (-want +got):\n%s", diff)
	}
	// The whole warm path: the service runs the revision this deployer
	// registered last, so it describes no task definition at all.
	count := map[string]int{}
	for _, c := range st.SB.Calls() {
		count[c.Service+":"+c.Op]++
	}
	want := map[string]int{"s3:GetObject": 2, "ecs:DescribeServices": 1,
		"ecs:RegisterTaskDefinition": 1, "ecs:UpdateService": 1, "events:PutEvents": 1}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("AWS calls of one warm deployment (-want +got):\n%s", diff)
	}
}

func TestPermanentErrorIsReportedAndDeadLettered(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	broken := `{"family": "worker", "containerDefinitions": [{"name": "worker", "image": "{{ .Imag }}"}]}`
	if err := st.PutTemplate(ctx, "templates/worker.json", []byte(broken)); err != nil {
		t.Fatal(err)
	}
	revs := len(st.SB.ECS().TaskDefinitions("worker"))
	st.SB.PushImage("worker", "release-2")
	// One bad push, one alert: the first receive reports FAILED and puts
	// the message on the DLQ with its reason (issue 10 item 7).
	stats, err := st.Pump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Messages != 1 || stats.ItemFailures != 0 || stats.Deleted != 1 {
		t.Errorf("pump = %+v, want one message received once and acknowledged", stats)
	}
	ds := st.Deployments()
	if len(ds) != 1 || ds[0].Status != events.StatusFailed || !strings.Contains(ds[0].Reason, "templates/worker.json: $.containerDefinitions[0].image") {
		t.Fatalf("events = %+v, want one FAILED naming the template and JSON path", ds)
	}
	if dlq := st.Router.DLQ(); len(dlq) != 1 || !strings.Contains(dlq[0], "release-2") {
		t.Errorf("DLQ = %v, want the push", dlq)
	}
	st.SB.Clock().Advance(time.Hour)
	if stats, err := st.Pump(ctx); err != nil || stats.Messages != 0 {
		t.Errorf("after the DLQ send the queue delivered %d more messages (%v)", stats.Messages, err)
	}
	if n := len(st.SB.ECS().TaskDefinitions("worker")); n != revs {
		t.Errorf("a broken template registered a revision (%d -> %d)", revs, n)
	}
	if n := st.SB.CountCalls("ecs", "UpdateService"); n != 0 {
		t.Errorf("UpdateService called %d times", n)
	}
}

func TestAChangedManifestIsUsedAtOnce(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	st.SB.PushImage("api", "2.1.0") // warms the manifest cache
	st.mustSettle(t)
	raw, err := os.ReadFile("../../../examples/deckhand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("../../../examples/templates/api.json")
	if err != nil {
		t.Fatal(err)
	}
	// The api binding moves to a new template, which sets LOG_LEVEL itself.
	changed := strings.Replace(string(raw), "template: templates/api.json", "template: templates/api-v2.json", 1)
	v2 := strings.Replace(string(tmpl), `"@@LOG_LEVEL@@"`, `"from-v2"`, 1)
	if changed == string(raw) || v2 == string(tmpl) {
		t.Fatal("the example manifest or api template changed shape")
	}
	if err := st.PutTemplate(ctx, "templates/api-v2.json", []byte(v2)); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTemplate(ctx, "deckhand.yaml", []byte(changed)); err != nil {
		t.Fatal(err)
	}
	st.SB.PushImage("api", "2.2.0")
	st.mustSettle(t)
	rev, _, err := st.Running("api")
	if err != nil {
		t.Fatal(err)
	}
	td, err := st.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(rev)})
	if err != nil {
		t.Fatal(err)
	}
	var level string
	for _, kv := range td.TaskDefinition.ContainerDefinitions[0].Environment {
		if aws.ToString(kv.Name) == "LOG_LEVEL" {
			level = aws.ToString(kv.Value)
		}
	}
	if level != "from-v2" {
		t.Errorf("LOG_LEVEL = %q after the manifest changed, want from-v2 (a read under the old manifest was used)", level)
	}
}
