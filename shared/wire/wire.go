// Package wire builds Deckhand's engines (DESIGN §2, STYLE 15): the one
// place the Lambda mains, the CLI, the sandbox stack, the job test rig and
// the tools construct the deploy engine, the job engine, the tracker and
// the reconciler, so that they share clients, logger, clock and pacing the
// same way. Building makes no AWS call.
package wire

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/aws/alarms"
	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ECS is the part of the ECS client the engines use together; *ecs.Client
// implements it, and so do the CLI's read-only and overriding wrappers.
type ECS interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	TagResource(ctx context.Context, in *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
	RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
	// ECS's service-deployment records, which the tracker confirms a
	// verdict with once a service no longer lists the deployment.
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
}

// ECR is the part of the ECR client the engines use: images, and their
// scans for the scan gate.
type ECR interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
	DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

// Events puts events on EventBridge.
type Events interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Queue sends to an SQS FIFO queue; *queue.FIFO implements it. Only the
// reconciler (the deploy queue), the tracker (the job queue) and the
// deployer (the deploy queue's DLQ) build one, so only their binaries link
// the SQS client.
type Queue interface {
	Send(ctx context.Context, group, id string, body []byte) error
}

// DeadLetters takes the deployer's messages that failed for good (the
// deploy queue's DLQ); *queue.FIFO implements it.
type DeadLetters interface {
	DeadLetter(ctx context.Context, group, id string, body []byte, reason string) error
}

var (
	_ ECS = (*ecs.Client)(nil)
	// A target's client does all the engines do with Deckhand's own.
	_ ECS    = targets.ECS(nil)
	_ ECR    = (*ecr.Client)(nil)
	_ Events = (*eventbridge.Client)(nil)
)

// Parts are what the engines are built from. Build them once per process.
type Parts struct {
	ECS ECS
	// ECR resolves images (nil: the deploy engine does not catch up).
	ECR ECR
	// Events receives Deckhand's events (nil: none are emitted).
	Events Events
	// Queue is the deploy queue the reconciler sends to (queue.New).
	Queue Queue
	// JobQueue is the job queue the tracker sends re-runs to (queue.New;
	// nil: re-runs run at once).
	JobQueue Queue
	// DLQ is the deploy queue's DLQ the deployer dead-letters to (nil: the
	// queue's redrive policy does, after maxReceiveCount receives).
	DLQ DeadLetters
	// Alarms is CloudWatch, where the deployer checks that a binding's
	// deployment alarms exist (nil: not checked). Only the deployer links
	// the CloudWatch client.
	Alarms alarms.API
	Source store.Source
	// Parts gives the deployer each FIFO message group's part of the
	// manifest (nil: it reads the whole; FromAWS sets it when the
	// configuration names a prefix).
	Parts func(group string) store.Source
	// Targets gives the engines the ECS clients of bindings with a
	// target: (DESIGN §12). nil: a targets.Provider over AWS, with the
	// configuration's external id, on the parts' clock (targets.go).
	Targets targets.Clients
	// Refs resolves templates' {{ ssm }} and {{ secret }} references
	// (refs.New; nil: templates with references fail to render). Only the
	// deployer and the runner build one, so only they link the SSM and
	// Secrets Manager clients.
	Refs taskdef.Resolver
	// Metrics receives the tracker's delivery metrics, one embedded metric
	// format line per verdict (functions/tracker: stdout; nil: none).
	Metrics io.Writer
	// AWS is the SDK configuration the clients were built from, if any.
	AWS aws.Config
	// Config gives the account, Region and event bus.
	Config config.Config
	// Logger receives the engines' decisions (default: discard).
	Logger *slog.Logger
	// Now and Sleep are the engines' clock (default: real time). A
	// simulation gives them a virtual clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Unpaced turns the engines' rate limiters off: for the sandbox, which
	// paces with its own throttle buckets on its virtual clock, and for one
	// person's manual work.
	Unpaced bool
}

// FromAWS returns the parts a function builds its engines from: SDK
// clients for ECS, ECR, EventBridge and S3 (the manifest's bucket, cached
// with ETag revalidation, the deployment's snapshot of it when cfg.Snapshot
// names one, and the message groups' manifest parts under cfg.PartsPrefix)
// over awsCfg.
func FromAWS(cfg config.Config, awsCfg aws.Config) *Parts {
	whole := store.NewS3(s3.NewFromConfig(awsCfg, config.S3Options(cfg.Endpoint)), cfg.Bucket, cfg.ManifestKey)
	if cfg.Snapshot != "" {
		whole.Snapshot = os.DirFS(cfg.Snapshot) // read on the first invocation, not here
	}
	p := &Parts{
		ECS:    ecs.NewFromConfig(awsCfg),
		ECR:    ecr.NewFromConfig(awsCfg),
		Events: eventbridge.NewFromConfig(awsCfg),
		Source: whole,
		AWS:    awsCfg,
		Config: cfg,
	}
	if cfg.PartsPrefix != "" {
		p.Parts = store.NewParts(whole, cfg.PartsPrefix).For
	}
	return p
}

func (p *Parts) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
