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

// ECS's service-deployment record (DESIGN §10) is what a verdict is judged
// from: its status (SUCCESSFUL, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED,
// STOPPED, ...), the alarms that fired, the circuit breaker's and the
// lifecycle hooks' states. The service's own deployment (rolloutState)
// confirms it while the service lists it; once it does not, the record
// alone decides, as before.
//
// A deployment's record is found by its ECS deployment id: the record's
// target service revision ends with the id's number (ecs-svc/<number>).
// AWS documents no link between the two; the number is shared in what ECS
// answers (a service's deployments[].id and its currentServiceRevisions[]
// in DescribeServices output) and in the sandbox. findRecord is the one
// place that knows it.

// withRecord judges a deployment the service lists as COMPLETED or FAILED
// with ECS's record of it. The record must agree with the service: one
// still in progress asks for the event again (the record lags), one that
// says the opposite leaves the event undecided. Without a record (ECS
// keeps none, or refuses to say) the service's deployment decides alone.
func (d *Deployments) withRecord(ctx context.Context, cluster, service string, st state) (state, error) {
	if st.rollout != rolloutCompleted && st.rollout != rolloutFailed {
		return st, nil
	}
	rec, _, err := d.readRecord(ctx, cluster, service, st.id)
	if err != nil {
		return st, err
	}
	if rec == nil {
		st.cause = causeFromReason(st.ecsReason, st.rolledBack)
		return st, nil
	}
	switch got := rolloutOfRecord(rec.Status); {
	case got == rolloutInProgress:
		return st, fmt.Errorf("deployment %s is %s on service %s/%s, but ECS's service-deployment record %s still says %s: ask again",
			st.id, st.rollout, cluster, service, aws.ToString(rec.ServiceDeploymentArn), rec.Status)
	case got != st.rollout:
		st.disagree = fmt.Sprintf("deployment %s is %s on the service but %s in ECS's service-deployment record %s: ECS contradicts itself, nothing is decided",
			st.id, st.rollout, rec.Status, aws.ToString(rec.ServiceDeploymentArn))
		return st, nil
	}
	st.apply(rec)
	st.source += " and ECS's service-deployment record " + aws.ToString(rec.ServiceDeploymentArn)
	return st, nil
}

// apply takes what the record says about how the deployment ended.
func (st *state) apply(rec *types.ServiceDeployment) {
	st.recorded = true
	st.cause = revision.CauseOf(rec)
	if rec.Alarms != nil {
		st.fired = rec.Alarms.TriggeredAlarmNames
	}
	switch r := aws.ToString(rec.StatusReason); {
	case r == "":
	case st.ecsReason != "" && !strings.Contains(r, st.ecsReason):
		st.ecsReason = r + " (" + st.ecsReason + ")"
	default:
		st.ecsReason = r
	}
	switch rec.Status {
	case types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackInProgress, types.ServiceDeploymentStatusRollbackRequested:
		st.rolledBack = true
	case types.ServiceDeploymentStatusRollbackFailed:
		st.rolledBack, st.rollbackFailed = false, true
	case types.ServiceDeploymentStatusStopped:
		// A rollback a newer deployment cut short still rolled the
		// deployment back: its digest must stick as rolled back.
		st.rolledBack = rec.Rollback != nil
	}
}

// rolloutOfRecord is the rolloutState a record's status means.
func rolloutOfRecord(s types.ServiceDeploymentStatus) string {
	switch s {
	case types.ServiceDeploymentStatusSuccessful:
		return rolloutCompleted
	case types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed,
		types.ServiceDeploymentStatusRollbackInProgress, types.ServiceDeploymentStatusRollbackRequested,
		types.ServiceDeploymentStatusStopped:
		return rolloutFailed
	}
	return rolloutInProgress
}

// causeFromReason names the cause from ECS's reason alone, when there is
// no record: the circuit breaker's rollback (the only one before DESIGN
// §10), or an alarm named in it.
func causeFromReason(reason string, rolledBack bool) string {
	l := strings.ToLower(reason)
	switch {
	case strings.Contains(l, "alarm"):
		return events.CauseAlarm("")
	case strings.Contains(l, "circuit breaker"), rolledBack:
		return events.CauseCircuitBreaker
	}
	return ""
}

// readRecord finds deployment id's record and describes it; nil when ECS
// keeps none, or refuses to say (an older API, a missing permission), and
// then unreadable says why.
func (d *Deployments) readRecord(ctx context.Context, cluster, service, id string) (rec *types.ServiceDeployment, unreadable string, err error) {
	brief, err := d.findRecord(ctx, cluster, service, id)
	if err != nil || brief == nil {
		if err != nil && !revision.Retryable(err) {
			return nil, fmt.Sprintf("service-deployment records unreadable: %v", err), nil
		}
		return nil, "", err
	}
	var sd *ecs.DescribeServiceDeploymentsOutput
	err = d.Pacer.Retry(ctx, func() error {
		var err error
		sd, err = d.ecs(ctx).DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(brief.ServiceDeploymentArn)}})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("describe service deployment %s: %w", aws.ToString(brief.ServiceDeploymentArn), err)
	}
	if len(sd.ServiceDeployments) == 0 {
		return nil, "", nil
	}
	return &sd.ServiceDeployments[0], "", nil
}

// record judges deployment st.id from ECS's service-deployment record
// alone, once the service no longer lists it: the record's target
// revision (and rollback revision) name the task definitions.
func (d *Deployments) record(ctx context.Context, cluster, service string, st state) (state, error) {
	rec, unreadable, err := d.readRecord(ctx, cluster, service, st.id)
	if err != nil {
		return st, err
	}
	if unreadable != "" {
		st.source = unreadable
	}
	if rec == nil || rec.TargetServiceRevision == nil {
		return st, nil
	}
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
	st.rollout = rolloutOfRecord(rec.Status)
	st.apply(rec)
	if st.rolledBack && len(revs) > 1 {
		st.rollbackTo = taskDefs[revs[1]]
	}
	return st, nil
}

// maxRecordPages bounds the pages of records read for one event.
const maxRecordPages = 5

// findRecord lists the service's deployment records for the one of
// deployment id.
func (d *Deployments) findRecord(ctx context.Context, cluster, service, id string) (*types.ServiceDeploymentBrief, error) {
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
		if b := revision.RecordOf(out.ServiceDeployments, id); b != nil {
			return b, nil
		}
		if out.NextToken == nil {
			return nil, nil
		}
		in.NextToken = out.NextToken
	}
	return nil, nil
}
