package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

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
// bucket is empty), then asks ECR for the newest image of the pushed repository that the binding's tag policy
// accepts, and deploys that one if it was pushed after the push at hand.
// The push events of the images it skipped arrive later and are SUPERSEDED
// by the order rule (the running image was pushed after them); the event of
// the image it deployed is ALREADY_DEPLOYED.
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
func (e *Engine) bursting() bool {
	return e.RegisterLimit.TokensAt(e.Now()) < float64(e.RegisterLimit.Burst())-1
}

// catchUp replaces pushes in deploy by newer eligible images from ECR and
// returns a note per replaced container for the event's reason.
func (e *Engine) catchUp(ctx context.Context, b *manifest.Service, deploy map[string]Push, run *running) []string {
	var notes []string
	for _, c := range slices.Sorted(maps.Keys(deploy)) {
		p := deploy[c]
		if (p.Account != "" && p.Account != e.Account) || (p.Region != "" && p.Region != e.Region) || p.Force {
			continue
		}
		cand, ok := e.newestPushed(ctx, p.Repository, b.Images[c])
		if !ok || cand.Digest == p.Digest || !cand.PushedAt.After(p.PushedAt) {
			continue
		}
		if cand.Digest == run.digest(c) || cand.Digest == run.serviceTags()[TagRolledBack+c] {
			continue
		}
		notes = append(notes, fmt.Sprintf("%s caught up from %s to %s (pushed %s), found in ECR while waiting for register capacity",
			c, p.Tag, cand.Tag, cand.PushedAt.UTC().Format(time.RFC3339)))
		p.Tag, p.Digest, p.PushedAt = cand.Tag, cand.Digest, cand.PushedAt
		deploy[c] = p
	}
	return notes
}

// pushedImage is an ECR image as catch-up sees it.
type pushedImage struct {
	Tag, Digest string
	PushedAt    time.Time
}

// newestPushed is the most recently pushed image of repository with a tag
// the policy accepts (the engine orders pushes by push time, rule 5).
func (e *Engine) newestPushed(ctx context.Context, repository string, img manifest.Image) (pushedImage, bool) {
	policy := img.Policy()
	var best pushedImage
	found := false
	p := ecr.NewDescribeImagesPaginator(e.ECR, &ecr.DescribeImagesInput{
		RepositoryName: aws.String(repository),
		Filter:         &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusTagged},
		MaxResults:     aws.Int32(1000),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			e.Logger.WarnContext(ctx, "catch-up: describe images failed; deploying the push as it is", "repository", repository, "error", err)
			return pushedImage{}, false
		}
		for _, d := range out.ImageDetails {
			at := aws.ToTime(d.ImagePushedAt)
			for _, tag := range d.ImageTags {
				if !policy.Match(tag) {
					continue
				}
				c := pushedImage{Tag: tag, Digest: aws.ToString(d.ImageDigest), PushedAt: at}
				if !found || at.After(best.PushedAt) || (at.Equal(best.PushedAt) && policy.Compare(tag, best.Tag) > 0) {
					best, found = c, true
				}
			}
		}
	}
	return best, found
}
