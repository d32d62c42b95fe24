package track

import (
	"context"
	"fmt"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Targets (DESIGN §12). The target stacks forward their accounts' ECS
// deployment state changes to the hub's bus, where they reach the tracker
// with the target's account and Region in the envelope. Such an event is
// judged against that target's ECS, with the session of the binding whose
// service it names, exactly as an event of Deckhand's own account is
// judged against its own: confirmed with ECS before any verdict, the
// rolled-back marks written on the target's service.

// home reports whether an event comes from Deckhand's own account and
// Region (a tracker that does not know them takes every event as its own).
func (d *Deployments) home(ev events.DeploymentEvent) bool {
	var account, region string
	if d.Home != nil {
		account, region = d.Home()
	}
	return (account == "" || ev.Account == "" || ev.Account == account) && (region == "" || ev.Region == "" || ev.Region == region)
}

// inTarget scopes ctx to the target an event came from: the target of the
// binding of the event's service there. An event of a service no binding
// runs in that account and Region is ignored, with why.
func (d *Deployments) inTarget(ctx context.Context, ev events.DeploymentEvent, cluster, service string) (context.Context, string, error) {
	if d.home(ev) {
		return ctx, "", nil
	}
	if d.Source == nil {
		return ctx, fmt.Sprintf("deployment in account %s, %s: this tracker has no manifest to find its target in", ev.Account, ev.Region), nil
	}
	m, err := d.Source.Manifest(ctx)
	if err != nil {
		return ctx, "", fmt.Errorf("load manifest: %w", err)
	}
	b := bindingAt(m, ev.Account, ev.Region, cluster, service)
	if b == nil {
		return ctx, fmt.Sprintf("service %s/%s in account %s, %s is no binding's: no target of the manifest runs it", cluster, service, ev.Account, ev.Region), nil
	}
	ctx, err = targets.In(ctx, d.Targets, m, b.Target, b.Name)
	return ctx, "", err
}

// bindingAt returns the binding of ECS service cluster/service in a
// target's account and Region, or nil. It walks the bindings (a few
// microseconds for 5,000): the tracker judges one event at a time.
func bindingAt(m *manifest.Manifest, account, region, cluster, service string) *manifest.Service {
	for i := range m.Services {
		b := &m.Services[i]
		if b.Target == "" || b.Cluster != cluster || b.Service != service {
			continue
		}
		if t := m.Targets[b.Target]; t.Account == account && t.Region == region {
			return b
		}
	}
	return nil
}

// ecs is the ECS client of ctx's binding: its target's, or Deckhand's own.
func (d *Deployments) ecs(ctx context.Context) ecsAPI {
	if s := targets.From(ctx); s != nil {
		return s.ECS
	}
	return d.ECS
}
