package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/manifest"
	"github.com/deckhand-ecs/deckhand/shared/taskdef"
)

// running is what a service runs now.
type running struct {
	service *types.Service
	def     *types.TaskDefinition
	tags    Tags
	// latest is the family's latest revision when it was read in parallel.
	latest *ecs.DescribeTaskDefinitionOutput
}

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
		case hasAt && p.PushedAt.Before(at) && !(p.Trigger == events.TriggerManual && p.Force):
			older = append(older, fmt.Sprintf("%s (pushed %s, running image pushed %s)", c, p.PushedAt.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)))
		default:
			deploy[c] = p
		}
	}
	if len(deploy) == 0 {
		if len(older) > 0 {
			o.Event.Status = events.StatusSuperseded
			o.Event.Reason = "older than the running image: " + strings.Join(sorted(older), "; ")
		} else {
			o.Event.Status = events.StatusAlreadyDeployed
			o.Event.Reason = fmt.Sprintf("running revision already has this digest and template version (%s)", strings.Join(sorted(already), ", "))
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
		o.Event.Reason = strings.Join(sorted(older), "; ")
		return o
	}

	// Rule 6: the other containers keep their current images.
	data := taskdef.Data{
		Account: e.Account, Region: e.Region, Cluster: b.Cluster, Service: b.Service,
		Images: map[string]taskdef.Image{}, Primary: Primary(b), Vars: b.Vars,
	}
	newTags := Tags{
		TagBinding: b.Name, TagTrigger: string(lead.Trigger), TagEventID: lead.EventID,
		TagTemplate: TagValue(tmpl.Version), TagChanged: strings.Join(sortedKeys(deploy), " "),
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
	rendered, err := taskdef.Render(tmpl.Body, data, taskdef.Options{Key: b.Template, Roles: m.Roles})
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
	arn, err := e.reuseOrRegister(ctx, rendered, newTags, run.latest, anyRedelivered(pl.pushes))
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
	o.Event.Reason = fmt.Sprintf("deploying %s", strings.Join(sortedKeys(deploy), ", "))
	return o
}

// describe reads the service (with its tags) and its running revision. When
// the family's latest revision, read in parallel, is the running one, it
// serves as the running revision too and saves a call.
func (e *Engine) describe(ctx context.Context, b *manifest.Service, latest func() *ecs.DescribeTaskDefinitionOutput) (*running, error) {
	var out *ecs.DescribeServicesOutput
	err := e.retry(ctx, func() error {
		var err error
		out, err = e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(b.Cluster), Services: []string{b.Service},
			Include: []types.ServiceField{types.ServiceFieldTags},
		})
		return err
	})
	l := latest() // wait for the parallel reads either way
	if err != nil {
		return nil, fmt.Errorf("describe service %s/%s: %w", b.Cluster, b.Service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return nil, &PermanentError{Reason: "ServiceNotFound", Err: fmt.Errorf("service %s not found in cluster %s (binding %s)", b.Service, b.Cluster, b.Name)}
	}
	svc := out.Services[0]
	run := &running{service: &svc, latest: l}
	if l != nil && aws.ToString(l.TaskDefinition.TaskDefinitionArn) == aws.ToString(svc.TaskDefinition) {
		run.def, run.tags = l.TaskDefinition, TagsOf(l.Tags)
		return run, nil
	}
	td, err := e.describeTaskDefinition(ctx, aws.ToString(svc.TaskDefinition))
	if err != nil {
		return nil, fmt.Errorf("describe running task definition %s: %w", aws.ToString(svc.TaskDefinition), err)
	}
	run.def, run.tags = td.TaskDefinition, TagsOf(td.Tags)
	return run, nil
}

// describeTaskDefinition reads a revision (or a family's latest) with tags.
func (e *Engine) describeTaskDefinition(ctx context.Context, ref string) (*ecs.DescribeTaskDefinitionOutput, error) {
	var out *ecs.DescribeTaskDefinitionOutput
	err := e.retry(ctx, func() error {
		var err error
		out, err = e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		})
		return err
	})
	return out, err
}

func (r *running) serviceTags() Tags { return TagsOf(r.service.Tags) }

func (r *running) container(name string) (types.ContainerDefinition, bool) {
	for _, c := range r.def.ContainerDefinitions {
		if aws.ToString(c.Name) == name {
			return c, true
		}
	}
	return types.ContainerDefinition{}, false
}

// digest is the running digest of a container: its tag, else the @digest of
// its image reference.
func (r *running) digest(c string) string {
	if d, ok := r.tags[TagDigest+c]; ok {
		return d
	}
	if cd, ok := r.container(c); ok {
		return taskdef.ParseImageURI(aws.ToString(cd.Image)).Digest
	}
	return ""
}

// image is a container's running image, kept as the revision names it.
func (r *running) image(c string) (taskdef.Image, bool) {
	cd, ok := r.container(c)
	if !ok || aws.ToString(cd.Image) == "" {
		return taskdef.Image{}, false
	}
	img := taskdef.ParseImageURI(aws.ToString(cd.Image))
	if t, ok := r.tags[TagImageTag+c]; ok && img.Digest != "" {
		img.Tag = t
	}
	if at, ok := r.tags.PushedAt(c); ok {
		img.PushedAt = at
	}
	return img, true
}

// reuseOrRegister returns the ARN of a revision with exactly this content:
// an existing one (rule 7) or a newly registered one. RegisterTaskDefinition
// is not idempotent, so it is never retried blindly: the SDK does not retry
// it, and before the engine tries again it looks whether the failed attempt
// registered the revision after all (a 5xx or a reset after the write).
func (e *Engine) reuseOrRegister(ctx context.Context, r *taskdef.Rendered, tags Tags, known *ecs.DescribeTaskDefinitionOutput, redelivered bool) (string, error) {
	family := aws.ToString(r.Input.Family)
	if arn, ok, err := e.findRevision(ctx, family, r.Hash, known, redelivered); err != nil || ok {
		return arn, err
	}
	in := *r.Input
	in.Tags = tags.ECS()
	if err := e.pace(ctx, e.RegisterLimit); err != nil {
		return "", fmt.Errorf("wait for register rate: %w", err)
	}
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := e.ECS.RegisterTaskDefinition(ctx, &in, noSDKRetry)
		if err == nil {
			return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
		}
		if attempt >= e.Attempts || !Retryable(err) {
			return "", fmt.Errorf("register task definition %s: %w", family, err)
		}
		if err := e.Sleep(ctx, delay); err != nil {
			return "", err
		}
		delay *= 2
		if arn, ok, ferr := e.findRevision(ctx, family, r.Hash, nil, false); ferr == nil && ok {
			return arn, nil
		}
	}
}

// noSDKRetry turns off the SDK's retries for one call.
func noSDKRetry(o *ecs.Options) { o.RetryMaxAttempts = 1 }

// recentRevisions is how far back a redelivered push looks for a revision
// with its content before registering one.
const recentRevisions = 10

// findRevision looks for a revision of family with the given content hash:
// the family's latest (known, when read already), and for a redelivered
// push also the recent ones, since a crash between register and update may
// have been followed by another binding's revision.
func (e *Engine) findRevision(ctx context.Context, family, hash string, known *ecs.DescribeTaskDefinitionOutput, deep bool) (string, bool, error) {
	latest := known
	if latest == nil || aws.ToString(latest.TaskDefinition.Family) != family {
		var err error
		latest, err = e.describeTaskDefinition(ctx, family)
		if isClientNotFound(err) {
			return "", false, nil // a new family
		}
		if err != nil {
			return "", false, fmt.Errorf("describe latest revision of %s: %w", family, err)
		}
	}
	latestARN := aws.ToString(latest.TaskDefinition.TaskDefinitionArn)
	if TagsOf(latest.Tags)[TagContentHash] == hash {
		return latestARN, true, nil
	}
	if !deep {
		return "", false, nil
	}
	var list *ecs.ListTaskDefinitionsOutput
	err := e.retry(ctx, func() error {
		var err error
		list, err = e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{
			FamilyPrefix: aws.String(family), Sort: types.SortOrderDesc, Status: types.TaskDefinitionStatusActive,
			MaxResults: aws.Int32(recentRevisions),
		})
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("list revisions of %s: %w", family, err)
	}
	for _, arn := range list.TaskDefinitionArns {
		if arn == latestARN || familyOfARN(arn) != family {
			continue // a prefix match such as web-staging for web
		}
		td, err := e.describeTaskDefinition(ctx, arn)
		if err != nil {
			return "", false, fmt.Errorf("describe revision %s: %w", arn, err)
		}
		if TagsOf(td.Tags)[TagContentHash] == hash {
			return arn, true, nil
		}
	}
	return "", false, nil
}

// familyOfARN returns the family of a task-definition ARN.
func familyOfARN(arn string) string {
	ref := arn[strings.LastIndex(arn, "/")+1:]
	family, _, _ := strings.Cut(ref, ":")
	return family
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
	keys := sortedKeys(b.Images)
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
	for _, c := range sortedKeys(ps) {
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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string { sort.Strings(s); return s }

func sortStrings(s []string) { sort.Strings(s) }
