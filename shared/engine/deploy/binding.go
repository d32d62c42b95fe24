package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// deployBinding applies rules 3 to 8 to one binding (rules.go). rd holds
// the binding's reads when they were started already (nil: start them
// now).
func (e *Engine) deployBinding(ctx context.Context, src store.Source, m *manifest.Manifest, pl plan, rd *reads) Outcome {
	b := pl.binding
	lead := leadPush(pl.pushes)
	o := e.started(pl, lead)
	ctx, err := e.inTarget(ctx, m, b)
	if err != nil {
		if rd != nil {
			rd.wait()
		}
		return failed(o, err)
	}
	if rd == nil {
		rd = e.startReads(ctx, src, pl)
	}
	rd.wait()
	run, tmpl := rd.run, rd.tmpl
	if rd.runErr != nil {
		return failed(o, rd.runErr)
	}
	if rd.tmplErr != nil {
		return failed(o, fmt.Errorf("load template %s: %w", b.Template, rd.tmplErr))
	}
	o.Event.OldRevision = aws.ToString(run.def.TaskDefinitionArn)
	fillOld(&o.Event, run)

	if reason, held := hold(run.serviceTags(), lead); held {
		return decided(o, events.StatusHeld, reason)
	}
	deploy, status, reason, err := e.triage(ctx, run, pl, tmpl.Version)
	if err != nil {
		return failed(o, err)
	}
	if deploy == nil {
		return decided(o, status, reason)
	}
	if st, detail := freeze(b, lead, e.Now()); st != nil {
		o.Event.Gate = detail
		return decided(o, st.status, st.reason)
	}
	if err := strategyRunnable(b, run); err != nil {
		return failed(o, err)
	}
	if err := e.alarmsExist(ctx, b); err != nil {
		return failed(o, err)
	}
	caught, paced, err := e.catchUpInBurst(ctx, b, deploy, run, &o.Event, pl.times)
	if err != nil {
		return failed(o, err)
	}
	if out, stopped := e.imageGates(ctx, m, b, deploy, run, o); stopped {
		return out
	} else {
		o = out
	}
	data, tags, err := e.content(ctx, b, lead, deploy, run, tmpl.Version)
	if err != nil {
		return failed(o, err)
	}
	if lead.PromotedFrom != "" {
		tags[revision.TagPromotedFrom] = lead.PromotedFrom
	}
	if data.Refs, err = taskdef.ResolveRefs(ctx, targets.Refs(ctx, e.Refs), tmpl.Body, b.Template); err != nil {
		return failed(o, err)
	}
	rendered, err := taskdef.Render(tmpl.Body, data, taskdef.Options{Key: b.Template, Roles: m.Roles, Allow: b.Allow, Sources: m.Sources})
	if err != nil {
		return failed(o, err)
	}
	tags[revision.TagContentHash] = rendered.Hash
	if run.tags[revision.TagContentHash] == rendered.Hash {
		return decided(o, events.StatusAlreadyDeployed, "running revision has the same rendered content")
	}
	if b.Gates.ApprovalRequired() {
		if out, decidedHere := e.approval(ctx, pl, lead, deploy, run, rendered, tags, o, paced); decidedHere {
			return out
		}
	}
	o.Event.NewRevision, o.Event.DeploymentID, err = e.registerThenUpdate(ctx, b, rendered, tags, run, anyRedelivered(pl.pushes), paced)
	if err != nil {
		return failed(o, err)
	}
	if b.Deployment != nil {
		o.Event.Strategy = b.Deployment.StrategyName()
	}
	reason = fmt.Sprintf("deploying %s", strings.Join(slices.Sorted(maps.Keys(deploy)), ", "))
	if len(caught) > 0 {
		reason += "; " + strings.Join(caught, "; ")
	}
	return decided(o, events.StatusStarted, reason)
}

// started is the outcome of a plan before its rules ran: the lead push's
// event with every pushed container.
func (e *Engine) started(pl plan, lead Push) Outcome {
	o := Outcome{Event: bindingEvent(lead, pl.binding)}
	for _, p := range pl.pushes {
		o.Pushes = appendPush(o.Pushes, p)
	}
	o.Event.Containers = map[string]events.ContainerChange{}
	for c, p := range pl.pushes {
		o.Event.Containers[c] = events.ContainerChange{NewDigest: p.Digest, NewTag: p.Tag}
	}
	if !lead.PushedAt.IsZero() {
		o.Event.DurationMS = e.Now().Sub(lead.PushedAt).Milliseconds()
	}
	return o
}

// decided sets an outcome's status and reason.
func decided(o Outcome, status events.DeploymentStatus, reason string) Outcome {
	o.Event.Status, o.Event.Reason = status, reason
	return o
}

// content is what the new revision holds: the pushed images and, by rule
// 6 (keepOther), every other container's current image; and Deckhand's tags
// for it, except the content hash.
func (e *Engine) content(ctx context.Context, b *manifest.Service, lead Push, deploy map[string]Push, run *running, templateVersion string) (taskdef.Data, revision.Tags, error) {
	account, region := e.where(ctx)
	data := taskdef.Data{
		Account: account, Region: region, Cluster: b.Cluster, Service: b.Service,
		Images: map[string]taskdef.Image{}, Primary: revision.ServicePrimary(b), Vars: b.Vars,
	}
	tags := revision.Tags{
		revision.TagBinding: b.Name, revision.TagTrigger: string(lead.Trigger), revision.TagEventID: lead.EventID,
		revision.TagTemplate: revision.TagValue(templateVersion), revision.TagChanged: strings.Join(slices.Sorted(maps.Keys(deploy)), " "),
	}
	for c := range b.Images {
		if p, ok := deploy[c]; ok {
			data.Images[c] = taskdef.Image{Registry: registryOf(p, e), Repository: p.Repository, Tag: p.Tag, Digest: p.Digest, PushedAt: p.PushedAt}
			tags[revision.TagDigest+c] = p.Digest
			tags[revision.TagImageTag+c] = p.Tag
			tags[revision.TagPushedAt+c] = p.PushedAt.UTC().Format(time.RFC3339Nano)
			continue
		}
		img, kept, err := keepOther(b, c, run, e.Now())
		if err != nil {
			return taskdef.Data{}, nil, err
		}
		data.Images[c] = img
		maps.Copy(tags, kept)
	}
	return data, tags, nil
}

// registerThenUpdate is rules 7 and 8: it reuses the family's revision with
// this content or registers one (a crash between register and update must
// not register twice), then updates the service with the manifest's
// circuit breaker. It returns the revision (also when the update failed)
// and the new deployment's id.
func (e *Engine) registerThenUpdate(ctx context.Context, b *manifest.Service, r *taskdef.Rendered, tags revision.Tags, run *running, redelivered, paced bool) (string, string, error) {
	e.families.Store(b.Name, aws.ToString(r.Input.Family))
	arn, err := e.registrar(ctx).Ensure(ctx, revision.Want{Rendered: r, Tags: tags, Latest: run.latest, LookBack: redelivered, Paced: paced})
	if err != nil {
		return "", "", err
	}
	u := revision.Updater{ECS: e.ecs(ctx), Pacer: e.pacer(), Limit: e.placeOf(ctx).update}
	id, err := u.Update(ctx, b, arn)
	return arn, id, err
}

func registryOf(p Push, e *Engine) string {
	acct, region := p.Account, p.Region
	if acct == "" {
		acct = e.Account
	}
	if region == "" {
		region = e.Region
	}
	return taskdef.Registry(acct, region)
}

func fillOld(ev *events.DeploymentStateChange, r *running) {
	for c, ch := range ev.Containers {
		ch.OldDigest = r.digest(c)
		ch.OldTag = r.tags[revision.TagImageTag+c]
		ev.Containers[c] = ch
	}
}

func anyRedelivered(ps map[string]Push) bool {
	for _, p := range ps {
		if p.Redelivered {
			return true
		}
	}
	return false
}

// leadPush is the newest push of a plan; its trigger and id label the
// deployment.
func leadPush(ps map[string]Push) Push {
	var lead Push
	for _, c := range slices.Sorted(maps.Keys(ps)) {
		if p := ps[c]; lead.EventID == "" || p.PushedAt.After(lead.PushedAt) {
			lead = p
		}
	}
	return lead
}

func appendPush(ps []Push, p Push) []Push {
	for _, q := range ps {
		if q.EventID == p.EventID && q.MessageID == p.MessageID {
			return ps
		}
	}
	return append(ps, p)
}
