// Package ecrimages reads Amazon ECR for Deckhand: the newest eligible image
// of a repository under a tag policy, by the order of DESIGN §5 rule 5
// (tagpolicy.Policy.Newer), and the digest of a tagged image.
package ecrimages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ecrAPI is the part of the ECR client the image reads use.
type ecrAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

var _ ecrAPI = (*ecr.Client)(nil)

// ErrNoEligibleImage means a repository holds no image with a tag the
// policy accepts.
var ErrNoEligibleImage = errors.New("no eligible image")

// Newest returns the newest image of repository whose tag the policy
// accepts (NewestOf). region builds the registry host. It returns
// ErrNoEligibleImage when no tag matches.
func Newest(ctx context.Context, api ecrAPI, region, repository string, policy tagpolicy.Policy) (taskdef.Image, error) {
	var details []ecrtypes.ImageDetail
	p := ecr.NewDescribeImagesPaginator(api, &ecr.DescribeImagesInput{
		RepositoryName: aws.String(repository),
		Filter:         &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusTagged},
		MaxResults:     aws.Int32(1000),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return taskdef.Image{}, fmt.Errorf("describe images of %s: %w", repository, err)
		}
		details = append(details, out.ImageDetails...)
	}
	img, ok := NewestOf(details, region, policy)
	if !ok {
		return taskdef.Image{}, fmt.Errorf("repository %s, tags %q: %w", repository, policy, ErrNoEligibleImage)
	}
	if img.Repository == "" {
		img.Repository = repository
	}
	return img, nil
}

// NewestOf picks the newest eligible image among ECR image details: of
// every tag the policy accepts, the one tagpolicy.Policy.Newer ranks first
// (the latest push; in one instant, the highest version, then the highest
// tag string).
func NewestOf(details []ecrtypes.ImageDetail, region string, policy tagpolicy.Policy) (taskdef.Image, bool) {
	var best taskdef.Image
	found := false
	for _, d := range details {
		pushed := aws.ToTime(d.ImagePushedAt)
		for _, tag := range d.ImageTags {
			if !policy.Match(tag) {
				continue
			}
			if found && !policy.Newer(tagpolicy.Pushed{Tag: tag, At: pushed}, tagpolicy.Pushed{Tag: best.Tag, At: best.PushedAt}) {
				continue
			}
			best, found = taskdef.Image{
				Registry: taskdef.Registry(aws.ToString(d.RegistryId), region), Repository: aws.ToString(d.RepositoryName),
				Tag: tag, Digest: aws.ToString(d.ImageDigest), PushedAt: pushed,
			}, true
		}
	}
	return best, found
}

// Digest looks up the digest of a tagged image in its registry.
func Digest(ctx context.Context, api ecrAPI, img taskdef.Image) (string, error) {
	in := &ecr.DescribeImagesInput{RepositoryName: aws.String(img.Repository), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(img.Tag)}}}
	if acct, _, ok := strings.Cut(img.Registry, "."); ok && acct != "" {
		in.RegistryId = aws.String(acct)
	}
	out, err := api.DescribeImages(ctx, in)
	if err != nil {
		return "", fmt.Errorf("describe image %s:%s: %w", img.Repository, img.Tag, err)
	}
	if len(out.ImageDetails) == 0 {
		return "", fmt.Errorf("image %s:%s not found", img.Repository, img.Tag)
	}
	return aws.ToString(out.ImageDetails[0].ImageDigest), nil
}

// PushedAt returns ECR's push times of the images with the given digests
// in repository (of registry, when not ""), which are precise to the
// millisecond where an ECR Image Action event's time has whole seconds. An
// image ECR does not have (deleted since) is left out of the answer.
func PushedAt(ctx context.Context, api ecrAPI, registry, repository string, digests ...string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	ask := func(ds []string) error {
		in := &ecr.DescribeImagesInput{RepositoryName: aws.String(repository)}
		if registry != "" {
			in.RegistryId = aws.String(registry)
		}
		for _, d := range ds {
			in.ImageIds = append(in.ImageIds, ecrtypes.ImageIdentifier{ImageDigest: aws.String(d)})
		}
		res, err := api.DescribeImages(ctx, in)
		if err != nil {
			return err
		}
		for _, d := range res.ImageDetails {
			if d.ImagePushedAt != nil {
				out[aws.ToString(d.ImageDigest)] = *d.ImagePushedAt
			}
		}
		return nil
	}
	err := ask(digests)
	if awserr.ImageNotFound(err) && len(digests) > 1 {
		// ECR refuses the whole request when one image is missing: ask for
		// each on its own.
		err = nil
		for _, d := range digests {
			if e := ask([]string{d}); e != nil && !awserr.ImageNotFound(e) {
				err = e
				break
			}
		}
	} else if awserr.ImageNotFound(err) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe images %s of %s: %w", strings.Join(digests, ", "), repository, err)
	}
	return out, nil
}
