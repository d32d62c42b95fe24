package track

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
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
	// recorded is true when ECS's service-deployment record was read and
	// agrees; cause is what failed the deployment (events.Cause*) and fired
	// the alarms that went into ALARM during it, as the record says.
	recorded bool
	cause    string
	fired    []string
	// rollbackFailed: the record says ROLLBACK_FAILED.
	rollbackFailed bool
	// disagree says how the record contradicts the service's deployment.
	disagree string
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
	case s.disagree != "":
		return s.disagree
	case want == rolloutCompleted && len(s.fired) > 0:
		return fmt.Sprintf("alarm(s) %s went into ALARM during deployment %s (%s): a deployment whose alarm fired is never SUCCEEDED",
			strings.Join(s.fired, ", "), s.id, s.source)
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
// rolloutState while the service lists it, judged with ECS's
// service-deployment record (withRecord), else the record alone.
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
			return d.withRecord(ctx, cluster, service, st)
		}
	}
	return d.record(ctx, cluster, service, st)
}
