package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
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

// ECS's per-account, per-Region rates (DESIGN §5 rule 10).
const (
	RegisterRate  = 1  // RegisterTaskDefinition per second, sustained
	RegisterBurst = 20 //
	UpdateRate    = 5  // UpdateService per second, sustained
	UpdateBurst   = 50 //
)

// Engine deploys pushes. Build it once per process; it is safe for
// concurrent use.
type Engine struct {
	ECS    ecsAPI
	Source store.Source
	Events emitter
	// ECR, when set, lets the engine catch up to a newer eligible image
	// while it waits for register capacity in a burst (see catchup.go).
	ECR     ecrAPI
	Account string
	Region  string
	Logger  *slog.Logger

	// Concurrency bounds how many bindings deploy at once (default 4).
	Concurrency int
	// RegisterLimit and UpdateLimit pace the write calls (defaults: ECS's
	// rates), on the engine's clock: Now and Sleep.
	RegisterLimit *rate.Limiter
	UpdateLimit   *rate.Limiter
	// Attempts is how often a throttled or 5xx call is tried in all,
	// on top of the SDK's own retries (default 3).
	Attempts int
	// Sleep waits between attempts and for rate tokens (default: a
	// context-aware timer). A simulation may advance a virtual clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for durations (default time.Now).
	Now func() time.Time

	once sync.Once
	// manifest is the manifest of the last invocation; the next one reads
	// its bindings' state while revalidating it (see speculate).
	manifest atomic.Pointer[manifest.Manifest]
	// families remembers each binding's task-definition family from its last
	// render, so the family's latest revision is read in parallel next time.
	families sync.Map
	// registered remembers, per family, the last revision this engine
	// registered or reused, as DescribeTaskDefinition would show it (see
	// known.go).
	registered sync.Map
}

func (e *Engine) init() {
	e.once.Do(func() {
		if e.Concurrency <= 0 {
			e.Concurrency = 4
		}
		if e.RegisterLimit == nil {
			e.RegisterLimit = rate.NewLimiter(RegisterRate, RegisterBurst)
		}
		if e.UpdateLimit == nil {
			e.UpdateLimit = rate.NewLimiter(UpdateRate, UpdateBurst)
		}
		if e.Attempts <= 0 {
			e.Attempts = 3
		}
		if e.Sleep == nil {
			e.Sleep = SleepContext
		}
		if e.Now == nil {
			e.Now = time.Now
		}
		if e.Logger == nil {
			e.Logger = slog.New(slog.DiscardHandler)
		}
	})
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

// Failed reports whether the outcome should fail its SQS messages: a
// retryable error (retried in order) or a permanent one (which reaches the
// DLQ after maxReceiveCount instead of vanishing).
func (o Outcome) Failed() bool { return o.Err != nil }

// Deploy runs the rules for a batch of pushes and emits one event per
// outcome. It returns an error only when nothing could be decided (the
// manifest could not be loaded); every other failure is an outcome.
func (e *Engine) Deploy(ctx context.Context, pushes []Push) ([]Outcome, error) {
	e.init()
	var spec map[string]*reads
	prev := e.manifest.Load()
	if prev != nil {
		spec = e.speculate(ctx, prev, pushes)
	}
	m, err := e.Source.Manifest(ctx)
	if err != nil {
		waitAll(spec)
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	if m != prev {
		waitAll(spec) // read under an older manifest: not used
		spec = nil
	}
	e.manifest.Store(m)
	plans, outcomes := e.plan(m, pushes)
	results := make([]Outcome, len(plans))
	sem := make(chan struct{}, e.Concurrency)
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = e.deployBinding(ctx, m, p, spec[p.binding.Name])
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
	var details []events.DeploymentStateChange
	for _, o := range outcomes {
		if !o.Retry {
			details = append(details, o.Event)
		}
	}
	if err := e.retry(ctx, func() error { return e.Events.Put(ctx, emit.Deployments(details...)...) }); err != nil {
		return fmt.Errorf("emit deployment events: %w", err)
	}
	return nil
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

// plan is one binding's work after accept and coalesce.
type plan struct {
	binding *manifest.Service
	// pushes maps container name to the winning push for it.
	pushes map[string]Push
}

// plan applies rule 1 (accept) and rule 2 (coalesce): per binding and
// container only the newest push survives; the others are SUPERSEDED.
func (e *Engine) plan(m *manifest.Manifest, pushes []Push) ([]plan, []Outcome) {
	var outcomes []Outcome
	byBinding := map[string]*plan{}
	var order []string
	for _, p := range pushes {
		if err := e.trusted(m, p); err != nil {
			outcomes = append(outcomes, failed(Outcome{Pushes: []Push{p}, Event: pushEvent(p, "", "")}, err))
			continue
		}
		bindings := m.BindingsFor(p.Repository)
		if p.Binding != "" {
			bindings = filterBinding(bindings, p.Binding)
		}
		if len(bindings) == 0 {
			outcomes = append(outcomes, skipped(p, nil, fmt.Sprintf("repository %s is not bound to any service", p.Repository)))
			continue
		}
		for _, b := range bindings {
			matched := false
			for _, c := range slices.Sorted(maps.Keys(b.Images)) {
				img := b.Images[c]
				if img.Repository != p.Repository {
					continue
				}
				if !img.Policy().Match(p.Tag) {
					continue
				}
				matched = true
				pl := byBinding[b.Name]
				if pl == nil {
					pl = &plan{binding: b, pushes: map[string]Push{}}
					byBinding[b.Name] = pl
					order = append(order, b.Name)
				}
				prev, ok := pl.pushes[c]
				switch {
				case !ok:
					pl.pushes[c] = p
				case newer(p, prev, img):
					pl.pushes[c] = p
					outcomes = append(outcomes, supersededInBatch(prev, b, c, p))
				default:
					outcomes = append(outcomes, supersededInBatch(p, b, c, prev))
				}
			}
			if !matched {
				outcomes = append(outcomes, skipped(p, b, fmt.Sprintf("tag %s does not match the tag policy of binding %s", p.Tag, b.Name)))
			}
		}
	}
	plans := make([]plan, 0, len(order))
	for _, name := range order {
		plans = append(plans, *byBinding[name])
	}
	return plans, outcomes
}

func filterBinding(bs []*manifest.Service, name string) []*manifest.Service {
	for _, b := range bs {
		if b.Name == name {
			return []*manifest.Service{b}
		}
	}
	return nil
}

// SleepContext waits d or until ctx is done (the engine's default Sleep;
// the job runner and the CLI's clock wait with it too).
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
