package console

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Row is one binding on the fleet page: cli.ServiceStatus (what `deckhand
// status` shows) plus what the page adds from the same DescribeServices
// answer.
type Row struct {
	cli.ServiceStatus
	// Containers are the running images, by container name.
	Containers []Container
	// VerdictAt is when the PRIMARY deployment last changed (ECS's
	// updatedAt): when the last verdict was reached, or the rollout moved.
	VerdictAt time.Time
	// InFlight is the deployment in progress, if any.
	InFlight *InFlight
	// Gates are what stops or delays the binding's next deploy.
	Gates Gates
	// Missing is true when the service or its cluster does not exist
	// (ServiceStatus.Error says which).
	Missing bool
}

// Container is one container's running image.
type Container struct {
	Name, Tag, Digest string
	// TagFromECR is true when the revision records no tag and Tag is what
	// ECR says the digest is tagged now.
	TagFromECR bool
}

// InFlight is a deployment ECS is rolling out.
type InFlight struct {
	DeploymentID string
	Revision     string
	// Strategy is the service's deploymentConfiguration.strategy (ROLLING
	// when ECS does not say).
	Strategy string
	// RollingBack is true for the circuit breaker's rollback deployment.
	RollingBack bool
	Running     int32
	Desired     int32
	Pending     int32
	Failed      int32
	Started     time.Time
	// Progress is how far a blue/green, linear or canary deployment got
	// (traffic, step, bake left), from ECS's service-deployment record.
	Progress *cli.Progressive
}

// Gates are the states that stop or delay a binding's next deploy. Each is
// one field here, filled by the reader that knows it; the fleet's gate cell
// and state filter list them all (List), so a new gate (pending approval,
// blocked, freeze: issues 12 and 13) is one field and its reader.
type Gates struct {
	// Hold is the service's deckhand:hold tag.
	Hold *Gate
	// RolledBack are the service's deckhand:rolled-back marks: digests
	// the deployer will not deploy again on its own.
	RolledBack *Gate
	// Pending is a revision waiting for approval (DESIGN §11).
	Pending *Gate
	// Frozen is a freeze window in force.
	Frozen *Gate
	// Blocked are the images the scan gate blocked
	// (deckhand:blocked:<container>).
	Blocked *Gate
}

// Gate is one gate in force.
type Gate struct {
	// State is the fleet filter's name for it ("held", "pending-approval").
	State string
	// Label is the word on the page ("held").
	Label string
	// Reason says why (the hold's reason).
	Reason string
}

// List returns the gates in force, in field order.
func (g Gates) List() []Gate {
	var out []Gate
	v := reflect.ValueOf(g)
	for i := range v.NumField() {
		if p, ok := v.Field(i).Interface().(*Gate); ok && p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// Fleet states a row can be filtered by, besides its gates' states.
const (
	StateInFlight = "in-flight"
	StateFailing  = "failing" // the last verdict is FAILED or ROLLED_BACK
	StateMissing  = "missing"
	StateSteady   = "steady" // none of the others
)

// States are the filter states the row is in.
func (r Row) States() []string {
	var out []string
	if r.Missing {
		return []string{StateMissing}
	}
	if r.InFlight != nil {
		out = append(out, StateInFlight)
	}
	switch r.LastVerdict {
	case "FAILED", "ROLLED_BACK", "ROLLING_BACK":
		out = append(out, StateFailing)
	}
	for _, g := range r.Gates.List() {
		out = append(out, g.State)
	}
	if len(out) == 0 {
		out = append(out, StateSteady)
	}
	return out
}

// Matches reports whether the row matches a text query (every word in the
// binding, cluster, service, revision or a container's name, tag or digest)
// and a state ("" for any).
func (r Row) Matches(query, state string) bool {
	if state != "" && !slices.Contains(r.States(), state) {
		return false
	}
	hay := r.searchText()
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func (r Row) searchText() string {
	parts := []string{r.Binding, r.Cluster, r.Service, r.Cluster + "/" + r.Service, shortRevision(r.Revision)}
	for _, c := range r.Containers {
		parts = append(parts, c.Name, c.Tag, strings.TrimPrefix(c.Digest, "sha256:"))
	}
	for _, g := range r.Gates.List() {
		parts = append(parts, g.Label, g.Reason)
	}
	return strings.ToLower(strings.Join(parts, " "))
}

// rowOf builds a row from ECS's answers for the binding's service and its
// running revision.
func rowOf(b *manifest.Service, svc *types.Service, td *types.TaskDefinition, tdTags []types.Tag) Row {
	r := Row{ServiceStatus: cli.ServiceStatusOf(b, svc, td, tdTags)}
	for _, name := range slices.Sorted(maps.Keys(r.Images)) {
		img := r.Images[name]
		r.Containers = append(r.Containers, Container{Name: name, Tag: img.Tag, Digest: img.Digest})
	}
	if r.Held {
		r.Gates.Hold = &Gate{State: "held", Label: "held", Reason: r.HoldReason}
	}
	var marks []string
	for k, v := range revision.TagsOf(svc.Tags) {
		if c, ok := strings.CutPrefix(k, revision.TagRolledBack); ok {
			for _, d := range strings.Fields(v) {
				marks = append(marks, c+" "+shortDigest(d))
			}
		}
	}
	if len(marks) > 0 {
		slices.Sort(marks)
		r.Gates.RolledBack = &Gate{State: "rolled-back", Label: "rolled back", Reason: strings.Join(marks, ", ")}
	}
	r.InFlight, r.VerdictAt = inFlightOf(svc)
	return r
}

// inFlightOf returns the service's PRIMARY deployment if it is rolling
// out, and when the PRIMARY deployment last changed.
func inFlightOf(svc *types.Service) (*InFlight, time.Time) {
	strategy := "ROLLING"
	if c := svc.DeploymentConfiguration; c != nil && c.Strategy != "" {
		strategy = string(c.Strategy)
	}
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) != "PRIMARY" {
			continue
		}
		at := aws.ToTime(d.UpdatedAt)
		if d.RolloutState != types.DeploymentRolloutStateInProgress {
			return nil, at
		}
		return &InFlight{DeploymentID: aws.ToString(d.Id), Revision: aws.ToString(d.TaskDefinition), Strategy: strategy,
			RollingBack: strings.Contains(strings.ToLower(aws.ToString(d.RolloutStateReason)), "rolling back"),
			Running:     d.RunningCount, Desired: d.DesiredCount, Pending: d.PendingCount, Failed: d.FailedTasks,
			Started: aws.ToTime(d.CreatedAt)}, at
	}
	return nil, time.Time{}
}

// missingRow is a binding whose service or cluster does not exist.
func missingRow(b *manifest.Service, why string) Row {
	return Row{ServiceStatus: cli.ServiceStatus{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Error: why}, Missing: true}
}

// shortRevision is family:revision from a task-definition ARN.
func shortRevision(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// lastVerdicts replaces the rows' last verdict with Deckhand's own when the
// event history has one for the binding's newest deployment: after a
// circuit-breaker rollback completes, ECS's PRIMARY deployment is the
// completed rollback, but the deployment Deckhand started was ROLLED_BACK.
func lastVerdicts(rows []Row, evs []DeploymentEvent) {
	newest := map[string]DeploymentEvent{}
	for _, ev := range evs {
		switch ev.Status {
		case events.StatusStarted, events.StatusSucceeded, events.StatusFailed, events.StatusRolledBack:
			if ev.Trigger != events.TriggerRollback && !ev.Time.Before(newest[ev.Binding].Time) {
				newest[ev.Binding] = ev
			}
		}
	}
	for i := range rows {
		ev, ok := newest[rows[i].Binding]
		if !ok || ev.Status == events.StatusStarted || rows[i].InFlight != nil {
			continue
		}
		rows[i].LastVerdict, rows[i].VerdictAt = string(ev.Status), ev.Time
	}
}
