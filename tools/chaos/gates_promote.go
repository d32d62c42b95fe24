package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// approvals draws the person's answer to each new PENDING_APPROVAL of
// gate-prod: approve within 2 min, approve twice, reject, or ignore it and
// approve after it expired. An answer acts on whatever is pending then.
func (r *runner) approvals() {
	g := r.g
	g.mu.Lock()
	pend := g.pending
	g.pending = nil
	g.mu.Unlock()
	for _, d := range pend {
		if g.fates[d.NewRevision] {
			continue
		}
		g.fates[d.NewRevision] = true
		delay := time.Duration(g.rnd.IntN(120)) * time.Second
		switch x := g.rnd.Float64(); {
		case x < 0.55:
			r.at(delay, r.decide("approve", 1))
		case x < 0.65:
			r.at(delay, r.decide("approve twice", 2))
		case x < 0.80:
			r.at(delay, r.decide("reject", 1))
		default:
			r.at(11*time.Minute, r.decide("approve after expiry", 1))
		}
	}
}

// decide is the person running deckhand approve (or reject) n times.
func (r *runner) decide(action string, n int) func(context.Context) {
	return func(ctx context.Context) {
		for i := range n {
			var err error
			if action == "reject" {
				_, err = r.g.person.Reject(ctx, gateProd, "chaos: fails the load test")
			} else {
				_, err = r.g.person.Approve(ctx, gateProd)
			}
			result := "done"
			switch {
			case errors.Is(err, cli.ErrNothingPending):
				result = "nothing pending"
			case errors.Is(err, cli.ErrGateClosed):
				result = "gate closed"
			case err != nil && strings.Contains(err.Error(), "expired"):
				result = "refused: expired"
			case err != nil:
				result = "failed (AWS fault)"
			}
			r.g.stats.Approvals[fmt.Sprintf("%s (#%d): %s", action, i+1, result)]++
		}
	}
}

// gateClock runs the gates' clock once (not with BreakGateClock).
func (r *runner) gateClock(ctx context.Context) {
	if r.cfg.BreakGate == BreakGateClock {
		return
	}
	r.g.stats.ClockPasses++
	if _, err := r.g.clock.Run(ctx); err != nil {
		r.g.stats.ClockErrors++
	}
}

// promotionTargets are the bindings that promote from source.
func promotionTargets(source string) []string {
	var out []string
	for _, b := range gatedBindings {
		if b.from == source {
			out = append(out, b.name)
		}
	}
	return out
}

// hostilePromotions sends promotions nobody should act on as they say:
// early ones, 5–35 s after a source reached SUCCEEDED (inside its soak);
// the gates' clock's own, again (1% of seconds; late duplicates under a
// new id); forged ones naming a digest whose scan blocks it, which the
// source never ran (0.5% of seconds).
func (r *runner) hostilePromotions() {
	g := r.g
	g.mu.Lock()
	succeeded := g.succeeded
	g.succeeded = nil
	sent := append([][]byte(nil), g.sent...)
	g.mu.Unlock()
	// Half of the sources' SUCCEEDED get an early promotion; with the soak
	// clock broken, all of them, so that even a short run has one the
	// broken deployer takes (invariant 14 must see it).
	share := 0.5
	if r.cfg.BreakGate == BreakSoakClock {
		share = 1
	}
	for _, d := range succeeded {
		if g.rnd.Float64() >= share {
			continue
		}
		for _, to := range promotionTargets(d.Binding) {
			from, rev, digest := d.Binding, d.NewRevision, d.Containers[appC].NewDigest
			r.at(time.Duration(5+g.rnd.IntN(30))*time.Second, func(ctx context.Context) {
				r.sendPromotion(ctx, "early", to, from, rev, digest)
			})
		}
	}
	switch x := g.rnd.Float64(); {
	case x < 0.01 && len(sent) > 0:
		body := sent[g.rnd.IntN(len(sent))]
		r.at(0, func(ctx context.Context) { r.resend(ctx, body) })
	case x < 0.015:
		var blocked []string
		for _, in := range r.res.Inputs {
			if t, ok := g.scans[in.Digest]; ok && in.Kind == KindGatePush && !t.passes() {
				blocked = append(blocked, in.Digest)
			}
		}
		if len(blocked) == 0 {
			return
		}
		digest := blocked[g.rnd.IntN(len(blocked))]
		r.at(0, func(ctx context.Context) {
			rev, _ := runningDigest(r.sb, gateDev)
			r.sendPromotion(ctx, "forged", gateStaging, gateDev, rev, digest)
		})
	}
}

// sendPromotion sends a Deckhand Promotion of digest (in revision rev of
// from) to binding to, claiming the source reached SUCCEEDED an hour ago.
func (r *runner) sendPromotion(ctx context.Context, kind, to, from, rev, digest string) {
	g := r.g
	tags := revision.Tags(revisionTags(r, from, rev))
	pushedAt, _ := tags.PushedAt(appC)
	if t, ok := g.scans[digest]; ok && pushedAt.IsZero() {
		pushedAt = t.pushedAt
	}
	now := r.sb.Clock().Now()
	g.stats.Hostile[kind]++
	id := fmt.Sprintf("chaos-%s-promotion-%d", kind, g.stats.Hostile[kind])
	ev := events.PromotionEvent{Version: "0", ID: id, DetailType: events.DetailTypePromotion, Source: events.SourceDeckhand,
		Account: r.sb.Account(), Region: r.sb.Region(), Time: now.UTC().Truncate(time.Second), Resources: []string{},
		Detail: events.Promotion{Binding: to, From: from, Revision: rev, SucceededAt: now.Add(-time.Hour).UTC(),
			Containers: map[string]events.PromotedImage{appC: {Repository: gateRepo, Tag: tags[revision.TagImageTag+appC], Digest: digest, PushedAt: pushedAt}}}}
	body, err := json.Marshal(ev)
	if err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, err)
		return
	}
	r.sendToStack(ctx, to, id, body)
}

// resend sends a promotion of the gates' clock again under a new id, as a
// late duplicate past FIFO's deduplication window would arrive.
func (r *runner) resend(ctx context.Context, body []byte) {
	ev, err := events.DecodePromotion(body)
	if err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("decode a sent promotion: %w", err))
		return
	}
	r.g.stats.Hostile["repeated"]++
	ev.ID = fmt.Sprintf("chaos-repeated-promotion-%d", r.g.stats.Hostile["repeated"])
	raw, err := json.Marshal(ev)
	if err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, err)
		return
	}
	r.sendToStack(ctx, ev.Detail.Binding, ev.ID, raw)
}

// sendToStack puts a message for binding into the stack's deploy queue,
// where the gates' clock sends promotions.
func (r *runner) sendToStack(ctx context.Context, binding, id string, body []byte) {
	group, ok := r.st.Manifest.GroupOfBinding(binding)
	if !ok {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("promotion to %s: no message group", binding))
		return
	}
	_, err := r.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.st.Router.QueueURL()), MessageBody: aws.String(string(body)),
		MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(id)})
	if err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("send promotion %s: %w", id, err))
	}
}

// revisionTags are the tags of revision arn of family.
func revisionTags(r *runner, family, arn string) map[string]string {
	for _, td := range r.sb.ECS().TaskDefinitions(family) {
		if td.ARN == arn {
			return td.Tags
		}
	}
	return map[string]string{}
}

// runningDigest is the revision a gated binding's service runs and its
// app container's digest.
func runningDigest(sb *sandbox.Sandbox, binding string) (arn, digest string) {
	snap, ok := sb.ECS().Service(cluster, binding)
	if !ok {
		return "", ""
	}
	for _, td := range sb.ECS().TaskDefinitions(binding) {
		if td.ARN == snap.TaskDefinition {
			_, d, _ := strings.Cut(td.Images[appC], "@")
			return td.ARN, d
		}
	}
	return snap.TaskDefinition, ""
}

// settleGates runs the gated world on, faults off and nothing pushed,
// until every promotion has travelled as far as its gates let it: each
// promoted binding runs its source's image (or refused it: rejected or
// expired) for four rounds of 30 s in a row, with nothing left to
// deliver or decide, or 2 hours of virtual time have passed (invariant 15
// then says what is stuck).
func (r *runner) settleGates(ctx context.Context) {
	g := r.g
	g.settling = true
	stable := 0
	for round := range 240 {
		g.stats.SettleRounds = round + 1
		r.sb.Clock().Advance(30 * time.Second)
		r.pump(ctx)
		if len(g.later) == 0 && len(chainBehind(r.sb, g)) == 0 {
			stable++
		} else {
			stable = 0
		}
		if stable >= 4 {
			g.stats.SettleReached = true
			return
		}
	}
}

// chainBehind lists the promoted bindings that run neither their source's
// image nor a newer one, and have not refused it (approval rejected or
// expired).
func chainBehind(sb *sandbox.Sandbox, g *gateRun) []string {
	var out []string
	for _, b := range gatedBindings {
		if b.from == "" {
			continue
		}
		_, mine := runningDigest(sb, b.name)
		_, theirs := runningDigest(sb, b.from)
		if mine == theirs || g.pushedAt(mine).After(g.pushedAt(theirs)) || b.approval && refused(sb, b.name, theirs) {
			continue
		}
		out = append(out, fmt.Sprintf("%s runs %s, its source %s runs %s", b.name, short(mine), b.from, short(theirs)))
	}
	return out
}

// refused reports whether binding has a revision with digest whose
// approval was rejected or expired.
func refused(sb *sandbox.Sandbox, binding, digest string) bool {
	for _, td := range sb.ECS().TaskDefinitions(binding) {
		if td.Tags[revision.TagDigest+appC] != digest {
			continue
		}
		if st := td.Tags[revision.TagApproval]; st == revision.ApprovalRejected || st == revision.ApprovalExpired {
			return true
		}
	}
	return false
}

// pushedAt is when a gate-app image was pushed (zero for the seeded one).
func (g *gateRun) pushedAt(digest string) time.Time { return g.scans[digest].pushedAt }

// jsonOf is an event as EventBridge delivers it.
func jsonOf(ev events.Raw) ([]byte, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	return raw, nil
}
