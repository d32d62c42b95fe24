package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/ecrimages"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// ecrAPI is the part of the ECR client catch-up uses.
type ecrAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

var _ ecrAPI = (*ecr.Client)(nil)

// Catch-up: coalescing across batches during a burst.
//
// Coalescing (rule 2) only sees one SQS batch. In a burst, a repository's
// pushes are spread over several batches, and each would register a
// revision, at ECS's account-wide RegisterTaskDefinition rate of one per
// second once the burst of 20 is spent. When registers come faster than
// that rate, the engine first takes its register token (waiting if the
// bucket is empty), then asks ECR for the newest eligible image of the
// pushed repository (ecrimages.Newest, by rule 5's order), and deploys that
// one if it was pushed after the push at hand. The push events of the
// images it skipped arrive later and are SUPERSEDED by the order rule (the
// running image was pushed after them); the event of the image it deployed
// is ALREADY_DEPLOYED.
//
// It costs one DescribeImages call per pushed container, made only during a
// burst (where it saves a register, and the register bucket's wait dwarfs
// it), so the warm path of a single push makes no extra call. It never moves a
// service to an image pushed earlier than the push it handles, never picks
// an image the circuit breaker rolled back, and looks only in Deckhand's own
// account and Region. Any ECR error leaves the push as it was.

// bursting reports whether registers have come faster than ECS's
// sustained rate of one per second: the bucket is more than one token below
// full. A lone push, or pushes a second or more apart, never catch up.
func (e *Engine) bursting(ctx context.Context) bool {
	l := e.placeOf(ctx).register
	return l.TokensAt(e.Now()) < float64(l.Burst())-1
}

// catchUpInBurst, in a burst, takes the register token (paced) and catches
// deploy up to newer eligible images, recording each replaced push in ev's
// containers. It returns a note per replaced container for the reason.
func (e *Engine) catchUpInBurst(ctx context.Context, b *manifest.Service, deploy map[string]Push, run *running, ev *events.DeploymentStateChange, times *pushTimes) (notes []string, paced bool, err error) {
	if e.ECR == nil || !e.bursting(ctx) {
		return nil, false, nil
	}
	if err := e.pacer().Wait(ctx, e.placeOf(ctx).register); err != nil {
		return nil, false, fmt.Errorf("wait for register rate: %w", err)
	}
	notes = e.catchUp(ctx, b, deploy, run, times)
	for c, p := range deploy {
		if ch := ev.Containers[c]; ch.NewDigest != p.Digest {
			ch.PushedDigest, ch.PushedTag = ch.NewDigest, ch.NewTag
			ch.NewDigest, ch.NewTag = p.Digest, p.Tag
			ev.Containers[c] = ch
		}
	}
	return notes, true, nil
}

// catchUp replaces pushes in deploy by newer eligible images from ECR and
// returns a note per replaced container for the event's reason.
func (e *Engine) catchUp(ctx context.Context, b *manifest.Service, deploy map[string]Push, run *running, times *pushTimes) []string {
	var notes []string
	for _, c := range slices.Sorted(maps.Keys(deploy)) {
		p := deploy[c]
		if (p.Account != "" && p.Account != e.Account) || (p.Region != "" && p.Region != e.Region) || p.Force || p.Trigger == events.TriggerPromote {
			continue
		}
		cand, err := ecrimages.Newest(ctx, e.ECR, e.Region, p.Repository, b.Images[c].Policy())
		if err != nil {
			if !errors.Is(err, ecrimages.ErrNoEligibleImage) {
				e.Logger.WarnContext(ctx, "catch-up: describe images failed; deploying the push as it is", "repository", p.Repository, "error", err)
			}
			continue
		}
		if cand.Digest == p.Digest {
			continue
		}
		// ECR's time is precise, the event's has whole seconds: rule 5's
		// order tells which push came last.
		newer, err := times.order(ctx, b.Images[c].Policy(), stamp{Repository: p.Repository, Tag: cand.Tag, Digest: cand.Digest, At: cand.PushedAt}, stampOf(p, e.Account))
		if err != nil || newer <= 0 {
			continue
		}
		if _, back := run.rolledBack(c, Push{Digest: cand.Digest}); cand.Digest == run.digest(c) || back {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s caught up from %s to %s (pushed %s), found in ECR while waiting for register capacity",
			c, p.Tag, cand.Tag, cand.PushedAt.UTC().Format(time.RFC3339)))
		p.Tag, p.Digest, p.PushedAt = cand.Tag, cand.Digest, cand.PushedAt
		deploy[c] = p
	}
	return notes
}
