package track

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// recordsAPI is ECS's record of service deployments, read when a service
// no longer lists a deployment (DESIGN §10).
type recordsAPI interface {
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
}

// How a deployment ended, as ECS says (a deployment's rolloutState).
const (
	rolloutCompleted  = "COMPLETED"
	rolloutFailed     = "FAILED"
	rolloutInProgress = "IN_PROGRESS"
)

// state is what ECS says about one deployment: the ground truth a verdict
// is confirmed with (DESIGN §10: an event alone never decides).
type state struct {
	id      string
	service *types.Service // with its tags
	// found is false when neither the service nor ECS's records know the
	// deployment.
	found          bool
	taskDefinition string
	// rollout is COMPLETED, FAILED, IN_PROGRESS, or "" when ECS does not
	// say.
	rollout string
	// rolledBack says ECS rolled the failed deployment back, to rollbackTo
	// when known.
	rolledBack bool
	rollbackTo string
	// ecsReason is ECS's own reason for the state; source names where the
	// state was read.
	ecsReason string
	source    string
}

// contradicts says why an event named eventName is not a verdict ECS
// confirms, or "" when it is.
func (s state) contradicts(eventName string) string {
	want := map[string]string{events.DeploymentCompleted: rolloutCompleted, events.DeploymentFailed: rolloutFailed}[eventName]
	switch {
	case !s.found && s.source != "":
		return fmt.Sprintf("deployment %s is not listed on the service and ECS's service-deployment records cannot confirm it (%s): an event alone never decides", s.id, s.source)
	case !s.found:
		return fmt.Sprintf("deployment %s is neither listed on the service nor in ECS's service-deployment records: an event alone never decides", s.id)
	case s.rollout == "":
		return fmt.Sprintf("ECS does not say how deployment %s ended (%s): an event alone never decides", s.id, s.source)
	case s.rollout != want:
		return fmt.Sprintf("ECS says deployment %s is %s (%s), not %s: the %s event is stale or forged and decides nothing",
			s.id, s.rollout, s.source, want, eventName)
	}
	return ""
}

// reason is ECS's own reason, else the event's.
func (s state) reason(eventReason string) string {
	if s.ecsReason != "" {
		return s.ecsReason
	}
	return eventReason
}

// confirm reads what ECS says about deployment id of the service: its
// rolloutState while the service lists it, else ECS's service-deployment
// record.
func (d *Deployments) confirm(ctx context.Context, cluster, service, id string) (state, error) {
	st := state{id: id}
	var out *ecs.DescribeServicesOutput
	err := d.Pacer.Retry(ctx, func() error {
		var err error
		out, err = d.ecs(ctx).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service},
			Include: []types.ServiceField{types.ServiceFieldTags}})
		return err
	})
	if err != nil {
		return st, fmt.Errorf("describe service %s/%s: %w", cluster, service, err)
	}
	if len(out.Services) == 0 {
		st.source = "service not found"
		return st, nil
	}
	st.service = &out.Services[0]
	for i := range st.service.Deployments {
		dep := &st.service.Deployments[i]
		if aws.ToString(dep.Id) != id {
			continue
		}
		st.found, st.source = true, "the service's deployment"
		st.taskDefinition = aws.ToString(dep.TaskDefinition)
		st.rollout, st.ecsReason = string(dep.RolloutState), aws.ToString(dep.RolloutStateReason)
		if st.rollout == rolloutFailed {
			cb := st.service.DeploymentConfiguration
			st.rolledBack = cb != nil && cb.DeploymentCircuitBreaker != nil && cb.DeploymentCircuitBreaker.Rollback
			// ECS creates the rollback after the failed deployment; the
			// event's time is input, and the deployment's updatedAt moves on.
			if target := rollbackOf(st.service, id, st.taskDefinition, aws.ToTime(dep.CreatedAt)); target != nil {
				st.rollbackTo = aws.ToString(target.TaskDefinition)
			}
		}
		if st.rollout != "" {
			return st, nil
		}
	}
	return d.record(ctx, cluster, service, st)
}

// record reads ECS's service-deployment record of st.id: the service
// deployment whose id or target service revision ends with the
// deployment id's number (ecs-svc/<number>).
func (d *Deployments) record(ctx context.Context, cluster, service string, st state) (state, error) {
	brief, err := d.findRecord(ctx, cluster, service, st.id)
	if err != nil || brief == nil {
		if err != nil && !revision.Retryable(err) {
			// ECS refuses the question (an older API, a missing
			// permission): the deployment cannot be confirmed.
			st.source = fmt.Sprintf("service-deployment records unreadable: %v", err)
			return st, nil
		}
		return st, err
	}
	var sd *ecs.DescribeServiceDeploymentsOutput
	err = d.Pacer.Retry(ctx, func() error {
		var err error
		sd, err = d.ecs(ctx).DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(brief.ServiceDeploymentArn)}})
		return err
	})
	if err != nil {
		return st, fmt.Errorf("describe service deployment %s: %w", aws.ToString(brief.ServiceDeploymentArn), err)
	}
	if len(sd.ServiceDeployments) == 0 || sd.ServiceDeployments[0].TargetServiceRevision == nil {
		return st, nil
	}
	rec := sd.ServiceDeployments[0]
	revs := []string{aws.ToString(rec.TargetServiceRevision.Arn)}
	if rec.Rollback != nil && rec.Rollback.ServiceRevisionArn != nil {
		revs = append(revs, aws.ToString(rec.Rollback.ServiceRevisionArn))
	}
	var sr *ecs.DescribeServiceRevisionsOutput
	err = d.Pacer.Retry(ctx, func() error {
		var err error
		sr, err = d.ecs(ctx).DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: revs})
		return err
	})
	if err != nil {
		return st, fmt.Errorf("describe service revisions %v: %w", revs, err)
	}
	taskDefs := map[string]string{}
	for _, r := range sr.ServiceRevisions {
		taskDefs[aws.ToString(r.ServiceRevisionArn)] = aws.ToString(r.TaskDefinition)
	}
	st.taskDefinition = taskDefs[revs[0]]
	if st.taskDefinition == "" {
		return st, nil
	}
	st.found, st.source = true, "ECS's service-deployment record "+aws.ToString(rec.ServiceDeploymentArn)
	st.ecsReason = aws.ToString(rec.StatusReason)
	switch rec.Status {
	case types.ServiceDeploymentStatusSuccessful:
		st.rollout = rolloutCompleted
	case types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed,
		types.ServiceDeploymentStatusRollbackInProgress, types.ServiceDeploymentStatusRollbackRequested:
		st.rollout, st.rolledBack = rolloutFailed, true
		if len(revs) > 1 {
			st.rollbackTo = taskDefs[revs[1]]
		}
	case types.ServiceDeploymentStatusStopped:
		st.rollout = rolloutFailed
	default:
		st.rollout = rolloutInProgress
	}
	return st, nil
}

// maxRecordPages bounds the pages of records read for one event.
const maxRecordPages = 5

// findRecord lists the service's deployment records for the one of
// deployment id.
func (d *Deployments) findRecord(ctx context.Context, cluster, service, id string) (*types.ServiceDeploymentBrief, error) {
	num := id[strings.LastIndex(id, "/")+1:]
	in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(service), MaxResults: aws.Int32(100)}
	for range maxRecordPages {
		var out *ecs.ListServiceDeploymentsOutput
		err := d.Pacer.Retry(ctx, func() error {
			var err error
			out, err = d.ecs(ctx).ListServiceDeployments(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list service deployments of %s/%s: %w", cluster, service, err)
		}
		for i := range out.ServiceDeployments {
			b := &out.ServiceDeployments[i]
			if lastSegment(aws.ToString(b.ServiceDeploymentArn)) == num || lastSegment(aws.ToString(b.TargetServiceRevisionArn)) == num {
				return b, nil
			}
		}
		if out.NextToken == nil {
			return nil, nil
		}
		in.NextToken = out.NextToken
	}
	return nil, nil
}

func lastSegment(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
