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
	// Hold is the deckhand:hold reason now on the service.
	Hold string `json:"hold"`
}

// Rollback points the binding's service back at an earlier Deckhand
// revision: to (a revision number, family:revision or ARN) or, when empty,
// the newest Deckhand revision older than the running one. It puts a hold
// on the service first, so the next push does not undo the rollback, and
// emits a STARTED event with trigger rollback. The revision is redeployed
// as registered: its content, not a re-render of today's template.
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
	hold := fmt.Sprintf("rollback to %s:%d at %s - release with deckhand release %s",
		h.Family, target.Revision, now.UTC().Format(time.RFC3339), b.Name)
	if err := e.tagHold(ctx, svc, hold); err != nil {
		return nil, err
	}
	_, limit := revision.Limits()
	u := revision.Updater{ECS: e.ECS, Limit: limit, Pacer: revision.Pacer{Sleep: e.clock().Wait, Now: func() time.Time { return e.Now(ctx) }}}
	depID, err := u.Update(ctx, b, target.ARN)
	if err != nil {
		return nil, err
	}
	ev := events.DeploymentStateChange{
		Status: events.StatusStarted, Binding: b.Name, Cluster: b.Cluster, Service: b.Service,
		OldRevision: aws.ToString(svc.TaskDefinition), NewRevision: target.ARN, DeploymentID: depID,
		Trigger: events.TriggerRollback, EventID: "rollback-" + strconv.FormatInt(now.UnixNano(), 10),
		Reason:     fmt.Sprintf("rollback to %s:%d; service held", h.Family, target.Revision),
		Containers: map[string]events.ContainerChange{},
	}
	old := revisionOf(running.TaskDefinition, revision.TagsOf(running.Tags))
	for c, img := range target.Images {
		ev.Containers[c] = events.ContainerChange{OldDigest: old.Images[c].Digest, OldTag: old.Images[c].Tag, NewDigest: img.Digest, NewTag: img.Tag}
	}
	if e.Events != nil {
		bus := &emit.Bus{Client: e.Events, BusName: e.EventBus}
		if err := bus.Put(ctx, emit.Deployments(ev)...); err != nil {
			e.logger().WarnContext(ctx, "emit rollback event", "binding", b.Name, "err", err)
		}
	}
	return &RollbackResult{Event: ev, Hold: hold}, nil
}

func rollbackTarget(ctx context.Context, e *Env, h *History, running *types.TaskDefinition, to string) (Revision, error) {
	if to == "" {
		r, ok := previous(h.Revisions, aws.ToString(running.TaskDefinitionArn), running.Revision)
		if !ok {
			return Revision{}, &NotFoundError{Kind: "revision", Name: "before " + h.Family + ":" + strconv.Itoa(int(running.Revision)),
				Hint: fmt.Sprintf("%s has no earlier Deckhand revision; see `deckhand history %s` and pass --to", h.Binding, h.Binding)}
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
	return revisionOf(td.TaskDefinition, revision.TagsOf(td.Tags)), nil
}
