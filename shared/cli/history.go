package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
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
	// Running is true for the revision of the service's PRIMARY deployment.
	Running bool `json:"running"`
	// Verdict is SUCCEEDED, FAILED, ROLLED_BACK or IN_PROGRESS when known.
	Verdict string `json:"verdict,omitempty"`
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
		Images: map[string]RevisionImage{}, Verdict: tags[revision.TagVerdict]}
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
	return r
}

// verdicts fills the verdicts of revisions still in the service's
// deployments.
func verdicts(revs []Revision, svc *types.Service) {
	for i := range revs {
		r := &revs[i]
		for _, d := range svc.Deployments {
			if aws.ToString(d.TaskDefinition) != r.ARN {
				continue
			}
			if aws.ToString(d.Status) == "PRIMARY" {
				r.Running = true
			}
			if r.Verdict == "" {
				r.Verdict = deploymentVerdict(d)
			}
		}
	}
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
// revision older than the running one.
func previous(revs []Revision, running string, runningRev int32) (Revision, bool) {
	sorted := append([]Revision(nil), revs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Revision > sorted[j].Revision })
	for _, r := range sorted {
		if r.ARN != running && r.Revision < runningRev {
			return r, true
		}
	}
	return Revision{}, false
}
