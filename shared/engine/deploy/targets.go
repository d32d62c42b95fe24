package deploy

import (
	"context"

	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Targets (DESIGN §12). A binding with a target: runs in another account
// or Region: its reads and writes go to that target's ECS, signed with the
// binding's session there (shared/aws/targets), while the images, the
// manifest, the templates and the events stay in the hub. deployBinding
// scopes its context to the binding's target before any ECS call, and
// every ECS call takes its client from that context (ecs), so the rules
// (hold, dedupe, order, the rolled-back marks, reuse) read and write the
// target's service and revisions. What the engine remembers and how it
// paces is kept per account and Region (place), as ECS keeps its state
// and its rates.

// inTarget scopes ctx to b's target (targets.In): Deckhand's own account
// and Region when b has none.
func (e *Engine) inTarget(ctx context.Context, m *manifest.Manifest, b *manifest.Service) (context.Context, error) {
	return targets.In(ctx, e.Targets, m, b.Target, b.Name)
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

// place is what the engine keeps per account and Region: the revisions
// it registered (a family name means one family per account and Region)
// and ECS's write rates there.
type place struct {
	memory           *revision.Memory
	register, update *rate.Limiter
}

// placeOf returns ctx's binding's place. A target's limiters have the
// rate and burst of the engine's own (ECS's rates, or none in the
// sandbox).
func (e *Engine) placeOf(ctx context.Context) *place {
	s := targets.From(ctx)
	if s == nil {
		return &place{memory: &e.memory, register: e.RegisterLimit, update: e.UpdateLimit}
	}
	key := s.Account + "/" + s.Region
	if p, ok := e.places.Load(key); ok {
		return p.(*place)
	}
	p, _ := e.places.LoadOrStore(key, &place{
		memory:   &revision.Memory{},
		register: rate.NewLimiter(e.RegisterLimit.Limit(), e.RegisterLimit.Burst()),
		update:   rate.NewLimiter(e.UpdateLimit.Limit(), e.UpdateLimit.Burst()),
	})
	return p.(*place)
}
