package deploy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// reuseOrRegister returns the ARN of a revision with exactly this content:
// an existing one (rule 7) or a newly registered one. RegisterTaskDefinition
// is not idempotent, so it is never retried blindly: the SDK does not retry
// it, and before the engine tries again it looks whether the failed attempt
// registered the revision after all (a 5xx or a reset after the write).
//
// paced says the caller already took the register token.
func (e *Engine) reuseOrRegister(ctx context.Context, r *taskdef.Rendered, tags Tags, known *ecs.DescribeTaskDefinitionOutput, redelivered, paced bool) (string, error) {
	family := aws.ToString(r.Input.Family)
	if arn, ok, err := e.findRevision(ctx, family, r.Hash, tags, known, redelivered); err != nil || ok {
		if ok {
			e.forgetUnlessLatest(family, arn)
		}
		return arn, err
	}
	in := *r.Input
	in.Tags = tags.ECS()
	if !paced {
		if err := e.pace(ctx, e.RegisterLimit); err != nil {
			return "", fmt.Errorf("wait for register rate: %w", err)
		}
	}
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := e.ECS.RegisterTaskDefinition(ctx, &in, noSDKRetry)
		if err == nil {
			e.remember(out, in.Tags)
			return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
		}
		// The failed call may have registered the revision after all: the
		// engine no longer knows the family's latest, so the next push
		// reads it from ECS.
		e.registered.Delete(family)
		if attempt >= e.Attempts || !Retryable(err) {
			return "", fmt.Errorf("register task definition %s: %w", family, err)
		}
		if err := e.Sleep(ctx, delay); err != nil {
			return "", err
		}
		delay *= 2
		if arn, ok, ferr := e.findRevision(ctx, family, r.Hash, tags, nil, false); ferr == nil && ok {
			e.forgetUnlessLatest(family, arn)
			return arn, nil
		}
	}
}

// noSDKRetry turns off the SDK's retries for one call.
func noSDKRetry(o *ecs.Options) { o.RetryMaxAttempts = 1 }

// recentRevisions is how far back a redelivered push looks for a revision
// with its content before registering one.
const recentRevisions = 10

// findRevision looks for a revision of family with the given content hash:
// the family's latest (known, when read already), and for a redelivered
// push also the recent ones, since a crash between register and update may
// have been followed by another binding's revision. It looks back over the
// recent ones too when the latest revision carries an image pushed after
// the one being deployed (tags are the new revision's): the push is then a
// late delivery of one deployed before (say, before a circuit-breaker
// rollback to an older revision), and its revision may exist already.
func (e *Engine) findRevision(ctx context.Context, family, hash string, tags Tags, known *ecs.DescribeTaskDefinitionOutput, deep bool) (string, bool, error) {
	latest := known
	if latest == nil || aws.ToString(latest.TaskDefinition.Family) != family {
		var err error
		latest, err = e.describeTaskDefinition(ctx, family)
		if isClientNotFound(err) {
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
	if !deep && !behind(tags, TagsOf(latest.Tags)) {
		return "", false, nil
	}
	var list *ecs.ListTaskDefinitionsOutput
	err := e.retry(ctx, func() error {
		var err error
		list, err = e.ECS.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{
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
		td, err := e.describeTaskDefinition(ctx, arn)
		if err != nil {
			return "", false, fmt.Errorf("describe revision %s: %w", arn, err)
		}
		if TagsOf(td.Tags)[TagContentHash] == hash {
			return arn, true, nil
		}
	}
	return "", false, nil
}

// behind reports whether a revision with tags latest deploys, for some
// container, another image pushed at or after the one the new revision
// (tags) does: the push may then be a late delivery whose revision exists.
func behind(tags, latest Tags) bool {
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
