package gate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Gated is a binding's newest gated revision: one Deckhand registered for
// the binding with a deckhand:approval tag, newer than the revision the
// service serves. Its state is the tag's value.
type Gated struct {
	ARN  string
	Def  *types.TaskDefinition
	Tags revision.Tags
}

// State is the approval state: pending, approved, rejected, expired or
// superseded.
func (g *Gated) State() string { return g.Tags[revision.TagApproval] }

// Pending reports whether the revision waits for a person.
func (g *Gated) Pending() bool { return g != nil && g.State() == revision.ApprovalPending }

// Expires is when a pending revision expires.
func (g *Gated) Expires() time.Time {
	t, _ := time.Parse(time.RFC3339, g.Tags[revision.TagApprovalExpires])
	return t
}

// Expired reports whether a pending revision is past its expiry at now.
func (g *Gated) Expired(now time.Time) bool {
	exp := g.Expires()
	return g.Pending() && !exp.IsZero() && !now.Before(exp)
}

// lookBack is how many of the family's newest revisions GatedRevision
// reads when the newest is not the binding's.
const lookBack = 10

// GatedRevision returns b's newest gated revision newer than serving, or
// nil: the family's latest revision (latest, when read already) when
// Deckhand registered it for b, else the newest such among the family's
// recent revisions. A newest revision of b without an approval tag (one
// deployed without the gate) means nothing is gated.
func (r Reader) GatedRevision(ctx context.Context, b *manifest.Service, serving string, latest *ecs.DescribeTaskDefinitionOutput) (*Gated, error) {
	family, servingRev := taskdef.SplitARN(serving)
	if latest == nil || aws.ToString(latest.TaskDefinition.Family) != family {
		var err error
		latest, err = r.describe(ctx, family)
		if awserr.TaskDefinitionNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	candidates := []*ecs.DescribeTaskDefinitionOutput{latest}
	if revision.TagsOf(latest.Tags)[revision.TagBinding] != b.Name {
		var list *ecs.ListTaskDefinitionsOutput
		err := r.retry(ctx, func() error {
			var err error
			list, err = r.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family),
				Sort: types.SortOrderDesc, Status: types.TaskDefinitionStatusActive, MaxResults: aws.Int32(lookBack)})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list revisions of %s: %w", family, err)
		}
		candidates = nil
		for _, arn := range list.TaskDefinitionArns {
			if f, rev := taskdef.SplitARN(arn); f != family || rev <= servingRev {
				continue
			}
			td, err := r.describe(ctx, arn)
			if err != nil {
				return nil, err
			}
			candidates = append(candidates, td)
		}
	}
	for _, td := range candidates {
		tags := revision.TagsOf(td.Tags)
		arn := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
		if _, rev := taskdef.SplitARN(arn); rev <= servingRev || tags[revision.TagBinding] != b.Name {
			continue
		}
		if tags[revision.TagApproval] == "" {
			return nil, nil
		}
		return &Gated{ARN: arn, Def: td.TaskDefinition, Tags: tags}, nil
	}
	return nil, nil
}

func (r Reader) describe(ctx context.Context, ref string) (*ecs.DescribeTaskDefinitionOutput, error) {
	var out *ecs.DescribeTaskDefinitionOutput
	err := r.retry(ctx, func() error {
		var err error
		out, err = r.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref),
			Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		return err
	})
	if err != nil && !awserr.TaskDefinitionNotFound(err) {
		return nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	return out, err
}

// TagAPI writes revision tags.
type TagAPI interface {
	TagResource(ctx context.Context, in *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
}

var _ TagAPI = (*ecs.Client)(nil)

// Decision is a change of a gated revision's approval state.
type Decision struct {
	State string
	// By and Reason say who decided and why (approve, reject); At when.
	By, Reason string
	At         time.Time
}

// Tags are the revision tags recording the decision.
func (d Decision) Tags() revision.Tags {
	t := revision.Tags{revision.TagApproval: d.State}
	if d.By != "" {
		t[revision.TagDecidedBy] = d.By
	}
	if !d.At.IsZero() {
		t[revision.TagDecidedAt] = d.At.UTC().Format(time.RFC3339)
	}
	if d.Reason != "" {
		t[revision.TagDecisionReason] = d.Reason
	}
	return t
}

// Record writes a decision on a gated revision's tags.
func Record(ctx context.Context, api TagAPI, arn string, d Decision, retry func(context.Context, func() error) error) error {
	if retry == nil {
		retry = func(_ context.Context, f func() error) error { return f() }
	}
	err := retry(ctx, func() error {
		_, err := api.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: d.Tags().ECS()})
		return err
	})
	if err != nil {
		return fmt.Errorf("tag revision %s %s=%s: %w", arn, revision.TagApproval, d.State, err)
	}
	return nil
}

// Containers are the images a revision's tags record, per container, as
// an event's new images.
func Containers(tags revision.Tags) map[string]events.ContainerChange {
	out := map[string]events.ContainerChange{}
	for k, v := range tags {
		if c, ok := strings.CutPrefix(k, revision.TagDigest); ok {
			ch := out[c]
			ch.NewDigest, ch.NewTag = v, tags[revision.TagImageTag+c]
			out[c] = ch
		}
	}
	return out
}
