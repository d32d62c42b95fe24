package ecssim

import (
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
)

// Failures and rollbacks: the circuit breaker, alarms, hooks and
// StopServiceDeployment all end a deployment through failDeployment.

// failAttempt fails one pending task to start (TaskFailedToStart) and asks
// for a replacement, and trips the circuit breaker at the threshold;
// otherwise it schedules the next attempt.
func (e *ECS) failAttempt(s *service, d *deployment, at time.Time) {
	reason, _ := e.startFailure(d.td)
	t := d.pendingTasks()[0]
	d.failed++
	d.updatedAt = at
	e.note(s, at, fmt.Sprintf("has started 1 tasks: %s.", taskList([]string{t.id})))
	e.stopServiceTask(t, at, "TaskFailedToStart", reason)
	if d.failed == 3 {
		e.note(s, at, "is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")
	}
	if !d.breaker.Enable || d.failed < breakerThreshold(d.desired) {
		e.addServiceTasks(s, d, 1, at)
		d.next = at.Add(e.timing.TaskStart)
		return
	}
	if d.sd != nil {
		d.sd.breakerFired = true
	}
	e.failDeployment(s, d, at, failCause{
		rollout:  "ECS deployment circuit breaker: task failed to start.",
		event:    "tasks failed to start.",
		status:   "Service deployment rolled back because the circuit breaker threshold was exceeded.",
		stopped:  "Service deployment failed because the circuit breaker threshold was exceeded.",
		rollback: d.breaker.Rollback, rollbackReason: "ECS deployment circuit breaker: rolling back to deploymentId %s.",
	})
}

// failCause says why a deployment fails and what follows.
type failCause struct {
	rollout        string // the deployment's rolloutStateReason and event reason
	event          string // the service event's "deployment failed: …" (default status)
	status         string // the service deployment's statusReason when it rolls back
	stopped        string // … when it stops without rollback (default status)
	rollback       bool   // roll back to the last completed deployment
	rollbackReason string // the rollback deployment's reason, %s: the target's id
}

// failDeployment fails d (FAILED, tasks stopped, SERVICE_DEPLOYMENT_FAILED)
// and either rolls the service back to its last completed deployment (its
// service deployment ROLLBACK_IN_PROGRESS) or stops (STOPPED). A failing
// rollback deployment fails its service deployment ROLLBACK_FAILED.
func (e *ECS) failDeployment(s *service, d *deployment, at time.Time, f failCause) {
	if f.event == "" {
		f.event = f.status
	}
	if f.stopped == "" {
		f.stopped = f.status
	}
	d.rolloutState, d.rolloutStateReason = "FAILED", f.rollout
	d.phase, d.next, d.stop, d.updatedAt = phaseDone, time.Time{}, stopNone, at
	e.stopDeploymentTasks(d, at, d.rolloutStateReason)
	e.note(s, at, fmt.Sprintf("(deployment %s) deployment failed: %s", d.id, f.event))
	e.publishDeployment(s, at, "ERROR", events.DeploymentFailed, d.id, d.rolloutStateReason)
	sd := d.sd
	target := s.lastCompleted
	switch {
	case sd == nil:
	case d.rollback:
		e.finishSD(sd, at, sdRollbackFailed, "Service deployment rollback failed: "+f.rollout)
		return
	case !f.rollback:
		sd.weight = 0
		e.finishSD(sd, at, sdStopped, f.stopped)
		return
	case target == nil || target == d:
		sd.weight = 0
		e.finishSD(sd, at, sdRollbackFailed, f.status+" No successful service revision to roll back to.")
		return
	default:
		sd.status, sd.statusReason, sd.updatedAt, sd.weight = sdRollbackInProgress, f.status, at, 0
		sd.monitoring = false
		sd.rollback = &wireRollback{Reason: f.status, StartedAt: toEpoch(at), ServiceRevisionArn: target.rev.arn}
	}
	if !f.rollback || d.rollback || target == nil || target == d {
		return
	}
	e.note(s, at, fmt.Sprintf("(deployment %s) rolling back to deployment %s.", d.id, target.id))
	nd := e.newDeployment(s, target.td, at, fmt.Sprintf(f.rollbackReason, target.id))
	nd.rollback, nd.rev, nd.sd = true, target.rev, sd
	if sd != nil {
		sd.rb = nd
	}
	e.launch(s, nd, at)
}

// stopRequested acts on a StopServiceDeployment request for d.
func (e *ECS) stopRequested(s *service, d *deployment, at time.Time) {
	if d.stop == stopAbort {
		e.failDeployment(s, d, at, failCause{
			rollout: "ECS deployment stopped: StopServiceDeployment (ABORT).",
			stopped: "Service deployment stopped by a StopServiceDeployment request (ABORT).",
		})
		return
	}
	e.failDeployment(s, d, at, failCause{
		rollout:  "ECS deployment stopped: StopServiceDeployment (ROLLBACK).",
		status:   "Service deployment rolled back because of a StopServiceDeployment request (ROLLBACK).",
		rollback: true, rollbackReason: "ECS deployment stop request: rolling back to deploymentId %s.",
	})
}
