// Package jobstest builds sandbox worlds for the end-to-end tests of the
// runner, tracker and reconciler: a sandbox with a bucket holding a manifest
// and templates, a cluster, a router delivering pushes to the real deployer,
// task events to the jobs tracker and the job queue (Scheduler's
// deliveries, the tracker's re-runs) to the runner, helpers to read the
// outcome, and an eventually consistent ECS client (Lagging).
package jobstest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// Manifest is the manifest the worlds start with: a service web following
// repository web, a job report on its own repository (forbid, 2 retries,
// Fargate Spot) and a job warm following the web service (replace, 10m).
const Manifest = `version: 1
roles:
  - arn:aws:iam::123456789012:role/ecs-execution
services:
  - name: web
    cluster: prod
    service: web
    template: templates/web.json
    images:
      web: { repository: web, tags: "semver:*" }
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
    overrides: { command: ["./report", "--since", "24h"] }
  - name: warm
    schedule: rate(15 minutes)
    cluster: prod
    template: templates/warm.json
    images: { web: { fromService: web } }
    overlap: replace
    timeout: 10m
    launch: { launchType: FARGATE }
    network: { subnets: [subnet-1] }
`

func fargateTemplate(family, container string) string {
	return fmt.Sprintf(`{
  "family": %q,
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "arn:aws:iam::{{ .Account }}:role/ecs-execution",
  "containerDefinitions": [{"name": %q, "image": "{{ .Image }}", "essential": true}]
}`, family, container)
}

// Templates are the templates of Manifest, by S3 key.
var Templates = map[string]string{
	"templates/web.json":    fargateTemplate("web", "web"),
	"templates/report.json": fargateTemplate("report", "report"),
	"templates/warm.json":   fargateTemplate("warm", "web"),
}

// Bucket is the Deckhand bucket of every world.
const Bucket = "deckhand"

// World is a sandbox set up for Deckhand.
type World struct {
	T      testing.TB
	SB     *sandbox.Sandbox
	AWS    aws.Config
	Config config.Config
	ECS    *ecs.Client
	S3     *s3.Client
	Router *sandbox.Router
	// Tracker is the jobs tracker the router feeds task events to; its
	// re-runs go into the router's job queue.
	Tracker *jobs.Tracker
	// Runner is the handler the router feeds the job queue to (default:
	// jobs.Handler over JobsEngine). A test may replace it, with the
	// runner function's own handler, before it pumps.
	Runner lambda.Handler
	Logger *slog.Logger
}

// Start starts a sandbox with Manifest and Templates uploaded, cluster prod,
// and a router whose deployer is the real deploy engine and whose tracker
// hands task events to a jobs tracker.
func Start(t testing.TB) *World {
	t.Helper()
	sb := sandboxtest.Start(t)
	w := &World{T: t, SB: sb, AWS: sb.AWSConfig(), Logger: slog.New(slog.DiscardHandler)}
	w.Config = config.Config{Bucket: Bucket, ManifestKey: "deckhand.yaml", EventBus: "default", QueueURL: "",
		Account: sb.Account(), Region: sb.Region(), Endpoint: sb.Endpoint()}
	w.ECS = ecs.NewFromConfig(w.AWS)
	w.S3 = s3.NewFromConfig(w.AWS, config.S3Options(w.Config.Endpoint))
	ctx := context.Background()
	if _, err := w.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(Bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	w.PutManifest(Manifest)
	for key, body := range Templates {
		w.Put(key, body)
	}
	if _, err := w.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	m, err := manifest.Parse("deckhand.yaml", []byte(Manifest))
	if err != nil {
		t.Fatalf("parse manifest: %v", err)
	}
	w.Router, err = sandbox.NewRouter(sb, sandbox.RouterConfig{
		GroupOf:  m.GroupOf,
		Deployer: lambda.NewHandler((&deploy.Handler{Engine: w.DeployEngine()}).Handle),
		Tracker: lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) error {
			return TrackerHandler(w.Tracker)(ctx, raw)
		}),
		Runner: lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
			return w.Runner.Invoke(ctx, raw)
		}),
		TaskStartedBy: jobs.StartedByPrefix, // the CDK app's EcsTasks rule
	})
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	w.Config.QueueURL, w.Config.JobQueueURL = w.Router.QueueURL(), w.Router.JobQueueURL()
	w.Tracker = jobs.NewTracker(w.JobsEngine())
	w.Runner = lambda.NewHandler(wire.Runner(w.JobsEngine()).Handle)
	return w
}

// Source is a fresh S3 source over the world's bucket.
func (w *World) Source() *store.S3 {
	return store.NewS3(w.S3, Bucket, w.Config.ManifestKey)
}

// Parts are the world's engine parts (shared/wire): the sandbox's clients,
// the virtual clock, no pacing (the sandbox paces on its own clock), and
// the world's configuration as it is now.
func (w *World) Parts() *wire.Parts {
	p := wire.FromAWS(w.Config, w.AWS)
	p.Logger, p.Now, p.Unpaced = w.Logger, w.SB.Clock().Now, true
	p.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	if w.Config.JobQueueURL != "" {
		p.JobQueue = queue.New(w.AWS, w.Config.JobQueueURL)
	}
	return p
}

// Schedule fires job's schedule for a scheduled time: EventBridge
// Scheduler's delivery into the job queue. Safe from several goroutines.
func (w *World) Schedule(job string, scheduled time.Time) {
	w.T.Helper()
	if err := w.Router.Schedule(job, scheduled); err != nil {
		w.T.Errorf("schedule %s: %v", job, err)
	}
}

// JobsEngine is a jobs engine on the world, reading the virtual clock.
func (w *World) JobsEngine() *jobs.Engine { return wire.Jobs(w.Parts()) }

// DeployEngine is the real deploy engine on the world, unpaced.
func (w *World) DeployEngine() *deploy.Engine { return wire.Deployer(w.Parts()) }

// TrackerHandler is the task half of the tracker function as the router
// invokes it: ECS Task State Change events go to the jobs tracker, other
// events are ignored.
func TrackerHandler(tr *jobs.Tracker) func(context.Context, json.RawMessage) error {
	return func(ctx context.Context, raw json.RawMessage) error {
		_, detailType, err := events.Kind(raw)
		if err != nil || detailType != events.DetailTypeTaskStateChange {
			return err
		}
		ev, err := events.Decode[events.TaskEvent](raw, "ECS Task State Change")
		if err != nil {
			return err
		}
		return tr.HandleTaskEvent(ctx, ev)
	}
}

// Put writes an object into the bucket.
func (w *World) Put(key, body string) {
	w.T.Helper()
	if _, err := w.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(Bucket), Key: aws.String(key),
		Body: strings.NewReader(body)}); err != nil {
		w.T.Fatalf("put s3://%s/%s: %v", Bucket, key, err)
	}
}

// PutManifest uploads a manifest as deckhand.yaml.
func (w *World) PutManifest(body string) { w.Put(w.Config.ManifestKey, body) }

// CreateWebService creates service web on a placeholder revision, then
// pushes web:tag and lets the router and the real deployer deploy it. It
// returns the pushed digest, which the service then runs.
func (w *World) CreateWebService(tag string) string {
	w.T.Helper()
	ctx := context.Background()
	placeholder := w.SB.PushImageSilently("web", "0.0.1")
	td, err := w.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Essential: aws.Bool(true),
			Image: aws.String(w.Config.Account + ".dkr.ecr." + w.Config.Region + ".amazonaws.com/web@" + placeholder)}},
	})
	if err != nil {
		w.T.Fatalf("register web: %v", err)
	}
	if _, err := w.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
	}); err != nil {
		w.T.Fatalf("create service web: %v", err)
	}
	digest := w.SB.PushImage("web", tag)
	w.Settle(time.Minute)
	if got := w.ServiceDigest("web"); got != digest {
		w.T.Fatalf("web runs %s after the push of %s, want %s", got, tag, digest)
	}
	return digest
}

// ServiceDigest is the image digest the PRIMARY deployment of a prod
// service runs.
func (w *World) ServiceDigest(service string) string {
	w.T.Helper()
	ctx := context.Background()
	out, err := w.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{service}})
	if err != nil || len(out.Services) == 0 {
		w.T.Fatalf("describe service %s: %v", service, err)
	}
	td := aws.ToString(out.Services[0].TaskDefinition)
	for _, d := range out.Services[0].Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			td = aws.ToString(d.TaskDefinition)
		}
	}
	return w.TaskDefinitionDigest(td)
}

// TaskDefinitionDigest is the digest of a revision's first container.
func (w *World) TaskDefinitionDigest(td string) string {
	w.T.Helper()
	out, err := w.ECS.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
	if err != nil {
		w.T.Fatalf("describe task definition %s: %v", td, err)
	}
	image := aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image)
	_, digest, _ := strings.Cut(image, "@")
	return digest
}

// Pump delivers everything pending: queued pushes to the deployer and task
// events to the tracker.
func (w *World) Pump() sandbox.PumpStats {
	w.T.Helper()
	st, err := w.Router.Pump(context.Background())
	if err != nil {
		w.T.Fatalf("pump: %v", err)
	}
	if st.TrackerErrors > 0 || st.BatchErrors > 0 || st.RunnerErrors > 0 {
		w.T.Fatalf("pump: handler errors: %+v", st)
	}
	return st
}

// Settle pumps, advances the virtual clock by d in steps of 5 seconds
// (pumping after each) and pumps again.
func (w *World) Settle(d time.Duration) {
	w.T.Helper()
	w.Pump()
	for step := time.Duration(0); step < d; step += 5 * time.Second {
		w.SB.Clock().Advance(5 * time.Second)
		w.Pump()
	}
}

// JobEvents returns the details of every Deckhand Job State Change so far,
// optionally only those of one job.
func (w *World) JobEvents(job string) []events.JobStateChange {
	w.T.Helper()
	var out []events.JobStateChange
	for _, ev := range w.SB.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandJob {
			continue
		}
		d, err := events.Decode[events.JobStateChange](ev.Detail, "job state change")
		if err != nil {
			w.T.Fatalf("decode job event: %v", err)
		}
		if job == "" || d.Job == job {
			out = append(out, d)
		}
	}
	return out
}

// Statuses are the statuses of JobEvents(job).
func (w *World) Statuses(job string) []events.JobStatus {
	var out []events.JobStatus
	for _, d := range w.JobEvents(job) {
		out = append(out, d.Status)
	}
	return out
}

// Tasks lists a job's tasks in prod, running and stopped, described.
func (w *World) Tasks(job string) []ecstypes.Task {
	w.T.Helper()
	ctx := context.Background()
	var arns []string
	for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
		out, err := w.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), StartedBy: aws.String(jobs.StartedBy(job)), DesiredStatus: status})
		if err != nil {
			w.T.Fatalf("list tasks: %v", err)
		}
		arns = append(arns, out.TaskArns...)
	}
	if len(arns) == 0 {
		return nil
	}
	out, err := w.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: arns, Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
	if err != nil {
		w.T.Fatalf("describe tasks: %v", err)
	}
	return out.Tasks
}
