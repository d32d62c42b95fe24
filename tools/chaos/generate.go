package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// pending is an input waiting for its delivery step (reordering across
// batches).
type pending struct {
	due int
	in  *Input
}

// generate produces cfg.Events inputs, one per virtual second, and
// delivers them out of order, pumping in bursts.
func (r *runner) generate(ctx context.Context) error {
	var queue []pending
	nextPump := 0
	for step := range r.cfg.Events {
		r.sb.Clock().Advance(time.Second)
		if r.g != nil {
			r.gatesStep(ctx)
		}
		if r.rnd.Float64() < 0.02 {
			r.toggleHold(ctx)
		}
		if r.rnd.Float64() < 0.01 {
			r.toggleJobFailure()
		}
		if len(r.w.alarms) > 0 { // only with Progressive: the stream is otherwise as before
			if r.rnd.Float64() < 0.005 {
				r.flipAlarm(step)
			}
			r.calm(step)
		}
		if step == r.cfg.Events/2 {
			if err := r.changeTemplate(ctx); err != nil {
				return err
			}
		}
		if step%pruneEvery == pruneEvery-1 {
			r.prune(ctx)
		}
		in := r.next()
		for _, p := range r.pre {
			if err := r.deliver(ctx, p); err != nil {
				return err
			}
		}
		if len(r.pre) > 0 {
			r.pre = nil
			r.pump(ctx)
		}
		delay := 0
		if r.rnd.Float64() < 0.3 {
			delay = 1 + r.rnd.IntN(30)
		}
		queue = append(queue, pending{due: step + delay, in: in})
		var due []*Input
		kept := queue[:0]
		for _, p := range queue {
			if p.due <= step {
				due = append(due, p.in)
			} else {
				kept = append(kept, p)
			}
		}
		queue = kept
		r.rnd.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
		for _, in := range due {
			if err := r.deliver(ctx, in); err != nil {
				return err
			}
		}
		if step >= nextPump {
			r.pump(ctx)
			gap := 1 + r.rnd.IntN(5)
			if r.rnd.Float64() < 0.2 {
				gap = 10 + r.rnd.IntN(30) // a burst builds up
			}
			nextPump = step + gap
		}
	}
	r.rnd.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
	for _, p := range queue {
		if err := r.deliver(ctx, p.in); err != nil {
			return err
		}
	}
	return nil
}

// next draws one input.
func (r *runner) next() *Input {
	x := r.rnd.Float64()
	switch {
	case x < 0.55:
		return r.push(KindPush, r.pick(r.w.appRepos), true)
	case x < 0.60:
		return r.push(KindPush, r.pick(r.w.side), true)
	case x < 0.63:
		return r.push(KindBroken, r.pick(r.w.breakable), true)
	case x < 0.65:
		return r.push(KindNoMatch, r.pick(r.w.appRepos), false)
	case x < 0.68:
		return r.push(KindStray, r.pick(r.w.strays), true)
	case x < 0.70:
		return r.push(KindUntagged, r.pick(r.w.appRepos), false)
	case x < 0.72:
		return r.deletion()
	case x < 0.73:
		return r.malformed()
	case x < 0.86-r.cfg.TrustShare:
		return r.duplicate()
	case x < 0.86:
		return r.trust()
	case x < 0.94:
		return r.job(false)
	default:
		return r.job(true)
	}
}

func (r *runner) pick(s []string) string { return s[r.rnd.IntN(len(s))] }

func (r *runner) add(in *Input) *Input {
	in.N = len(r.res.Inputs)
	if in.ID == "" {
		in.ID = fmt.Sprintf("chaos-%06d", in.N)
	}
	if in.Route == "" {
		in.Route = RouteQueue
	}
	r.res.Inputs = append(r.res.Inputs, in)
	return in
}

// push pushes an image (silently: the generator delivers the event) and
// builds its ECR Image Action event.
func (r *runner) push(kind, repo string, tagged bool) *Input {
	tag := ""
	if tagged {
		r.tags[repo]++
		tag = fmt.Sprintf(r.w.tagOf(repo), r.tags[repo])
	}
	if kind == KindNoMatch {
		tag = fmt.Sprintf("latest-%d", len(r.res.Inputs))
	}
	return r.pushTag(kind, repo, tag)
}

// pushTag is push with the tag given.
func (r *runner) pushTag(kind, repo, tag string) *Input {
	digest := r.sb.PushImageSilently(repo, tag)
	if kind == KindBroken {
		everyPlace(r.sb, r.w, func(e *ecssim.ECS) { e.SetImageHealth(digest, false) })
	}
	in := r.add(&Input{Kind: kind, Repo: repo, Tag: tag, Digest: digest, PushedAt: r.sb.Clock().Now()})
	if kind == KindPush || kind == KindBroken {
		if r.rnd.Float64() < 0.04 {
			in.Route = RouteDirect
		}
	}
	in.Raw = r.imageEvent(in, events.ActionPush)
	return in
}

// imageEvent is the ECR Image Action event of a push, with EventBridge's
// whole-second time.
func (r *runner) imageEvent(in *Input, action string) []byte {
	return r.imageEventAt(in, action, in.PushedAt)
}

// deletion is an image deletion event for an earlier push.
func (r *runner) deletion() *Input {
	var of *Input
	for i := 0; i < 5 && len(r.res.Inputs) > 0 && of == nil; i++ {
		if c := r.res.Inputs[r.rnd.IntN(len(r.res.Inputs))]; c.Kind == KindPush {
			of = c
		}
	}
	if of == nil {
		return r.push(KindUntagged, r.pick(r.w.appRepos), false)
	}
	in := r.add(&Input{Kind: KindDelete, Repo: of.Repo, Tag: of.Tag, Digest: of.Digest, PushedAt: r.sb.Clock().Now()})
	in.Raw = r.imageEvent(in, events.ActionDelete)
	return in
}

func (r *runner) malformed() *Input {
	in := r.add(&Input{Kind: KindMalformed})
	in.Raw = fmt.Appendf(nil, `{"version":"0","id":%q,"detail-type":"ECR Image Action","source":"aws.ecr","account":%q,"region":%q,"time":"2026-11-16T01:00:00Z","resources":[],"detail":"not an object"}`,
		in.ID, r.sb.Account(), r.sb.Region())
	return in
}

// duplicate delivers an earlier push event again with the same id, as
// EventBridge's at-least-once delivery (queue) or Lambda's asynchronous
// invocation (direct) may.
func (r *runner) duplicate() *Input {
	for range 10 {
		if len(r.res.Inputs) == 0 {
			break
		}
		of := r.res.Inputs[r.rnd.IntN(len(r.res.Inputs))].push()
		switch of.Kind {
		case KindPush, KindBroken, KindNoMatch, KindStray, KindUntagged:
			return r.add(&Input{Kind: KindDuplicate, Route: of.Route, ID: of.ID, Of: of, Raw: of.Raw,
				Repo: of.Repo, Tag: of.Tag, Digest: of.Digest, PushedAt: of.PushedAt})
		}
	}
	return r.push(KindPush, r.pick(r.w.appRepos), true)
}

// deliver hands an input to Deckhand by its route.
func (r *runner) deliver(ctx context.Context, in *Input) error {
	switch {
	case in.isJob():
		r.dueJobs = append(r.dueJobs, in) // delivered at once with the others due, at the next pump
		return nil
	case in.Route == RouteDirect:
		r.invokeDirect(ctx, in)
		return nil
	case in.Route == RouteTracker:
		return r.router.Deliver(in.Raw)
	}
	group, ok := r.st.Manifest.GroupOf(in.push().Repo)
	if !ok {
		group = "unrouted"
	}
	out, err := r.sqs.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(r.router.QueueURL()), MessageBody: aws.String(string(in.Raw)),
		MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(in.ID),
	})
	if err != nil {
		return fmt.Errorf("send input %d: %w", in.N, err)
	}
	in.MessageID = aws.ToString(out.MessageId)
	if _, seen := r.res.Messages[in.MessageID]; seen {
		in.Deduped = true
		return nil
	}
	r.res.Messages[in.MessageID] = &Message{ID: in.MessageID, Input: in}
	return nil
}

// invokeDirect invokes the deployer with the bare event, retrying on error
// as Lambda's asynchronous invocation does.
func (r *runner) invokeDirect(ctx context.Context, in *Input) {
	for range asyncAttempts {
		in.Attempts++
		inv := &Invocation{Direct: in, Failed: map[string]bool{}}
		r.rec.begin(inv)
		_, err := r.dh.Handle(r.lambdaCtx(ctx, "deckhand-deployer"), in.Raw)
		r.rec.end()
		inv.Err, in.Err = err, err
		if err == nil {
			return
		}
	}
}

// toggleHold holds a random service, or releases it if held.
func (r *runner) toggleHold(ctx context.Context) {
	s := r.w.services[r.rnd.IntN(len(r.w.services))]
	r.setHold(ctx, s.name, !r.isHeld(s.name))
}

func (r *runner) isHeld(name string) bool {
	snap, _ := ecsOf(r.sb, r.w, name).Service(cluster, name)
	_, ok := snap.Tags[revision.TagHold]
	return ok
}

// setHold tags or untags the service directly in the emulator (no faults:
// a person's change, not Deckhand's).
func (r *runner) setHold(ctx context.Context, name string, hold bool) {
	snap, ok := ecsOf(r.sb, r.w, name).Service(cluster, name)
	if !ok {
		return
	}
	op, body := "UntagResource", fmt.Sprintf(`{"resourceArn":%q,"tagKeys":[%q]}`, snap.ARN, revision.TagHold)
	if hold {
		r.held[name] = true
		op, body = "TagResource", fmt.Sprintf(`{"resourceArn":%q,"tags":[{"key":%q,"value":"chaos"}]}`, snap.ARN, revision.TagHold)
	}
	if _, err := ecsOf(r.sb, r.w, name).Handle(ctx, op, []byte(body)); err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("%s %s: %w", op, name, err))
	}
}

// finish releases the holds (pushing once more to every repository of a
// service that was held), drains the queue through every retry and the
// DLQ, and settles rollouts, rollbacks and verdicts.
func (r *runner) finish(ctx context.Context) error {
	r.calmAlarms()
	repos := map[string]bool{}
	for _, s := range r.w.services {
		if r.held[s.name] {
			r.setHold(ctx, s.name, false)
			for _, repo := range s.images {
				repos[repo] = true
			}
		}
	}
	for _, repo := range sortedKeys(repos) {
		if err := r.deliver(ctx, r.push(KindRelease, repo, true)); err != nil {
			return err
		}
	}
	if err := r.drain(ctx); err != nil {
		return err
	}
	// A broken image pushed last to every breakable repository is rolled
	// back while the tracker cannot tag, then delivered again (trust.go).
	if err := r.finale(ctx); err != nil {
		return err
	}
	// Scheduler's late retries: past the queue's deduplication window,
	// they reach the runner, which must start nothing new.
	r.lateJobs()
	for range 10 {
		r.pump(ctx)
		r.sb.Clock().Advance(31 * time.Second)
	}
	r.sb.ClearFaults()
	r.pump(ctx)
	if r.g != nil {
		r.settleGates(ctx)
	}
	// Lambda's retries of failed tracker invocations come due.
	for i := 0; len(r.trackerRetries) > 0 && i < 10; i++ {
		r.sb.Clock().Advance(time.Minute)
		r.pump(ctx)
	}
	r.res.Deployments = r.st.Deployments()
	r.watch.mu.Lock()
	r.res.refused = append([]string(nil), r.watch.refused...)
	r.watch.mu.Unlock()
	r.res.DLQ = r.router.DLQ()
	r.res.JobDLQ = r.st.Router.JobDLQ()
	r.rec.mu.Lock()
	r.res.JobRuns = r.rec.runs
	r.rec.mu.Unlock()
	r.res.Calls = r.sb.Calls()
	r.res.Invocations = r.rec.all
	return nil
}

// drain pumps until the chaos queue stays empty, moving the clock on so
// retries, rollouts and rollbacks progress.
func (r *runner) drain(ctx context.Context) error {
	quiet := 0
	for round := 0; round < 200 && quiet < 20; round++ {
		r.pump(ctx)
		depth, err := r.queueDepth(ctx)
		if err != nil {
			return err
		}
		if depth == 0 {
			quiet++
		}
		r.sb.Clock().Advance(31 * time.Second)
	}
	return nil
}
