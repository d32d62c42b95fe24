package local

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Pump delivers every queued event through the deployer and tracker.
func (st *Stack) Pump(ctx context.Context) (sandbox.PumpStats, error) {
	return st.Router.Pump(ctx)
}

// Settle moves the virtual clock forward in steps, pumping after each, so
// rollouts progress and their verdicts are delivered.
func (st *Stack) Settle(ctx context.Context, total, step time.Duration) error {
	if _, err := st.Pump(ctx); err != nil {
		return err
	}
	for elapsed := time.Duration(0); elapsed < total; elapsed += step {
		st.SB.Clock().Advance(step)
		if _, err := st.Pump(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Deployment is an emitted "Deckhand Deployment State Change".
type Deployment struct {
	Time time.Time
	events.DeploymentStateChange
}

// Deployments returns Deckhand's deployment events so far, in order.
func (st *Stack) Deployments() []Deployment {
	var out []Deployment
	for _, ev := range st.SB.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandDeployment {
			continue
		}
		var d events.DeploymentStateChange
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			continue
		}
		out = append(out, Deployment{Time: ev.Time, DeploymentStateChange: d})
	}
	return out
}

// Running returns the images of the revision a binding's service runs now,
// in its target's account and Region or the sandbox's own.
func (st *Stack) Running(binding string) (revision string, images map[string]string, err error) {
	b, ok := st.Manifest.Service(binding)
	if !ok {
		return "", nil, fmt.Errorf("binding %q not in the manifest", binding)
	}
	where := st.SB.ECS()
	if t, ok := st.Manifest.Targets[b.Target]; ok {
		where = st.SB.ECSIn(t.Account, t.Region)
	}
	svc, ok := where.Service(b.Cluster, b.Service)
	if !ok {
		return "", nil, fmt.Errorf("service %s/%s not found", b.Cluster, b.Service)
	}
	family, _ := taskdef.SplitARN(svc.TaskDefinition)
	for _, td := range where.TaskDefinitions(family) {
		if td.ARN == svc.TaskDefinition {
			return td.ARN, td.Images, nil
		}
	}
	return svc.TaskDefinition, nil, fmt.Errorf("revision %s not found", svc.TaskDefinition)
}
