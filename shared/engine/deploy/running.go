package deploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// running is what a service runs now.
type running struct {
	service *types.Service
	def     *types.TaskDefinition
	tags    revision.Tags
	// latest is the family's latest revision when it was read in parallel.
	latest *ecs.DescribeTaskDefinitionOutput
	// movedBack are the rolled-back marks ECS's state implies, for when
	// the tracker's are not written yet: the service was moved back off
	// Deckhand's newest revision (revision.MovedBackFrom), or ECS lists a
	// deployment of another of the binding's revisions FAILED
	// (revision.FailedRevisions).
	movedBack []movedBack
}

// movedBack is one revision the service was moved back from, with the
// marks its rollback implies.
type movedBack struct {
	revision string
	marks    revision.Tags
}

// describe reads the service (with its tags) and its running revision. When
// the family's latest revision, read in parallel (latest), is the running
// one, it serves as the running revision too and saves a call and a round
// trip. A latest revision from the engine's memory rather than from ECS is
// only trusted as the family's latest while the service still runs it.
func (e *Engine) describe(ctx context.Context, b *manifest.Service, latest <-chan latestRead) (*running, error) {
	var out *ecs.DescribeServicesOutput
	err := e.pacer().Retry(ctx, func() error {
		var err error
		out, err = e.ecs(ctx).DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(b.Cluster), Services: []string{b.Service},
			Include: []types.ServiceField{types.ServiceFieldTags},
		})
		return err
	})
	lr := <-latest // wait for the parallel read either way
	l, remembered := lr.out, lr.remembered
	if err != nil {
		return nil, fmt.Errorf("describe service %s/%s: %w", b.Cluster, b.Service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return nil, &revision.PermanentError{Reason: "ServiceNotFound", Err: fmt.Errorf("service %s not found in cluster %s (binding %s)", b.Service, b.Cluster, b.Name)}
	}
	svc := out.Services[0]
	run := &running{service: &svc, latest: l}
	serving := aws.ToString(svc.TaskDefinition)
	if l != nil && aws.ToString(l.TaskDefinition.TaskDefinitionArn) == serving {
		run.def, run.tags = l.TaskDefinition, revision.TagsOf(l.Tags)
		return run, e.readMovedBack(ctx, run, b)
	}
	// The service runs something else than the revision read as the
	// family's latest (or none was read): read the serving revision and,
	// in parallel, the family's latest from ECS, which the rolled-back
	// check and rule 7 need. A remembered latest is not trusted here:
	// someone else changed the service. Nor is one of another family
	// (a family named before the template was read, knownFamily): what
	// the service was moved back from is in the serving revision's.
	var fresh *ecs.DescribeTaskDefinitionOutput
	var freshErr error
	done := make(chan struct{})
	servingFamily, _ := taskdef.SplitARN(serving)
	needLatest := l == nil || remembered || aws.ToString(l.TaskDefinition.Family) != servingFamily
	if needLatest {
		run.latest = nil
		go func() {
			defer close(done)
			fresh, freshErr = e.registrar(ctx).Describe(ctx, servingFamily)
		}()
	} else {
		close(done)
	}
	td, err := e.registrar(ctx).Describe(ctx, serving)
	<-done
	if err != nil {
		return nil, fmt.Errorf("describe running task definition %s: %w", serving, err)
	}
	run.def, run.tags = td.TaskDefinition, revision.TagsOf(td.Tags)
	if needLatest {
		if freshErr != nil && !awserr.TaskDefinitionNotFound(freshErr) {
			return nil, fmt.Errorf("describe latest revision of %s: %w", aws.ToString(td.TaskDefinition.Family), freshErr)
		}
		run.latest = fresh
	}
	return run, e.readMovedBack(ctx, run, b)
}

// readMovedBack gathers the evidence of rollbacks whose marks the tracker
// may not have written yet: the family's latest revision when the service
// was moved back off it, and every other revision of the binding whose
// deployment ECS lists as FAILED (one DescribeTaskDefinition each; ECS
// lists them only while their rollbacks run, so this is rare).
func (e *Engine) readMovedBack(ctx context.Context, run *running, b *manifest.Service) error {
	latest := ""
	if run.latest != nil && run.latest.TaskDefinition != nil {
		latest = aws.ToString(run.latest.TaskDefinition.TaskDefinitionArn)
	}
	if marks, ok := revision.MovedBackFrom(run.service, run.latest, b.Name); ok {
		run.movedBack = append(run.movedBack, movedBack{latest, marks})
	}
	for _, arn := range revision.FailedRevisions(run.service) {
		if arn == latest {
			continue // MovedBackFrom judged it
		}
		td, err := e.registrar(ctx).Describe(ctx, arn)
		if err != nil {
			return fmt.Errorf("describe rolled-back task definition %s: %w", arn, err)
		}
		tags := revision.TagsOf(td.Tags)
		if tags[revision.TagBinding] != b.Name {
			continue
		}
		if marks := revision.RolledBackMarks(tags); len(marks) > 0 {
			run.movedBack = append(run.movedBack, movedBack{arn, marks})
		}
	}
	return nil
}

func (r *running) serviceTags() revision.Tags { return revision.TagsOf(r.service.Tags) }

// digest is the running digest of a container: its tag, else the @digest of
// its image reference.
func (r *running) digest(c string) string {
	if d, ok := r.tags[revision.TagDigest+c]; ok {
		return d
	}
	img, _ := revision.Image(r.def, r.tags, c)
	return img.Digest
}

// image is a container's running image, kept as the revision names it.
func (r *running) image(c string) (taskdef.Image, bool) { return revision.Image(r.def, r.tags, c) }
