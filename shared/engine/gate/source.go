package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// ECSAPI is the part of ECS the gates read: services, revisions with their
// tags, and ECS's service-deployment records.
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// Reader reads gates from ECS and ECR. Retry, when set, retries each call
// (an engine's pacer); nil calls once.
type Reader struct {
	ECS   ECSAPI
	ECR   ScanAPI
	Retry func(context.Context, func() error) error
}

func (r Reader) retry(ctx context.Context, f func() error) error {
	if r.Retry == nil {
		return f()
	}
	return r.Retry(ctx, f)
}

// Candidate is what a promotion deploys: the revision the source binding
// serves, with its tags (digests, tags and pushed-at marks per container),
// and ECS's word that it reached SUCCESSFUL.
type Candidate struct {
	Source   string
	Revision string
	Tags     revision.Tags
	// SucceededAt is when ECS's service deployment of the revision reached
	// SUCCESSFUL (its finishedAt).
	SucceededAt time.Time
}

// Digest is the candidate's digest for a container.
func (c Candidate) Digest(container string) string { return c.Tags[revision.TagDigest+container] }

// Verdict is the source's word for a promotion event (gate.source).
func (c Candidate) Verdict(now time.Time) *events.SourceVerdict {
	return &events.SourceVerdict{Binding: c.Source, Revision: c.Revision, Status: string(events.StatusSucceeded),
		SucceededAt: c.SucceededAt.UTC(), ServedMS: now.Sub(c.SucceededAt).Milliseconds()}
}

// Promotable returns what src serves, if it may be promoted: src's service
// is steady (one deployment, COMPLETED) on a revision Deckhand registered
// for src, and ECS's newest SUCCESSFUL service deployment of src is of that
// revision. A rolled-back revision is never served (ECS went back to the
// one before); a superseded one is no longer served, or no longer steady
// while its successor rolls out. It returns why not, when not; the soak is
// the caller's to judge (now − SucceededAt).
func (r Reader) Promotable(ctx context.Context, src *manifest.Service) (Candidate, string, error) {
	c := Candidate{Source: src.Name}
	var out *ecs.DescribeServicesOutput
	err := r.retry(ctx, func() error {
		var err error
		out, err = r.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(src.Cluster), Services: []string{src.Service}})
		return err
	})
	if err != nil {
		return c, "", fmt.Errorf("describe source service %s/%s: %w", src.Cluster, src.Service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return c, fmt.Sprintf("source %s: service %s/%s not found", src.Name, src.Cluster, src.Service), nil
	}
	svc := out.Services[0]
	c.Revision = revision.OfService(svc)
	if len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		return c, fmt.Sprintf("source %s is not steady: %d deployment(s), the newest %s", src.Name, len(svc.Deployments), rolloutOf(svc)), nil
	}
	var td *ecs.DescribeTaskDefinitionOutput
	if err := r.retry(ctx, func() error {
		var err error
		td, err = r.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(c.Revision),
			Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		return err
	}); err != nil {
		return c, "", fmt.Errorf("describe source revision %s: %w", c.Revision, err)
	}
	c.Tags = revision.TagsOf(td.Tags)
	if c.Tags[revision.TagBinding] != src.Name {
		return c, fmt.Sprintf("source %s serves %s, which Deckhand did not register for it", src.Name, c.Revision), nil
	}
	at, ok, err := r.succeeded(ctx, src, c.Revision)
	if err != nil || !ok {
		return c, fmt.Sprintf("ECS's newest SUCCESSFUL deployment of %s is not of %s", src.Name, c.Revision), err
	}
	c.SucceededAt = at
	return c, "", nil
}

// succeeded reads when ECS's newest SUCCESSFUL service deployment of src
// finished, if it deployed rev.
func (r Reader) succeeded(ctx context.Context, src *manifest.Service, rev string) (time.Time, bool, error) {
	var list *ecs.ListServiceDeploymentsOutput
	err := r.retry(ctx, func() error {
		var err error
		list, err = r.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(src.Cluster), Service: aws.String(src.Service),
			Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusSuccessful}, MaxResults: aws.Int32(1)})
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("list service deployments of %s/%s: %w", src.Cluster, src.Service, err)
	}
	if len(list.ServiceDeployments) == 0 {
		return time.Time{}, false, nil
	}
	brief := list.ServiceDeployments[0]
	var revs *ecs.DescribeServiceRevisionsOutput
	err = r.retry(ctx, func() error {
		var err error
		revs, err = r.ECS.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(brief.TargetServiceRevisionArn)}})
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("describe service revision %s: %w", aws.ToString(brief.TargetServiceRevisionArn), err)
	}
	if len(revs.ServiceRevisions) == 0 || aws.ToString(revs.ServiceRevisions[0].TaskDefinition) != rev || brief.FinishedAt == nil {
		return time.Time{}, false, nil
	}
	return *brief.FinishedAt, true, nil
}

func rolloutOf(svc types.Service) string {
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return fmt.Sprintf("%s %s", aws.ToString(d.TaskDefinition), d.RolloutState)
		}
	}
	return "unknown"
}
