package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// approval is the approval gate (DESIGN §11): the revision is registered
// (or reused) and tagged deckhand:approval=pending with its expiry, the
// service is not updated, and PENDING_APPROVAL carries what an approver
// needs. The binding's gated revision (gate.Reader.GatedRevision) decides
// first:
//
//   - the same content pending: SKIPPED, nothing written (a duplicate);
//   - the same content rejected or expired: SKIPPED, unless a person
//     forces it (deploy --force), which asks again;
//   - the same content approved: deploy goes on (the approval's update did
//     not happen, or was lost);
//   - another pending revision with a newer image for some container: this
//     push is SUPERSEDED (never backwards, pending included);
//   - otherwise this revision becomes the pending one, and the one pending
//     before is tagged superseded and reported SUPERSEDED.
//
// It returns the outcome, or ok=false when the deploy goes on.
func (e *Engine) approval(ctx context.Context, pl plan, lead Push, deploy map[string]Push, run *running, r *taskdef.Rendered, tags revision.Tags, o Outcome, paced bool) (Outcome, bool) {
	b := pl.binding
	if e.Gates == nil {
		return failed(o, &revision.PermanentError{Reason: "GatesUnreadable", Err: fmt.Errorf("binding %s requires approval, and the deploy engine has no ECS client for gates", b.Name)}), true
	}
	g, err := e.gateReader().GatedRevision(ctx, b, aws.ToString(run.def.TaskDefinitionArn), run.latest)
	if err != nil {
		return failed(o, err), true
	}
	now := e.Now()
	if g != nil && g.Tags[revision.TagContentHash] == r.Hash {
		o.Event.NewRevision = g.ARN
		switch st := g.State(); {
		case st == revision.ApprovalApproved:
			return o, false
		case st == revision.ApprovalPending:
			o.Event.Gate = approvalDetail(b, o.Event, run, tags, lead, g.Expires(), o.Event.Gate)
			return decided(o, events.StatusSkipped, fmt.Sprintf("already pending approval since %s (revision %s, expires %s): `deckhand approve %s` or `deckhand reject %s --reason …`",
				aws.ToTime(g.Def.RegisteredAt).UTC().Format(time.RFC3339), shortRevision(g.ARN), g.Expires().UTC().Format(time.RFC3339), b.Name, b.Name)), true
		case (st == revision.ApprovalRejected || st == revision.ApprovalExpired) && !lead.Force:
			why := fmt.Sprintf("%s was %s", shortRevision(g.ARN), st)
			if by := g.Tags[revision.TagDecidedBy]; by != "" {
				why += " by " + by
			}
			if reason := g.Tags[revision.TagDecisionReason]; reason != "" {
				why += ": " + reason
			}
			return decided(o, events.StatusSkipped, why+"; push a new image, or ask again with `deckhand deploy --force`"), true
		}
	}
	if g.Pending() && g.Tags[revision.TagContentHash] != r.Hash {
		pend := &running{service: run.service, def: g.Def, tags: g.Tags}
		for _, c := range slices.Sorted(maps.Keys(deploy)) {
			why, older, err := e.order(ctx, pend, c, deploy[c], b.Images[c], pl.times)
			if err != nil {
				return failed(o, err), true
			}
			if older {
				return decided(o, events.StatusSuperseded, fmt.Sprintf("older than the image of revision %s, pending approval: %s", shortRevision(g.ARN), why)), true
			}
		}
	}
	expires := now.Add(b.Gates.ApprovalExpiry()).UTC()
	tags[revision.TagApproval] = revision.ApprovalPending
	tags[revision.TagApprovalExpires] = expires.Format(time.RFC3339)
	e.families.Store(b.Name, aws.ToString(r.Input.Family))
	arn, err := e.registrar(ctx).Ensure(ctx, revision.Want{Rendered: r, Tags: tags, Latest: run.latest, LookBack: anyRedelivered(pl.pushes), Paced: paced})
	if err != nil {
		return failed(o, err), true
	}
	if err := e.ownRevision(ctx, b, arn); err != nil {
		return failed(o, err), true
	}
	// A reused revision keeps the tags it was registered with: mark it
	// pending again (a no-op on a revision registered just now).
	if err := gate.Record(ctx, e.Gates, arn, gate.Decision{State: revision.ApprovalPending}, e.pacer().Retry); err != nil {
		return failed(o, err), true
	}
	if err := e.tagExpiry(ctx, arn, expires); err != nil {
		return failed(o, err), true
	}
	if g.Pending() && g.ARN != arn {
		e.supersede(ctx, b, g, arn)
	}
	o.Event.NewRevision = arn
	o.Event.Gate = approvalDetail(b, o.Event, run, tags, lead, expires, o.Event.Gate)
	return decided(o, events.StatusPendingApproval, fmt.Sprintf("waiting for approval until %s: `deckhand approve %s` or `deckhand reject %s --reason …`",
		expires.Format(time.RFC3339), b.Name, b.Name)), true
}

// tagExpiry writes a pending revision's expiry.
func (e *Engine) tagExpiry(ctx context.Context, arn string, expires time.Time) error {
	t := revision.Tags{revision.TagApprovalExpires: expires.UTC().Format(time.RFC3339)}
	return e.pacer().Retry(ctx, func() error {
		_, err := e.Gates.TagResource(ctx, tagInput(arn, t))
		return err
	})
}

// supersede tags the revision pending before as superseded and reports it.
// Both are notes: the pending revision is the newest gated one, so an
// older revision left tagged pending is never taken for it; failures are
// logged.
func (e *Engine) supersede(ctx context.Context, b *manifest.Service, old *gate.Gated, by string) {
	reason := fmt.Sprintf("superseded by revision %s, pending approval in its place", shortRevision(by))
	if err := gate.Record(ctx, e.Gates, old.ARN, gate.Decision{State: revision.ApprovalSuperseded, Reason: reason, At: e.Now()}, e.pacer().Retry); err != nil {
		e.Logger.WarnContext(ctx, "could not tag the superseded pending revision", "binding", b.Name, "revision", old.ARN, "error", err)
	}
	ev := events.DeploymentStateChange{Status: events.StatusSuperseded, Binding: b.Name, Cluster: b.Cluster, Service: b.Service,
		NewRevision: old.ARN, Trigger: events.Trigger(old.Tags[revision.TagTrigger]), EventID: old.Tags[revision.TagEventID],
		Containers: gate.Containers(old.Tags), Reason: reason, Gate: &events.GateDetail{Name: events.GateApproval}}
	e.log(ctx, Outcome{Event: ev})
	if e.Events == nil {
		return
	}
	if err := e.pacer().Retry(ctx, func() error { return e.Events.Put(ctx, emit.Deployments(ev)...) }); err != nil {
		e.Logger.ErrorContext(ctx, "could not emit SUPERSEDED for the pending revision", "binding", b.Name, "revision", old.ARN, "error", err)
	}
}

// approvalDetail is what an approver needs: the change per container and
// for the template, the push, what the promotion's source said and the
// scans (carried in from the gates passed), when the request expires, and
// the commands that decide it.
func approvalDetail(b *manifest.Service, ev events.DeploymentStateChange, run *running, tags revision.Tags, lead Push, expires time.Time, passed *events.GateDetail) *events.GateDetail {
	exp := expires.UTC()
	d := &events.GateDetail{Name: events.GateApproval, Until: &exp,
		Approve: "deckhand approve " + b.Name, Reject: "deckhand reject " + b.Name + ` --reason "…"`}
	if passed != nil {
		d.Source, d.Scans, d.Block = passed.Source, passed.Scans, passed.Block
	}
	for _, c := range slices.Sorted(maps.Keys(ev.Containers)) {
		ch := ev.Containers[c]
		d.Diff = append(d.Diff, fmt.Sprintf("%s: %s → %s", c, imageLabel(ch.OldTag, ch.OldDigest), imageLabel(ch.NewTag, ch.NewDigest)))
	}
	if was, now := run.tags[revision.TagTemplate], tags[revision.TagTemplate]; was == now {
		d.Diff = append(d.Diff, fmt.Sprintf("template %s: unchanged (%s)", b.Template, now))
	} else {
		d.Diff = append(d.Diff, fmt.Sprintf("template %s: %s → %s", b.Template, orNone(was), now))
	}
	d.Push = fmt.Sprintf("%s event %s", lead.Trigger, lead.EventID)
	if !lead.PushedAt.IsZero() {
		d.Push += ", pushed " + lead.PushedAt.UTC().Format(time.RFC3339)
	}
	if lead.PromotedFrom != "" {
		d.Push += ", promoted from " + lead.PromotedFrom
	}
	return d
}

func imageLabel(tag, digest string) string {
	switch {
	case digest == "":
		return "(none)"
	case tag == "":
		return shortDigest(digest)
	}
	return tag + " (" + shortDigest(digest) + ")"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// tagInput tags a resource.
func tagInput(arn string, t revision.Tags) *ecs.TagResourceInput {
	return &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: t.ECS()}
}

// shortRevision is family:revision.
func shortRevision(arn string) string {
	family, rev := taskdef.SplitARN(arn)
	if family == "" {
		return arn
	}
	return fmt.Sprintf("%s:%d", family, rev)
}

// ownRevision refuses a revision registered for another binding: two
// bindings that render the same task definition into one family share
// revisions (rule 7), which an approval cannot (it tags the revision).
func (e *Engine) ownRevision(ctx context.Context, b *manifest.Service, arn string) error {
	td, err := e.registrar(ctx).Describe(ctx, arn)
	if err != nil {
		return fmt.Errorf("describe revision %s: %w", arn, err)
	}
	if owner := revision.TagsOf(td.Tags)[revision.TagBinding]; owner != b.Name {
		return &revision.PermanentError{Reason: "SharedRevision", Err: fmt.Errorf(
			"binding %s renders the same task definition as binding %s into family %s; an approval needs its own revision: give the binding its own family (e.g. \"family\": \"%s-{{ .Cluster }}\") or a var that differs",
			b.Name, owner, aws.ToString(td.TaskDefinition.Family), aws.ToString(td.TaskDefinition.Family))}
	}
	return nil
}
