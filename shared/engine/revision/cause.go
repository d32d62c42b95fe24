package revision

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
)

// CauseOf names what failed a deployment, from its record: an alarm that
// fired, the circuit breaker, a lifecycle hook that failed or timed out,
// else a person (StopServiceDeployment); "" for a deployment that did not
// fail.
func CauseOf(rec *types.ServiceDeployment) string {
	if a := rec.Alarms; a != nil && len(a.TriggeredAlarmNames) > 0 {
		return events.CauseAlarm(a.TriggeredAlarmNames[0])
	}
	if cb := rec.DeploymentCircuitBreaker; cb != nil && cb.Status == types.ServiceDeploymentRollbackMonitorsStatusTriggered {
		return events.CauseCircuitBreaker
	}
	for _, h := range rec.LifecycleHookDetails {
		if h.Status == types.DeploymentLifecycleHookStatusFailed || h.Status == types.DeploymentLifecycleHookStatusTimedOut {
			return events.CauseHook(hookName(h))
		}
	}
	switch rec.Status {
	case types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed,
		types.ServiceDeploymentStatusRollbackInProgress, types.ServiceDeploymentStatusRollbackRequested,
		types.ServiceDeploymentStatusStopped:
		return events.CauseManual
	}
	return ""
}

// hookName is a lifecycle hook's Lambda function name, or PAUSE.
func hookName(h types.DeploymentLifecycleHookDetail) string {
	if h.TargetType == types.DeploymentLifecycleHookTargetTypePause {
		return "PAUSE"
	}
	arn := aws.ToString(h.TargetArn)
	if _, fn, ok := strings.Cut(arn, ":function:"); ok {
		fn, _, _ = strings.Cut(fn, ":") // an alias or version
		return fn
	}
	return arn[strings.LastIndex(arn, "/")+1:]
}

// RecordOf returns the service-deployment record of the ECS deployment id
// (ecs-svc/<number>) among briefs: the one whose target service revision,
// or own id, ends with the deployment id's number. AWS documents no link
// between a deployment id and its record; ECS's answers share the number
// (a service's deployments[].id and currentServiceRevisions[].arn), and
// so does the sandbox. The tracker and the CLI find records only here.
func RecordOf(briefs []types.ServiceDeploymentBrief, id string) *types.ServiceDeploymentBrief {
	num := id[strings.LastIndex(id, "/")+1:]
	if num == "" {
		return nil
	}
	last := func(arn *string) string { s := aws.ToString(arn); return s[strings.LastIndex(s, "/")+1:] }
	for i := range briefs {
		if last(briefs[i].ServiceDeploymentArn) == num || last(briefs[i].TargetServiceRevisionArn) == num {
			return &briefs[i]
		}
	}
	return nil
}
