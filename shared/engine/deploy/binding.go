package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// deployBinding applies rules 3 to 8 to one binding. rd holds the
// binding's reads when they were started already (nil: start them now).
func (e *Engine) deployBinding(ctx context.Context, m *manifest.Manifest, pl plan, rd *reads) Outcome {
	b := pl.binding
	lead := leadPush(pl.pushes)
	o := Outcome{Event: bindingEvent(lead, b)}
	for _, p := range pl.pushes {
		o.Pushes = appendPush(o.Pushes, p)
	}
	o.Event.Containers = map[string]events.ContainerChange{}
	for c, p := range pl.pushes {
		o.Event.Containers[c] = events.ContainerChange{NewDigest: p.Digest, NewTag: p.Tag}
	}
	o.Event.DurationMS = e.Now().Sub(lead.PushedAt).Milliseconds()
	if lead.PushedAt.IsZero() {
		o.Event.DurationMS = 0
	}

	if rd == nil {
		rd = e.startReads(ctx, b)
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

	// Rule 3: hold.
	if reason, held := run.serviceTags()[TagHold]; held && !lead.Force {
		o.Event.Status = events.StatusHeld
		o.Event.Reason = "service is held (deckhand:hold)"
		if reason != "" {
			o.Event.Reason += ": " + reason
		}
		return o
	}

	// Rules 4 and 5: dedupe and order, per pushed container.
	deploy := map[string]Push{}
	var already, older []string
	for c, p := range pl.pushes {
		runDigest := run.digest(c)
		at, hasAt := run.tags.PushedAt(c)
		switch {
		case runDigest == p.Digest && run.tags[TagTemplate] == TagValue(tmpl.Version):
			already = append(already, c)
		case hasAt && olderThanRunning(p, at, run.tags[TagImageTag+c], b.Images[c]) && !(p.Trigger == events.TriggerManual && p.Force):
			older = append(older, fmt.Sprintf("%s (pushed %s, running image pushed %s)", c, p.PushedAt.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)))
		default:
			deploy[c] = p
		}
	}
	if len(deploy) == 0 {
		if len(older) > 0 {
			o.Event.Status = events.StatusSuperseded
			o.Event.Reason = "older than the running image: " + strings.Join(slices.Sorted(slices.Values(older)), "; ")
		} else {
			o.Event.Status = events.StatusAlreadyDeployed
			o.Event.Reason = fmt.Sprintf("running revision already has this digest and template version (%s)", strings.Join(slices.Sorted(slices.Values(already)), ", "))
		}
		return o
	}

	// A digest the circuit breaker rolled back is not deployed again to the
	// same container on its own: that would roll back again, forever.
	for c, p := range deploy {
		if bad := run.serviceTags()[TagRolledBack+c]; bad == p.Digest && !p.Force {
			delete(deploy, c)
			older = append(older, fmt.Sprintf("%s: image %s was rolled back by the circuit breaker; push a new image or deploy --force", c, shortDigest(p.Digest)))
		}
	}
	if len(deploy) == 0 {
		o.Event.Status = events.StatusSkipped
		o.Event.Reason = strings.Join(slices.Sorted(slices.Values(older)), "; ")
		return o
	}

	// Catch-up: in a burst the register waits for a token anyway; take it
	// first, then deploy the newest eligible image ECR has.
	var caught []string
	paced := false
	if e.ECR != nil && e.bursting() {
		if err := e.pace(ctx, e.RegisterLimit); err != nil {
			return failed(o, fmt.Errorf("wait for register rate: %w", err))
		}
		paced = true
		caught = e.catchUp(ctx, b, deploy, run)
		for c, p := range deploy {
			if ch := o.Event.Containers[c]; ch.NewDigest != p.Digest {
				ch.PushedDigest, ch.PushedTag = ch.NewDigest, ch.NewTag
				ch.NewDigest, ch.NewTag = p.Digest, p.Tag
				o.Event.Containers[c] = ch
			}
		}
	}

	// Rule 6: the other containers keep their current images.
	data := taskdef.Data{
		Account: e.Account, Region: e.Region, Cluster: b.Cluster, Service: b.Service,
		Images: map[string]taskdef.Image{}, Primary: Primary(b), Vars: b.Vars,
	}
	newTags := Tags{
		TagBinding: b.Name, TagTrigger: string(lead.Trigger), TagEventID: lead.EventID,
		TagTemplate: TagValue(tmpl.Version), TagChanged: strings.Join(slices.Sorted(maps.Keys(deploy)), " "),
	}
	for c := range b.Images {
		if p, ok := deploy[c]; ok {
			data.Images[c] = taskdef.Image{Registry: registryOf(p, e), Repository: p.Repository, Tag: p.Tag, Digest: p.Digest, PushedAt: p.PushedAt}
			newTags[TagDigest+c] = p.Digest
			newTags[TagImageTag+c] = p.Tag
			newTags[TagPushedAt+c] = p.PushedAt.UTC().Format(time.RFC3339Nano)
			continue
		}
		img, ok := run.image(c)
		if !ok {
			return failed(o, &PermanentError{Reason: "NoRunningImage", Err: fmt.Errorf(
				"binding %s: container %s has no running image to keep; push an image to %s first", b.Name, c, b.Images[c].Repository)})
		}
		data.Images[c] = img
		for _, k := range []string{TagDigest + c, TagImageTag + c, TagPushedAt + c} {
			if v, ok := run.tags[k]; ok {
				newTags[k] = v
			}
		}
		if _, ok := newTags[TagDigest+c]; !ok && img.Digest != "" {
			newTags[TagDigest+c] = img.Digest
		}
	}
	rendered, err := taskdef.Render(tmpl.Body, data, taskdef.Options{Key: b.Template, Roles: m.Roles, Allow: b.Allow, Sources: m.Sources})
	if err != nil {
		return failed(o, err)
	}
	newTags[TagContentHash] = rendered.Hash
	if run.tags[TagContentHash] == rendered.Hash {
		o.Event.Status = events.StatusAlreadyDeployed
		o.Event.Reason = "running revision has the same rendered content"
		return o
	}

	// Rule 7: reuse the family's latest revision if it has the same content
	// (a crash between register and update must not register twice).
	e.families.Store(b.Name, aws.ToString(rendered.Input.Family))
	arn, err := e.reuseOrRegister(ctx, rendered, newTags, run.latest, anyRedelivered(pl.pushes), paced)
	if err != nil {
		return failed(o, err)
	}
	o.Event.NewRevision = arn

	// Rule 8: update the service with the manifest's circuit breaker.
	depID, err := e.update(ctx, b, arn)
	if err != nil {
		return failed(o, err)
	}
	o.Event.DeploymentID = depID
	o.Event.Status = events.StatusStarted
	o.Event.Reason = fmt.Sprintf("deploying %s", strings.Join(slices.Sorted(maps.Keys(deploy)), ", "))
	if len(caught) > 0 {
		o.Event.Reason += "; " + strings.Join(caught, "; ")
	}
	return o
}

// update points the service at arn and returns the new deployment's id.
func (e *Engine) update(ctx context.Context, b *manifest.Service, arn string) (string, error) {
	cb := &types.DeploymentCircuitBreaker{
		Enable:   b.CircuitBreaker != manifest.CircuitBreakerOff,
		Rollback: b.CircuitBreaker == manifest.CircuitBreakerRollback || b.CircuitBreaker == "",
	}
	if err := e.pace(ctx, e.UpdateLimit); err != nil {
		return "", fmt.Errorf("wait for update rate: %w", err)
	}
	var out *ecs.UpdateServiceOutput
	err := e.retry(ctx, func() error {
		var err error
		out, err = e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String(b.Cluster), Service: aws.String(b.Service), TaskDefinition: aws.String(arn),
			DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: cb},
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("update service %s/%s: %w", b.Cluster, b.Service, err)
	}
	for _, d := range out.Service.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && aws.ToString(d.TaskDefinition) == arn {
			return aws.ToString(d.Id), nil
		}
	}
	return "", nil
}

// pace waits for a token of lim on the engine's clock (Now and Sleep), so a
// simulation on a virtual clock is paced in virtual time.
func (e *Engine) pace(ctx context.Context, lim *rate.Limiter) error {
	now := e.Now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("rate limiter cannot grant a token (burst %d)", lim.Burst())
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := e.Sleep(ctx, d); err != nil {
			r.CancelAt(e.Now())
			return err
		}
	}
	return nil
}

// retry runs f, retrying throttling and server errors with backoff.
func (e *Engine) retry(ctx context.Context, f func() error) error {
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt >= e.Attempts || !Retryable(err) || errors.Is(err, context.Canceled) {
			return err
		}
		if err := e.Sleep(ctx, delay); err != nil {
			return err
		}
		delay *= 2
	}
}

// isClientNotFound reports ECS's answer for a family with no active
// revision: a ClientException ("Unable to describe task definition.").
func isClientNotFound(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ClientException"
}

// Primary is the container whose image .Image refers to: the one named like
// the binding or the service, else the first in name order.
func Primary(b *manifest.Service) string {
	for _, n := range []string{b.Name, b.Service} {
		if _, ok := b.Images[n]; ok {
			return n
		}
	}
	keys := slices.Sorted(maps.Keys(b.Images))
	return keys[0]
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
		ch.OldTag = r.tags[TagImageTag+c]
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

// olderThanRunning is rule 5's test: the push was pushed before the running
// image (at, its pushed-at tag), or in the same instant with a lower version
// under a semver policy (ECR's event times have whole seconds, so two pushes
// of one repository can share one; coalescing breaks the tie the same way).
func olderThanRunning(p Push, at time.Time, runningTag string, img manifest.Image) bool {
	if p.PushedAt.Before(at) {
		return true
	}
	return p.PushedAt.Equal(at) && runningTag != "" && img.Policy().Compare(p.Tag, runningTag) < 0
}
