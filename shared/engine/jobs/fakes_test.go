package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

const testManifest = `
version: 1
roles:
  - arn:aws:iam::123456789012:role/ecs-execution
  - arn:aws:iam::123456789012:role/report-task
services:
  - name: web
    cluster: prod
    service: web
    template: templates/web.json
    images:
      web: { repository: web, tags: "semver:>=1.0.0 <2.0.0" }
jobs:
  - name: report
    schedule: cron(0 3 * * ? *)
    timezone: Europe/Berlin
    cluster: prod
    template: templates/report.json
    images: { report: { repository: report, tags: "semver:*" } }
    overlap: forbid
    timeout: 2h
    retries: 2
    launch: { capacityProviders: [{ provider: FARGATE_SPOT, weight: 1 }] }
    network: { subnets: [subnet-1], securityGroups: [sg-1], assignPublicIp: DISABLED }
    overrides: { command: ["./report", "--since", "24h"], environment: { B: "2", A: "1" } }
  - name: warm
    schedule: rate(15 minutes)
    cluster: prod
    template: templates/warm.json
    images: { web: { fromService: web } }
    overlap: replace
    timeout: 10m
    network: { subnets: [subnet-1] }
`

const reportTemplate = `{
  "family": "report",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "arn:aws:iam::{{ .Account }}:role/ecs-execution",
  "taskRoleArn": "arn:aws:iam::{{ .Account }}:role/report-task",
  "containerDefinitions": [
    {"name": "report", "image": "{{ .Image }}", "essential": true, "command": ["./report"]},
    {"name": "sidecar", "image": "{{ .Image }}", "essential": false}
  ]
}`

const warmTemplate = `{
  "family": "warm",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "arn:aws:iam::{{ .Account }}:role/ecs-execution",
  "containerDefinitions": [{"name": "web", "image": "{{ .Image }}", "essential": true}]
}`

// fakeSource serves a parsed manifest and fixed templates.
type fakeSource struct {
	m         *manifest.Manifest
	templates map[string]string
}

func (s *fakeSource) Manifest(context.Context) (*manifest.Manifest, error) { return s.m, nil }

func (s *fakeSource) Template(_ context.Context, key string) (store.Template, error) {
	b, ok := s.templates[key]
	if !ok {
		return store.Template{}, fmt.Errorf("template %s: %w", key, store.ErrNotFound)
	}
	return store.Template{Key: key, Body: []byte(b), Version: key + `@"v1"`}, nil
}

func newSource(t *testing.T) *fakeSource {
	t.Helper()
	m, err := manifest.Parse("deckhand.yaml", []byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeSource{m: m, templates: map[string]string{"templates/report.json": reportTemplate, "templates/warm.json": warmTemplate}}
}

// fakeECS is a hand-written ECS fake: each method calls its func field or
// gives a default answer, and every call is recorded in order.
type fakeECS struct {
	mu    sync.Mutex
	calls []string
	ins   []any
	// started are the tasks the default RunTask started; the default
	// ListTasks lists them as running.
	started []string

	describeServices       func(*ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error)
	describeTaskDefinition func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error)
	register               func(*ecs.RegisterTaskDefinitionInput) (*ecs.RegisterTaskDefinitionOutput, error)
	runTask                func(*ecs.RunTaskInput) (*ecs.RunTaskOutput, error)
	listTasks              func(*ecs.ListTasksInput) (*ecs.ListTasksOutput, error)
	describeTasks          func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error)
	stopTask               func(*ecs.StopTaskInput) (*ecs.StopTaskOutput, error)
}

func (f *fakeECS) record(name string, in any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	f.ins = append(f.ins, in)
}

// inputs returns the inputs of every call of one kind.
func inputsOf[T any](f *fakeECS) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []T
	for _, in := range f.ins {
		if v, ok := in.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.record("DescribeServices", in)
	if f.describeServices != nil {
		return f.describeServices(in)
	}
	return &ecs.DescribeServicesOutput{}, nil
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.record("DescribeTaskDefinition", in)
	if f.describeTaskDefinition != nil {
		return f.describeTaskDefinition(in)
	}
	return nil, &smithy.GenericAPIError{Code: "ClientException", Message: "Unable to describe task definition."}
}

func (f *fakeECS) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	f.record("ListTaskDefinitions", in)
	return &ecs.ListTaskDefinitionsOutput{}, nil
}

func (f *fakeECS) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	f.record("RegisterTaskDefinition", in)
	if f.register != nil {
		return f.register(in)
	}
	arn := "arn:aws:ecs:us-east-1:123456789012:task-definition/" + aws.ToString(in.Family) + ":1"
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: aws.String(arn)}}, nil
}

func (f *fakeECS) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	f.record("RunTask", in)
	if f.runTask != nil {
		return f.runTask(in)
	}
	const arn = "arn:aws:ecs:us-east-1:123456789012:task/prod/new"
	f.mu.Lock()
	f.started = append(f.started, arn)
	f.mu.Unlock()
	return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(arn)}}}, nil
}

func (f *fakeECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	f.record("ListTasks", in)
	if f.listTasks != nil {
		return f.listTasks(in)
	}
	return &ecs.ListTasksOutput{TaskArns: f.startedIn(in.DesiredStatus)}, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.record("DescribeTasks", in)
	if f.describeTasks != nil {
		return f.describeTasks(in)
	}
	return &ecs.DescribeTasksOutput{}, nil
}

func (f *fakeECS) StopTask(_ context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	f.record("StopTask", in)
	if f.stopTask != nil {
		return f.stopTask(in)
	}
	return &ecs.StopTaskOutput{}, nil
}

// startedIn lists the default RunTask's tasks under their desired status,
// RUNNING.
func (f *fakeECS) startedIn(status ecstypes.DesiredStatus) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == ecstypes.DesiredStatusStopped {
		return nil
	}
	return append([]string(nil), f.started...)
}

func (f *fakeECS) callNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeECR answers DescribeImages from a fixed list per repository.
type fakeECR struct {
	images map[string][]ecrtypes.ImageDetail
	err    error
}

func (f *fakeECR) DescribeImages(_ context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []ecrtypes.ImageDetail
	for _, d := range f.images[aws.ToString(in.RepositoryName)] {
		if len(in.ImageIds) > 0 {
			want := aws.ToString(in.ImageIds[0].ImageTag)
			match := false
			for _, tag := range d.ImageTags {
				match = match || tag == want
			}
			if !match {
				continue
			}
		}
		out = append(out, d)
	}
	return &ecr.DescribeImagesOutput{ImageDetails: out}, nil
}

// fakeEvents records the job state changes put on the bus.
type fakeEvents struct {
	mu      sync.Mutex
	changes []events.JobStateChange
	err     error
}

func (f *fakeEvents) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range in.Entries {
		if aws.ToString(e.Source) != events.SourceDeckhand || aws.ToString(e.DetailType) != events.DetailTypeDeckhandJob {
			return nil, fmt.Errorf("unexpected event %s / %s", aws.ToString(e.Source), aws.ToString(e.DetailType))
		}
		var d events.JobStateChange
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
			return nil, err
		}
		f.changes = append(f.changes, d)
	}
	return &eventbridge.PutEventsOutput{}, nil
}

func (f *fakeEvents) statuses() []events.JobStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []events.JobStatus
	for _, c := range f.changes {
		out = append(out, c.Status)
	}
	return out
}

var testNow = time.Date(2026, 7, 1, 3, 0, 30, 0, time.UTC)

func image(repo, tag, digest string, pushed time.Time) ecrtypes.ImageDetail {
	return ecrtypes.ImageDetail{RegistryId: aws.String("123456789012"), RepositoryName: aws.String(repo),
		ImageTags: []string{tag}, ImageDigest: aws.String(digest), ImagePushedAt: aws.Time(pushed)}
}

func newEngine(t *testing.T) (*Engine, *fakeECS, *fakeEvents) {
	t.Helper()
	fe, ev := &fakeECS{}, &fakeEvents{}
	e := &Engine{
		ECS: fe, Events: &emit.Bus{Client: ev, Now: func() time.Time { return testNow }}, Source: newSource(t),
		ECR: &fakeECR{images: map[string][]ecrtypes.ImageDetail{
			"report": {
				image("report", "1.2.0", "sha256:120", testNow.Add(-48*time.Hour)),
				image("report", "1.10.0", "sha256:1100", testNow.Add(-72*time.Hour)),
				image("report", "latest", "sha256:999", testNow.Add(-time.Hour)),
			},
		}},
		Account: "123456789012", Region: "us-east-1",
		Now:    func() time.Time { return testNow },
		Sleep:  func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return e, fe, ev
}

func tags(kv ...string) []ecstypes.Tag {
	var out []ecstypes.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, ecstypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}
