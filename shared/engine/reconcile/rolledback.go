package reconcile

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// rollbackEvidence is what ECS's state says a binding was rolled back from
// (revision.MovedBackFrom), read once per binding and pass.
type rollbackEvidence struct {
	latest string
	marks  revision.Tags
}

// movedBack reports why the newest image digest of container c must not
// be enqueued although the service is behind on it: the service was moved
// back off Deckhand's newest revision, which deployed it (issue 10 item 2).
// The tracker's rolled-back mark is missing then (the service tags are
// checked before), so it is repaired here. It reads the family's latest
// revision only when a binding is behind, so an up-to-date pass costs no
// extra call.
func (r *Reconciler) movedBack(ctx context.Context, svc *ecstypes.Service, b *manifest.Service, c, digest string, seen **rollbackEvidence) (string, error) {
	if *seen == nil {
		family, _ := taskdef.SplitARN(revision.OfService(*svc))
		latest, err := r.ecs(ctx).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(family),
			Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
		if err != nil && !awserr.TaskDefinitionNotFound(err) {
			return "", fmt.Errorf("describe latest revision of %s: %w", family, err)
		}
		m := &rollbackEvidence{}
		if latest != nil && latest.TaskDefinition != nil {
			m.latest = aws.ToString(latest.TaskDefinition.TaskDefinitionArn)
			m.marks, _ = revision.MovedBackFrom(svc, latest, b.Name)
		}
		*seen = m
	}
	m := *seen
	if m.marks[revision.TagRolledBack+c] != digest {
		return "", nil
	}
	why := fmt.Sprintf("container %s: newest image %s was rolled back: Deckhand's newest revision %s deployed it and the service was moved back to %s",
		c, digest, m.latest, revision.OfService(*svc))
	missing := revision.AddRolledBack(revision.TagsOf(svc.Tags), m.marks)
	if len(missing) == 0 {
		return why, nil
	}
	if _, err := r.ecs(ctx).TagResource(ctx, &ecs.TagResourceInput{ResourceArn: svc.ServiceArn, Tags: missing.ECS()}); err != nil {
		return "", fmt.Errorf("repair rolled-back marks of service %s: %w", aws.ToString(svc.ServiceName), err)
	}
	svc.Tags = append(svc.Tags, missing.ECS()...)
	r.logger().InfoContext(ctx, "repaired rolled-back marks", "binding", b.Name, "service", aws.ToString(svc.ServiceName), "outcome", "repaired")
	return why + " (mark repaired)", nil
}
