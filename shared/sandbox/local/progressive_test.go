package local

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// progressiveManifest binds a canary service with an alarm and a linear
// one (DESIGN §10).
const progressiveManifest = `version: 1
services:
  - name: shop
    cluster: prod
    service: shop
    template: service.json
    images: { app: { repository: shop, tags: "semver:*" } }
    deployment: { strategy: canary, bake: 2m, canary: { percent: 10, bake: 5m }, alarms: [shop-5xx] }
  - name: search
    cluster: prod
    service: search
    template: service.json
    images: { app: { repository: search, tags: "semver:*" } }
    deployment: { strategy: linear, bake: 2m, linear: { stepPercent: 25, stepBake: 1m } }
`

func newProgressiveStack(t *testing.T) *Stack {
	t.Helper()
	dir := t.TempDir()
	tmpl := `{"family": "{{ .Service }}", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true}]}`
	if err := os.WriteFile(filepath.Join(dir, "service.json"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := New(context.Background(), sandboxtest.Start(t), Options{Dir: dir, Manifest: []byte(progressiveManifest),
		InitialTags: map[string]string{"shop": "1.0.0", "search": "1.0.0"}, DesiredCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// record is ECS's newest service-deployment record of a service.
func record(t *testing.T, st *Stack, service string) types.ServiceDeployment {
	t.Helper()
	ctx := context.Background()
	list, err := st.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String(service)})
	if err != nil || len(list.ServiceDeployments) == 0 {
		t.Fatalf("list service deployments of %s: %v", service, err)
	}
	out, err := st.ECS.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		t.Fatalf("describe service deployment of %s: %v", service, err)
	}
	return out.ServiceDeployments[0]
}

// weight is the production traffic weight of a record's target revision.
func weight(sd types.ServiceDeployment) float64 {
	if sd.TargetServiceRevision == nil || sd.TargetServiceRevision.RequestedProductionTrafficWeight == nil {
		return 0
	}
	return *sd.TargetServiceRevision.RequestedProductionTrafficWeight
}

func verdicts(st *Stack, from int, binding string) ([]events.DeploymentStatus, []events.DeploymentStateChange) {
	var statuses []events.DeploymentStatus
	var evs []events.DeploymentStateChange
	for _, d := range st.Deployments()[from:] {
		if d.Binding == binding {
			statuses, evs = append(statuses, d.Status), append(evs, d.DeploymentStateChange)
		}
	}
	return statuses, evs
}

// TestALinearDeploymentCompletesStepByStep drives a LINEAR deployment
// through the deployer and the tracker to SUCCEEDED: 25% more traffic a
// minute, the bake, then ECS's SUCCESSFUL record.
func TestALinearDeploymentCompletesStepByStep(t *testing.T) {
	st := newProgressiveStack(t)
	ctx := context.Background()
	mark := len(st.Deployments())
	digest := st.SB.PushImage("search", "1.1.0")
	var weights []float64
	for range 60 { // 10 virtual minutes in 10 s steps
		if err := st.Settle(ctx, 0, 0); err != nil {
			t.Fatal(err)
		}
		if w := weight(record(t, st, "search")); len(weights) == 0 || weights[len(weights)-1] != w {
			weights = append(weights, w)
		}
		st.SB.Clock().Advance(10 * time.Second)
	}
	if diff := cmp.Diff([]float64{0, 25, 50, 75, 100}, weights); diff != "" {
		t.Errorf("production traffic of the new revision, step by step (-want +got):\n%s", diff)
	}
	got, evs := verdicts(st, mark, "search")
	if diff := cmp.Diff([]events.DeploymentStatus{events.StatusStarted, events.StatusSucceeded}, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if sd := record(t, st, "search"); sd.Status != types.ServiceDeploymentStatusSuccessful || sd.DeploymentConfiguration.Strategy != types.DeploymentStrategyLinear {
		t.Errorf("ECS's record is %s with strategy %s, want a SUCCESSFUL LINEAR deployment", sd.Status, sd.DeploymentConfiguration.Strategy)
	}
	if img := st.image(t, "search", "app"); !strings.HasSuffix(img, "@"+digest) {
		t.Errorf("search runs %s, want %s", img, digest)
	}
	if len(evs) == 2 && evs[1].DeploymentID != evs[0].DeploymentID {
		t.Errorf("the verdict names deployment %s, STARTED named %s", evs[1].DeploymentID, evs[0].DeploymentID)
	}
}

// TestACanaryWhoseAlarmFiresIsRolledBack drives a CANARY deployment to
// ECS's ROLLBACK_SUCCESSFUL by setting its alarm to ALARM during the
// canary's bake: ROLLED_BACK, cause alarm:shop-5xx, never SUCCEEDED, the
// service back on its revision and the digest marked.
func TestACanaryWhoseAlarmFiresIsRolledBack(t *testing.T) {
	st := newProgressiveStack(t)
	ctx := context.Background()
	before, _, _ := st.Running("shop")
	mark := len(st.Deployments())
	bad := st.SB.PushImage("shop", "1.1.0")
	for i := 0; weight(record(t, st, "shop")) != 10; i++ {
		if i == 30 {
			t.Fatalf("the canary never took 10%% of the traffic: %+v", record(t, st, "shop"))
		}
		if err := st.Settle(ctx, 10*time.Second, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SB.SetAlarmState("shop-5xx", "ALARM", "5xx above threshold"); err != nil {
		t.Fatal(err)
	}
	if err := st.Settle(ctx, 3*time.Minute, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	got, evs := verdicts(st, mark, "shop")
	if diff := cmp.Diff([]events.DeploymentStatus{events.StatusStarted, events.StatusRolledBack}, got); diff != "" {
		t.Fatalf("verdicts (-want +got):\n%s", diff)
	}
	if evs[1].Cause != "alarm:shop-5xx" || evs[1].OldRevision != before {
		t.Errorf("ROLLED_BACK cause %q, back to %q; want alarm:shop-5xx and %s", evs[1].Cause, evs[1].OldRevision, before)
	}
	sd := record(t, st, "shop")
	if sd.Status != types.ServiceDeploymentStatusRollbackSuccessful || !slices.Contains(sd.Alarms.TriggeredAlarmNames, "shop-5xx") {
		t.Errorf("ECS's record is %s with alarms %+v, want ROLLBACK_SUCCESSFUL by shop-5xx", sd.Status, sd.Alarms)
	}
	if after, _, _ := st.Running("shop"); after != before {
		t.Errorf("shop runs %s, want %s back", after, before)
	}
	svc, _ := st.SB.ECS().Service("prod", "shop")
	if m := svc.Tags[revision.TagRolledBack+"app"]; m != bad {
		t.Errorf("rolled-back mark %q, want the canary's digest %s", m, bad)
	}
}
