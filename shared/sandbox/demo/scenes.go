package demo

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

type scene struct {
	title string
	play  func(ctx context.Context, p *player) error
}

func scenes(opts Options) []scene {
	return []scene{
		{"1. a push to a repository two services share", sharedPush},
		{"2. EventBridge delivers the same push again", duplicate},
		{"3. an older push arrives after a newer one", outOfOrder},
		{"4. a broken image trips the circuit breaker", func(ctx context.Context, p *player) error { return brokenImage(ctx, p, opts.Break) }},
		{"5. a held service is left alone", held},
		{"6. a push event goes missing; the reconciler catches it", missedPush},
		{"7. a scheduled job, judged by its exit code", scheduledJob},
		{"8. schedules delivered at once and out of order", overlappingSchedules},
		{"9. a canary of a bad build is rolled back by its alarm during bake", canaryRollback},
		{"10. a linear deploy of a good build completes step by step", linearDeploy},
		{"11. gates for production: scan, soak, promotion by digest, approval", gatesScene},
	}
}

func (p *player) push(repo, tag string) string {
	digest := p.st.SB.PushImage(repo, tag)
	p.say("%s  push     %s:%s (%s)", p.now(), repo, tag, short(digest))
	return digest
}

func (p *player) runsDigest(binding, container, digest string) bool {
	_, imgs, err := p.st.Running(binding)
	return err == nil && strings.HasSuffix(imgs[container], "@"+digest)
}

func sharedPush(ctx context.Context, p *player) error {
	mark := p.seen
	digest := p.push("proxy", "stable-2")
	if err := p.settle(ctx, 2*time.Minute); err != nil {
		return err
	}
	for _, b := range []string{"web", "api"} {
		got := p.statuses(mark, b)
		p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusStarted, events.StatusSucceeded}),
			"%s: STARTED then SUCCEEDED (got %v)", b, got)
		p.expect(p.runsDigest(b, "proxy", digest), "%s runs proxy %s", b, short(digest))
	}
	return nil
}

func duplicate(ctx context.Context, p *player) error {
	var last events.Raw
	for _, ev := range p.st.SB.Events() {
		if ev.Source == events.SourceECR {
			last = ev
		}
	}
	revs := len(p.st.SB.ECS().TaskDefinitions("web"))
	mark := p.seen
	last.ID += "-again"
	raw, _ := json.Marshal(last)
	p.say("%s  redeliver the proxy:stable-2 push (new delivery id %s)", p.now(), last.ID)
	if err := p.st.Router.Deliver(raw); err != nil {
		return err
	}
	if err := p.settle(ctx, 0); err != nil {
		return err
	}
	for _, b := range []string{"web", "api"} {
		got := p.statuses(mark, b)
		p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusAlreadyDeployed}), "%s: ALREADY_DEPLOYED (got %v)", b, got)
	}
	p.expect(len(p.st.SB.ECS().TaskDefinitions("web")) == revs, "no revision registered for the duplicate")
	return nil
}

func outOfOrder(ctx context.Context, p *player) error {
	// web:1.1.0 is pushed first, but its event is held back in transit.
	sb := p.st.SB
	oldDigest := sb.PushImageSilently("web", "1.1.0")
	late, _ := json.Marshal(events.ImageActionEvent{
		Version: "0", ID: "late-web-1.1.0", DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
		Account: sb.Account(), Region: sb.Region(), Time: sb.Clock().Now(), Resources: []string{},
		Detail: events.ECRImageAction{Result: events.ResultSuccess, ActionType: events.ActionPush, RepositoryName: "web", ImageDigest: oldDigest, ImageTag: "1.1.0"},
	})
	p.say("%s  push     web:1.1.0 (%s), its event delayed in transit", p.now(), short(oldDigest))
	sb.Clock().Advance(30 * time.Second)
	mark := p.seen
	newDigest := p.push("web", "1.2.0")
	if err := p.settle(ctx, 2*time.Minute); err != nil {
		return err
	}
	p.say("%s  the delayed web:1.1.0 event arrives", p.now())
	if err := p.st.Router.Deliver(late); err != nil {
		return err
	}
	if err := p.settle(ctx, 0); err != nil {
		return err
	}
	got := p.statuses(mark, "web")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusStarted, events.StatusSucceeded, events.StatusSuperseded}),
		"web: 1.2.0 STARTED and SUCCEEDED, late 1.1.0 SUPERSEDED (got %v)", got)
	p.expect(p.runsDigest("web", "web", newDigest), "web still runs 1.2.0 (%s)", short(newDigest))
	return nil
}

func brokenImage(ctx context.Context, p *player, breakIt bool) error {
	before, _, _ := p.st.Running("web")
	mark := p.seen
	bad := p.push("web", "1.3.0")
	p.st.SB.ECS().SetImageHealth(bad, false)
	p.say("          (web:1.3.0 crashes on start in this sandbox)")
	if err := p.settle(ctx, 4*time.Minute); err != nil {
		return err
	}
	got := p.statuses(mark, "web")
	if !breakIt {
		p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusStarted, events.StatusRolledBack}),
			"web: STARTED then ROLLED_BACK, never SUCCEEDED (got %v)", got)
	} else {
		p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusStarted, events.StatusSucceeded}),
			"web: STARTED then SUCCEEDED, a deliberately wrong expectation (--break) (got %v)", got)
	}
	after, _, _ := p.st.Running("web")
	p.expect(after == before, "web is back on its previous revision %s (runs %s)", revisionName(before), revisionName(after))
	ds := p.st.Deployments()[mark:]
	p.expect(len(ds) == 2 && ds[0].DeploymentID != "" && ds[0].DeploymentID == ds[1].DeploymentID,
		"the deployer's STARTED and the tracker's verdict name the same ECS deployment")

	// A redelivery of the broken push must not start the loop again.
	var last events.Raw
	for _, ev := range p.st.SB.Events() {
		if ev.Source == events.SourceECR {
			last = ev
		}
	}
	last.ID += "-again"
	raw, _ := json.Marshal(last)
	p.say("%s  redeliver the web:1.3.0 push", p.now())
	mark = p.seen
	if err := p.st.Router.Deliver(raw); err != nil {
		return err
	}
	if err := p.settle(ctx, 0); err != nil {
		return err
	}
	got = p.statuses(mark, "web")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusSkipped}), "web: the rolled-back image is SKIPPED, not deployed again (got %v)", got)
	return nil
}

func (p *player) tagHold(ctx context.Context, binding string, on bool) error {
	b, _ := p.st.Manifest.Service(binding)
	svc, _ := p.st.SB.ECS().Service(b.Cluster, b.Service)
	if on {
		_, err := p.st.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(svc.ARN),
			Tags: []types.Tag{{Key: aws.String(revision.TagHold), Value: aws.String("release freeze")}}})
		return err
	}
	_, err := p.st.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(svc.ARN), TagKeys: []string{revision.TagHold}})
	return err
}

func held(ctx context.Context, p *player) error {
	if err := p.tagHold(ctx, "worker", true); err != nil {
		return err
	}
	p.say("%s  hold     worker (tag deckhand:hold=release freeze)", p.now())
	mark := p.seen
	p.push("worker", "release-2")
	if err := p.settle(ctx, time.Minute); err != nil {
		return err
	}
	got := p.statuses(mark, "worker")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusHeld}), "worker: HELD (got %v)", got)
	p.say("%s  release  worker", p.now())
	return p.tagHold(ctx, "worker", false)
}

func missedPush(ctx context.Context, p *player) error {
	digest := p.st.SB.PushImageSilently("worker", "release-3")
	p.say("%s  push     worker:release-3 (%s), but ECR's event is lost", p.now(), short(digest))
	mark := p.seen
	rep, err := p.st.Reconciler.Run(ctx)
	if err != nil {
		return err
	}
	p.say("%s  reconcile: %d synthetic push(es) enqueued", p.now(), len(rep.Enqueued))
	if err := p.settle(ctx, 2*time.Minute); err != nil {
		return err
	}
	got := p.statuses(mark, "worker")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusStarted, events.StatusSucceeded}), "worker: STARTED then SUCCEEDED (got %v)", got)
	ds := p.st.Deployments()[mark:]
	p.expect(len(ds) > 0 && ds[0].Trigger == events.TriggerReconcile, "the deployment's trigger is reconcile")
	p.expect(p.runsDigest("worker", "worker", digest), "worker runs release-3 (%s)", short(digest))
	again, err := p.st.Reconciler.Run(ctx)
	if err != nil {
		return err
	}
	p.expect(len(again.Enqueued) == 0, "a second reconcile pass enqueues nothing (enqueued %d)", len(again.Enqueued))
	return nil
}
