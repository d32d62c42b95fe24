package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/alarms"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ecsAPI is the part of the ECS client the engine uses.
type ecsAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

var _ ecsAPI = (*ecs.Client)(nil)

// emitter puts Deckhand events; *emit.Bus implements it.
type emitter interface {
	Put(ctx context.Context, evs ...emit.Event) error
}

// Engine deploys pushes. Build it once per process; it is safe for
// concurrent use.
type Engine struct {
	ECS    ecsAPI
	Source store.Source
	Events emitter
	// Parts, when set, gives the source of one FIFO message group's part
	// of the manifest (store.Parts): a batch of one group is decided from
	// its part, with the whole manifest's templates (parts.go).
	Parts func(group string) store.Source
	// ECR, when set, lets the engine catch up to a newer eligible image
	// while it waits for register capacity in a burst (see catchup.go).
	ECR ecrAPI
	// Alarms, when set, is CloudWatch: a deploy whose deployment alarms do
	// not exist is refused before any write (strategy.go).
	Alarms alarms.API
	// Gates reads and writes what gated bindings need (DESIGN §11):
	// promotion sources, gated revisions and their approval tags, the
	// scan gate's service marks; Scans reads image scans. shared/wire sets
	// both; a gated binding deployed without them fails for good.
	Gates gateECS
	Scans gate.ScanAPI
	// Targets gives the ECS clients of bindings with a target: (DESIGN
	// §12, targets.go; nil: such a binding fails with NoTargetClients).
	Targets targets.Clients
	Account string
	Region  string
	Logger  *slog.Logger
	// Refs resolves the template's {{ ssm }} and {{ secret }} references
	// before it is rendered (shared/aws/refs; nil: a template with one
	// fails to render, saying it was not resolved).
	Refs taskdef.Resolver

	// Concurrency bounds how many bindings deploy at once (default 4).
	Concurrency int
	// RegisterLimit and UpdateLimit pace the write calls (defaults: ECS's
	// rates, revision.Limits), on the engine's clock: Now and Sleep.
	RegisterLimit *rate.Limiter
	UpdateLimit   *rate.Limiter
	// Attempts is how often a throttled or 5xx call is tried in all,
	// on top of the SDK's own retries (default 3).
	Attempts int
	// Sleep waits between attempts and for rate tokens (default
	// revision.SleepContext). A simulation may advance a virtual clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for durations (default time.Now).
	Now func() time.Time

	once sync.Once
	// manifest is the manifest of the last invocation; the next one reads
	// its bindings' state while revalidating it (see speculate).
	manifest atomic.Pointer[manifest.Manifest]
	// parts holds the last manifest read of each message group's part.
	parts sync.Map
	// families remembers each binding's task-definition family from its last
	// render, so the family's latest revision is read in parallel next time.
	families sync.Map
	// memory remembers, per family, the last revision this engine
	// registered (revision.Memory) in Deckhand's own account and Region;
	// places holds the same, and the rate limiters, of each target's
	// (placeOf).
	memory revision.Memory
	places sync.Map
	// reported are the permanent failures this process emitted, by push
	// and binding (reportOnce).
	reportedMu sync.Mutex
	reported   map[string]bool
}

func (e *Engine) init() {
	e.once.Do(func() {
		if e.Concurrency <= 0 {
			e.Concurrency = 4
		}
		register, update := revision.Limits()
		if e.RegisterLimit == nil {
			e.RegisterLimit = register
		}
		if e.UpdateLimit == nil {
			e.UpdateLimit = update
		}
		if e.Attempts <= 0 {
			e.Attempts = 3
		}
		if e.Sleep == nil {
			e.Sleep = revision.SleepContext
		}
		if e.Now == nil {
			e.Now = time.Now
		}
		if e.Logger == nil {
			e.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// pacer paces and retries the engine's calls on its clock (rules 9, 10).
func (e *Engine) pacer() revision.Pacer {
	return revision.Pacer{Attempts: e.Attempts, Sleep: e.Sleep, Now: e.Now}
}

// registrar finds or registers revisions (rule 7) with the engine's
// pacing and memory, in ctx's binding's account and Region (targets.go).
func (e *Engine) registrar(ctx context.Context) revision.Registrar {
	p := e.placeOf(ctx)
	return revision.Registrar{ECS: e.ecs(ctx), Pacer: e.pacer(), Limit: p.register, Memory: p.memory}
}

// Outcome is the engine's decision for one binding (or for a push that
// reached no binding).
type Outcome struct {
	Event events.DeploymentStateChange
	// Pushes are the inputs this outcome accounts for.
	Pushes []Push
	// Err is set for FAILED outcomes; Retry says whether retrying may help.
	Err   error
	Retry bool
}

// Failed reports whether the outcome failed its SQS messages: a retryable
// error (retried in order) or a permanent one (dead-lettered by the handler
// at once, or failed so the queue's redrive dead-letters it).
func (o Outcome) Failed() bool { return o.Err != nil }

// Deploy runs the rules for a batch of pushes and emits one event per
// outcome. It returns an error only when nothing could be decided (the
// manifest could not be loaded); every other failure is an outcome.
func (e *Engine) Deploy(ctx context.Context, pushes []Push) ([]Outcome, error) {
	e.init()
	// One invocation reads each object once (issue 17): bindings that share
	// a template, and reads started ahead under the previous manifest, share
	// one GET and one answer.
	group, whole := e.sourceOf(pushes)
	src := store.Once(whole)
	times := e.newPushTimes()
	pushes, unordered := e.resolveTies(ctx, times, pushes)
	var m *manifest.Manifest
	var err error
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		m, err = src.Manifest(ctx)
	}()
	var spec map[string]*reads
	prev := e.expectedManifest(group, whole)
	if prev != nil {
		spec = e.speculate(ctx, src, prev, pushes, times)
	}
	<-fetched
	if err == nil && group != "" && unbound(m, pushes) {
		// A part that does not bind a push (a message sent before the last
		// upload regrouped its repository): the whole manifest decides.
		src = store.Once(e.Source)
		m, err = src.Manifest(ctx)
	}
	if err != nil {
		waitAll(spec)
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	if m != prev {
		waitAll(spec) // read under an older manifest: not used
		spec = nil
	}
	e.remember(group, m)
	plans, outcomes := e.plan(m, pushes, times)
	outcomes = append(unordered, outcomes...)
	results := make([]Outcome, len(plans))
	sem := make(chan struct{}, e.Concurrency)
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = e.deployBinding(ctx, src, m, p, spec[p.binding.Name])
		}()
	}
	wg.Wait()
	outcomes = append(outcomes, results...)
	for _, o := range outcomes {
		e.log(ctx, o)
	}
	return outcomes, e.emit(ctx, outcomes)
}

func waitAll(rs map[string]*reads) {
	for _, r := range rs {
		r.wait()
	}
}

// Record logs and emits outcomes decided outside Deploy (events that could
// not be decoded or that Deckhand does not deploy).
func (e *Engine) Record(ctx context.Context, outcomes []Outcome) error {
	e.init()
	for _, o := range outcomes {
		e.log(ctx, o)
	}
	return e.emit(ctx, outcomes)
}

// emit puts one event per outcome.
func (e *Engine) emit(ctx context.Context, outcomes []Outcome) error {
	if e.Events == nil || len(outcomes) == 0 {
		return nil
	}
	// A retryable failure is not an outcome yet: its message is retried and
	// ends as another outcome or in the DLQ, so it is logged, not emitted.
	// A permanent one is emitted once per push (reportOnce).
	var details []events.DeploymentStateChange
	var keys []string
	for _, o := range outcomes {
		if o.Retry {
			continue
		}
		if o.Err != nil {
			k, first := e.firstReport(o)
			if !first {
				continue
			}
			keys = append(keys, k)
		}
		details = append(details, o.Event)
	}
	if len(details) == 0 {
		return nil
	}
	if err := e.pacer().Retry(ctx, func() error { return e.Events.Put(ctx, emit.Deployments(details...)...) }); err != nil {
		return fmt.Errorf("emit deployment events: %w", err)
	}
	e.reportedMu.Lock()
	defer e.reportedMu.Unlock()
	if e.reported == nil || len(e.reported) >= maxReported {
		e.reported = map[string]bool{}
	}
	for _, k := range keys {
		e.reported[k] = true
	}
	return nil
}

// maxReported bounds the memory of reported failures.
const maxReported = 4096

// firstReport is "one bad push, one alert" (issue 10 item 7) for an
// outcome that failed for good: its FAILED event is emitted on the first
// receive of its message only (the queue's ApproximateReceiveCount; a later
// receive follows a DLQ send that failed, or a retryable failure, and is
// logged), and once per process for a push without a receive count (a
// direct invocation Lambda retries, or the same event delivered again).
// It returns the outcome's key, by event id, for the memory of reported
// failures.
func (e *Engine) firstReport(o Outcome) (string, bool) {
	var key strings.Builder
	for _, p := range o.Pushes {
		if p.Receive > 1 {
			return "", false
		}
		id := p.EventID
		if id == "" {
			id = "message " + p.MessageID // a body that did not decode
		}
		key.WriteString(id + ";")
	}
	key.WriteString(o.Event.Binding)
	e.reportedMu.Lock()
	defer e.reportedMu.Unlock()
	return key.String(), !e.reported[key.String()]
}

func (e *Engine) log(ctx context.Context, o Outcome) {
	ev := o.Event
	attrs := []any{"binding", ev.Binding, "cluster", ev.Cluster, "service", ev.Service,
		"outcome", string(ev.Status), "trigger", string(ev.Trigger), "event_id", ev.EventID}
	for c, ch := range ev.Containers {
		attrs = append(attrs, "container", c, "digest", ch.NewDigest)
	}
	if ev.NewRevision != "" {
		attrs = append(attrs, "revision", ev.NewRevision, "deployment_id", ev.DeploymentID)
	}
	if ev.Reason != "" {
		attrs = append(attrs, "reason", ev.Reason)
	}
	level := slog.LevelInfo
	if o.Err != nil {
		level = slog.LevelError
	}
	e.Logger.Log(ctx, level, "deploy decision", attrs...)
}
