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
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

const tick = "2026-07-01T03:00:00Z"

func TestClientToken(t *testing.T) {
	at := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	base := ClientToken("report", at, 1)
	if len(base) > 64 {
		t.Fatalf("token %q has %d characters, want at most 64", base, len(base))
	}
	tests := map[string]struct {
		token    string
		wantSame bool
	}{
		"the same run gives the same token":                     {token: ClientToken("report", at, 1), wantSame: true},
		"the same instant in another zone gives the same token": {token: ClientToken("report", at.In(berlin), 1), wantSame: true},
		"attempt 0 counts as the first":                         {token: ClientToken("report", at, 0), wantSame: true},
		"another scheduled time gives another token":            {token: ClientToken("report", at.Add(time.Minute), 1)},
		"another job gives another token":                       {token: ClientToken("reports", at, 1)},
		"a retry gives another token":                           {token: ClientToken("report", at, 2)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.token == base; got != tc.wantSame {
				t.Errorf("token %s == %s is %v, want %v", tc.token, base, got, tc.wantSame)
			}
		})
	}
}

// runningTask is a task of the report job still running.
func runningTask(arn, scheduled string) ecstypes.Task {
	return ecstypes.Task{TaskArn: aws.String(arn), LastStatus: aws.String("RUNNING"), DesiredStatus: aws.String("RUNNING"),
		TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/report:1"),
		StartedAt:         aws.Time(testNow.Add(-10 * time.Minute)),
		Tags:              tags(revision.TagScheduledTime, scheduled, revision.TagAttempt, "1", revision.TagJob, "report")}
}

// withRunning makes ListTasks/DescribeTasks report tasks as running.
func withRunning(f *fakeECS, tasks ...ecstypes.Task) {
	f.listTasks = func(in *ecs.ListTasksInput) (*ecs.ListTasksOutput, error) {
		if in.DesiredStatus == ecstypes.DesiredStatusStopped {
			return &ecs.ListTasksOutput{}, nil
		}
		return &ecs.ListTasksOutput{TaskArns: append(taskARNs(tasks), f.startedIn(in.DesiredStatus)...)}, nil
	}
	f.describeTasks = func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
		return &ecs.DescribeTasksOutput{Tasks: tasks}, nil
	}
}

func TestRun(t *testing.T) {
	prevTick := "2026-07-01T02:00:00Z"
	tests := map[string]struct {
		job        string
		overlap    string
		setup      func(*fakeECS)
		wantStatus events.JobStatus
		wantCalls  []string
		wantEvents []events.JobStatus
		wantReason string
	}{
		"a first run registers the revision and starts the task": {
			job: "report", wantStatus: events.JobStarted,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask", "ListTasks"},
			wantEvents: []events.JobStatus{events.JobStarted},
		},
		"an unchanged revision is reused, not registered again": {
			job: "report",
			setup: func(f *fakeECS) {
				f.describeTaskDefinition = func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
					// The hash the report template renders to with the newest
					// eligible image (1.2.0, the latest semver push).
					return &ecs.DescribeTaskDefinitionOutput{
						TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/report:7")},
						Tags:           tags(revision.TagContentHash, reportHash(t))}, nil
				}
			},
			wantStatus: events.JobStarted,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTaskDefinition", "RunTask", "ListTasks"},
			wantEvents: []events.JobStatus{events.JobStarted},
		},
		"a duplicate delivery of a running run starts nothing": {
			job:        "report",
			setup:      func(f *fakeECS) { withRunning(f, runningTask("arn:task/same", tick)) },
			wantStatus: events.JobStarted,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTasks"},
			wantEvents: []events.JobStatus{events.JobStarted},
		},
		"forbid with an earlier run still going skips": {
			job:        "report",
			setup:      func(f *fakeECS) { withRunning(f, runningTask("arn:task/old", prevTick)) },
			wantStatus: events.JobSkippedOverlap,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTasks"},
			wantEvents: []events.JobStatus{events.JobSkippedOverlap},
			wantReason: "still active",
		},
		"replace stops the earlier run before starting": {
			job: "report", overlap: manifest.OverlapReplace,
			setup:      func(f *fakeECS) { withRunning(f, runningTask("arn:task/old", prevTick)) },
			wantStatus: events.JobStarted,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "StopTask", "RunTask", "ListTasks"},
			wantEvents: []events.JobStatus{events.JobStarted},
		},
		"allow runs alongside an earlier run": {
			job: "report", overlap: manifest.OverlapAllow,
			setup:      func(f *fakeECS) { withRunning(f, runningTask("arn:task/old", prevTick)) },
			wantStatus: events.JobStarted,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask", "ListTasks"},
			wantEvents: []events.JobStatus{events.JobStarted},
		},
		"failures in a 200 answer are a failure": {
			job: "report",
			setup: func(f *fakeECS) {
				f.runTask = func(*ecs.RunTaskInput) (*ecs.RunTaskOutput, error) {
					return &ecs.RunTaskOutput{Failures: []ecstypes.Failure{{Reason: aws.String("MISSING"), Arn: aws.String("arn:cluster/prod")}}}, nil
				}
			},
			wantStatus: events.JobFailed,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask"},
			wantEvents: []events.JobStatus{events.JobFailed},
			wantReason: "MISSING",
		},
		"no Spot capacity is retried up to the retries, then FAILED": {
			job: "report",
			setup: func(f *fakeECS) {
				f.runTask = func(*ecs.RunTaskInput) (*ecs.RunTaskOutput, error) {
					return &ecs.RunTaskOutput{Failures: []ecstypes.Failure{{Reason: aws.String("Capacity is unavailable at this time. Please try again later or in a different availability zone")}}}, nil
				}
			},
			wantStatus: events.JobFailed,
			wantCalls:  []string{"ListTasks", "ListTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask", "RunTask", "RunTask"},
			wantEvents: []events.JobStatus{events.JobRetrying, events.JobRetrying, events.JobFailed},
			wantReason: "Capacity is unavailable",
		},
		"a job missing from the manifest is FAILED": {
			job: "nope", wantStatus: events.JobFailed,
			wantEvents: []events.JobStatus{events.JobFailed},
			wantReason: "not in the manifest",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, fe, ev := newEngine(t)
			if tc.overlap != "" {
				job, _ := e.Source.(*fakeSource).m.Job("report")
				job.Overlap = tc.overlap
			}
			if tc.setup != nil {
				tc.setup(fe)
			}
			res, err := e.Run(context.Background(), Invocation{Job: tc.job, ScheduledTime: tick})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Status != tc.wantStatus {
				t.Errorf("status = %s, want %s (reason %q)", res.Status, tc.wantStatus, res.Reason)
			}
			if !strings.Contains(res.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", res.Reason, tc.wantReason)
			}
			if diff := cmp.Diff(tc.wantCalls, fe.callNames(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ECS calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEvents, ev.statuses(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// reportHash renders the report job once to learn its content hash.
func reportHash(t *testing.T) string {
	t.Helper()
	e, fe, _ := newEngine(t)
	if _, err := e.Run(context.Background(), Invocation{Job: "report", ScheduledTime: tick}); err != nil {
		t.Fatal(err)
	}
	regs := inputsOf[*ecs.RegisterTaskDefinitionInput](fe)
	if len(regs) != 1 {
		t.Fatalf("want one registration, got %d", len(regs))
	}
	return revision.TagsOf(regs[0].Tags)[revision.TagContentHash]
}

func TestRunTaskRequest(t *testing.T) {
	e, fe, _ := newEngine(t)
	if _, err := e.Run(context.Background(), Invocation{Job: "report", ScheduledTime: "2026-07-01T05:00:00+02:00"}); err != nil {
		t.Fatal(err)
	}
	runs := inputsOf[*ecs.RunTaskInput](fe)
	if len(runs) != 1 {
		t.Fatalf("RunTask calls = %d, want 1", len(runs))
	}
	want := &ecs.RunTaskInput{
		Cluster:              aws.String("prod"),
		TaskDefinition:       aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/report:1"),
		Count:                aws.Int32(1),
		ClientToken:          aws.String(ClientToken("report", time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC), 1)),
		StartedBy:            aws.String("deckhand/report"),
		Group:                aws.String("deckhand:report"),
		PropagateTags:        ecstypes.PropagateTagsTaskDefinition,
		EnableECSManagedTags: true,
		Tags:                 tags(revision.TagAttempt, "1", revision.TagScheduledTime, tick),
		CapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}},
		Overrides: &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{
			Name: aws.String("report"), Command: []string{"./report", "--since", "24h"},
			Environment: []ecstypes.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}, {Name: aws.String("B"), Value: aws.String("2")}},
		}}},
	}
	if diff := cmp.Diff(want, runs[0], cmpopts.IgnoreUnexported(ecs.RunTaskInput{}, ecstypes.Tag{}, ecstypes.CapacityProviderStrategyItem{},
		ecstypes.NetworkConfiguration{}, ecstypes.AwsVpcConfiguration{}, ecstypes.TaskOverride{}, ecstypes.ContainerOverride{}, ecstypes.KeyValuePair{})); diff != "" {
		t.Errorf("RunTask input (-want +got):\n%s", diff)
	}
	regs := inputsOf[*ecs.RegisterTaskDefinitionInput](fe)
	got := revision.TagsOf(regs[0].Tags)
	for k, v := range map[string]string{revision.TagJob: "report", revision.TagDigest + "report": "sha256:120",
		revision.TagPushedAt + "report": "2026-06-29T03:00:30Z", revision.TagTemplate: "templates/report.json@v1"} {
		if got[k] != v {
			t.Errorf("revision tag %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got[revision.TagContentHash]) != 64 {
		t.Errorf("revision tag %s = %q, want a SHA-256", revision.TagContentHash, got[revision.TagContentHash])
	}
}

func TestRunFromService(t *testing.T) {
	e, fe, _ := newEngine(t)
	fe.describeServices = func(in *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
		return &ecs.DescribeServicesOutput{Services: []ecstypes.Service{{Status: aws.String("ACTIVE"),
			TaskDefinition: aws.String("web:3"),
			Deployments: []ecstypes.Deployment{
				{Status: aws.String("PRIMARY"), TaskDefinition: aws.String("web:4")},
				{Status: aws.String("ACTIVE"), TaskDefinition: aws.String("web:3")},
			}}}}, nil
	}
	fe.describeTaskDefinition = func(in *ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
		if aws.ToString(in.TaskDefinition) != "web:4" {
			return nil, &smithy.GenericAPIError{Code: "ClientException", Message: "Unable to describe task definition."}
		}
		return &ecs.DescribeTaskDefinitionOutput{
			TaskDefinition: &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
				{Name: aws.String("web"), Image: aws.String("123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:web4")}}},
			Tags: tags(revision.TagPushedAt+"web", "2026-06-30T10:00:00Z")}, nil
	}
	res, err := e.Run(context.Background(), Invocation{Job: "warm", ScheduledTime: tick})
	if err != nil || res.Status != events.JobStarted {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	regs := inputsOf[*ecs.RegisterTaskDefinitionInput](fe)
	if len(regs) != 1 {
		t.Fatalf("registrations = %d, want 1", len(regs))
	}
	if got, want := aws.ToString(regs[0].ContainerDefinitions[0].Image), "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:web4"; got != want {
		t.Errorf("job image = %s, want the service's PRIMARY image %s", got, want)
	}
}

func TestRunErrors(t *testing.T) {
	tests := map[string]struct {
		inv     Invocation
		setup   func(*Engine, *fakeECS)
		wantErr error
	}{
		"a missing scheduled time is a bad invocation": {inv: Invocation{Job: "report"}, wantErr: ErrBadInvocation},
		"a non-RFC 3339 time is a bad invocation":      {inv: Invocation{Job: "report", ScheduledTime: "yesterday"}, wantErr: ErrBadInvocation},
		"an ECS error is returned for a retry": {
			inv: Invocation{Job: "report", ScheduledTime: tick},
			setup: func(_ *Engine, f *fakeECS) {
				f.runTask = func(*ecs.RunTaskInput) (*ecs.RunTaskOutput, error) {
					return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
				}
			},
			wantErr: &smithy.GenericAPIError{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, fe, _ := newEngine(t)
			if tc.setup != nil {
				tc.setup(e, fe)
			}
			_, err := e.Run(context.Background(), tc.inv)
			var ae *smithy.GenericAPIError
			switch want := tc.wantErr.(type) {
			case *smithy.GenericAPIError:
				if !errors.As(err, &ae) {
					t.Errorf("error = %v, want an API error", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Errorf("error = %v, want %v", err, want)
				}
			}
		})
	}
}

func TestRunNoEligibleImageIsFailed(t *testing.T) {
	e, _, ev := newEngine(t)
	e.ECR = &fakeECR{}
	res, err := e.Run(context.Background(), Invocation{Job: "report", ScheduledTime: tick})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Status != events.JobFailed || !strings.Contains(res.Reason, "no eligible image") {
		t.Errorf("result = %+v, want FAILED naming no eligible image", res)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobFailed}, ev.statuses()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
