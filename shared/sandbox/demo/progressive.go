package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// Progressive delivery on ECS's own strategies (DESIGN §10): a canary of
// a broken build rolled back by its alarm during the canary's bake, and a
// linear deploy of a good one completing step by step. The timeline shows
// the traffic ECS's service-deployment record gives the new revision.

// record is ECS's newest service-deployment record of a binding's service.
func (p *player) record(ctx context.Context, binding string) (*types.ServiceDeployment, error) {
	b, _ := p.st.Manifest.Service(binding)
	list, err := p.st.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(b.Cluster), Service: aws.String(b.Service), MaxResults: aws.Int32(1)})
	if err != nil || len(list.ServiceDeployments) == 0 {
		return nil, err
	}
	out, err := p.st.ECS.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)}})
	if err != nil || len(out.ServiceDeployments) == 0 {
		return nil, err
	}
	return &out.ServiceDeployments[0], nil
}

// watch moves the clock in 10-second steps for up to d, printing each
// new traffic share of binding's deployment and the Deckhand events,
// until stop says so; it returns the shares seen.
func (p *player) watch(ctx context.Context, binding string, d time.Duration, stop func(weight float64) bool) ([]float64, error) {
	var seen []float64
	for elapsed := time.Duration(0); elapsed <= d; elapsed += 10 * time.Second {
		if err := p.settle(ctx, 0); err != nil {
			return nil, err
		}
		sd, err := p.record(ctx, binding)
		if err != nil {
			return nil, err
		}
		if sd != nil && sd.TargetServiceRevision != nil && sd.TargetServiceRevision.RequestedProductionTrafficWeight != nil {
			w := *sd.TargetServiceRevision.RequestedProductionTrafficWeight
			if len(seen) == 0 || seen[len(seen)-1] != w {
				seen = append(seen, w)
				p.say("%s  %-8s %5.1f%% of production traffic on the new revision (%s, %s)", p.now(), binding, w, sd.LifecycleStage, sd.Status)
			}
			if stop != nil && stop(w) {
				return seen, nil
			}
		}
		p.st.SB.Clock().Advance(10 * time.Second)
	}
	return seen, p.settle(ctx, 0)
}

func canaryRollback(ctx context.Context, p *player) error {
	before, _, _ := p.st.Running("checkout")
	mark := p.seen
	bad := p.push("checkout", "1.1.0")
	p.say("          (checkout:1.1.0 starts fine, but answers 5xx under real traffic)")
	if _, err := p.watch(ctx, "checkout", 3*time.Minute, func(w float64) bool { return w == 10 }); err != nil {
		return err
	}
	p.st.SB.Clock().Advance(time.Minute)
	p.say("%s  alarm    checkout-5xx → ALARM, one minute into the canary's 5-minute bake", p.now())
	if err := p.st.SB.SetAlarmState("checkout-5xx", "ALARM", "5xx above 1% of requests"); err != nil {
		return err
	}
	if _, err := p.watch(ctx, "checkout", 2*time.Minute, nil); err != nil {
		return err
	}
	got := p.statuses(mark, "checkout")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusStarted, events.StatusRolledBack}),
		"checkout: STARTED then ROLLED_BACK, never SUCCEEDED (got %v)", got)
	var cause string
	for _, d := range p.st.Deployments()[mark:] {
		if d.Status == events.StatusRolledBack {
			cause = d.Cause
		}
	}
	p.expect(cause == events.CauseAlarm("checkout-5xx"), "the rollback names its cause alarm:checkout-5xx (got %q)", cause)
	after, _, _ := p.st.Running("checkout")
	p.expect(after == before, "checkout is back on %s (runs %s)", revisionName(before), revisionName(after))
	sd, err := p.record(ctx, "checkout")
	if err != nil {
		return err
	}
	p.expect(sd != nil && sd.Status == types.ServiceDeploymentStatusRollbackSuccessful, "ECS's record says ROLLBACK_SUCCESSFUL (got %v)", statusOf(sd))
	b, _ := p.st.Manifest.Service("checkout")
	svc, _ := p.st.SB.ECS().Service(b.Cluster, b.Service)
	p.expect(revision.Tags(svc.Tags).RolledBack("checkout", bad), "the canary's digest %s is marked rolled back", short(bad))
	return p.st.SB.SetAlarmState("checkout-5xx", "OK", "recovered")
}

func linearDeploy(ctx context.Context, p *player) error {
	mark := p.seen
	good := p.push("search", "1.1.0")
	seen, err := p.watch(ctx, "search", 10*time.Minute, nil)
	if err != nil {
		return err
	}
	got := p.statuses(mark, "search")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusStarted, events.StatusSucceeded}), "search: STARTED then SUCCEEDED (got %v)", got)
	p.expect(slices.Equal(seen, []float64{0, 25, 50, 75, 100}), "traffic moved 25%% a minute: %v", seen)
	p.expect(p.runsDigest("search", "search", good), "search runs 1.1.0 (%s)", short(good))
	sd, err := p.record(ctx, "search")
	if err != nil {
		return err
	}
	p.expect(sd != nil && sd.Status == types.ServiceDeploymentStatusSuccessful, "ECS's record says SUCCESSFUL (got %v)", statusOf(sd))
	return nil
}

func statusOf(sd *types.ServiceDeployment) string {
	if sd == nil {
		return "no record"
	}
	return fmt.Sprint(sd.Status)
}
