package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// revision is the task definition a run uses.
type revision struct {
	ARN        string
	Registered bool // false when the family's latest revision was reused
}

// taskDefinition renders the job's template and returns a revision with that
// content: the family's latest revision when its deckhand:content-hash equals
// the new hash, else a newly registered one. A crash between register and
// run never leaves duplicate revisions.
func (e *Engine) taskDefinition(ctx context.Context, m *manifest.Manifest, job *manifest.Job, images map[string]taskdef.Image) (revision, error) {
	tmpl, err := e.Source.Template(ctx, job.Template)
	if errors.Is(err, store.ErrNotFound) {
		return revision{}, &permanentError{fmt.Errorf("load template %s of job %s: %w", job.Template, job.Name, err)}
	}
	if err != nil {
		return revision{}, fmt.Errorf("load template %s: %w", job.Template, err)
	}
	r, err := taskdef.Render(tmpl.Body, taskdef.Data{
		Account: e.Account, Region: e.Region, Cluster: job.Cluster, Service: job.Name,
		Images: images, Primary: primaryContainer(job), Vars: job.Vars,
	}, taskdef.Options{Key: job.Template, Roles: m.Roles, Allow: job.Allow, Sources: m.Sources, Job: job})
	if err != nil {
		return revision{}, &permanentError{fmt.Errorf("render template of job %s: %w", job.Name, err)}
	}
	family := aws.ToString(r.Input.Family)
	if arn, ok, err := e.latestWithHash(ctx, family, r.Hash); err != nil || ok {
		return revision{ARN: arn}, err
	}
	in := *r.Input
	in.Tags = mergeTags(in.Tags, revisionTags(job, r.Hash, deploy.TagValue(tmpl.Version), images))
	// RegisterTaskDefinition is not idempotent: a 5xx or a reset may come
	// after the revision was written. So the SDK does not retry it, and
	// before each new attempt the family's latest revision is checked for
	// this content.
	for attempt := 1; ; attempt++ {
		out, err := e.ECS.RegisterTaskDefinition(ctx, &in, noSDKRetry)
		if err == nil {
			return revision{ARN: aws.ToString(out.TaskDefinition.TaskDefinitionArn), Registered: true}, nil
		}
		if attempt >= registerAttempts || !deploy.Retryable(err) {
			return revision{}, fmt.Errorf("register task definition %s: %w", family, err)
		}
		if err := deploy.SleepContext(ctx, time.Duration(attempt)*100*time.Millisecond); err != nil {
			return revision{}, err
		}
		if arn, ok, ferr := e.latestWithHash(ctx, family, r.Hash); ferr == nil && ok {
			return revision{ARN: arn}, nil
		}
	}
}

// registerAttempts bounds the runner's RegisterTaskDefinition attempts.
const registerAttempts = 3

// noSDKRetry turns off the SDK's retries for one call.
func noSDKRetry(o *ecs.Options) { o.RetryMaxAttempts = 1 }

// latestWithHash returns the family's latest revision when its
// deckhand:content-hash is hash. A family with no revision is not an error.
func (e *Engine) latestWithHash(ctx context.Context, family, hash string) (string, bool, error) {
	latest, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(family), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	switch {
	case err == nil && latest.TaskDefinition != nil && tagMap(latest.Tags)[TagContentHash] == hash:
		return aws.ToString(latest.TaskDefinition.TaskDefinitionArn), true, nil
	case err != nil && !isNoTaskDefinition(err):
		return "", false, fmt.Errorf("describe task definition %s: %w", family, err)
	}
	return "", false, nil
}

// primaryContainer is the container .Image refers to: the override's
// container, else the first image container by name.
func primaryContainer(job *manifest.Job) string {
	if job.Overrides != nil && job.Overrides.Container != "" {
		return job.Overrides.Container
	}
	if names := sortedKeys(job.Images); len(names) > 0 {
		return names[0]
	}
	return ""
}

func revisionTags(job *manifest.Job, hash, template string, images map[string]taskdef.Image) map[string]string {
	tags := map[string]string{TagJob: job.Name, TagContentHash: hash, TagTemplate: template}
	for name, img := range images {
		tags[TagDigestPrefix+name] = img.Digest
		if img.Tag != "" {
			tags[TagImageTagPrefix+name] = img.Tag
		}
		if !img.PushedAt.IsZero() {
			tags[TagPushedPrefix+name] = img.PushedAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return tags
}

// mergeTags adds ours to the template's tags (ours win) and sorts by key, so
// equal inputs give byte-equal requests.
func mergeTags(base []ecstypes.Tag, ours map[string]string) []ecstypes.Tag {
	all := map[string]string{}
	for _, t := range base {
		all[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for k, v := range ours {
		all[k] = v
	}
	out := make([]ecstypes.Tag, 0, len(all))
	for _, k := range sortedKeys(all) {
		out = append(out, ecstypes.Tag{Key: aws.String(k), Value: aws.String(all[k])})
	}
	return out
}

// isNoTaskDefinition reports ECS's answer for a family with no revision.
func isNoTaskDefinition(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ClientException" &&
		strings.Contains(ae.ErrorMessage(), "Unable to describe task definition")
}

// permanentError marks a failure that retrying the same invocation cannot
// fix (a bad template, an unknown job); it is reported as FAILED instead of
// being returned for a retry.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }
