package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// InvNoDeletedTarget is the retention invariant (issue 15 item 3).
const InvNoDeletedTarget = "17 no deployment or rollback ever targets a deleted revision (retention)"

// pruneEvery is how often, in virtual seconds of the event stream, the
// run applies retention: the reconciler's part that runs each pass.
const pruneEvery = 90

// prune applies the manifest's retention with the stack reconciler's
// pruner (the code each reconciler pass runs), under the run's faults: a
// failed read is retried on the next round, as the next pass would.
func (r *runner) prune(ctx context.Context) {
	p := r.st.Reconciler.Retention
	if p == nil || r.cfg.Keep < 0 {
		return
	}

	res, err := p.Run(ctx, r.st.Manifest)
	r.res.PruneRounds++
	r.res.Pruned += retention.Removals(res)
	if err != nil {
		r.res.PruneErrors++
	}
	for _, b := range res {
		for _, rm := range b.Removed {
			if rm.Error != "" {
				r.res.PruneErrors++
			}
		}
	}
}

// retireAllButServing is a broken retention (Config.BreakRetention): right
// after each deployment starts, it deregisters every other revision of the
// service's family, the one the service ran until then (which a rollback
// returns to) included.
func (w *inactiveWatch) retireAllButServing(ctx context.Context, in *ecs.UpdateServiceInput) {
	fam, _ := taskdef.SplitARN(aws.ToString(in.TaskDefinition))
	for _, td := range w.sb.ECS().TaskDefinitions(fam) {
		if td.Status == "ACTIVE" && td.ARN != aws.ToString(in.TaskDefinition) {
			_, _ = w.raw.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(td.ARN)})
		}
	}
}

// inactiveWatch records every UpdateService ECS refused because its
// revision was no longer ACTIVE: the engine targeting a revision retention
// deregistered.
type inactiveWatch struct {
	ECSAPI
	mu      sync.Mutex
	refused []string
	// breakRetention runs retireAllButServing after each update, through
	// raw on sb.
	breakRetention bool
	raw            *ecs.Client
	sb             *sandbox.Sandbox
}

func (w *inactiveWatch) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	out, err := w.ECSAPI.UpdateService(ctx, in, opts...)
	if awserr.TaskDefinitionInactive(err) {
		w.mu.Lock()
		w.refused = append(w.refused, fmt.Sprintf("UpdateService of %s to %s refused: %v", *in.Service, *in.TaskDefinition, err))
		w.mu.Unlock()
	}
	if err == nil && w.breakRetention {
		w.retireAllButServing(ctx, in)
	}
	return out, err
}

var rollbackTo = regexp.MustCompile(`rolling back to deploymentId (ecs-svc/\d+)`)

// noDeletedTarget is invariant 17: every deployment Deckhand started
// (UpdateService, the sandbox's update history) and every rollback ECS
// started (its deployment events, "rolling back to deploymentId X") ran
// a revision that was still ACTIVE then, and ECS refused no update for a
// revision no longer ACTIVE.
func (c *checker) noDeletedTarget() Row {
	row := Row{Name: InvNoDeletedTarget}
	ecsim := c.res.sb.ECS()
	retired := map[string]time.Time{} // revision → when it was deregistered
	first := map[string]string{}      // family → its first revision (the seed's)
	for _, td := range ecsim.RevisionHistory() {
		if !td.DeregisteredAt.IsZero() {
			retired[td.ARN] = td.DeregisteredAt
		}
		if _, ok := first[td.Family]; !ok {
			first[td.Family] = td.ARN
		}
	}
	check := func(what, arn string, at time.Time) {
		row.Checked++
		if when, ok := retired[arn]; ok && !when.After(at) {
			row.Violations = append(row.Violations, fmt.Sprintf("%s at %s targets %s, deregistered at %s",
				what, at.Format(time.TimeOnly), arn, when.Format(time.TimeOnly)))
		}
	}
	byDeployment := map[string]string{} // deployment id → revision
	for _, u := range ecsim.UpdateHistory() {
		byDeployment[u.DeploymentID] = u.TaskDefinition
		check("deployment "+u.DeploymentID+" of "+u.Service, u.TaskDefinition, u.Time)
	}
	for _, ev := range c.res.sb.Events() {
		if ev.Source != events.SourceECS || ev.DetailType != events.DetailTypeDeploymentStateChange {
			continue
		}
		var d events.ECSDeploymentStateChange
		if json.Unmarshal(ev.Detail, &d) != nil || d.EventName != events.DeploymentInProgress {
			continue
		}
		m := rollbackTo.FindStringSubmatch(d.Reason)
		if m == nil {
			continue
		}
		target, ok := byDeployment[m[1]]
		if !ok && len(ev.Resources) > 0 {
			// The deployment CreateService started: the seed's revision.
			target = first[ev.Resources[0][strings.LastIndex(ev.Resources[0], "/")+1:]]
		}
		byDeployment[d.DeploymentID] = target
		check("rollback "+d.DeploymentID, target, ev.Time)
	}
	row.Violations = append(row.Violations, c.res.refused...)
	return row
}
