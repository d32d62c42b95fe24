// Package jobs runs Deckhand's scheduled jobs on ECS (DESIGN §3, §6, §7).
//
// The runner path ([Engine.Run]) resolves the job's images, renders its
// template with the same renderer as services, registers a task-definition
// revision only when the content changed, applies the overlap policy and
// starts the task with a client token derived from the job and its scheduled
// time, so a duplicate delivery never starts a second task.
//
// The tracker path ([Tracker.HandleTaskEvent]) turns "ECS Task State Change"
// events of Deckhand's job tasks into verdicts and re-runs jobs whose task
// failed to start for a transient reason. [Engine.StopOverdue] is the
// reconciler's half: it stops runs past their timeout.
//
// Every decision is emitted as a "Deckhand Job State Change" event.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
)

// ecsAPI is the part of the ECS client the jobs engine uses.
type ecsAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// ecrAPI is the part of the ECR client image resolution uses.
type ecrAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

// eventsAPI puts Deckhand's events on the bus.
type eventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var (
	_ ecsAPI    = (*ecs.Client)(nil)
	_ ecrAPI    = (*ecr.Client)(nil)
	_ eventsAPI = (*eventbridge.Client)(nil)
)

// Source gives the current manifest and templates: the S3 cache with ETag
// revalidation in the functions, a directory in the CLI (store.S3, store.Dir).
type Source = store.Source

// Engine runs jobs. Build it once per process; it is safe for concurrent use.
type Engine struct {
	ECS    ecsAPI
	ECR    ecrAPI
	Events eventsAPI
	Source Source

	// Account and Region fill .Account and .Region in templates and the ECR
	// registry host of resolved images.
	Account, Region string
	// EventBus is the bus Deckhand's events go to (default "default").
	EventBus string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives one line per decision (default slog.Default()).
	Log *slog.Logger
}

// NewEngine returns an Engine with the given clients and source.
func NewEngine(ecsClient *ecs.Client, ecrClient *ecr.Client, ev *eventbridge.Client, src Source) *Engine {
	return &Engine{ECS: ecsClient, ECR: ecrClient, Events: ev, Source: src}
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// Tag keys Deckhand writes on job task definitions and tasks (DESIGN §5).
// The revision keys are the deploy engine's, so both read alike.
const (
	TagJob            = "deckhand:job"
	TagContentHash    = deploy.TagContentHash
	TagTemplate       = deploy.TagTemplate
	TagDigestPrefix   = deploy.TagDigest
	TagPushedPrefix   = deploy.TagPushedAt
	TagImageTagPrefix = deploy.TagImageTag
	TagScheduledTime  = "deckhand:scheduled-time"
	TagAttempt        = "deckhand:attempt"
)

// StartedByPrefix starts the startedBy of every task Deckhand runs for a
// job: "deckhand/<job>".
const StartedByPrefix = "deckhand/"

// StartedBy is the startedBy of a job's tasks.
func StartedBy(job string) string { return StartedByPrefix + job }

// Group is the task group of a job's tasks.
func Group(job string) string { return "deckhand:" + job }
