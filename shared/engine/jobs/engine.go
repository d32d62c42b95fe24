// Package jobs runs Deckhand's scheduled jobs on ECS (DESIGN §3, §6, §7).
//
// The runner path ([Handler], [Engine.Run]) takes a job's invocations one
// at a time from the job FIFO queue (message group = the job), applies the
// duplicate and overlap rules (rules.go) to the job's listed tasks, resolves
// the job's images, renders its template with the same renderer as
// services, registers a task-definition revision only when the content
// changed and starts the task with a client token derived from the job and
// its scheduled time, so a duplicate delivery never starts a second task.
// It then waits until ECS lists the new task, so the next invocation of the
// job sees it.
//
// The tracker path ([Tracker.HandleTaskEvent]) turns "ECS Task State Change"
// events of Deckhand's job tasks into verdicts and re-runs jobs whose task
// failed to start for a transient reason, through the job queue.
// [Engine.StopOverdue] is the reconciler's half: it stops runs past their
// timeout.
//
// Every decision is emitted as a "Deckhand Job State Change" event.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ecsAPI is the part of the ECS client the jobs engine uses.
type ecsAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
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

// emitter puts Deckhand events; *emit.Bus implements it.
type emitter interface {
	Put(ctx context.Context, evs ...emit.Event) error
}

var (
	_ ecsAPI  = (*ecs.Client)(nil)
	_ ecrAPI  = (*ecr.Client)(nil)
	_ emitter = (*emit.Bus)(nil)
)

// Source gives the current manifest and templates: the S3 cache with ETag
// revalidation in the functions, a directory in the CLI (store.S3, store.Dir).
type Source = store.Source

// Engine runs jobs. Build it once per process (shared/wire builds it for
// every caller); it is safe for concurrent use.
type Engine struct {
	ECS ecsAPI
	ECR ecrAPI
	// Events receives a "Deckhand Job State Change" per decision (nil: none).
	Events emitter
	// Queue is the job FIFO queue the tracker sends re-runs into
	// (DECKHAND_JOB_QUEUE_URL; nil: re-runs run at once).
	Queue  sender
	Source Source
	// Targets gives the ECS clients of jobs with a target: (DESIGN §12,
	// targets.go; nil: such a job fails with NoTargetClients).
	Targets targets.Clients

	// Account and Region fill .Account and .Region in templates and the ECR
	// registry host of resolved images.
	Account, Region string
	// RegisterLimit paces RegisterTaskDefinition (default: ECS's rate,
	// revision.Limits), on the engine's clock: Now and Sleep.
	RegisterLimit *rate.Limiter
	// Sleep waits between register attempts and for rate tokens (default
	// revision.SleepContext).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per decision (default: discard).
	Logger *slog.Logger
	// Refs resolves the template's {{ ssm }} and {{ secret }} references
	// before it is rendered (shared/aws/refs; nil: a template with one
	// fails to render, saying it was not resolved).
	Refs taskdef.Resolver

	once sync.Once
	// limits holds the register limiters of targets' accounts and Regions
	// (registerLimit).
	limits sync.Map
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// registrar registers or reuses the job's revisions (DESIGN §5 rule 7) with
// the same pacing and retries as the deploy engine, in ctx's job's account
// and Region (targets.go).
func (e *Engine) registrar(ctx context.Context) revision.Registrar {
	e.once.Do(func() {
		if e.RegisterLimit == nil {
			e.RegisterLimit, _ = revision.Limits()
		}
	})
	return revision.Registrar{ECS: e.ecs(ctx), Pacer: revision.Pacer{Sleep: e.Sleep, Now: e.Now}, Limit: e.registerLimit(ctx)}
}

// StartedByPrefix starts the startedBy of every task Deckhand runs for a
// job: "deckhand/<job>".
const StartedByPrefix = "deckhand/"

// StartedBy is the startedBy of a job's tasks.
func StartedBy(job string) string { return StartedByPrefix + job }

// Group is the task group of a job's tasks: "deckhand:<job>".
func Group(job string) string { return revision.Prefix + job }
