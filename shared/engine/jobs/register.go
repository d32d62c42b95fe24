package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// taskDefinition renders the job's template and returns a revision with that
// content (revision.Registrar.Ensure): the family's latest revision when its
// deckhand:content-hash equals the new hash, else a newly registered one. A
// crash between register and run never leaves duplicate revisions.
func (e *Engine) taskDefinition(ctx context.Context, m *manifest.Manifest, job *manifest.Job, images map[string]taskdef.Image) (string, error) {
	tmpl, err := e.Source.Template(ctx, job.Template)
	if errors.Is(err, store.ErrNotFound) {
		return "", &revision.PermanentError{Reason: "TemplateNotFound", Err: fmt.Errorf("load template %s of job %s: %w", job.Template, job.Name, err)}
	}
	if err != nil {
		return "", fmt.Errorf("load template %s: %w", job.Template, err)
	}
	refs, err := taskdef.ResolveRefs(ctx, targets.Refs(ctx, e.Refs), tmpl.Body, job.Template)
	if err != nil {
		if revision.Retryable(err) {
			return "", err
		}
		return "", &revision.PermanentError{Reason: revision.Reason(err), Err: fmt.Errorf("resolve references of job %s: %w", job.Name, err)}
	}
	account, region := e.where(ctx)
	r, err := taskdef.Render(tmpl.Body, taskdef.Data{
		Account: account, Region: region, Cluster: job.Cluster, Service: job.Name,
		Images: images, Primary: revision.JobPrimary(job), Vars: job.Vars, Refs: refs,
	}, taskdef.Options{Key: job.Template, Roles: m.Roles, Allow: job.Allow, Sources: m.Sources, Job: job})
	if err != nil {
		return "", &revision.PermanentError{Reason: revision.Reason(err), Err: fmt.Errorf("render template of job %s: %w", job.Name, err)}
	}
	return e.registrar(ctx).Ensure(ctx, revision.Want{Rendered: r, Tags: revisionTags(job, r.Hash, tmpl.Version, images)})
}

// checkJobRevision checks that a revision a re-run names was registered
// by Deckhand for the job: only such a revision is started for it.
func (e *Engine) checkJobRevision(ctx context.Context, job *manifest.Job, arn string) error {
	out, err := e.ecs(ctx).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return fmt.Errorf("describe task definition %s: %w", arn, err)
	}
	if got := revision.TagsOf(out.Tags)[revision.TagJob]; got != job.Name {
		return &revision.PermanentError{Reason: "ForeignRevision",
			Err: fmt.Errorf("task definition %s was not registered for job %s (its %s tag is %q)", arn, job.Name, revision.TagJob, got)}
	}
	return nil
}

// revisionTags are Deckhand's tags on a job's revision.
func revisionTags(job *manifest.Job, hash, templateVersion string, images map[string]taskdef.Image) revision.Tags {
	tags := revision.Tags{revision.TagJob: job.Name, revision.TagContentHash: hash, revision.TagTemplate: revision.TagValue(templateVersion)}
	for name, img := range images {
		tags[revision.TagDigest+name] = img.Digest
		if img.Tag != "" {
			tags[revision.TagImageTag+name] = img.Tag
		}
		if !img.PushedAt.IsZero() {
			tags[revision.TagPushedAt+name] = img.PushedAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return tags
}
