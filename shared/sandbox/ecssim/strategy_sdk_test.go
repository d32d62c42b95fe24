package ecssim

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
	"github.com/google/go-cmp/cmp"
)

// fakeAlarms is a CloudWatch stand-in for Config.AlarmStates.
type fakeAlarms struct {
	mu    sync.Mutex
	alarm map[string]bool
}

func (a *fakeAlarms) states(names []string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, n := range names {
		if a.alarm[n] {
			out = append(out, n)
		}
	}
	return out
}

func (a *fakeAlarms) set(name string, alarm bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alarm[name] = alarm
}

// newAlarmFixture is newFixture with alarms the test can flip.
func newAlarmFixture(t *testing.T) (*fixture, *fakeAlarms) {
	t.Helper()
	alarms := &fakeAlarms{alarm: map[string]bool{}}
	f := &fixture{clock: vclock.New(t0), rec: &recorder{}}
	f.ecs = New(Config{Account: "123456789012", Region: "us-west-2", Clock: f.clock, Emit: f.rec.emit, AlarmStates: alarms.states})
	f.call(t, "CreateCluster", `{"clusterName":"prod"}`, nil)
	return f, alarms
}

const (
	tgBlue  = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web-blue/1111"
	tgGreen = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web-green/2222"
	rule    = "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/web/3333/4444/5555"
)

func blueGreenLB() []types.LoadBalancer {
	return []types.LoadBalancer{{
		TargetGroupArn: aws.String(tgBlue), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080),
		AdvancedConfiguration: &types.AdvancedConfiguration{
			AlternateTargetGroupArn: aws.String(tgGreen), ProductionListenerRule: aws.String(rule),
			RoleArn: aws.String("arn:aws:iam::123456789012:role/ecs-infra"),
		},
	}}
}

// progressiveService registers web:1 and web:2 and creates service web on
// web:1 with cfg, then lets the first deployment finish.
func progressiveService(t *testing.T, f *fixture, client *ecs.Client, cfg *types.DeploymentConfiguration) {
	t.Helper()
	f.register(t, "web", "repo/web@sha256:one")
	f.register(t, "web", "repo/web@sha256:two")
	_, err := client.CreateService(context.Background(), &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(2),
		LaunchType:           types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		LoadBalancers:        blueGreenLB(), DeploymentConfiguration: cfg,
	})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	f.clock.Advance(2 * time.Hour)
}

// newestDeployment describes the service's newest service deployment.
func newestDeployment(t *testing.T, client *ecs.Client) types.ServiceDeployment {
	t.Helper()
	ctx := context.Background()
	list, err := client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("web")})
	if err != nil || len(list.ServiceDeployments) == 0 {
		t.Fatalf("ListServiceDeployments: %v %v", list, err)
	}
	out, err := client.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{
		ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)},
	})
	if err != nil || len(out.ServiceDeployments) != 1 {
		t.Fatalf("DescribeServiceDeployments: %v %v", out, err)
	}
	return out.ServiceDeployments[0]
}

// observation is what a test sees of a service deployment at one instant.
type observation struct {
	Status        types.ServiceDeploymentStatus
	Stage         types.ServiceDeploymentLifecycleStage
	TargetWeight  float64
	SourceWeight  float64
	TargetRunning int32
}

func observe(sd types.ServiceDeployment) observation {
	o := observation{Status: sd.Status, Stage: sd.LifecycleStage, TargetRunning: sd.TargetServiceRevision.RunningTaskCount}
	o.TargetWeight = aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight)
	if len(sd.SourceServiceRevisions) > 0 {
		o.SourceWeight = aws.ToFloat64(sd.SourceServiceRevisions[0].RequestedProductionTrafficWeight)
	}
	return o
}

func TestSDKLinearDeploymentStepByStep(t *testing.T) {
	f := newFixture(t)
	client := sdkClient(t, f.ecs)
	ctx := context.Background()
	progressiveService(t, f, client, &types.DeploymentConfiguration{
		Strategy: types.DeploymentStrategyLinear, BakeTimeInMinutes: aws.Int32(5),
		LinearConfiguration: &types.LinearConfiguration{StepPercent: aws.Float64(25), StepBakeTimeInMinutes: aws.Int32(2)},
	})
	start := f.clock.Now()
	before := len(f.rec.deployments())
	upd, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(upd.Service.Deployments[0].Id)

	// Tasks run 10s after the update and are healthy 30s later; then test
	// traffic moves and production traffic shifts 25% every 2 minutes, the
	// last step to 100% bakes 5 minutes and the blue tasks go.
	steps := []struct {
		at   time.Duration
		want observation
	}{
		{0, observation{types.ServiceDeploymentStatusInProgress, "SCALE_UP", 0, 100, 0}},
		{10 * time.Second, observation{types.ServiceDeploymentStatusInProgress, "SCALE_UP", 0, 100, 2}},
		{40 * time.Second, observation{types.ServiceDeploymentStatusInProgress, "PRODUCTION_TRAFFIC_SHIFT", 25, 75, 2}},
		{2*time.Minute + 39*time.Second, observation{types.ServiceDeploymentStatusInProgress, "PRODUCTION_TRAFFIC_SHIFT", 25, 75, 2}},
		{2*time.Minute + 40*time.Second, observation{types.ServiceDeploymentStatusInProgress, "PRODUCTION_TRAFFIC_SHIFT", 50, 50, 2}},
		{4*time.Minute + 40*time.Second, observation{types.ServiceDeploymentStatusInProgress, "PRODUCTION_TRAFFIC_SHIFT", 75, 25, 2}},
		{6*time.Minute + 40*time.Second, observation{types.ServiceDeploymentStatusInProgress, "BAKE_TIME", 100, 0, 2}},
		{11*time.Minute + 39*time.Second, observation{types.ServiceDeploymentStatusInProgress, "BAKE_TIME", 100, 0, 2}},
		{11*time.Minute + 40*time.Second, observation{types.ServiceDeploymentStatusSuccessful, "CLEAN_UP", 100, 0, 2}},
	}
	for _, st := range steps {
		advanceTo(f, start.Add(st.at))
		sd := newestDeployment(t, client)
		if diff := cmp.Diff(st.want, observe(sd)); diff != "" {
			t.Errorf("at +%v (-want +got):\n%s", st.at, diff)
		}
		svc := describeSDK(t, client)
		wantDeployments := 2
		if sd.Status == types.ServiceDeploymentStatusSuccessful {
			wantDeployments = 1
		}
		if len(svc.Deployments) != wantDeployments {
			t.Errorf("at +%v: %d deployments, want %d (blue keeps running until CLEAN_UP)", st.at, len(svc.Deployments), wantDeployments)
		}
	}
	sd := newestDeployment(t, client)
	if !sd.FinishedAt.Equal(start.Add(11*time.Minute+40*time.Second)) || sd.DeploymentConfiguration.Strategy != types.DeploymentStrategyLinear ||
		sd.DeploymentCircuitBreaker.Status != types.ServiceDeploymentRollbackMonitorsStatusDisabled ||
		sd.Alarms.Status != types.ServiceDeploymentRollbackMonitorsStatusDisabled {
		t.Errorf("finished deployment: finishedAt %v config %+v breaker %+v alarms %+v", sd.FinishedAt, sd.DeploymentConfiguration, sd.DeploymentCircuitBreaker, sd.Alarms)
	}
	var got []string
	for _, ev := range f.rec.deployments()[before:] {
		got = append(got, ev.EventName+" "+ev.DeploymentID+" "+ev.UpdatedAt.Sub(start).String())
	}
	want := []string{events.DeploymentInProgress + " " + id + " 0s", events.DeploymentCompleted + " " + id + " 11m40s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deployment events (-want +got):\n%s", diff)
	}
	revs, err := client.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{
		ServiceRevisionArns: []string{aws.ToString(sd.TargetServiceRevision.Arn), aws.ToString(sd.SourceServiceRevisions[0].Arn)},
	})
	if err != nil || len(revs.ServiceRevisions) != 2 {
		t.Fatalf("DescribeServiceRevisions: %v %v", revs, err)
	}
	target, source := revs.ServiceRevisions[0], revs.ServiceRevisions[1]
	if !strings.HasSuffix(aws.ToString(target.TaskDefinition), "web:2") || !strings.HasSuffix(aws.ToString(source.TaskDefinition), "web:1") ||
		aws.ToString(target.ContainerImages[0].ImageDigest) != "sha256:two" ||
		aws.ToString(target.ResolvedConfiguration.LoadBalancers[0].TargetGroupArn) != tgGreen ||
		aws.ToString(source.ResolvedConfiguration.LoadBalancers[0].TargetGroupArn) != tgBlue {
		t.Errorf("revisions: target %+v source %+v", target, source)
	}
	if aws.ToString(target.ServiceRevisionArn) != "arn:aws:ecs:us-west-2:123456789012:service-revision/prod/web/"+strings.TrimPrefix(id, "ecs-svc/") {
		t.Errorf("target revision ARN %s for deployment %s", aws.ToString(target.ServiceRevisionArn), id)
	}
}

func TestSDKCanaryRollsBackWhenAnAlarmFiresDuringTheBake(t *testing.T) {
	f, alarms := newAlarmFixture(t)
	client := sdkClient(t, f.ecs)
	ctx := context.Background()
	progressiveService(t, f, client, &types.DeploymentConfiguration{
		Strategy: types.DeploymentStrategyCanary, BakeTimeInMinutes: aws.Int32(10),
		CanaryConfiguration: &types.CanaryConfiguration{CanaryPercent: aws.Float64(10), CanaryBakeTimeInMinutes: aws.Int32(5)},
		Alarms:              &types.DeploymentAlarms{AlarmNames: []string{"web-5xx", "web-p99"}, Enable: true, Rollback: true},
	})
	first := newestDeployment(t, client)
	if first.Status != types.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment %s, want SUCCESSFUL", first.Status)
	}
	start := f.clock.Now()
	upd, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})
	if err != nil {
		t.Fatal(err)
	}
	canary := aws.ToString(upd.Service.Deployments[0].Id)
	advanceTo(f, start.Add(2*time.Minute))
	if got := observe(newestDeployment(t, client)); got.Stage != "PRODUCTION_TRAFFIC_SHIFT" || got.TargetWeight != 10 {
		t.Fatalf("canary bake: %+v, want 10%% at PRODUCTION_TRAFFIC_SHIFT", got)
	}

	alarms.set("web-p99", true)
	f.ecs.AlarmsChanged()
	sd := newestDeployment(t, client)
	if sd.Status != types.ServiceDeploymentStatusRollbackInProgress || !slices.Equal(sd.Alarms.TriggeredAlarmNames, []string{"web-p99"}) ||
		sd.Alarms.Status != types.ServiceDeploymentRollbackMonitorsStatusTriggered ||
		aws.ToString(sd.Rollback.ServiceRevisionArn) != aws.ToString(first.TargetServiceRevision.Arn) ||
		!sd.Rollback.StartedAt.Equal(start.Add(2*time.Minute)) ||
		aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight) != 0 {
		t.Errorf("after the alarm: status %s alarms %+v rollback %+v target %+v", sd.Status, sd.Alarms, sd.Rollback, sd.TargetServiceRevision)
	}
	if want := "Service deployment rolled back because the CloudWatch alarm(s) web-p99 went into ALARM state."; aws.ToString(sd.StatusReason) != want {
		t.Errorf("statusReason %q, want %q", aws.ToString(sd.StatusReason), want)
	}

	advanceTo(f, start.Add(3*time.Minute))
	sd = newestDeployment(t, client)
	if sd.Status != types.ServiceDeploymentStatusRollbackSuccessful || sd.FinishedAt == nil {
		t.Errorf("after the rollback: %s finished %v", sd.Status, sd.FinishedAt)
	}
	svc := describeSDK(t, client)
	if !strings.HasSuffix(aws.ToString(svc.TaskDefinition), "web:1") || len(svc.Deployments) != 1 || svc.RunningCount != 2 {
		t.Errorf("service after the rollback: %s, %d deployments, %d running", aws.ToString(svc.TaskDefinition), len(svc.Deployments), svc.RunningCount)
	}
	var names []string
	for _, ev := range f.rec.deployments() {
		if ev.DeploymentID == canary {
			names = append(names, ev.EventName+": "+ev.Reason)
		}
	}
	want := []string{
		events.DeploymentInProgress + ": ECS deployment " + canary + " in progress.",
		events.DeploymentFailed + ": ECS deployment failed: alarm(s) web-p99 in ALARM state.",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("canary deployment events (-want +got):\n%s", diff)
	}
	list, err := client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster: aws.String("prod"), Service: aws.String("web"), Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusRollbackSuccessful},
	})
	if err != nil || len(list.ServiceDeployments) != 1 || aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn) != aws.ToString(sd.ServiceDeploymentArn) {
		t.Errorf("ListServiceDeployments by status: %+v %v", list, err)
	}
}

// advanceTo moves f's clock to at.
func advanceTo(f *fixture, at time.Time) {
	if d := at.Sub(f.clock.Now()); d > 0 {
		f.clock.Advance(d)
	}
}
