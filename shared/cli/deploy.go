package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// DeployRequest is a manual deploy of images to one binding.
type DeployRequest struct {
	Binding string
	// Images are resolved images (ResolveImage); each feeds the binding's
	// containers of its repository.
	Images []Resolved
	// Force lets the deploy go to an older image and past a hold.
	Force bool
	// EventID labels the deployment (the deckhand:event-id tag); default
	// "manual-<unix nanoseconds>".
	EventID string
}

// Deploy runs a manual deploy through the deploy engine, with trigger
// manual, restricted to the binding. It returns the engine's outcome for the
// binding; a FAILED outcome is returned with its error.
func (e *Env) Deploy(ctx context.Context, req DeployRequest) (deploy.Outcome, error) {
	return e.deploy(ctx, e.engine(e.ECS, true), req)
}

// engine builds a deploy engine on api, one binding at a time. The engine
// and its events run on the Env's clock, so against the sandbox they carry
// its virtual time, as the pushes and rollouts do.
func (e *Env) engine(api ECSAPI, emitEvents bool) *deploy.Engine {
	p := e.parts(api)
	if !emitEvents {
		p.Events = nil
	}
	eng := wire.Deployer(p)
	eng.Concurrency = 1
	return eng
}

// bus emits Deckhand's events on the Env's clock.
func (e *Env) bus() *emit.Bus {
	return &emit.Bus{Client: e.Events, BusName: e.EventBus, Now: e.now}
}

// parts are the engines' parts (shared/wire) on api and the Env's other
// clients, on the Env's clock. Manual work is paced by ECS's own rates only.
func (e *Env) parts(api ECSAPI) *wire.Parts {
	p := &wire.Parts{ECS: api, Source: e.Source, Logger: e.Logger, Unpaced: true, Now: e.now,
		Config: config.Config{Account: e.Account, Region: e.Region, EventBus: e.EventBus}}
	if e.ECR != nil {
		p.ECR = e.ECR
	}
	if e.Events != nil {
		p.Events = e.Events
	}
	if e.Refs != nil {
		p.Refs = e.Refs
	}
	return p
}

func (e *Env) deploy(ctx context.Context, eng *deploy.Engine, req DeployRequest) (deploy.Outcome, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return deploy.Outcome{}, err
	}
	b, err := Binding(m, req.Binding)
	if err != nil {
		return deploy.Outcome{}, err
	}
	if src := b.PromoteFrom(); src != "" {
		return deploy.Outcome{}, usagef("deploy %s: %s promotes from %s (promoteFrom): it deploys only the digests %s reached SUCCEEDED with, after its soak, when the reconciler sends them; deploy to %s instead",
			b.Name, b.Name, src, src, src)
	}
	if len(req.Images) == 0 {
		return deploy.Outcome{}, usagef("deploy %s: give at least one --image, e.g. --image %s", b.Name, exampleImage(b.Images))
	}
	assigned, err := assignImages(b.Name, b.Images, req.Images, true)
	if err != nil {
		return deploy.Outcome{}, err
	}
	id := req.EventID
	if id == "" {
		id = "manual-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	}
	seen := map[string]bool{}
	var pushes []deploy.Push
	for _, c := range sortedKeys(assigned) {
		r := assigned[c]
		if seen[r.Repository] {
			continue
		}
		seen[r.Repository] = true
		pushes = append(pushes, deploy.Push{
			EventID: id, Account: e.Account, Region: e.Region, Repository: r.Repository, Tag: r.Tag,
			Digest: r.Digest, PushedAt: r.PushedAt, Trigger: events.TriggerManual, Force: req.Force, Binding: b.Name,
		})
	}
	outcomes, err := eng.Deploy(ctx, pushes)
	if err != nil {
		return deploy.Outcome{}, fmt.Errorf("deploy %s: %w", b.Name, err)
	}
	out, ok := pick(outcomes, b.Name)
	if !ok {
		return deploy.Outcome{}, fmt.Errorf("deploy %s: the engine made no decision for the binding", b.Name)
	}
	if nf := missing(b, out.Err); nf != nil {
		return out, nf
	}
	if out.Err != nil {
		return out, fmt.Errorf("deploy %s: %w", b.Name, out.Err)
	}
	return out, nil
}

// missing turns the engine's "no such service or cluster" into a
// NotFoundError naming the binding, or returns nil.
func missing(b *manifest.Service, err error) error {
	if err == nil {
		return nil
	}
	switch revision.Reason(err) {
	case "ClusterNotFound":
		return &NotFoundError{Kind: "cluster", Name: b.Cluster,
			Hint: fmt.Sprintf("binding %s names it; check the manifest's cluster: and --region", b.Name)}
	case "ServiceNotFound", "ServiceNotActive":
		return &NotFoundError{Kind: "service", Name: b.Cluster + "/" + b.Service,
			Hint: fmt.Sprintf("binding %s names it; create the service first (Deckhand deploys to existing services), or check --region", b.Name)}
	}
	return nil
}

// pick returns the binding's main outcome: a FAILED or deploying one first,
// then any other for the binding.
func pick(outcomes []deploy.Outcome, binding string) (deploy.Outcome, bool) {
	rank := func(s events.DeploymentStatus) int {
		switch s {
		case events.StatusFailed:
			return 0
		case events.StatusStarted:
			return 1
		case events.StatusHeld, events.StatusAlreadyDeployed:
			return 2
		}
		return 3
	}
	best, found := deploy.Outcome{}, false
	for _, o := range outcomes {
		if o.Event.Binding != binding && o.Event.Binding != "" {
			continue
		}
		if !found || rank(o.Event.Status) < rank(best.Event.Status) {
			best, found = o, true
		}
	}
	return best, found
}

func exampleImage(images map[string]manifest.Image) string {
	for _, c := range sortedKeys(images) {
		if repo := images[c].Repository; repo != "" {
			return repo + ":<tag>"
		}
	}
	return "REPO:TAG"
}
