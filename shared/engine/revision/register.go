package revision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// registerAPI is the part of the ECS client register-or-reuse uses.
type registerAPI interface {
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
}

var _ registerAPI = (*ecs.Client)(nil)

// Registrar finds or registers task-definition revisions: DESIGN §5 rule 7
// and the register half of rule 8. It is a value built from an engine's
// settings; Memory is what it keeps across calls.
type Registrar struct {
	ECS   registerAPI
	Pacer Pacer
	// Limit paces RegisterTaskDefinition (nil: unpaced).
	Limit *rate.Limiter
	// Memory remembers each family's last registered revision (nil: none).
	Memory *Memory
}

// Want is the revision to find or register.
type Want struct {
	Rendered *taskdef.Rendered
	// Tags are Deckhand's tags for the revision, added to the template's
	// own; Rendered.Hash is compared with their TagContentHash.
	Tags Tags
	// Latest is the family's latest revision when the caller read it
	// already (nil: Ensure reads it).
	Latest *ecs.DescribeTaskDefinitionOutput
	// LookBack searches the family's recent revisions too, not only its
	// latest: a redelivered push, whose first delivery may have registered
	// its revision before a crash, followed by another binding's revision.
	LookBack bool
	// Paced says the caller holds a register token already.
	Paced bool
}

// Ensure returns the ARN of a revision with exactly the wanted content:
// an existing one (Reuse) or a newly registered one. RegisterTaskDefinition
// is not idempotent, so it is never retried blindly: the SDK does not retry
// it (NoSDKRetry), and before each further attempt Ensure looks whether the
// failed one registered the revision after all (a 5xx or a reset after the
// write).
func (r Registrar) Ensure(ctx context.Context, w Want) (string, error) {
	family := aws.ToString(w.Rendered.Input.Family)
	if arn, ok, err := r.Reuse(ctx, family, w.Rendered.Hash, w.Tags, w.Latest, w.LookBack); err != nil || ok {
		if ok {
			r.Memory.forgetUnlessLatest(family, arn)
		}
		return arn, err
	}
	in := *w.Rendered.Input
	in.Tags = Merge(in.Tags, w.Tags)
	if !w.Paced {
		if err := r.Pacer.Wait(ctx, r.Limit); err != nil {
			return "", fmt.Errorf("wait for register rate: %w", err)
		}
	}
	var arn string
	tries := 0
	err := r.Pacer.Retry(ctx, func() error {
		if tries++; tries > 1 {
			if found, ok, err := r.Reuse(ctx, family, w.Rendered.Hash, w.Tags, nil, false); err == nil && ok {
				r.Memory.forgetUnlessLatest(family, found)
				arn = found
				return nil
			}
		}
		out, err := r.ECS.RegisterTaskDefinition(ctx, &in, NoSDKRetry)
		if err != nil {
			// The failed call may have registered the revision after all:
			// the family's latest is no longer known.
			r.Memory.forget(family)
			return err
		}
		r.Memory.remember(out, in.Tags)
		arn = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("register task definition %s: %w", family, err)
	}
	return arn, nil
}

// NoSDKRetry turns off the SDK's retries for one call.
func NoSDKRetry(o *ecs.Options) { o.RetryMaxAttempts = 1 }

// recentRevisions is how far back Reuse looks for a revision with the
// wanted content before one is registered.
const recentRevisions = 10

// Reuse is rule 7: it looks for a revision of family with the content hash
// and returns it. It reads the family's latest (latest, when read already),
// and looks back over the recent revisions too when deep, or when the
// latest revision deploys, for some container, an image pushed at or after
// the one tags name (Behind): the push is then a late delivery of one
// deployed before (say, before a circuit-breaker rollback to an older
// revision), and its revision may exist already. A family with no revision
// is not an error.
func (r Registrar) Reuse(ctx context.Context, family, hash string, tags Tags, latest *ecs.DescribeTaskDefinitionOutput, deep bool) (string, bool, error) {
	if latest == nil || aws.ToString(latest.TaskDefinition.Family) != family {
		var err error
		latest, err = r.Describe(ctx, family)
		if awserr.TaskDefinitionNotFound(err) {
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
	if !deep && !Behind(tags, TagsOf(latest.Tags)) {
		return "", false, nil
	}
	var list *ecs.ListTaskDefinitionsOutput
	err := r.Pacer.Retry(ctx, func() error {
		var err error
		list, err = r.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{
			FamilyPrefix: aws.String(family), Sort: types.SortOrderDesc, Status: types.TaskDefinitionStatusActive,
			MaxResults: aws.Int32(recentRevisions),
		})
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("list revisions of %s: %w", family, err)
	}
	for _, arn := range list.TaskDefinitionArns {
		if f, _ := taskdef.SplitARN(arn); arn == latestARN || f != family {
			continue // the latest, or a prefix match such as web-staging for web
		}
		td, err := r.Describe(ctx, arn)
		if err != nil {
			return "", false, fmt.Errorf("describe revision %s: %w", arn, err)
		}
		if TagsOf(td.Tags)[TagContentHash] == hash {
			return arn, true, nil
		}
	}
	return "", false, nil
}

// Behind reports whether a revision with tags latest deploys, for some
// container, another image pushed at or after the one a new revision with
// tags does: the push may then be a late delivery whose revision exists.
func Behind(tags, latest Tags) bool {
	for k := range tags {
		c, ok := strings.CutPrefix(k, TagPushedAt)
		if !ok {
			continue
		}
		ours, ok1 := tags.PushedAt(c)
		theirs, ok2 := latest.PushedAt(c)
		if ok1 && ok2 && !theirs.Before(ours) && latest[TagDigest+c] != tags[TagDigest+c] {
			return true
		}
	}
	return false
}

// Describe reads a revision (or a family's latest) with its tags, retried.
func (r Registrar) Describe(ctx context.Context, ref string) (*ecs.DescribeTaskDefinitionOutput, error) {
	var out *ecs.DescribeTaskDefinitionOutput
	err := r.Pacer.Retry(ctx, func() error {
		var err error
		out, err = r.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		})
		return err
	})
	return out, err
}
