package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	_, limit := revision.Limits()
	u := revision.Updater{ECS: e.ECS, Limit: limit, Pacer: revision.Pacer{Sleep: e.clock().Wait, Now: func() time.Time { return e.Now(ctx) }}}
	depID, err := u.Update(ctx, b, target.ARN)
	if err != nil {
		return nil, err
	}
	old := withImages(revisionOf(running.TaskDefinition, revision.TagsOf(running.Tags)), running.TaskDefinition)
	if res.Marked, err = e.markRolledBack(ctx, svc, old, target); err != nil {
		res.Note = fmt.Sprintf("the rollback goes on, but %v; a push of the digests it left may deploy again once released", err)
	}
	ev := events.DeploymentStateChange{
		Status: events.StatusStarted, Binding: b.Name, Cluster: b.Cluster, Service: b.Service,
		OldRevision: aws.ToString(svc.TaskDefinition), NewRevision: target.ARN, DeploymentID: depID,
		Trigger: events.TriggerRollback, EventID: "rollback-" + strconv.FormatInt(now.UnixNano(), 10),
		Reason:     fmt.Sprintf("rollback to %s:%d; service held", h.Family, target.Revision),
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
