package ecssim

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/google/go-cmp/cmp"
)

const jsonContentType = "application/x-amz-json-1.1"

// sdkClient serves e over HTTP the way the sandbox server does and returns a
// real SDK client pointed at it.
func sdkClient(t *testing.T, e *ECS) *ecs.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerServiceV20141113.")
		if !ok {
			awsproto.WriteJSONError(w, jsonContentType, awsproto.Errorf(400, "UnknownOperationException", "bad target"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			awsproto.WriteJSONError(w, jsonContentType, err)
			return
		}
		out, err := e.Handle(r.Context(), op, body)
		if err != nil {
			awsproto.WriteJSONError(w, jsonContentType, err)
			return
		}
		awsproto.WriteJSON(w, jsonContentType, out)
	}))
	t.Cleanup(srv.Close)
	return ecs.NewFromConfig(aws.Config{
		Region:           "us-west-2",
		Credentials:      credentials.NewStaticCredentialsProvider("x", "y", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	})
}

func TestSDKServicesAndRollback(t *testing.T) {
	f := newFixture(t)
	client := sdkClient(t, f.ecs)
	ctx := context.Background()

	register := func(image string) *types.TaskDefinition {
		t.Helper()
		out, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String(image),
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}},
				Environment:  []types.KeyValuePair{{Name: aws.String("LOG_LEVEL"), Value: aws.String("info")}},
			}},
			Tags: []types.Tag{{Key: aws.String("deckhand:digest:web"), Value: aws.String(image[strings.LastIndex(image, "@")+1:])}},
		})
		if err != nil {
			t.Fatalf("RegisterTaskDefinition: %v", err)
		}
		return out.TaskDefinition
	}
	first := register("repo/web@sha256:one")
	if aws.ToInt32(&first.Revision) != 1 || first.Status != types.TaskDefinitionStatusActive || !first.RegisteredAt.Equal(t0) {
		t.Errorf("registered: revision %d status %s registeredAt %v", first.Revision, first.Status, first.RegisteredAt)
	}
	register("repo/web@sha256:two")

	desc, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String("web:2"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := desc.TaskDefinition.ContainerDefinitions[0]
	if aws.ToString(c.Image) != "repo/web@sha256:two" || aws.ToInt32(c.PortMappings[0].ContainerPort) != 8080 || !aws.ToBool(c.Essential) ||
		len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Value) != "sha256:two" {
		t.Errorf("DescribeTaskDefinition web:2: %+v tags %+v", c, desc.Tags)
	}
	list, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), Sort: types.SortOrderDesc})
	if err != nil || len(list.TaskDefinitionArns) != 2 || !strings.HasSuffix(list.TaskDefinitionArns[0], "web:2") {
		t.Errorf("ListTaskDefinitions: %v %v", list, err)
	}
	_, err = client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope")})
	var ce *types.ClientException
	if !errors.As(err, &ce) {
		t.Errorf("DescribeTaskDefinition nope: %v, want *types.ClientException", err)
	}

	created, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(2),
		LaunchType:           types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		DeploymentConfiguration: &types.DeploymentConfiguration{
			DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true},
		},
		Tags: []types.Tag{{Key: aws.String("deckhand:hold"), Value: aws.String("false")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := created.Service.Deployments[0]; d.RolloutState != types.DeploymentRolloutStateInProgress || !deploymentIDRE.MatchString(aws.ToString(d.Id)) {
		t.Errorf("created deployment: %+v", d)
	}
	f.clock.Advance(time.Minute)

	// A full rollout to web:2.
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	waitStable := func() {
		t.Helper()
		w := ecs.NewServicesStableWaiter(client, func(o *ecs.ServicesStableWaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond })
		if err := w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}}, time.Second); err != nil {
			t.Errorf("services stable: %v", err)
		}
	}
	waitStable()
	svc := describeSDK(t, client)
	if len(svc.Deployments) != 1 || !strings.HasSuffix(aws.ToString(svc.TaskDefinition), "web:2") || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted || svc.RunningCount != 2 {
		t.Fatalf("after rollout: %+v", svc)
	}
	if len(svc.Tags) != 1 || !strings.HasSuffix(aws.ToString(svc.Events[0].Message), "has reached a steady state.") {
		t.Errorf("tags %v newest event %q", svc.Tags, aws.ToString(svc.Events[0].Message))
	}
	completed := aws.ToString(svc.Deployments[0].Id)

	// A bad image trips the circuit breaker and rolls back to web:2.
	register("repo/web@sha256:bad")
	f.ecs.SetImageHealth("sha256:bad", false)
	before := len(f.rec.deployments())
	upd, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:3")})
	if err != nil {
		t.Fatal(err)
	}
	failing := aws.ToString(upd.Service.Deployments[0].Id)
	f.clock.Advance(3 * time.Minute)
	svc = describeSDK(t, client)
	if len(svc.Deployments) != 1 || !strings.HasSuffix(aws.ToString(svc.TaskDefinition), "web:2") || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Fatalf("after rollback: %+v", svc)
	}
	rollback := aws.ToString(svc.Deployments[0].Id)
	type step struct{ Name, ID, Reason string }
	var got []step
	for _, d := range f.rec.deployments()[before:] {
		got = append(got, step{d.EventName, d.DeploymentID, d.Reason})
	}
	want := []step{
		{events.DeploymentInProgress, failing, "ECS deployment " + failing + " in progress."},
		{events.DeploymentFailed, failing, "ECS deployment circuit breaker: task failed to start."},
		{events.DeploymentInProgress, rollback, "ECS deployment circuit breaker: rolling back to deploymentId " + completed + "."},
		{events.DeploymentCompleted, rollback, "ECS deployment " + rollback + " completed."},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rollback events (-want +got):\n%s", diff)
	}
	if h := f.ecs.UpdateHistory(); len(h) != 2 || h[1].DeploymentID != failing || !strings.HasSuffix(h[1].TaskDefinition, "web:3") {
		t.Errorf("history %+v", h)
	}
}

func describeSDK(t *testing.T, client *ecs.Client) types.Service {
	t.Helper()
	out, err := client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
		Cluster: aws.String("prod"), Services: []string{"web"}, Include: []types.ServiceField{types.ServiceFieldTags},
	})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("DescribeServices: %v %v", out, err)
	}
	return out.Services[0]
}

func TestSDKTasks(t *testing.T) {
	f := newFixture(t)
	client := sdkClient(t, f.ecs)
	ctx := context.Background()
	f.register(t, "report", reportImage)
	f.ecs.ScriptImage("sha256:74b2", TaskScript{RunFor: time.Minute, ExitCode: 2})
	net := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-1"}, AssignPublicIp: types.AssignPublicIpDisabled}}
	in := func(token, startedBy string) *ecs.RunTaskInput {
		return &ecs.RunTaskInput{
			Cluster: aws.String("prod"), TaskDefinition: aws.String("report"), ClientToken: aws.String(token),
			CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}},
			NetworkConfiguration:     net, StartedBy: aws.String(startedBy),
			Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
				Name: aws.String("report"), Command: []string{"./report", "--since", "24h"},
			}}},
			Tags: []types.Tag{{Key: aws.String("job"), Value: aws.String("nightly")}},
		}
	}
	run, err := client.RunTask(ctx, in("tok", "deckhand/nightly"))
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %v", run, err)
	}
	taskARN := aws.ToString(run.Tasks[0].TaskArn)
	if run.Tasks[0].LastStatus == nil || *run.Tasks[0].LastStatus != "PROVISIONING" || aws.ToString(run.Tasks[0].CapacityProviderName) != "FARGATE_SPOT" {
		t.Errorf("RunTask task: %+v", run.Tasks[0])
	}
	again, err := client.RunTask(ctx, in("tok", "deckhand/nightly"))
	if err != nil || aws.ToString(again.Tasks[0].TaskArn) != taskARN {
		t.Errorf("replay: %v %v", again, err)
	}
	_, err = client.RunTask(ctx, in("tok", "someone-else"))
	var conflict *types.ConflictException
	var api smithy.APIError
	if !errors.As(err, &conflict) || !errors.As(err, &api) || api.ErrorCode() != "ConflictException" {
		t.Errorf("same token, different params: %v, want ConflictException", err)
	}

	f.ecs.SetCapacityAvailable("FARGATE_SPOT", false)
	noCap, err := client.RunTask(ctx, in("tok-2", "deckhand/nightly"))
	if err != nil || len(noCap.Tasks) != 0 || len(noCap.Failures) != 1 || aws.ToString(noCap.Failures[0].Reason) != unavailableMessage {
		t.Errorf("no capacity: %+v %v", noCap, err)
	}
	f.ecs.SetCapacityAvailable("FARGATE_SPOT", true)
	second, err := client.RunTask(ctx, in("tok-3", "deckhand/other"))
	if err != nil || len(second.Tasks) != 1 {
		t.Fatalf("RunTask after capacity returned: %v %v", second, err)
	}
	f.clock.Advance(15 * time.Second)
	if _, err := client.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("prod"), Task: second.Tasks[0].TaskArn, Reason: aws.String("superseded")}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)

	desc, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{
		Cluster: aws.String("prod"), Tasks: []string{taskARN, aws.ToString(second.Tasks[0].TaskArn)}, Include: []types.TaskField{types.TaskFieldTags},
	})
	if err != nil || len(desc.Tasks) != 2 {
		t.Fatalf("DescribeTasks: %v %v", desc, err)
	}
	done, stopped := desc.Tasks[0], desc.Tasks[1]
	if aws.ToString(done.LastStatus) != "STOPPED" || done.StopCode != types.TaskStopCodeEssentialContainerExited ||
		aws.ToInt32(done.Containers[0].ExitCode) != 2 || aws.ToInt64(&done.Version) != 5 || len(done.Tags) != 1 ||
		done.Overrides.ContainerOverrides[0].Command[2] != "24h" || !done.StoppedAt.Equal(t0.Add(80*time.Second)) { // started at 15s, ran 60s, deprovisioned 5s
		t.Errorf("finished task: %+v", done)
	}
	if stopped.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(stopped.StoppedReason) != "superseded" || aws.ToInt32(stopped.Containers[0].ExitCode) != 143 {
		t.Errorf("stopped task: %+v", stopped)
	}
	versions := []int64{}
	for _, ev := range f.rec.tasks(taskARN) {
		versions = append(versions, ev.Version)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4, 5}, versions); diff != "" {
		t.Errorf("task event versions (-want +got):\n%s", diff)
	}

	list, err := client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), StartedBy: aws.String("deckhand/nightly"), DesiredStatus: types.DesiredStatusStopped})
	if err != nil || !cmp.Equal([]string{taskARN}, list.TaskArns) {
		t.Errorf("ListTasks stopped by deckhand/nightly: %v %v", list, err)
	}
	running, err := client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod")})
	if err != nil || len(running.TaskArns) != 0 {
		t.Errorf("ListTasks running: %v %v", running, err)
	}
	_, err = client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("nope")})
	var cnf *types.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("ListTasks in a missing cluster: %v", err)
	}
}
