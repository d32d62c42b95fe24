package console

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ecrTags finds the tags of running images whose revision does not record
// one (a revision Deckhand did not register names its images by digest
// only): it asks ECR (DescribeImages, up to 100 digests per repository and
// call) and keeps what it learns for the life of the console. A tag found
// this way is what ECR says now; ECR tags can move, digests cannot.
type ecrTags struct {
	mu   sync.Mutex
	tags map[string]string // digest → tag ("" when ECR knows none)
}

// untagged is a running container image without a recorded tag.
type untagged struct {
	registryID, repository, digest string
}

// fillTags sets Tag on the rows' containers that lack one, when ECR knows it.
// Failures leave the tag empty: the page shows the digest either way.
func (s *Server) fillTags(ctx context.Context, rows []Row, defs map[string]*types.TaskDefinition) {
	if s.env.ECR == nil {
		return
	}
	var want []untagged
	seen := map[string]bool{}
	for _, r := range rows {
		td := defs[r.Revision]
		if td == nil {
			continue
		}
		for _, c := range r.Containers {
			if c.Tag != "" || c.Digest == "" || seen[c.Digest] || s.tags.known(c.Digest) {
				continue
			}
			for _, cd := range td.ContainerDefinitions {
				img := taskdef.ParseImageURI(aws.ToString(cd.Image))
				if aws.ToString(cd.Name) == c.Name && img.Digest == c.Digest && strings.Contains(img.Registry, ".dkr.ecr.") {
					seen[c.Digest] = true
					want = append(want, untagged{registryID: strings.SplitN(img.Registry, ".", 2)[0], repository: img.Repository, digest: c.Digest})
				}
			}
		}
	}
	type batch struct {
		registryID, repository string
		digests                []string
	}
	groups := map[[2]string][]string{}
	for _, u := range want {
		k := [2]string{u.registryID, u.repository}
		groups[k] = append(groups[k], u.digest)
	}
	var batches []batch
	for k, ds := range groups {
		for chunk := range slices.Chunk(ds, 100) {
			batches = append(batches, batch{k[0], k[1], chunk})
		}
	}
	_ = parallel(ctx, len(batches), func(ctx context.Context, i int) error {
		b := batches[i]
		ids := make([]ecrtypes.ImageIdentifier, len(b.digests))
		for j, d := range b.digests {
			ids[j] = ecrtypes.ImageIdentifier{ImageDigest: aws.String(d)}
		}
		out, err := s.env.ECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(b.repository),
			RegistryId: aws.String(b.registryID), ImageIds: ids})
		for _, d := range b.digests {
			s.tags.set(d, "") // asked: not asked again, whatever ECR answers
		}
		if err != nil {
			s.opts.Logger.DebugContext(ctx, "describe images for tags", "repository", b.repository, "err", err)
			return nil
		}
		for _, d := range out.ImageDetails {
			tag := ""
			if len(d.ImageTags) > 0 {
				tag = slices.Min(d.ImageTags)
			}
			s.tags.set(aws.ToString(d.ImageDigest), tag)
		}
		return nil
	})
	for i := range rows {
		for j := range rows[i].Containers {
			c := &rows[i].Containers[j]
			if c.Tag == "" {
				c.Tag, c.TagFromECR = s.tags.get(c.Digest)
			}
		}
	}
}

func (t *ecrTags) known(digest string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.tags[digest]
	return ok
}

func (t *ecrTags) set(digest, tag string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tags == nil {
		t.tags = map[string]string{}
	}
	if len(t.tags) >= maxCachedRevisions {
		clear(t.tags)
	}
	t.tags[digest] = tag
}

func (t *ecrTags) get(digest string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tag := t.tags[digest]
	return tag, tag != ""
}
