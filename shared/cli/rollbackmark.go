package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// previousActive is the newest ACTIVE revision of family older than
// revision, whoever registered it: where a rollback goes when Deckhand
// registered nothing older (the revision the service ran before Deckhand's
// first deploy).
func (e *Env) previousActive(ctx context.Context, family string, rev int32) (Revision, bool, error) {
	p := ecs.NewListTaskDefinitionsPaginator(e.ECS, &ecs.ListTaskDefinitionsInput{
		FamilyPrefix: aws.String(family), Status: types.TaskDefinitionStatusActive, Sort: types.SortOrderDesc})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Revision{}, false, fmt.Errorf("list revisions of %s: %w", family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			// FamilyPrefix also matches longer families (web-canary for web).
			if f, n := taskdef.SplitARN(arn); f != family || n >= int(rev) {
				continue
			}
			td, err := e.describeTaskDefinition(ctx, arn)
			if err != nil {
				return Revision{}, false, err
			}
			return withImages(revisionOf(td.TaskDefinition, revision.TagsOf(td.Tags)), td.TaskDefinition), true, nil
		}
	}
	return Revision{}, false, nil
}

// withImages fills the images a revision's tags do not record (it was not
// registered by Deckhand) from its container definitions.
func withImages(r Revision, td *types.TaskDefinition) Revision {
	for _, cd := range td.ContainerDefinitions {
		c := aws.ToString(cd.Name)
		img, parsed := r.Images[c], parseImage(aws.ToString(cd.Image))
		if img.Digest == "" {
			img.Digest = parsed.Digest
		}
		if img.Tag == "" {
			img.Tag = parsed.Tag
		}
		if img != (RevisionImage{}) {
			r.Images[c] = img
		}
	}
	return r
}

// markRolledBack tags the service with deckhand:rolled-back:<container> for
// each container whose digest the rollback from left, as the tracker does
// after a circuit-breaker rollback: the deployer then does not deploy those
// digests again on its own. It returns the marks it wrote.
func (e *Env) markRolledBack(ctx context.Context, svc *types.Service, from, to Revision) (map[string]string, error) {
	marks := map[string]string{}
	for c, img := range from.Images {
		if img.Digest != "" && img.Digest != to.Images[c].Digest {
			marks[c] = img.Digest
		}
	}
	if len(marks) == 0 {
		return nil, nil
	}
	add := revision.Tags{}
	for c, d := range marks {
		add[revision.TagRolledBack+c] = d
	}
	add = revision.AddRolledBack(revision.TagsOf(svc.Tags), add) // keeps earlier rollbacks' digests
	if len(add) == 0 {
		return marks, nil
	}
	var tags []types.Tag
	for _, k := range slices.Sorted(maps.Keys(add)) {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(add[k])})
	}
	if _, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: svc.ServiceArn, Tags: tags}); err != nil {
		return nil, fmt.Errorf("tag service %s with the rolled-back digests: %w", aws.ToString(svc.ServiceName), err)
	}
	return marks, nil
}
