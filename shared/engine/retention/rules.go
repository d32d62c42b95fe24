package retention

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// The rules that keep a revision past keep, each named after what it
// protects. protections applies them all; the first reason found for a
// revision is the one reported.

// protected maps a revision ARN to why it must stay.
type protected map[string]string

func (p protected) add(arn, why string) {
	if arn == "" {
		return
	}
	if _, ok := p[arn]; !ok {
		p[arn] = why
	}
}

// protections are the revisions retention never removes for a binding
// whose service is svc (serving revision number servingRev) and whose own
// revisions are revs, newest first.
func protections(svc *types.Service, servingRev int, revs []owned) protected {
	p := protected{}
	servingRevision(p, svc)
	deploymentRevisions(p, svc)
	rollbackTarget(p, servingRev, revs)
	pendingApprovals(p, revs)
	return p
}

// servingRevision: the revision the service runs (its PRIMARY deployment's,
// else the service's own) is never touched.
func servingRevision(p protected, svc *types.Service) {
	p.add(revision.OfService(*svc), "the serving revision")
	p.add(aws.ToString(svc.TaskDefinition), "the service's task definition")
}

// deploymentRevisions: every revision one of the service's deployments
// runs, in flight or not: a rollout in progress, the deployment ECS's
// circuit breaker, an alarm or a lifecycle hook would roll back to (the
// last completed one, ACTIVE while the new one rolls out), and a failed
// deployment still draining.
func deploymentRevisions(p protected, svc *types.Service) {
	for _, d := range svc.Deployments {
		p.add(aws.ToString(d.TaskDefinition), fmt.Sprintf("run by the service's %s deployment %s (%s)",
			aws.ToString(d.Status), aws.ToString(d.Id), d.RolloutState))
	}
}

// rollbackTarget: the revision `deckhand rollback` returns to without --to,
// the binding's newest ACTIVE revision older than the serving one (it
// cannot return to an INACTIVE one).
func rollbackTarget(p protected, servingRev int, revs []owned) {
	for _, r := range revs { // newest first
		if r.revision < servingRev && !r.inactive {
			p.add(r.arn, "deckhand rollback's target (the binding's newest revision older than the serving one)")
			return
		}
	}
}

// pendingApprovals: a revision registered and waiting for approval
// (DESIGN §11) is deployed when approved.
func pendingApprovals(p protected, revs []owned) {
	for _, r := range revs {
		if r.tags[revision.TagApproval] == revision.ApprovalPending {
			p.add(r.arn, "its approval is pending")
		}
	}
}

// plan is what retention does with a binding's revisions.
type plan struct {
	kept   []Kept
	remove []owned // oldest first
	// inactive are the ARNs in remove that are INACTIVE already.
	inactive map[string]bool
}

// decide keeps the newest keep of revs (newest first) and every protected
// one, and removes the rest, oldest first.
func decide(revs []owned, keep int, p protected) plan {
	out := plan{inactive: map[string]bool{}}
	active := 0
	for _, r := range revs {
		if !r.inactive && active < keep {
			active++
			out.kept = append(out.kept, Kept{ARN: r.arn, Revision: r.revision, Why: fmt.Sprintf("among the newest %d", keep)})
			continue
		}
		if why, ok := p[r.arn]; ok {
			out.kept = append(out.kept, Kept{ARN: r.arn, Revision: r.revision, Why: why})
			continue
		}
		out.remove = append(out.remove, r)
		if r.inactive {
			out.inactive[r.arn] = true
		}
	}
	slices.Reverse(out.remove)
	return out
}
