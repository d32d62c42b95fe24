package jobs

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Targets (DESIGN §12). A job with a target: runs in another account or
// Region: its tasks are listed, started and stopped there and its
// revisions registered there, with the job's session in the target
// (shared/aws/targets); its images, schedule, queue and events stay in the
// hub. Run, the tracker's task half and StopOverdue scope their context to
// the job's target before any ECS call, and every ECS call takes its
// client from that context (ecs).

// inTarget scopes ctx to a binding's target (targets.In): Deckhand's own
// account and Region when target is "".
func (e *Engine) inTarget(ctx context.Context, m *manifest.Manifest, target, binding string) (context.Context, error) {
	return targets.In(ctx, e.Targets, m, target, binding)
}

// ecs is the ECS client of ctx's binding: its target's, or Deckhand's own.
func (e *Engine) ecs(ctx context.Context) ecsAPI {
	if s := targets.From(ctx); s != nil {
		return s.ECS
	}
	return e.ECS
}

// where is the account and Region ctx's binding runs in: a template's
// .Account and .Region.
func (e *Engine) where(ctx context.Context) (account, region string) {
	if s := targets.From(ctx); s != nil {
		return s.Account, s.Region
	}
	return e.Account, e.Region
}

// registerLimit paces RegisterTaskDefinition in ctx's binding's account
// and Region (ECS's rate is per account and Region): a target's limiter
// has the rate and burst of the engine's own.
func (e *Engine) registerLimit(ctx context.Context) *rate.Limiter {
	s := targets.From(ctx)
	if s == nil {
		return e.RegisterLimit
	}
	key := s.Account + "/" + s.Region
	l, _ := e.limits.LoadOrStore(key, rate.NewLimiter(e.RegisterLimit.Limit(), e.RegisterLimit.Burst()))
	return l.(*rate.Limiter)
}

// home reports whether an ECS event comes from Deckhand's own account and
// Region (an engine that does not know them yet takes every event as its
// own).
func (e *Engine) home(ev events.TaskEvent) bool {
	return (e.Account == "" || ev.Account == "" || ev.Account == e.Account) && (e.Region == "" || ev.Region == "" || ev.Region == e.Region)
}

// inTarget scopes ctx to the target a task event came from (forwarded by
// the target's stack, with its account and Region in the envelope): the
// target of the event's job, when it runs there. An event from elsewhere
// is ignored, with why.
func (t *Tracker) inTarget(ctx context.Context, job string, ev events.TaskEvent) (context.Context, string, error) {
	e := t.Engine
	if e.home(ev) {
		return ctx, "", nil
	}
	m, err := e.Source.Manifest(ctx)
	if err != nil {
		return ctx, "", fmt.Errorf("load manifest: %w", err)
	}
	spec, ok := m.Job(job)
	if !ok || spec.Target == "" || m.Targets[spec.Target].Account != ev.Account || m.Targets[spec.Target].Region != ev.Region {
		return ctx, fmt.Sprintf("task of job %s in account %s, %s: the job does not run there", job, ev.Account, ev.Region), nil
	}
	ctx, err = e.inTarget(ctx, m, spec.Target, spec.Name)
	return ctx, "", err
}
