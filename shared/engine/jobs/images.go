package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ErrNoEligibleImage means a repository holds no image with a tag the
// policy accepts.
var ErrNoEligibleImage = errors.New("no eligible image")

// resolveImages resolves every container image of a job.
func (e *Engine) resolveImages(ctx context.Context, m *manifest.Manifest, job *manifest.Job) (map[string]taskdef.Image, error) {
	out := make(map[string]taskdef.Image, len(job.Images))
	for _, name := range sortedKeys(job.Images) {
		src := job.Images[name]
		var img taskdef.Image
		var err error
		if src.FromService != "" {
			img, err = e.serviceImage(ctx, m, src.FromService, name)
		} else {
			img, err = LatestImage(ctx, e.ECR, e.Region, src.Repository, src.Policy())
		}
		if err != nil {
			return nil, fmt.Errorf("resolve image of container %s: %w", name, err)
		}
		out[name] = img
	}
	return out, nil
}

// serviceImage returns the image the service binding runs now, for the job
// container named container: the service's container of the same name, else
// the one named after the binding, else the binding's only container.
func (e *Engine) serviceImage(ctx context.Context, m *manifest.Manifest, binding, container string) (taskdef.Image, error) {
	svc, ok := m.Service(binding)
	if !ok {
		return taskdef.Image{}, fmt.Errorf("service binding %s is not in the manifest", binding)
	}
	ds, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(svc.Cluster), Services: []string{svc.Service}})
	if err != nil {
		return taskdef.Image{}, fmt.Errorf("describe service %s/%s: %w", svc.Cluster, svc.Service, err)
	}
	if len(ds.Services) == 0 || aws.ToString(ds.Services[0].Status) == "INACTIVE" {
		return taskdef.Image{}, fmt.Errorf("service %s/%s of binding %s not found", svc.Cluster, svc.Service, binding)
	}
	tdARN := primaryTaskDefinition(ds.Services[0])
	td, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(tdARN), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return taskdef.Image{}, fmt.Errorf("describe task definition %s: %w", tdARN, err)
	}
	cd, err := pickContainer(td.TaskDefinition.ContainerDefinitions, container, binding, svc)
	if err != nil {
		return taskdef.Image{}, fmt.Errorf("service binding %s (%s): %w", binding, tdARN, err)
	}
	name := aws.ToString(cd.Name)
	img := taskdef.ParseImageURI(aws.ToString(cd.Image))
	tags := tagMap(td.Tags)
	if img.Digest == "" {
		img.Digest = tags[TagDigestPrefix+name]
	}
	if img.Tag == "" {
		img.Tag = tags[TagImageTagPrefix+name]
	}
	if t, err := time.Parse(time.RFC3339Nano, tags[TagPushedPrefix+name]); err == nil {
		img.PushedAt = t
	}
	if img.Digest == "" && img.Tag != "" {
		if img.Digest, err = e.digestOf(ctx, img); err != nil {
			return taskdef.Image{}, fmt.Errorf("service binding %s container %s: %w", binding, name, err)
		}
	}
	if img.Digest == "" {
		return taskdef.Image{}, fmt.Errorf("service binding %s container %s runs %s, which is not pinned by digest", binding, name, aws.ToString(cd.Image))
	}
	return img, nil
}

// primaryTaskDefinition is the revision of the service's PRIMARY deployment.
func primaryTaskDefinition(s ecstypes.Service) string {
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && d.TaskDefinition != nil {
			return *d.TaskDefinition
		}
	}
	return aws.ToString(s.TaskDefinition)
}

func pickContainer(cds []ecstypes.ContainerDefinition, container, binding string, svc *manifest.Service) (ecstypes.ContainerDefinition, error) {
	byName := map[string]ecstypes.ContainerDefinition{}
	var names []string
	for _, cd := range cds {
		byName[aws.ToString(cd.Name)] = cd
		names = append(names, aws.ToString(cd.Name))
	}
	for _, want := range []string{container, binding} {
		if cd, ok := byName[want]; ok {
			return cd, nil
		}
	}
	if len(svc.Images) == 1 {
		for only := range svc.Images {
			if cd, ok := byName[only]; ok {
				return cd, nil
			}
		}
	}
	return ecstypes.ContainerDefinition{}, fmt.Errorf("no container named %s or %s; it has %s — name the job's container after one of them",
		container, binding, strings.Join(names, ", "))
}

// digestOf looks up the digest of a tagged ECR image.
func (e *Engine) digestOf(ctx context.Context, img taskdef.Image) (string, error) {
	in := &ecr.DescribeImagesInput{RepositoryName: aws.String(img.Repository), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(img.Tag)}}}
	if acct, _, ok := strings.Cut(img.Registry, "."); ok && acct != "" {
		in.RegistryId = aws.String(acct)
	}
	out, err := e.ECR.DescribeImages(ctx, in)
	if err != nil {
		return "", fmt.Errorf("describe image %s:%s: %w", img.Repository, img.Tag, err)
	}
	if len(out.ImageDetails) == 0 {
		return "", fmt.Errorf("image %s:%s not found", img.Repository, img.Tag)
	}
	return aws.ToString(out.ImageDetails[0].ImageDigest), nil
}

// LatestImage returns the newest image of repository whose tag the policy
// accepts: the highest version for semver policies (push time breaks ties),
// the latest push for the others. region builds the registry host.
// It returns ErrNoEligibleImage when no tag matches.
func LatestImage(ctx context.Context, api ecrAPI, region, repository string, policy tagpolicy.Policy) (taskdef.Image, error) {
	var details []ecrtypes.ImageDetail
	p := ecr.NewDescribeImagesPaginator(api, &ecr.DescribeImagesInput{
		RepositoryName: aws.String(repository),
		Filter:         &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusTagged},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return taskdef.Image{}, fmt.Errorf("describe images of %s: %w", repository, err)
		}
		details = append(details, out.ImageDetails...)
	}
	img, ok := Newest(details, region, policy)
	if !ok {
		return taskdef.Image{}, fmt.Errorf("repository %s, tags %q: %w", repository, policy, ErrNoEligibleImage)
	}
	if img.Repository == "" {
		img.Repository = repository
	}
	return img, nil
}

// Newest picks the newest eligible image among ECR image details (see
// LatestImage).
func Newest(details []ecrtypes.ImageDetail, region string, policy tagpolicy.Policy) (taskdef.Image, bool) {
	var best taskdef.Image
	found := false
	for _, d := range details {
		pushed := aws.ToTime(d.ImagePushedAt)
		for _, tag := range d.ImageTags {
			if !policy.Match(tag) {
				continue
			}
			c := taskdef.Image{
				Registry: taskdef.Registry(aws.ToString(d.RegistryId), region), Repository: aws.ToString(d.RepositoryName),
				Tag: tag, Digest: aws.ToString(d.ImageDigest), PushedAt: pushed,
			}
			if !found || newer(policy, c, best) {
				best, found = c, true
			}
		}
	}
	return best, found
}

func newer(policy tagpolicy.Policy, a, b taskdef.Image) bool {
	if c := policy.Compare(a.Tag, b.Tag); c != 0 {
		return c > 0
	}
	if !a.PushedAt.Equal(b.PushedAt) {
		return a.PushedAt.After(b.PushedAt)
	}
	return a.Tag > b.Tag
}

func tagMap(tags []ecstypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
