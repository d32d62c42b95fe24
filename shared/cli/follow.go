package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
)

// Rollout names the deployment to follow.
type Rollout struct {
	Cluster, Service string
	// DeploymentID is the ECS deployment started for TaskDefinition. When
	// empty, the PRIMARY deployment of TaskDefinition is followed.
	DeploymentID   string
	TaskDefinition string
}

// Progress is one observation of a rollout. In JSON, Elapsed is
// "elapsedMs", in milliseconds.
type Progress struct {
	Elapsed      time.Duration `json:"-"`
	DeploymentID string        `json:"deploymentId"`
	RolloutState string        `json:"rolloutState"`
	Running      int32         `json:"running"`
	Desired      int32         `json:"desired"`
	Pending      int32         `json:"pending"`
	Failed       int32         `json:"failed"`
	// Events are the service events new since the last observation,
	// oldest first.
	Events []string `json:"events,omitempty"`
	// Deployment is how far a blue/green, linear or canary deployment (or
	// one watched by alarms) got, from ECS's service-deployment record.
	Deployment *Progressive `json:"deployment,omitempty"`
}

// Verdict is how a rollout ended (DESIGN §5): SUCCEEDED when the
// deployment's rolloutState is COMPLETED; ROLLED_BACK when the circuit
// breaker rolled it back to another revision; FAILED otherwise. A rollback
// is never a success. In JSON, Duration is "durationMs", in milliseconds.
type Verdict struct {
	Status         events.DeploymentStatus `json:"status"`
	Reason         string                  `json:"reason,omitempty"`
	DeploymentID   string                  `json:"deploymentId,omitempty"`
	TaskDefinition string                  `json:"taskDefinition,omitempty"`
	// RolledBackTo is the revision the service went back to.
	RolledBackTo string `json:"rolledBackTo,omitempty"`
	// Cause names what rolled it back or failed it (events.Cause*), as
	// ECS's service-deployment record says; empty when ECS keeps none.
	Cause    string        `json:"cause,omitempty"`
	Duration time.Duration `json:"-"`
}

// MarshalJSON writes Duration as durationMs, in milliseconds.
func (v Verdict) MarshalJSON() ([]byte, error) {
	type plain Verdict
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"durationMs"`
	}{plain(v), v.Duration.Milliseconds()})
}

// MarshalJSON writes Elapsed as elapsedMs, in milliseconds.
func (p Progress) MarshalJSON() ([]byte, error) {
	type plain Progress
	return json.Marshal(struct {
		ElapsedMS int64 `json:"elapsedMs"`
		plain
	}{p.Elapsed.Milliseconds(), plain(p)})
}

// Succeeded reports whether the verdict is SUCCEEDED.
func (v Verdict) Succeeded() bool { return v.Status == events.StatusSucceeded }

// ErrTimeout is returned by Follow when no verdict came in time.
var ErrTimeout = fmt.Errorf("no verdict in time")

// Follow polls the service until the rollout has a verdict, calling report
// after each poll. Between polls it lets Env.Poll pass on Env.Clock (real
// time, or the sandbox's virtual clock). It does not rely on the
// services-stable waiter, which reports success after a rollback.
func (e *Env) Follow(ctx context.Context, r Rollout, timeout time.Duration, report func(Progress)) (Verdict, error) {
	clock := e.clock()
	start, err := clock.Now(ctx)
	if err != nil {
		return Verdict{}, err
	}
	seen := map[string]bool{}
	first := true
	for {
		now, err := clock.Now(ctx)
		if err != nil {
			return Verdict{}, err
		}
		svc, err := e.describeService(ctx, r.Cluster, r.Service)
		if err != nil {
			return Verdict{}, err
		}
		p, v, done := judge(svc, &r)
		p.Elapsed = now.Sub(start)
		if watched(svc) || done && v.Status != events.StatusSucceeded {
			if p.Deployment, err = e.DeploymentProgress(ctx, svc, r.DeploymentID, now); err != nil {
				return Verdict{}, err
			}
			if done && p.Deployment != nil && v.Status != events.StatusSucceeded {
				v.Cause = p.Deployment.Cause
			}
		}
		for i := len(svc.Events) - 1; i >= 0; i-- {
			ev := svc.Events[i]
			id := aws.ToString(ev.Id)
			if seen[id] {
				continue
			}
			seen[id] = true
			if !first && !aws.ToTime(ev.CreatedAt).Before(start) {
				p.Events = append(p.Events, aws.ToString(ev.Message))
			}
		}
		first = false
		if report != nil {
			report(p)
		}
		if done {
			v.Duration = now.Sub(start)
			return v, nil
		}
		if timeout > 0 && now.Sub(start) >= timeout {
			return Verdict{Status: events.StatusFailed, DeploymentID: r.DeploymentID, TaskDefinition: r.TaskDefinition,
					Reason: fmt.Sprintf("rollout still %s after %s", p.RolloutState, timeout), Duration: now.Sub(start)},
				fmt.Errorf("follow %s/%s: %w (%s); it goes on: watch it with `deckhand status`", r.Cluster, r.Service, ErrTimeout, timeout)
		}
		if err := clock.Wait(ctx, e.poll()); err != nil {
			return Verdict{}, err
		}
	}
}

// judge reads a verdict off a described service, if there is one yet.
func judge(svc *types.Service, r *Rollout) (Progress, Verdict, bool) {
	var ours, primary *types.Deployment
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		if aws.ToString(d.Status) == "PRIMARY" {
			primary = d
		}
		if r.DeploymentID != "" && aws.ToString(d.Id) == r.DeploymentID {
			ours = d
		}
	}
	if r.DeploymentID == "" && primary != nil && aws.ToString(primary.TaskDefinition) == r.TaskDefinition {
		ours = primary
		r.DeploymentID = aws.ToString(primary.Id)
	}
	v := Verdict{DeploymentID: r.DeploymentID, TaskDefinition: r.TaskDefinition}
	p := Progress{DeploymentID: r.DeploymentID, Desired: svc.DesiredCount}
	if ours != nil {
		p.RolloutState = string(ours.RolloutState)
		p.Running, p.Pending, p.Failed, p.Desired = ours.RunningCount, ours.PendingCount, ours.FailedTasks, ours.DesiredCount
	}
	rolledBack := primary != nil && primary != ours && aws.ToString(primary.TaskDefinition) != r.TaskDefinition &&
		strings.Contains(strings.ToLower(aws.ToString(primary.RolloutStateReason)), "rolling back")
	switch {
	case ours != nil && ours.RolloutState == types.DeploymentRolloutStateCompleted:
		v.Status, v.Reason = events.StatusSucceeded, aws.ToString(ours.RolloutStateReason)
	case ours != nil && ours.RolloutState == types.DeploymentRolloutStateFailed && rolledBack:
		v.Status, v.RolledBackTo = events.StatusRolledBack, aws.ToString(primary.TaskDefinition)
		v.Reason = aws.ToString(ours.RolloutStateReason) + " " + aws.ToString(primary.RolloutStateReason)
	case ours != nil && ours.RolloutState == types.DeploymentRolloutStateFailed:
		v.Status, v.Reason = events.StatusFailed, aws.ToString(ours.RolloutStateReason)
	case ours == nil && rolledBack:
		v.Status, v.RolledBackTo = events.StatusRolledBack, aws.ToString(primary.TaskDefinition)
		v.Reason = aws.ToString(primary.RolloutStateReason)
	case ours == nil && r.DeploymentID != "":
		v.Status = events.StatusFailed
		v.Reason = fmt.Sprintf("deployment %s is gone; the service now runs %s", r.DeploymentID, taskDefOf(primary))
	case ours == nil && primary != nil && aws.ToString(primary.TaskDefinition) != r.TaskDefinition:
		v.Status = events.StatusFailed
		v.Reason = fmt.Sprintf("the service runs %s, not %s", taskDefOf(primary), r.TaskDefinition)
	default:
		return p, v, false
	}
	return p, v, true
}

func taskDefOf(d *types.Deployment) string {
	if d == nil {
		return "no deployment"
	}
	return aws.ToString(d.TaskDefinition)
}

// describeService returns one service with its tags, or a NotFoundError.
func (e *Env) describeService(ctx context.Context, cluster, service string) (*types.Service, error) {
	out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(cluster), Services: []string{service}, Include: []types.ServiceField{types.ServiceFieldTags}})
	if err != nil {
		if awserr.ClusterNotFound(err) {
			return nil, &NotFoundError{Kind: "cluster", Name: cluster, Hint: "check the manifest's cluster: and --region"}
		}
		return nil, fmt.Errorf("describe service %s/%s: %w", cluster, service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return nil, &NotFoundError{Kind: "service", Name: cluster + "/" + service,
			Hint: "create it first (Deckhand deploys to existing services), or check --region"}
	}
	return &out.Services[0], nil
}
