package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// RollbackResult is what a rollback did.
type RollbackResult struct {
	Event events.DeploymentStateChange `json:"event"`
	// Target is the revision the service goes back to; its Trigger is
	// empty when Deckhand did not register it.
	Target Revision `json:"target"`
	// Hold is the deckhand:hold reason now on the service; KeptHold is
	// true when it was there before the rollback and was kept.
	Hold     string `json:"hold"`
	KeptHold bool   `json:"keptHold,omitempty"`
	// Marked are the digests, per container, the service is now marked as
	// having rolled back (deckhand:rolled-back:<container>).
	Marked map[string]string `json:"marked,omitempty"`
	// Note says what went wrong after the service was updated, if anything.
	Note string `json:"note,omitempty"`
	// Stopped is the service deployment in flight that ECS was asked to
	// roll back (StopServiceDeployment, stopType ROLLBACK), when one was.
	Stopped string `json:"stopped,omitempty"`
}

// Rollback points the binding's service back at an earlier revision: to (a
// revision number, family:revision or ARN) or, when empty, the newest
// Deckhand revision older than the running one, else the newest ACTIVE
// revision of the family older than the running one (the one the service
// ran before Deckhand's first deploy). It puts a hold on the service first
// (keeping one that is there), so the next push does not undo the
// rollback; after the update it marks the digests it left as rolled back,
// as the tracker does after a circuit-breaker rollback, so they are not
// deployed again on their own; and it emits a STARTED event with trigger
// rollback. The revision is redeployed as registered: its content, not a
// re-render of today's template.
//
// Without to, a deployment still in flight (its service-deployment record
// IN_PROGRESS) is not replaced by another update: ECS is asked to roll it
// back (StopServiceDeployment, stopType ROLLBACK), to the revision that
// served before it, and the tracker reports it ROLLED_BACK (cause manual).
func (e *Env) Rollback(ctx context.Context, binding, to string) (*RollbackResult, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	b, err := Binding(m, binding)
	if err != nil {
		return nil, err
	}
	h, err := e.History(ctx, binding, 50)
	if err != nil {
		return nil, err
	}
	svc, err := e.describeService(ctx, b.Cluster, b.Service)
	if err != nil {
		return nil, err
	}
	running, err := e.describeTaskDefinition(ctx, aws.ToString(svc.TaskDefinition))
	if err != nil {
		return nil, err
	}
	target, err := rollbackTarget(ctx, e, h, running.TaskDefinition, to)
	if err != nil {
		return nil, err
	}
	var inFlight *types.ServiceDeploymentBrief
	if to == "" {
		if inFlight, err = e.inFlight(ctx, svc); err != nil {
			return nil, err
		}
	}
	now := e.Now(ctx)
	res := &RollbackResult{Target: target}
	res.Hold, res.KeptHold = revision.TagsOf(svc.Tags)[revision.TagHold]
	if !res.KeptHold {
		res.Hold = fmt.Sprintf("rollback to %s:%d at %s - release with deckhand release %s",
			h.Family, target.Revision, now.UTC().Format(time.RFC3339), b.Name)
		if err := e.tagHold(ctx, svc, res.Hold); err != nil {
			return nil, err
		}
		res.Hold = revision.TagValue(res.Hold)
	}
	depID, reason := "", fmt.Sprintf("rollback to %s:%d; service held", h.Family, target.Revision)
	if inFlight != nil {
		if _, err := e.ECS.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: inFlight.ServiceDeploymentArn,
			StopType: types.StopServiceDeploymentStopTypeRollback}); err != nil {
			return nil, fmt.Errorf("stop service deployment %s: %w", aws.ToString(inFlight.ServiceDeploymentArn), err)
		}
		res.Stopped = aws.ToString(inFlight.ServiceDeploymentArn)
		depID, reason = primaryID(svc), fmt.Sprintf("deployment %s in flight rolled back by ECS (StopServiceDeployment ROLLBACK) to %s:%d; service held",
			primaryID(svc), h.Family, target.Revision)
	} else {
		_, limit := revision.Limits()
		u := revision.Updater{ECS: e.ECS, Limit: limit, Pacer: revision.Pacer{Sleep: e.clock().Wait, Now: func() time.Time { return e.Now(ctx) }}}
		if depID, err = u.Update(ctx, b, target.ARN); err != nil {
			return nil, err
		}
	}
	old := withImages(revisionOf(running.TaskDefinition, revision.TagsOf(running.Tags)), running.TaskDefinition)
	if res.Marked, err = e.markRolledBack(ctx, svc, old, target); err != nil {
		res.Note = fmt.Sprintf("the rollback goes on, but %v; a push of the digests it left may deploy again once released", err)
	}
	ev := events.DeploymentStateChange{
		Status: events.StatusStarted, Binding: b.Name, Cluster: b.Cluster, Service: b.Service,
		OldRevision: aws.ToString(svc.TaskDefinition), NewRevision: target.ARN, DeploymentID: depID,
		Trigger: events.TriggerRollback, EventID: "rollback-" + strconv.FormatInt(now.UnixNano(), 10),
		Reason:     reason,
		Containers: map[string]events.ContainerChange{},
	}
	for c, img := range target.Images {
		ev.Containers[c] = events.ContainerChange{OldDigest: old.Images[c].Digest, OldTag: old.Images[c].Tag, NewDigest: img.Digest, NewTag: img.Tag}
	}
	if e.Events != nil {
		if err := e.bus().Put(ctx, emit.Deployments(ev)...); err != nil {
			e.logger().WarnContext(ctx, "emit rollback event", "binding", b.Name, "err", err)
		}
	}
	res.Event = ev
	return res, nil
}

func rollbackTarget(ctx context.Context, e *Env, h *History, running *types.TaskDefinition, to string) (Revision, error) {
	if to == "" {
		r, ok := previous(h.Revisions, aws.ToString(running.TaskDefinitionArn), running.Revision)
		if !ok {
			r, ok, err := e.previousActive(ctx, h.Family, running.Revision)
			if err != nil || ok {
				return r, err
			}
			return Revision{}, &NotFoundError{Kind: "revision", Name: "before " + h.Family + ":" + strconv.Itoa(int(running.Revision)),
				Hint: fmt.Sprintf("%s's family has no earlier ACTIVE revision; see `deckhand history %s` and pass --to", h.Binding, h.Binding)}
		}
		return r, nil
	}
	ref := to
	if n, err := strconv.Atoi(to); err == nil {
		ref = fmt.Sprintf("%s:%d", h.Family, n)
	}
	td, err := e.describeTaskDefinition(ctx, ref)
	if err != nil {
		return Revision{}, err
	}
	if fam := aws.ToString(td.TaskDefinition.Family); fam != h.Family {
		return Revision{}, usagef("--to %s is a revision of %s, not of %s's family %s", to, fam, h.Binding, h.Family)
	}
	if td.TaskDefinition.Status != types.TaskDefinitionStatusActive {
		return Revision{}, usagef("--to %s is %s; ECS deploys only ACTIVE revisions", to, td.TaskDefinition.Status)
	}
	return withImages(revisionOf(td.TaskDefinition, revision.TagsOf(td.Tags)), td.TaskDefinition), nil
}

// inFlight is the service-deployment record of the service's PRIMARY
// deployment while it is still IN_PROGRESS; nil otherwise (nothing in
// flight, or ECS keeps no record of it).
func (e *Env) inFlight(ctx context.Context, svc *types.Service) (*types.ServiceDeploymentBrief, error) {
	id := primaryID(svc)
	for _, d := range svc.Deployments {
		if aws.ToString(d.Id) == id && d.RolloutState != types.DeploymentRolloutStateInProgress {
			return nil, nil
		}
	}
	if id == "" {
		return nil, nil
	}
	out, err := e.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: svc.ClusterArn, Service: svc.ServiceName,
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusInProgress}})
	if err != nil {
		if !revision.Retryable(err) {
			return nil, nil // ECS keeps no records here: update as before
		}
		return nil, fmt.Errorf("list service deployments of %s: %w", aws.ToString(svc.ServiceName), err)
	}
	return revision.RecordOf(out.ServiceDeployments, id), nil
}

// primaryID is the id of the service's PRIMARY deployment.
func primaryID(svc *types.Service) string {
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.Id)
		}
	}
	return ""
}
