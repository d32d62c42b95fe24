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
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// The deploy rules of DESIGN §5 for one binding, one function each: accept
// (with PushFromEvent and trusted), coalesce, hold, dedupe, order, the
// rolled-back check and keepOther here; reuse, register-then-update, error
// classification and pacing in shared/engine/revision, which the job
// engine and the CLI share.

// plan is one binding's work after accept and coalesce.
type plan struct {
	binding *manifest.Service
	// pushes maps container name to the winning push for it.
	pushes map[string]Push
	// times orders pushes in one second; account is Deckhand's own.
	times   *pushTimes
	account string
}

// plan applies rule 1 (accept, with the origin and time checks) and rule
// 2 (coalesce) to a batch. times orders pushes in one second.
func (e *Engine) plan(m *manifest.Manifest, pushes []Push, times *pushTimes) ([]plan, []Outcome) {
	var outcomes []Outcome
	byBinding := map[string]*plan{}
	var order []string
	for _, p := range pushes {
		if reason, ok := e.trusted(m, p); !ok {
			outcomes = append(outcomes, skipped(p, nil, reason))
			continue
		}
		if err := e.timely(p); err != nil {
			outcomes = append(outcomes, failed(Outcome{Pushes: []Push{p}, Event: pushEvent(p, "", "")}, err))
			continue
		}
		bindings := bindingsFor(m, p)
		if len(bindings) == 0 {
			outcomes = append(outcomes, skipped(p, nil, notBound(p)))
			continue
		}
		for _, b := range bindings {
			containers := acceptPush(b, p)
			if len(containers) == 0 {
				outcomes = append(outcomes, skipped(p, b, notAccepted(b, p)))
				continue
			}
			pl := byBinding[b.Name]
			if pl == nil {
				pl = &plan{binding: b, pushes: map[string]Push{}, times: times, account: e.Account}
				byBinding[b.Name] = pl
				order = append(order, b.Name)
			}
			for _, c := range containers {
				if lost, ok := pl.coalesce(c, p); ok {
					outcomes = append(outcomes, lost)
				}
			}
		}
	}
	plans := make([]plan, 0, len(order))
	for _, name := range order {
		plans = append(plans, *byBinding[name])
	}
	return plans, outcomes
}

func filterBinding(bs []*manifest.Service, name string) []*manifest.Service {
	for _, b := range bs {
		if b.Name == name {
			return []*manifest.Service{b}
		}
	}
	return nil
}

// accept is rule 1 for one binding: the containers, in name order, whose
// repository is the pushed one and whose tag policy accepts the pushed tag.
// (PushFromEvent accepts only successful, tagged pushes; trusted only
// Deckhand's own account and Region or the manifest's sources.)
func accept(b *manifest.Service, p Push) []string {
	var out []string
	for _, c := range slices.Sorted(maps.Keys(b.Images)) {
		if img := b.Images[c]; img.Repository == p.Repository && img.Policy().Match(p.Tag) {
			out = append(out, c)
		}
	}
	return out
}

// coalesce is rule 2: within a batch only the newest push per binding and
// container is deployed. It records p for container c and returns the
// SUPERSEDED outcome of the push that lost to the other, if one did.
func (pl *plan) coalesce(c string, p Push) (Outcome, bool) {
	prev, ok := pl.pushes[c]
	switch {
	case !ok:
		pl.pushes[c] = p
		return Outcome{}, false
	case pl.newer(p, prev, pl.binding.Images[c]):
		pl.pushes[c] = p
		return supersededInBatch(prev, pl.binding, c, p), true
	default:
		return supersededInBatch(p, pl.binding, c, prev), true
	}
}

// newer reports whether a should win over b for the same container: rule
// 5's order (pushTimes, with ECR's precise times fetched before planning
// for pushes in one second), then arrival order (b arrived first).
func (pl *plan) newer(a, b Push, img manifest.Image) bool {
	return pl.times.known(img.Policy(), stampOf(a, pl.account), stampOf(b, pl.account)) >= 0
}

// timely is rule 1 for a push's time (issue 10 item 3): an event time is
// input, not truth, and one more than revision.MaxClockSkew ahead of the
// engine's clock is refused for good, before it can become a pushed-at
// mark that would make every genuine push look older.
func (e *Engine) timely(p Push) error {
	now := e.Now()
	if !revision.Future(p.PushedAt, now) {
		return nil
	}
	return &revision.PermanentError{Reason: "EventTimeInFuture", Err: fmt.Errorf(
		"$.time: push of %s:%s at %s is %s ahead of the deployer's clock (%s); more than %s is refused",
		p.Repository, p.Tag, p.PushedAt.UTC().Format(time.RFC3339), p.PushedAt.Sub(now).Round(time.Second),
		now.UTC().Format(time.RFC3339), revision.MaxClockSkew)}
}

// hold is rule 3: a service tagged deckhand:hold is skipped with HELD
// unless the deploy is forced. It returns the HELD reason.
func hold(service revision.Tags, lead Push) (string, bool) {
	why, held := service[revision.TagHold]
	if !held || lead.Force {
		return "", false
	}
	reason := "service is held (" + revision.TagHold + ")"
	if why != "" {
		reason += ": " + why
	}
	return reason, true
}

// dedupe is rule 4: the running revision already has this digest for this
// container and the same template version, so there is nothing to do.
// Duplicate deliveries are normal.
func dedupe(run *running, c string, p Push, templateVersion string) bool {
	return run.digest(c) == p.Digest && run.tags[revision.TagTemplate] == revision.TagValue(templateVersion)
}

// order is rule 5: a push older than the container's running image (its
// pushed-at tag) is SUPERSEDED unless the trigger is manual with force;
// Deckhand never moves a service to an older image on its own. Pushes in
// one second order by version under a semver policy, else by ECR's
// precise push times (pushTimes). A pushed-at mark far in the future
// (revision.Tags.PushedAtAsOf) is not trusted. It returns why the push is
// older.
func (e *Engine) order(ctx context.Context, run *running, c string, p Push, img manifest.Image, times *pushTimes) (string, bool, error) {
	at, ok, _ := run.tags.PushedAtAsOf(c, e.Now())
	if !ok || (p.Trigger == events.TriggerManual && p.Force) {
		return "", false, nil
	}
	cur := stamp{Registry: stampOf(p, e.Account).Registry, Repository: p.Repository, Tag: run.tags[revision.TagImageTag+c], Digest: run.digest(c), At: at}
	cmp, err := times.order(ctx, img.Policy(), stampOf(p, e.Account), cur)
	if err != nil || cmp >= 0 {
		return "", false, err
	}
	return fmt.Sprintf("%s (pushed %s, running image pushed %s)", c, p.PushedAt.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)), true, nil
}

// rolledBack is the rolled-back check: a digest rolled back from a
// container (named by the service's deckhand:rolled-back:<container> tag,
// which keeps the last revision.MaxRolledBack) is not deployed to it again
// on its own, which would roll back again, forever. A forced deploy may.
func rolledBack(service revision.Tags, c string, p Push) bool {
	return service.RolledBack(c, p.Digest) && !p.Force
}

// rolledBack is the rolled-back check on what runs: the service's
// rolled-back mark (rolledBack), or, when the tracker has not written it,
// ECS's own state: the service was moved back off Deckhand's newest
// revision, or ECS lists a deployment of one of the binding's revisions
// FAILED, and that revision deployed this digest (running.movedBack). It
// returns how the digest was found rolled back.
func (r *running) rolledBack(c string, p Push) (string, bool) {
	switch {
	case p.Force:
		return "", false
	case rolledBack(r.serviceTags(), c, p):
		return "was rolled back by the circuit breaker", true
	case p.Digest == "":
		return "", false
	}
	for _, m := range r.movedBack {
		if m.marks[revision.TagRolledBack+c] != p.Digest {
			continue
		}
		if r.latest != nil && m.revision == aws.ToString(r.latest.TaskDefinition.TaskDefinitionArn) {
			return fmt.Sprintf("was rolled back: Deckhand's newest revision %s deployed it and the service was moved back to %s (no %s mark yet)",
				m.revision, aws.ToString(r.service.TaskDefinition), revision.TagRolledBack+c), true
		}
		return fmt.Sprintf("was rolled back: Deckhand's revision %s deployed it and ECS lists that deployment FAILED; the service was moved back to %s (no %s mark yet)",
			m.revision, aws.ToString(r.service.TaskDefinition), revision.TagRolledBack+c), true
	}
	return "", false
}

// triage applies rules 4 and 5 and the rolled-back check to every pushed
// container. It returns the pushes left to deploy or, when none is left,
// the outcome's status and reason; an error when ECR could not order
// pushes in one second.
func (e *Engine) triage(ctx context.Context, run *running, pl plan, templateVersion string) (map[string]Push, events.DeploymentStatus, string, error) {
	deploy := map[string]Push{}
	var already, older []string
	for _, c := range slices.Sorted(maps.Keys(pl.pushes)) {
		p := pl.pushes[c]
		if dedupe(run, c, p, templateVersion) {
			already = append(already, c)
			continue
		}
		why, isOlder, err := e.order(ctx, run, c, p, pl.binding.Images[c], pl.times)
		switch {
		case err != nil:
			return nil, "", "", err
		case isOlder:
			older = append(older, why)
		default:
			deploy[c] = p
		}
	}
	switch {
	case len(deploy) == 0 && len(older) > 0:
		return nil, events.StatusSuperseded, "older than the running image: " + strings.Join(slices.Sorted(slices.Values(older)), "; "), nil
	case len(deploy) == 0:
		return nil, events.StatusAlreadyDeployed, fmt.Sprintf("running revision already has this digest and template version (%s)",
			strings.Join(slices.Sorted(slices.Values(already)), ", ")), nil
	}
	for c, p := range deploy {
		if why, ok := run.rolledBack(c, p); ok {
			delete(deploy, c)
			older = append(older, fmt.Sprintf("%s: image %s %s; push a new image or deploy --force", c, shortDigest(p.Digest), why))
		}
	}
	if len(deploy) == 0 {
		return nil, events.StatusSkipped, strings.Join(slices.Sorted(slices.Values(older)), "; "), nil
	}
	return deploy, "", "", nil
}

// keepOther is rule 6: a container that is not pushed keeps its current
// image, read from the running revision, with the revision's tags for it.
// A container with no running image to keep is a permanent error. A
// pushed-at mark far in the future (now) is not carried forward.
func keepOther(b *manifest.Service, c string, run *running, now time.Time) (taskdef.Image, revision.Tags, error) {
	img, ok := run.image(c)
	if !ok {
		return taskdef.Image{}, nil, &revision.PermanentError{Reason: "NoRunningImage", Err: fmt.Errorf(
			"binding %s: container %s has no running image to keep; push an image to %s first", b.Name, c, b.Images[c].Repository)}
	}
	tags := revision.Tags{}
	for _, k := range []string{revision.TagDigest + c, revision.TagImageTag + c, revision.TagPushedAt + c} {
		if v, ok := run.tags[k]; ok {
			tags[k] = v
		}
	}
	if _, _, poisoned := run.tags.PushedAtAsOf(c, now); poisoned {
		delete(tags, revision.TagPushedAt+c) // not carried forward (issue 10 item 3)
		img.PushedAt = time.Time{}
	}
	if _, ok := tags[revision.TagDigest+c]; !ok && img.Digest != "" {
		tags[revision.TagDigest+c] = img.Digest
	}
	return img, tags, nil
}
