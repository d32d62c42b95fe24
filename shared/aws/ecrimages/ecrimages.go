// Package ecrimages reads Amazon ECR for Deckhand: the newest eligible image
// of a repository under a tag policy, by the order of DESIGN §5 rule 5
// (tagpolicy.Policy.Newer), and the digest of a tagged image.
package ecrimages

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

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
