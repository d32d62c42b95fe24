// Package local runs the whole of Deckhand in one process against the
// sandbox: the manifest and templates uploaded to sandbox S3, the clusters,
// services and first images seeded, and the deployer and tracker wired to
// the sandbox's router exactly as the CDK app wires them in AWS. The demo,
// the end-to-end tests and the benchmarks stand on it.
package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing/fstest"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/aws/refs"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/reconcile"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/engine/track"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// Bucket is the sandbox bucket holding the manifest and templates.
const Bucket = "deckhand-config"

// ExampleTags are the first images of examples/deckhand.yaml's repositories,
// the tags the demo, the seeded sandbox and tests start from.
var ExampleTags = map[string]string{"web": "1.0.0", "proxy": "stable-1", "api": "2.0.0", "worker": "release-1", "report": "1.0.0", "checkout": "1.0.0", "search": "1.0.0"}

// Options configure a Stack.
type Options struct {
	// Dir holds deckhand.yaml and the templates it names (e.g. examples/).
	Dir string
	// Manifest, when set, replaces Dir's deckhand.yaml (templates still come
	// from Dir).
	Manifest []byte
	// InitialTags gives each repository the tag of its first image; the
	// services start on these (a revision Deckhand did not register).
	InitialTags map[string]string
	// DesiredCount of every seeded service (default 2).
	DesiredCount int32
	Logger       *slog.Logger
	// Metrics receives the tracker's delivery metrics (EMF lines), as the
	// tracker function's stdout does (nil: none).
	Metrics io.Writer
}

// Stack is Deckhand running against a sandbox.
type Stack struct {
	SB       *sandbox.Sandbox
	Router   *sandbox.Router
	Manifest *manifest.Manifest
	// Handler is the deployer function's handler over Deployer.
	Handler  *deploy.Handler
	Deployer *deploy.Engine
	Tracker  *track.Handler
	Jobs     *jobs.Engine
	// Runner is the runner function's handler the router feeds the job
	// queue to (Router.Schedule delivers as EventBridge Scheduler does).
	Runner *jobs.Handler
	// Reconciler enqueues synthetic pushes into the router's deploy queue.
	Reconciler *reconcile.Reconciler
	ECS        *ecs.Client
	S3         *s3.Client
	// CloudWatch holds the manifest's deployment alarms (seeded OK).
	CloudWatch *cloudwatch.Client
}

// New uploads the configuration, seeds the sandbox and wires the functions.
func New(ctx context.Context, sb *sandbox.Sandbox, opts Options) (*Stack, error) {
	if opts.DesiredCount == 0 {
		opts.DesiredCount = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := sb.AWSConfig()
	st := &Stack{SB: sb, ECS: ecs.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg, config.S3Options(sb.Endpoint())), CloudWatch: cloudwatch.NewFromConfig(cfg)}
	raw := opts.Manifest
	if raw == nil {
		var err error
		if raw, err = os.ReadFile(filepath.Join(opts.Dir, "deckhand.yaml")); err != nil {
			return nil, fmt.Errorf("read manifest: %w", err)
		}
	}
	m, err := manifest.Parse("deckhand.yaml", raw)
	if err != nil {
		return nil, err
	}
	st.Manifest = m
	uploaded, err := st.upload(ctx, opts.Dir, raw)
	if err != nil {
		return nil, err
	}
	parts := wire.FromAWS(config.Config{Bucket: Bucket, ManifestKey: "deckhand.yaml", Account: sb.Account(), Region: sb.Region(),
		Endpoint: sb.Endpoint(), ExternalID: ExternalID(sb)}, cfg)
	// The deployer's snapshot of the bucket, as the CDK app ships it
	// (infra/snapshot.go): what was uploaded. The functions here share one
	// source, so the runner and the reconciler see it too; they only ever
	// adopt its manifest when the bucket's has the same bytes.
	snapshot := fstest.MapFS{}
	for key, body := range uploaded {
		snapshot[key] = &fstest.MapFile{Data: body}
	}
	parts.Source.(*store.S3).Snapshot = snapshot
	parts.ECS, parts.Logger, parts.Now, parts.Alarms = st.ECS, opts.Logger, sb.Clock().Now, st.CloudWatch
	parts.Refs = refs.New(cfg)
	parts.Metrics = opts.Metrics
	// The sandbox paces with its own throttle buckets on the virtual clock;
	// real-time limiters and waits would only slow tests down.
	parts.Unpaced = true
	parts.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	// The deployer dead-letters to the router's DLQ, whose URL exists once
	// the router does.
	dlq := &queue.FIFO{Client: sqs.NewFromConfig(cfg)}
	parts.DLQ = dlq
	st.Handler = wire.DeployHandler(parts)
	st.Deployer = st.Handler.Engine
	if err := st.seed(ctx, opts); err != nil {
		return nil, err
	}
	if err := seedAccounts(sb, m); err != nil {
		return nil, err
	}
	if err := seedReferences(sb, opts.Dir, m); err != nil {
		return nil, err
	}
	// The router's handlers call the engines built below, once the queues
	// they send to exist.
	st.Router, err = sandbox.NewRouter(sb, sandbox.RouterConfig{
		GroupOf:     m.GroupOf,
		ScanGroupOf: m.ScanGroupOf,
		Deployer:    lambda.NewHandler(st.Handler.Handle),
		Tracker: lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) (any, error) {
			return st.Tracker.Handle(ctx, raw)
		}),
		Runner: lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) (any, error) {
			return st.Runner.Handle(ctx, raw)
		}),
		TaskStartedBy: jobs.StartedByPrefix, // the CDK app's EcsTasks rule
	})
	if err != nil {
		return nil, fmt.Errorf("create router: %w", err)
	}
	dlq.URL = st.Router.DLQURL()
	parts.Queue = queue.New(cfg, st.Router.QueueURL())
	parts.JobQueue = queue.New(cfg, st.Router.JobQueueURL())
	st.Jobs = wire.Jobs(parts)
	st.Runner = wire.Runner(st.Jobs)
	st.Tracker = wire.Tracker(parts, st.Jobs)
	st.Reconciler = wire.Reconciler(parts, st.Jobs)
	return st, nil
}

// upload puts the manifest and every template it names into the bucket,
// and returns them by key.
func (st *Stack) upload(ctx context.Context, dir string, raw []byte) (map[string][]byte, error) {
	if _, err := st.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(Bucket)}); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	objects := map[string][]byte{"deckhand.yaml": raw}
	for _, key := range templateKeys(st.Manifest) {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		if err != nil {
			return nil, fmt.Errorf("read template: %w", err)
		}
		objects[key] = b
	}
	for key, body := range objects {
		if _, err := st.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(Bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			return nil, fmt.Errorf("upload %s: %w", key, err)
		}
	}
	return objects, nil
}

// PutTemplate replaces a template in the bucket (a template change).
func (st *Stack) PutTemplate(ctx context.Context, key string, body []byte) error {
	_, err := st.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(Bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}

func templateKeys(m *manifest.Manifest) []string {
	set := map[string]bool{}
	for _, s := range m.Services {
		set[s.Template] = true
	}
	for _, j := range m.Jobs {
		set[j.Template] = true
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// seed creates the clusters, pushes each repository's first image without
// an event, and creates every service on a revision rendered from its
// template (registered without Deckhand's tags, as IaC would), each in its
// target's account and Region or in the sandbox's own.
func (st *Stack) seed(ctx context.Context, opts Options) error {
	m := st.Manifest
	for _, target := range append([]string{""}, m.TargetNames()...) {
		for _, c := range m.ClustersIn(target) {
			if _, err := st.ecsIn(target).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(c)}); err != nil {
				return fmt.Errorf("create cluster %s: %w", c, err)
			}
		}
	}
	first := map[string]taskdef.Image{}
	for _, repo := range m.Repositories() {
		tag, ok := opts.InitialTags[repo]
		if !ok {
			return fmt.Errorf("seed: no initial tag for repository %s", repo)
		}
		digest := st.SB.PushImageSilently(repo, tag)
		first[repo] = taskdef.Image{Registry: taskdef.Registry(st.SB.Account(), st.SB.Region()), Repository: repo, Tag: tag, Digest: digest}
	}
	if err := st.scanOnPush(ctx); err != nil {
		return err
	}
	for _, b := range m.Services {
		account, region := st.SB.Account(), st.SB.Region()
		if t, ok := m.Targets[b.Target]; ok {
			account, region = t.Account, t.Region
		}
		data := taskdef.Data{Account: account, Region: region, Cluster: b.Cluster, Service: b.Service,
			Images: map[string]taskdef.Image{}, Vars: b.Vars, Primary: revision.ServicePrimary(&b)}
		for c, img := range b.Images {
			data.Images[c] = first[img.Origin()]
		}
		tmpl, err := os.ReadFile(filepath.Join(opts.Dir, filepath.FromSlash(b.Template)))
		if err != nil {
			return fmt.Errorf("seed %s: %w", b.Name, err)
		}
		// IaC registered the first revision; its references are rendered
		// offline (the seed resolves nothing).
		r, err := taskdef.Render(tmpl, data, taskdef.Options{Key: b.Template, Roles: m.Roles, Allow: b.Allow, Sources: m.Sources, OfflineRefs: true})
		if err != nil {
			return fmt.Errorf("seed %s: %w", b.Name, err)
		}
		td, err := st.ecsIn(b.Target).RegisterTaskDefinition(ctx, r.Input)
		if err != nil {
			return fmt.Errorf("seed %s: register: %w", b.Name, err)
		}
		_, err = st.ecsIn(b.Target).CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String(b.Cluster), ServiceName: aws.String(b.Service), DesiredCount: aws.Int32(opts.DesiredCount),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, LaunchType: types.LaunchTypeFargate,
			NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
				Subnets: []string{"subnet-0a1b2c3d"}, SecurityGroups: []string{"sg-0a1b2c3d"}}},
			DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{
				Enable: b.CircuitBreaker != manifest.CircuitBreakerOff, Rollback: b.CircuitBreaker == manifest.CircuitBreakerRollback}},
			LoadBalancers: st.loadBalancers(&b),
		})
		if err != nil {
			return fmt.Errorf("seed %s: create service: %w", b.Name, err)
		}
	}
	if err := st.seedAlarms(ctx); err != nil {
		return err
	}
	st.SB.Clock().Advance(2 * time.Minute) // the first deployments complete
	return nil
}
