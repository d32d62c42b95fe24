package wire

import (
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/reconcile"
	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/engine/track"
)

// bus is the emitter of Deckhand's events on the configured bus, on the
// parts' clock, or nil.
func (p *Parts) bus() *emit.Bus {
	if p.Events == nil {
		return nil
	}
	return &emit.Bus{Client: p.Events, BusName: p.Config.EventBus, Now: p.Now}
}

// Deployer builds the deploy engine (functions/deployer).
func Deployer(p *Parts) *deploy.Engine {
	e := &deploy.Engine{
		ECS: p.ECS, ECR: p.ECR, Source: p.Source, Parts: p.Parts, Targets: p.targets(), Account: p.Config.Account, Region: p.Config.Region,
		Logger: p.logger(), Sleep: p.Sleep, Now: p.Now,
	}
	if bus := p.bus(); bus != nil {
		e.Events = bus
	}
	if p.Alarms != nil {
		e.Alarms = p.Alarms
	}
	if p.ECS != nil {
		e.Gates = p.ECS
	}
	if p.ECR != nil {
		e.Scans = p.ECR
	}
	if p.Refs != nil {
		e.Refs = p.Refs
	}
	if p.Unpaced {
		e.RegisterLimit, e.UpdateLimit = revision.Unlimited(), revision.Unlimited()
	}
	return e
}

// DeployHandler builds the deployer's Lambda handler over the deploy
// engine (functions/deployer): messages that fail for good go to p.DLQ.
func DeployHandler(p *Parts) *deploy.Handler {
	h := &deploy.Handler{Engine: Deployer(p)}
	if p.DLQ != nil {
		h.DLQ = p.DLQ
	}
	return h
}

// Jobs builds the job engine (functions/runner; the tracker's and the
// reconciler's job halves). With p.JobQueue its re-runs go into the job
// queue.
func Jobs(p *Parts) *jobs.Engine {
	e := &jobs.Engine{
		ECS: p.ECS, ECR: p.ECR, Source: p.Source, Targets: p.targets(), Account: p.Config.Account, Region: p.Config.Region,
		Logger: p.logger(), Sleep: p.Sleep, Now: p.Now,
	}
	if bus := p.bus(); bus != nil {
		e.Events = bus
	}
	if p.JobQueue != nil {
		e.Queue = p.JobQueue
	}
	if p.Refs != nil {
		e.Refs = p.Refs
	}
	if p.Unpaced {
		e.RegisterLimit = revision.Unlimited()
	}
	return e
}

// Runner builds the runner's Lambda handler (functions/runner) over j.
func Runner(j *jobs.Engine) *jobs.Handler { return &jobs.Handler{Engine: j} }

// Tracker builds the tracker (functions/tracker): deployment verdicts, and
// job verdicts and retries through jobs.
func Tracker(p *Parts, j *jobs.Engine) *track.Handler {
	d := &track.Deployments{ECS: p.ECS, Logger: p.logger(), Pacer: revision.Pacer{Sleep: p.Sleep, Now: p.Now},
		Source: p.Source, Targets: p.targets(),
		// The job engine's account is read from the function's ARN on the
		// first invocation (Handler).
		Home: func() (string, string) { return j.Account, j.Region }, Metrics: p.Metrics}
	if bus := p.bus(); bus != nil {
		d.Events = bus
	}
	return &track.Handler{Deployments: d, Tasks: jobs.NewTracker(j)}
}

// Reconciler builds the reconciler (functions/reconciler): it sends to
// p.Queue and stops overdue runs through j (nil: it does not).
func Reconciler(p *Parts, j *jobs.Engine) *reconcile.Reconciler {
	r := &reconcile.Reconciler{ECS: p.ECS, ECR: p.ECR, Queue: p.Queue, Source: p.Source, Targets: p.targets(), Region: p.Config.Region, Logger: p.logger(), Now: p.Now,
		Account: p.Config.Account}
	if p.ECS != nil {
		r.Gates = p.ECS
	}
	if p.ECR != nil {
		r.Scans = p.ECR
	}
	if bus := p.bus(); bus != nil {
		r.Events = bus
	}
	if j != nil {
		r.Jobs = j
	}
	r.Retention = Retention(p)
	return r
}

// Retention builds the pruner of old revisions (DESIGN §13) the
// reconciler runs each pass and `deckhand prune` runs by hand, or nil when
// p.ECS cannot deregister and delete revisions (a read-only client).
func Retention(p *Parts) *retention.Pruner {
	api, ok := p.ECS.(retention.ECSAPI)
	if !ok {
		return nil
	}
	r := &retention.Pruner{ECS: api, Logger: p.logger(), Pacer: revision.Pacer{Sleep: p.Sleep, Now: p.Now}}
	if p.Unpaced {
		r.Limit = revision.Unlimited()
	}
	return r
}
