package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// STSAPI tells who is calling: approve and reject record it.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ STSAPI = (*sts.Client)(nil)

// ErrNothingPending is matched by errors.Is when approve or reject finds
// no pending revision for the binding; nothing is written.
var ErrNothingPending = errors.New("nothing pending approval")

// ErrGateClosed is matched by errors.Is when approve is refused because
// the binding is held or frozen now; nothing is written.
var ErrGateClosed = errors.New("cannot deploy now")

// DecisionResult is what approve or reject did.
type DecisionResult struct {
	Binding  string `json:"binding"`
	Cluster  string `json:"cluster"`
	Service  string `json:"service"`
	Revision string `json:"revision"`
	// Decision is approved or rejected; By who decided (the caller's ARN).
	Decision string `json:"decision"`
	By       string `json:"by"`
	Reason   string `json:"reason,omitempty"`
	// Events are what was emitted: APPROVED then STARTED, or REJECTED.
	Events []events.DeploymentStateChange `json:"events"`
}

// Approve deploys the binding's pending revision: it records the caller
// (STS GetCallerIdentity) on the revision (deckhand:approval=approved,
// deckhand:decided-by, deckhand:decided-at), emits APPROVED, updates the
// service with the binding's circuit breaker and emits STARTED. It refuses,
// writing nothing, when nothing is pending (ErrNothingPending), when the
// pending revision has expired, or when the binding is held or in a
// freeze window (ErrGateClosed).
func (e *Env) Approve(ctx context.Context, binding string) (*DecisionResult, error) {
	b, svc, g, err := e.pendingOf(ctx, binding)
	if err != nil {
		return nil, err
	}
	now := e.Now(ctx)
	if why, held := revision.TagsOf(svc.Tags)[revision.TagHold]; held {
		return nil, fmt.Errorf("%s (%s/%s) is held (%s): %w; the revision stays pending until %s; release it first with `deckhand release %s`",
			b.Name, b.Cluster, b.Service, why, ErrGateClosed, g.Expires().UTC().Format(time.RFC3339), b.Name)
	}
	if w, frozen := b.Frozen(now); frozen {
		return nil, fmt.Errorf("%s is in its %s until %s: %w; the revision stays pending until %s",
			b.Name, w, w.End.UTC().Format(time.RFC3339), ErrGateClosed, g.Expires().UTC().Format(time.RFC3339))
	}
	by, err := e.caller(ctx)
	if err != nil {
		return nil, err
	}
	d := gate.Decision{State: revision.ApprovalApproved, By: by, At: now}
	if err := gate.Record(ctx, e.ECS, g.ARN, d, nil); err != nil {
		return nil, err
	}
	res := e.decision(ctx, b, svc, g, d)
	approved := res.Events[0]
	approved.Status, approved.Reason = events.StatusApproved, fmt.Sprintf("approved by %s", by)
	e.put(ctx, approved)
	_, limit := revision.Limits()
	u := revision.Updater{ECS: e.ECS, Limit: limit, Pacer: revision.Pacer{Sleep: e.clock().Wait, Now: func() time.Time { return e.Now(ctx) }}}
	depID, err := u.Update(ctx, b, g.ARN)
	if err != nil {
		return nil, fmt.Errorf("approved %s, but %w; `deckhand approve %s` again deploys it", shortRev(g.ARN), err, b.Name)
	}
	started := approved
	started.Status, started.DeploymentID = events.StatusStarted, depID
	started.Reason = fmt.Sprintf("deploying %s, approved by %s", strings.Join(strings.Fields(g.Tags[revision.TagChanged]), ", "), by)
	e.put(ctx, started)
	res.Events = []events.DeploymentStateChange{approved, started}
	return res, nil
}

// Reject refuses the binding's pending revision for a reason: it records
// the caller, the time and the reason on the revision
// (deckhand:approval=rejected) and emits REJECTED. The service is not
// touched. A reject without a reason is a usage error, checked before
// anything is read.
func (e *Env) Reject(ctx context.Context, binding, reason string) (*DecisionResult, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, usagef("reject %s: give --reason, e.g. --reason \"fails the load test\"; it is recorded on the revision and in the REJECTED event", binding)
	}
	b, svc, g, err := e.pendingOf(ctx, binding)
	if err != nil {
		return nil, err
	}
	by, err := e.caller(ctx)
	if err != nil {
		return nil, err
	}
	d := gate.Decision{State: revision.ApprovalRejected, By: by, At: e.Now(ctx), Reason: revision.TagValue(reason)}
	if err := gate.Record(ctx, e.ECS, g.ARN, d, nil); err != nil {
		return nil, err
	}
	res := e.decision(ctx, b, svc, g, d)
	res.Events[0].Status, res.Events[0].Reason = events.StatusRejected, fmt.Sprintf("rejected by %s: %s", by, d.Reason)
	res.Reason = d.Reason
	e.put(ctx, res.Events[0])
	return res, nil
}

// pendingOf reads the binding, its service and its pending revision; an
// expired one, or none, is an error.
func (e *Env) pendingOf(ctx context.Context, binding string) (*manifest.Service, *types.Service, *gate.Gated, error) {
	b, svc, err := e.bindingService(ctx, binding)
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := gate.Reader{ECS: e.ECS}.GatedRevision(ctx, b, revision.OfService(*svc), nil)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case g == nil:
		running := shortRev(revision.OfService(*svc))
		if td, err := e.describeTaskDefinition(ctx, revision.OfService(*svc)); err == nil {
			if tags := revision.TagsOf(td.Tags); tags[revision.TagApproval] == revision.ApprovalApproved {
				running += fmt.Sprintf(" (approved by %s at %s)", tags[revision.TagDecidedBy], tags[revision.TagDecidedAt])
			}
		}
		return nil, nil, nil, fmt.Errorf("%s (%s/%s): %w; it runs %s, and no newer revision waits (`deckhand pending` lists what does)",
			b.Name, b.Cluster, b.Service, ErrNothingPending, running)
	case !g.Pending():
		why := g.State()
		if by := g.Tags[revision.TagDecidedBy]; by != "" {
			why += " by " + by
		}
		return nil, nil, nil, fmt.Errorf("%s (%s/%s): %w; its newest revision %s was %s", b.Name, b.Cluster, b.Service, ErrNothingPending, shortRev(g.ARN), why)
	case g.Expired(e.Now(ctx)):
		return nil, nil, nil, fmt.Errorf("%s (%s/%s): %w; revision %s expired at %s; push a new image, or ask again with `deckhand deploy --force`",
			b.Name, b.Cluster, b.Service, ErrNothingPending, shortRev(g.ARN), g.Expires().UTC().Format(time.RFC3339))
	}
	return b, svc, g, nil
}

// caller is the ARN STS says the CLI acts as.
func (e *Env) caller(ctx context.Context) (string, error) {
	if e.STS == nil {
		return "", errors.New("cannot tell who decides: no STS client")
	}
	out, err := e.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity (recorded as who decided): %w", err)
	}
	return aws.ToString(out.Arn), nil
}

// decision is the result of a decision on g, with its event's common
// fields: the images it changes from the serving revision's (when that can
// be read) to its own.
func (e *Env) decision(ctx context.Context, b *manifest.Service, svc *types.Service, g *gate.Gated, d gate.Decision) *DecisionResult {
	at := d.At.UTC()
	serving := revision.OfService(*svc)
	containers := gate.Containers(g.Tags)
	if td, err := e.describeTaskDefinition(ctx, serving); err == nil {
		old := withImages(revisionOf(td.TaskDefinition, revision.TagsOf(td.Tags)), td.TaskDefinition)
		for c, ch := range containers {
			ch.OldDigest, ch.OldTag = old.Images[c].Digest, old.Images[c].Tag
			containers[c] = ch
		}
	}
	ev := events.DeploymentStateChange{Binding: b.Name, Cluster: b.Cluster, Service: b.Service,
		OldRevision: serving, NewRevision: g.ARN, Trigger: events.Trigger(g.Tags[revision.TagTrigger]),
		EventID: g.Tags[revision.TagEventID], Containers: containers,
		Gate: &events.GateDetail{Name: events.GateApproval, DecidedBy: d.By, DecidedAt: &at}}
	return &DecisionResult{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Revision: g.ARN, Decision: d.State, By: d.By,
		Events: []events.DeploymentStateChange{ev}}
}

// put emits a Deckhand deployment event; a failure is logged (the write it
// reports is done).
func (e *Env) put(ctx context.Context, ev events.DeploymentStateChange) {
	if e.Events == nil {
		return
	}
	if err := e.bus().Put(ctx, emit.Deployments(ev)...); err != nil {
		e.logger().WarnContext(ctx, "emit event", "binding", ev.Binding, "status", string(ev.Status), "err", err)
	}
}

// shortRev is family:revision of a task-definition ARN.
func shortRev(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
