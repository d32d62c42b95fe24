package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// The classes an outside review found and the first suite never produced
// (issue 10 items 2 to 5, issue 17): same-second pushes under policies
// without a version order, event times far ahead of the clock and a few
// seconds ahead, forged and stale tracker events, TagResource outages with
// late redeliveries of rolled-back pushes, and a shared template changed
// mid-run. Their invariants are in trust_check.go.

// Input kinds of the trust classes.
const (
	KindTie     = "tie"          // one of two pushes in one second, policy without version order
	KindFuture  = "future-time"  // a push whose event time is in 2099
	KindSkew    = "skewed-time"  // a push whose event time is a few seconds ahead
	KindForged  = "forged-event" // a forged or stale ECS deployment event for the tracker
	KindLate    = "late-redelivery"
	KindForeign = "foreign-account" // a push from an account the manifest does not trust
	// RouteTracker delivers an input to the tracker (not the deploy queue).
	RouteTracker = "tracker"
)

// futureTime is the time of KindFuture events.
var futureTime = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

// addTieServices adds services whose policies cannot order tags (glob,
// regex, *), each on its own repository: same-second pushes go there.
func (w *world) addTieServices() {
	w.tagFormat = map[string]string{}
	for _, t := range []struct{ name, repo, policy, format string }{
		{"svc-glob", "glob-app", "glob:stable-*", "stable-%d"},
		{"svc-regex", "regex-app", "regex:^rc-[0-9]+$", "rc-%d"},
		{"svc-star", "star-app", "*", "build-%d"},
	} {
		w.services = append(w.services, service{name: t.name, images: map[string]string{appC: t.repo}, policy: t.policy})
		w.byRepo[t.repo] = append(w.byRepo[t.repo], feed{t.name, appC})
		w.ties = append(w.ties, t.repo)
		w.tagFormat[t.repo] = t.format
	}
}

// tagOf is repository repo's tag format.
func (w *world) tagOf(repo string) string {
	if f, ok := w.tagFormat[repo]; ok {
		return f
	}
	return "1.0.%d"
}

// trust draws one input of the trust classes. Some deliver part of their
// work at once (r.pre).
func (r *runner) trust() *Input {
	x := r.rnd.Float64()
	switch {
	case x < 0.35:
		return r.tie()
	case x < 0.45:
		in := r.push(KindFuture, r.pick(r.w.appRepos), true)
		in.Raw = r.imageEventAt(in, events.ActionPush, futureTime)
		return in
	case x < 0.60:
		in := r.push(KindSkew, r.pick(r.w.appRepos), true)
		in.PushedAt = in.PushedAt.Add(time.Duration(1+r.rnd.IntN(4)) * time.Second)
		in.Raw = r.imageEventAt(in, events.ActionPush, in.PushedAt)
		return in
	case x < 0.80:
		if in := r.forged(); in != nil {
			return in
		}
	case x < 0.85:
		if in := r.late(); in != nil {
			return in
		}
	case x < 0.90:
		// The image is in the other account's registry, not in ours.
		repo := r.pick(r.w.appRepos)
		in := r.add(&Input{Kind: KindForeign, Repo: repo, Tag: fmt.Sprintf(r.w.tagOf(repo), 9000+len(r.res.Inputs)),
			Digest: fmt.Sprintf("sha256:%064x", len(r.res.Inputs)), PushedAt: r.sb.Clock().Now()})
		var ev events.ImageActionEvent
		_ = json.Unmarshal(r.imageEvent(in, events.ActionPush), &ev)
		ev.Account = "999999999999"
		in.Raw, _ = json.Marshal(ev)
		return in
	default:
		// A TagResource outage: the next calls fail, so the tracker cannot
		// record the rollbacks that happen meanwhile.
		r.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "TagResource", Kind: sandbox.FaultThrottle, Count: 10 + r.rnd.IntN(50)})
		r.res.TagOutages++
	}
	return r.push(KindBroken, r.pick(r.w.breakable), true)
}

// tie pushes two images to a repository without version order in one
// second; the later is delivered (and pumped) at once, the earlier is
// returned to arrive after it, in another batch.
func (r *runner) tie() *Input {
	repo := r.pick(r.w.ties)
	r.tags[repo] += 2
	a, b := fmt.Sprintf(r.w.tagOf(repo), r.tags[repo]-1), fmt.Sprintf(r.w.tagOf(repo), r.tags[repo])
	if r.rnd.IntN(2) == 0 {
		// The later push's tag sorts first half the time: only ECR's times
		// can order them.
		a, b = b+"0", a
	}
	earlier := r.pushTag(KindTie, repo, a)
	r.sb.Clock().Advance(300 * time.Millisecond)
	later := r.pushTag(KindTie, repo, b)
	r.sb.Clock().Advance(700 * time.Millisecond)
	r.pre = append(r.pre, later)
	return earlier
}

// forged is an ECS deployment event ECS contradicts: FAILED for a
// deployment that completed, COMPLETED for one that failed, or a real
// event delivered again long after (stale).
func (r *runner) forged() *Input {
	s := r.w.services[r.rnd.IntN(len(r.w.services))]
	snap, ok := ecsOf(r.sb, r.w, s.name).Service(cluster, s.name)
	if !ok || len(snap.Deployments) == 0 {
		return nil
	}
	d := snap.Deployments[r.rnd.IntN(len(snap.Deployments))]
	name := ""
	switch d.RolloutState {
	case "COMPLETED":
		name = events.DeploymentFailed
	case "FAILED":
		name = events.DeploymentCompleted
	default:
		return nil
	}
	in := r.add(&Input{Kind: KindForged, Route: RouteTracker, ID: fmt.Sprintf("forged-%06d", len(r.res.Inputs))})
	// A target's events reach the tracker forwarded, with its account and
	// Region.
	account, region := r.sb.Account(), r.sb.Region()
	if t, ok := r.w.targetOf(s.name); ok {
		account, region = t.account, t.region
	}
	in.Raw, _ = json.Marshal(events.Envelope[events.ECSDeploymentStateChange]{
		Version: "0", ID: in.ID, DetailType: events.DetailTypeDeploymentStateChange, Source: events.SourceECS,
		Account: account, Region: region, Time: r.sb.Clock().Now().UTC().Truncate(time.Second), Resources: []string{snap.ARN},
		Detail: events.ECSDeploymentStateChange{EventType: "ERROR", EventName: name, DeploymentID: d.ID, UpdatedAt: r.sb.Clock().Now(),
			Reason: "forged by the chaos suite"},
	})
	return in
}

// late delivers a broken push again after FIFO's five-minute
// deduplication window, as EventBridge's at-least-once delivery may: the
// last push to its repository when there is one (only the rolled-back
// check stands between it and a redeploy), else any.
func (r *runner) late() *Input {
	last := map[string]*Input{}
	for _, in := range r.res.Inputs {
		if in.Of == nil && in.Repo != "" && in.Tag != "" {
			last[in.Repo] = in
		}
	}
	var last1, any []*Input
	for _, in := range r.res.Inputs {
		if in.Kind != KindBroken || r.sb.Clock().Now().Sub(in.PushedAt) <= 5*time.Minute+10*time.Second {
			continue
		}
		if any = append(any, in); last[in.Repo] == in {
			last1 = append(last1, in)
		}
	}
	if len(last1) > 0 {
		any = last1
	}
	if len(any) == 0 {
		return nil
	}
	pick := any[r.rnd.IntN(len(any))]
	return r.add(&Input{Kind: KindLate, Route: pick.Route, ID: pick.ID, Of: pick, Raw: pick.Raw,
		Repo: pick.Repo, Tag: pick.Tag, Digest: pick.Digest, PushedAt: pick.PushedAt})
}

// finale is issue 10 item 2 played out: a broken image is pushed last to
// every breakable repository while TagResource fails throughout, so the
// tracker cannot record the rollbacks (its events end in its DLQ after
// Lambda's retries); then every such push is delivered again, as
// at-least-once delivery may, and a reconcile pass runs. Only ECS's own
// state stands between the broken images and a redeploy (invariant 8).
func (r *runner) finale(ctx context.Context) error {
	r.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "TagResource", Kind: sandbox.FaultThrottle})
	var last []*Input
	for _, repo := range r.w.breakable {
		in := r.push(KindBroken, repo, true)
		in.Route = RouteQueue
		if err := r.deliver(ctx, in); err != nil {
			return err
		}
		last = append(last, in)
	}
	if err := r.drain(ctx); err != nil {
		return err
	}
	for i := 0; len(r.trackerRetries) > 0 && i < 10; i++ {
		r.sb.Clock().Advance(time.Minute)
		r.pump(ctx)
	}
	r.sb.ClearFaults()
	r.faults()
	r.sb.Clock().Advance(5 * time.Minute) // past FIFO's deduplication window
	for _, of := range last {
		in := r.add(&Input{Kind: KindLate, ID: of.ID, Of: of, Raw: of.Raw, Repo: of.Repo, Tag: of.Tag, Digest: of.Digest, PushedAt: of.PushedAt})
		if err := r.deliver(ctx, in); err != nil {
			return err
		}
		r.res.Redelivered++
	}
	if err := r.drain(ctx); err != nil {
		return err
	}
	// The reconciler sees the services behind ECR's newest images (the
	// broken ones) and must not enqueue them; it repairs the marks.
	rep, err := r.st.Reconciler.Run(ctx)
	if err != nil {
		r.res.ReconcileErrors = append(r.res.ReconcileErrors, err.Error())
	}
	r.res.ReconcileEnqueued += len(rep.Enqueued)
	if _, err := r.st.Pump(ctx); err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("pump stack router: %w", err))
	}
	return r.drain(ctx)
}

// imageEventAt is imageEvent with the event's time set (whole seconds, as
// EventBridge writes them).
func (r *runner) imageEventAt(in *Input, action string, at time.Time) []byte {
	raw, _ := json.Marshal(events.ImageActionEvent{
		Version: "0", ID: in.ID, DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
		Account: r.sb.Account(), Region: r.sb.Region(), Time: at.UTC().Truncate(time.Second), Resources: []string{},
		Detail: events.ECRImageAction{Result: events.ResultSuccess, ActionType: action, RepositoryName: in.Repo,
			ImageDigest: in.Digest, ImageTag: in.Tag},
	})
	return raw
}

// changeTemplate changes the template every single-container service
// shares, mid-run: revisions rendered from it after the change carry its
// environment variable (invariant 10).
func (r *runner) changeTemplate(ctx context.Context) error {
	src := store.NewS3(r.st.S3, local.Bucket, "deckhand.yaml")
	before, err := src.Template(ctx, "single.json")
	for i := 0; err != nil && i < 10; i++ {
		before, err = src.Template(ctx, "single.json")
	}
	if err != nil {
		return fmt.Errorf("read single.json: %w", err)
	}
	for i := 0; ; i++ {
		if err = r.st.PutTemplate(ctx, "single.json", []byte(templateV2)); err == nil || i == 10 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("change single.json: %w", err)
	}
	after, err := src.Template(ctx, "single.json")
	for i := 0; err != nil && i < 10; i++ {
		after, err = src.Template(ctx, "single.json")
	}
	if err != nil {
		return fmt.Errorf("read single.json: %w", err)
	}
	r.res.Templates = map[string]bool{revision.TagValue(before.Version): false, revision.TagValue(after.Version): true}
	return nil
}

// templateV2 is single.json after the mid-run change.
const templateV2 = `{"family": "{{ .Service }}", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true,
  "environment": [{"name": "TEMPLATE", "value": "v2"}]}]}`

// poison points one service at a revision an older Deckhand registered
// from a push dated 2099 (its pushed-at mark is poisoned): genuine pushes
// after it must still deploy (issue 10 item 3).
func (r *runner) poison(ctx context.Context) error {
	s := r.w.services[0]
	e := ecsOf(r.sb, r.w, s.name)
	snap, ok := e.Service(cluster, s.name)
	if !ok {
		return fmt.Errorf("poison: no service %s", s.name)
	}
	var img string
	for _, td := range e.TaskDefinitions(s.name) {
		if td.ARN == snap.TaskDefinition {
			img = td.Images[appC]
		}
	}
	body := fmt.Sprintf(`{"family":%q,"containerDefinitions":[{"name":%q,"image":%q,"essential":true}],"tags":[
 {"key":%q,"value":%q},{"key":%q,"value":"push"},{"key":%q,"value":"poisoned"},{"key":%q,"value":"2099-01-01T00:00:00Z"},
 {"key":%q,"value":"poisoned-hash"}]}`, s.name, appC, img,
		revision.TagBinding, s.name, revision.TagTrigger, revision.TagEventID, revision.TagPushedAt+appC, revision.TagContentHash)
	out, err := e.Handle(ctx, "RegisterTaskDefinition", []byte(body))
	if err != nil {
		return fmt.Errorf("poison: register: %w", err)
	}
	raw, _ := json.Marshal(out)
	var reg struct {
		TaskDefinition struct {
			TaskDefinitionArn string `json:"taskDefinitionArn"`
		} `json:"taskDefinition"`
	}
	if err := json.Unmarshal(raw, &reg); err != nil {
		return fmt.Errorf("poison: %w", err)
	}
	upd := fmt.Sprintf(`{"cluster":%q,"service":%q,"taskDefinition":%q}`, cluster, s.name, reg.TaskDefinition.TaskDefinitionArn)
	if _, err := e.Handle(ctx, "UpdateService", []byte(upd)); err != nil {
		return fmt.Errorf("poison: update: %w", err)
	}
	r.res.Poisoned = s.name
	return nil
}

// trackerRetry is an asynchronous tracker invocation Lambda retries.
type trackerRetry struct {
	raw     []byte
	attempt int
	due     time.Time
}

// Lambda retries a failed asynchronous invocation twice, about one and
// then two minutes later.
var trackerDelays = []time.Duration{time.Minute, 2 * time.Minute}

// retryTrackers invokes the tracker retries that are due; one that fails
// its last attempt goes to the tracker's DLQ.
func (r *runner) retryTrackers(ctx context.Context) {
	now := r.sb.Clock().Now()
	var keep []trackerRetry
	due := r.trackerRetries
	r.trackerRetries = nil
	for _, t := range due {
		if t.due.After(now) {
			keep = append(keep, t)
			continue
		}
		if _, err := r.st.Tracker.Handle(ctx, t.raw); err != nil {
			r.scheduleTracker(t.raw, t.attempt+1, err)
		}
	}
	r.trackerRetries = append(keep, r.trackerRetries...)
}

// scheduleTracker schedules attempt (1-based, the first retry is 2) of a
// failed tracker invocation, or dead-letters it.
func (r *runner) scheduleTracker(raw []byte, attempt int, err error) {
	if attempt-2 >= len(trackerDelays) {
		r.res.TrackerDLQ = append(r.res.TrackerDLQ, DeadEvent{Raw: string(raw), Err: err.Error()})
		return
	}
	r.trackerRetries = append(r.trackerRetries, trackerRetry{raw: raw, attempt: attempt, due: r.sb.Clock().Now().Add(trackerDelays[attempt-2])})
}

// DeadEvent is an event in the tracker's DLQ, with the last error.
type DeadEvent struct {
	Raw, Err string
}
