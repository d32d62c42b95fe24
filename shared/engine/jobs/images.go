package jobs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/ecrimages"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// resolveImages resolves every container image of a job: the image a
// service binding runs now, or the newest eligible image of a repository
// (ecrimages.Newest, by DESIGN §5 rule 5's order).
func (e *Engine) resolveImages(ctx context.Context, m *manifest.Manifest, job *manifest.Job) (map[string]taskdef.Image, error) {
	out := make(map[string]taskdef.Image, len(job.Images))
	for _, name := range slices.Sorted(maps.Keys(job.Images)) {
		src := job.Images[name]
		var img taskdef.Image
		var err error
		if src.FromService != "" {
			img, err = e.serviceImage(ctx, m, src.FromService, name)
		} else {
			img, err = ecrimages.Newest(ctx, e.ECR, e.Region, src.Repository, src.Policy())
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
	// The service may run in another target than the job.
	ctx, err := e.inTarget(ctx, m, svc.Target, svc.Name)
	if err != nil {
		return taskdef.Image{}, err
	}
	ds, err := e.ecs(ctx).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(svc.Cluster), Services: []string{svc.Service}})
	if err != nil {
		return taskdef.Image{}, fmt.Errorf("describe service %s/%s: %w", svc.Cluster, svc.Service, err)
	}
	if len(ds.Services) == 0 || aws.ToString(ds.Services[0].Status) == "INACTIVE" {
		return taskdef.Image{}, fmt.Errorf("service %s/%s of binding %s not found", svc.Cluster, svc.Service, binding)
	}
	tdARN := revision.OfService(ds.Services[0])
	td, err := e.ecs(ctx).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(tdARN), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return taskdef.Image{}, fmt.Errorf("describe task definition %s: %w", tdARN, err)
	}
	cd, err := pickContainer(td.TaskDefinition.ContainerDefinitions, container, binding, svc)
	if err != nil {
		return taskdef.Image{}, fmt.Errorf("service binding %s (%s): %w", binding, tdARN, err)
	}
	name := aws.ToString(cd.Name)
	img, _ := revision.Image(td.TaskDefinition, revision.TagsOf(td.Tags), name)
	if img.Digest == "" && img.Tag != "" {
		if img.Digest, err = ecrimages.Digest(ctx, e.ECR, img); err != nil {
			return taskdef.Image{}, fmt.Errorf("service binding %s container %s: %w", binding, name, err)
		}
	}
	if img.Digest == "" {
		return taskdef.Image{}, fmt.Errorf("service binding %s container %s runs %s, which is not pinned by digest", binding, name, aws.ToString(cd.Image))
	}
	return img, nil
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
