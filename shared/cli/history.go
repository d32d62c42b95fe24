package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// RevisionImage is one container's image as a revision records it.
type RevisionImage struct {
	Tag      string    `json:"tag,omitempty"`
	Digest   string    `json:"digest,omitempty"`
	PushedAt time.Time `json:"pushedAt,omitzero"`
}

// Revision is one Deckhand revision of a binding's family.
type Revision struct {
	ARN          string                   `json:"arn"`
	Revision     int32                    `json:"revision"`
	RegisteredAt time.Time                `json:"registeredAt,omitzero"`
	Trigger      string                   `json:"trigger,omitempty"`
	EventID      string                   `json:"eventId,omitempty"`
	Template     string                   `json:"template,omitempty"`
	Images       map[string]RevisionImage `json:"images"`
	// Changed are the containers whose image this revision's deploy
	// changed (the deckhand:changed tag).
	Changed []string `json:"changed,omitempty"`
	// Running is true for the revision of the service's PRIMARY deployment.
	Running bool `json:"running"`
	// Verdict is what ECS still tells of the revision (see verdicts):
	// SUCCEEDED, IN_PROGRESS, ROLLING_BACK, FAILED, ROLLED_BACK or REPLACED,
	// or for a gated revision never deployed its gate state:
	// PENDING_APPROVAL, REJECTED, EXPIRED or SUPERSEDED; empty when it
	// tells nothing.
	Verdict string `json:"verdict,omitempty"`
	// Gate is a gated revision's approval record (DESIGN §11), if any.
	Gate *RevisionGate `json:"gate,omitempty"`
}

// History is a binding's Deckhand revisions, newest first.
type History struct {
	Binding   string     `json:"binding"`
	Cluster   string     `json:"cluster"`
	Service   string     `json:"service"`
	Family    string     `json:"family"`
	Running   string     `json:"running"`
	Revisions []Revision `json:"revisions"`
}

// History reads the binding's revisions from their tags: the newest limit
// revisions of the running family (registered by Deckhand for this binding),
// newest first.
func (e *Env) History(ctx context.Context, binding string, limit int) (*History, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	b, err := Binding(m, binding)
	if err != nil {
		return nil, err
	}
	svc, err := e.describeService(ctx, b.Cluster, b.Service)
	if err != nil {
		return nil, err
	}
	running, err := e.describeTaskDefinition(ctx, aws.ToString(svc.TaskDefinition))
	if err != nil {
		return nil, err
	}
	h := &History{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Family: aws.ToString(running.TaskDefinition.Family),
		Running: aws.ToString(svc.TaskDefinition), Revisions: []Revision{}}
	if limit <= 0 {
		limit = 20
	}
	p := ecs.NewListTaskDefinitionsPaginator(e.ECS, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(h.Family), Sort: types.SortOrderDesc})
	scanned := 0
	for p.HasMorePages() && len(h.Revisions) < limit && scanned < 5*limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list revisions of %s: %w", h.Family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			scanned++
			td, err := e.describeTaskDefinition(ctx, arn)
			if err != nil {
				return nil, err
			}
			tags := revision.TagsOf(td.Tags)
			if tags[revision.TagBinding] != b.Name {
				continue
			}
			h.Revisions = append(h.Revisions, revisionOf(td.TaskDefinition, tags))
			if len(h.Revisions) == limit {
				break
			}
		}
	}
	verdicts(h.Revisions, svc)
	return h, nil
}

func revisionOf(td *types.TaskDefinition, tags revision.Tags) Revision {
	r := Revision{ARN: aws.ToString(td.TaskDefinitionArn), Revision: td.Revision, RegisteredAt: aws.ToTime(td.RegisteredAt),
		Trigger: tags[revision.TagTrigger], EventID: tags[revision.TagEventID], Template: tags[revision.TagTemplate],
		Images: map[string]RevisionImage{}, Changed: strings.Fields(tags[revision.TagChanged])}
	for k, v := range tags {
		if c, ok := strings.CutPrefix(k, revision.TagDigest); ok {
			img := r.Images[c]
			img.Digest = v
			r.Images[c] = img
		}
		if c, ok := strings.CutPrefix(k, revision.TagImageTag); ok {
			img := r.Images[c]
			img.Tag = v
			r.Images[c] = img
		}
	}
	for c, img := range r.Images {
		img.PushedAt, _ = tags.PushedAt(c)
		r.Images[c] = img
	}
	r.Gate = revisionGate(tags)
	return r
}

// verdicts fills each revision's verdict from what ECS keeps, first match
// wins (docs/cli.md, "history"):
//
//  1. the revision has a deployment in the service's deployments: its
//     rolloutState (COMPLETED: SUCCEEDED; IN_PROGRESS: IN_PROGRESS, or
//     ROLLING_BACK for a circuit-breaker rollback; FAILED: ROLLED_BACK when
//     the PRIMARY deployment runs another revision, else FAILED);
//  2. the service runs it: SUCCEEDED;
//     then a gated revision that was never deployed: its approval state
//     (PENDING_APPROVAL, REJECTED, EXPIRED or SUPERSEDED);
//  3. the service carries deckhand:rolled-back:<container> with the digest
//     the revision brought to that container: ROLLED_BACK;
//  4. it is newer than the revision the service runs: ROLLED_BACK (the
//     service went back past it);
//  5. it is older: REPLACED (a newer revision replaced it; how its own
//     rollout ended is no longer recorded).
func verdicts(revs []Revision, svc *types.Service) {
	serving := aws.ToString(svc.TaskDefinition)
	_, servingRev := taskdef.SplitARN(serving)
	var primary *types.Deployment
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
			primary = &svc.Deployments[i]
		}
	}
	marks := map[string]string{}
	for k, v := range revision.TagsOf(svc.Tags) {
		if c, ok := strings.CutPrefix(k, revision.TagRolledBack); ok {
			marks[c] = v
		}
	}
	for i := range revs {
		r := &revs[i]
		r.Running = primary != nil && aws.ToString(primary.TaskDefinition) == r.ARN
		switch d := deploymentOf(svc, r.ARN); {
		case d != nil:
			r.Verdict = deploymentVerdict(*d)
			if d.RolloutState == types.DeploymentRolloutStateFailed && primary != nil && aws.ToString(primary.TaskDefinition) != r.ARN {
				r.Verdict = "ROLLED_BACK"
			}
		case r.ARN == serving:
			r.Verdict = "SUCCEEDED"
		case r.Gate.neverDeployed():
			r.Verdict = r.Gate.verdict()
		case markedRolledBack(*r, marks):
			r.Verdict = "ROLLED_BACK"
		case servingRev > 0 && int(r.Revision) > servingRev:
			r.Verdict = "ROLLED_BACK"
		case servingRev > 0:
			r.Verdict = "REPLACED"
		}
	}
}

// deploymentOf is the newest of the service's deployments of arn, if any.
func deploymentOf(svc *types.Service, arn string) *types.Deployment {
	var out *types.Deployment
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		if aws.ToString(d.TaskDefinition) == arn && (out == nil || aws.ToTime(d.CreatedAt).After(aws.ToTime(out.CreatedAt))) {
			out = d
		}
	}
	return out
}

// markedRolledBack reports whether a deckhand:rolled-back mark names the
// digest the revision brought to a container (any of its containers when
// it does not record which it changed).
func markedRolledBack(r Revision, marks map[string]string) bool {
	containers := r.Changed
	if len(containers) == 0 {
		containers = sortedKeys(r.Images)
	}
	for _, c := range containers {
		if d := r.Images[c].Digest; d != "" && slices.Contains(strings.Fields(marks[c]), d) {
			return true
		}
	}
	return false
}

// deploymentVerdict maps a deployment's rollout state to a verdict word.
func deploymentVerdict(d types.Deployment) string {
	switch d.RolloutState {
	case types.DeploymentRolloutStateCompleted:
		return "SUCCEEDED"
	case types.DeploymentRolloutStateFailed:
		return "FAILED"
	case types.DeploymentRolloutStateInProgress:
		if strings.Contains(strings.ToLower(aws.ToString(d.RolloutStateReason)), "rolling back") {
			return "ROLLING_BACK"
		}
		return "IN_PROGRESS"
	}
	return ""
}

// previous picks the revision a rollback goes to: the newest Deckhand
// revision older than the running one that was deployed (not a gated
// revision that waited for an approval in vain).
func previous(revs []Revision, running string, runningRev int32) (Revision, bool) {
	sorted := append([]Revision(nil), revs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Revision > sorted[j].Revision })
	for _, r := range sorted {
		if r.ARN != running && r.Revision < runningRev && !r.Gate.neverDeployed() {
			return r, true
		}
	}
	return Revision{}, false
}
