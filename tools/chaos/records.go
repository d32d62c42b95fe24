package chaos

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// sandboxRecords answers ECS's service-deployment record APIs
// (ListServiceDeployments, DescribeServiceDeployments,
// DescribeServiceRevisions) from the sandbox's own deployment state, for
// the tracker, which reads them once a service no longer lists a
// deployment (DESIGN §10). The sandbox does not serve these APIs yet; this
// stands in for them, as ECS shapes them: one record per deployment, its
// service revision named by the deployment id's number.
type sandboxRecords struct {
	*ecs.Client
	sb *sandbox.Sandbox
}

func (r sandboxRecords) deployments(cluster, service string) []ecssim.DeploymentSnapshot {
	snap, _ := r.sb.ECS().Service(cluster, service)
	return snap.Deployments
}

func (r sandboxRecords) arn(kind, cluster, service, id string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s/%s/%s/%s", r.sb.Region(), r.sb.Account(), kind, cluster, service, id[strings.LastIndex(id, "/")+1:])
}

// record is ECS's record of deployment d of the service; deps are all its
// deployments, newest first.
func (r sandboxRecords) record(cluster, service string, d ecssim.DeploymentSnapshot, deps []ecssim.DeploymentSnapshot) ecstypes.ServiceDeployment {
	out := ecstypes.ServiceDeployment{
		ServiceDeploymentArn:  aws.String(r.arn("service-deployment", cluster, service, d.ID)),
		TargetServiceRevision: &ecstypes.ServiceRevisionSummary{Arn: aws.String(r.arn("service-revision", cluster, service, d.ID))},
		StatusReason:          aws.String(d.RolloutStateReason), CreatedAt: aws.Time(d.CreatedAt),
	}
	switch d.RolloutState {
	case "COMPLETED":
		out.Status = ecstypes.ServiceDeploymentStatusSuccessful
	case "FAILED":
		out.Status = ecstypes.ServiceDeploymentStatusStopped
		// The circuit breaker's rollback: the first deployment created
		// after the failed one, of an older revision.
		var back *ecssim.DeploymentSnapshot
		for i := range deps {
			o := &deps[i]
			_, orev := taskdef.SplitARN(o.TaskDefinition)
			_, drev := taskdef.SplitARN(d.TaskDefinition)
			if o.ID == d.ID || !o.CreatedAt.After(d.CreatedAt) || orev >= drev {
				continue
			}
			if back == nil || o.CreatedAt.Before(back.CreatedAt) {
				back = o
			} else if _, brev := taskdef.SplitARN(back.TaskDefinition); o.CreatedAt.Equal(back.CreatedAt) && orev < brev {
				back = o
			}
		}
		if d.CircuitBreakerRoll && back != nil {
			out.Status = ecstypes.ServiceDeploymentStatusRollbackSuccessful
			if back.RolloutState != "COMPLETED" {
				out.Status = ecstypes.ServiceDeploymentStatusRollbackInProgress
			}
			out.Rollback = &ecstypes.Rollback{ServiceRevisionArn: aws.String(r.arn("service-revision", cluster, service, back.ID))}
		}
	case "IN_PROGRESS":
		out.Status = ecstypes.ServiceDeploymentStatusInProgress
		if d.Status == "INACTIVE" {
			out.Status = ecstypes.ServiceDeploymentStatusStopped // superseded
		}
	}
	return out
}

func (r sandboxRecords) ListServiceDeployments(_ context.Context, in *ecs.ListServiceDeploymentsInput, _ ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error) {
	c, s := aws.ToString(in.Cluster), aws.ToString(in.Service)
	deps := r.deployments(c, s)
	out := &ecs.ListServiceDeploymentsOutput{}
	for _, d := range deps {
		rec := r.record(c, s, d, deps)
		out.ServiceDeployments = append(out.ServiceDeployments, ecstypes.ServiceDeploymentBrief{
			ServiceDeploymentArn: rec.ServiceDeploymentArn, Status: rec.Status, StatusReason: rec.StatusReason,
			TargetServiceRevisionArn: rec.TargetServiceRevision.Arn, CreatedAt: rec.CreatedAt,
		})
	}
	return out, nil
}

// parts splits a record ARN into cluster, service and id.
func parts(arn string) (cluster, service, id string) {
	f := strings.Split(arn[strings.Index(arn, "/")+1:], "/")
	if len(f) != 3 {
		return "", "", ""
	}
	return f[0], f[1], f[2]
}

func (r sandboxRecords) DescribeServiceDeployments(_ context.Context, in *ecs.DescribeServiceDeploymentsInput, _ ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error) {
	out := &ecs.DescribeServiceDeploymentsOutput{}
	for _, a := range in.ServiceDeploymentArns {
		c, s, id := parts(a)
		deps := r.deployments(c, s)
		for _, d := range deps {
			if strings.HasSuffix(d.ID, "/"+id) {
				out.ServiceDeployments = append(out.ServiceDeployments, r.record(c, s, d, deps))
			}
		}
	}
	return out, nil
}

func (r sandboxRecords) DescribeServiceRevisions(_ context.Context, in *ecs.DescribeServiceRevisionsInput, _ ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error) {
	out := &ecs.DescribeServiceRevisionsOutput{}
	for _, a := range in.ServiceRevisionArns {
		c, s, id := parts(a)
		for _, d := range r.deployments(c, s) {
			if strings.HasSuffix(d.ID, "/"+id) {
				out.ServiceRevisions = append(out.ServiceRevisions, ecstypes.ServiceRevision{ServiceRevisionArn: aws.String(a), TaskDefinition: aws.String(d.TaskDefinition)})
			}
		}
	}
	return out, nil
}
