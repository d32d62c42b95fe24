package revision

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Image is a container's image in a revision as Deckhand reads it: the
// image reference of the container definition, with the digest, tag and
// push time the revision's tags record (DESIGN §5) where they record them.
// ok is false when the revision has no such container or it names no
// image.
func Image(def *types.TaskDefinition, tags Tags, container string) (img taskdef.Image, ok bool) {
	if def == nil {
		return taskdef.Image{}, false
	}
	for _, cd := range def.ContainerDefinitions {
		if aws.ToString(cd.Name) != container {
			continue
		}
		if aws.ToString(cd.Image) == "" {
			return taskdef.Image{}, false
		}
		img = taskdef.ParseImageURI(aws.ToString(cd.Image))
		if d := tags[TagDigest+container]; d != "" {
			img.Digest = d
		}
		if t := tags[TagImageTag+container]; t != "" && img.Digest != "" {
			img.Tag = t
		}
		if at, ok := tags.PushedAt(container); ok {
			img.PushedAt = at
		}
		return img, true
	}
	return taskdef.Image{}, false
}

// OfService is the revision a service runs: its PRIMARY deployment's task
// definition, else the service's.
func OfService(s types.Service) string {
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && d.TaskDefinition != nil {
			return *d.TaskDefinition
		}
	}
	return aws.ToString(s.TaskDefinition)
}

// ServicePrimary is the container whose image .Image refers to in a
// service template: the one named like the binding or the service, else
// the first in name order.
func ServicePrimary(b *manifest.Service) string {
	for _, n := range []string{b.Name, b.Service} {
		if _, ok := b.Images[n]; ok {
			return n
		}
	}
	if len(b.Images) == 0 {
		return ""
	}
	return slices.Sorted(maps.Keys(b.Images))[0]
}

// JobPrimary is the container whose image .Image refers to in a job
// template, and the one overrides apply to: the overrides' container, else
// the first in name order.
func JobPrimary(j *manifest.Job) string {
	if j.Overrides != nil && j.Overrides.Container != "" {
		return j.Overrides.Container
	}
	if len(j.Images) == 0 {
		return ""
	}
	return slices.Sorted(maps.Keys(j.Images))[0]
}
