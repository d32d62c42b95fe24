package ecssim

import (
	"fmt"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
)

// Rollout phases of a PRIMARY deployment.
const (
	phaseStart   = iota // next: start the missing tasks (or fail an attempt)
	phaseHealthy        // next: tasks are healthy; drain the others, complete
	phaseDone           // nothing scheduled
)

// deployment is one ECS deployment of a service.
type deployment struct {
	id                 string
	status             string // PRIMARY, ACTIVE, INACTIVE
	td                 *taskDef
	desired, pending   int32
	running, failed    int32
	createdAt          time.Time
	updatedAt          time.Time
	rolloutState       string // IN_PROGRESS, COMPLETED, FAILED
	rolloutStateReason string
	launchType         string
	strategy           []strategyItem
	platformVersion    string
	network            *networkConfiguration
	breaker            circuitBreaker
	rollback           bool     // started by the circuit breaker; never rolled back itself
	taskIDs            []string // ids of the running tasks, for service events
	phase              int
	next               time.Time // zero: nothing scheduled
}

func (d *deployment) wire() wireDeployment {
	return wireDeployment{
		ID: d.id, Status: d.status, TaskDefinition: d.td.arn,
		DesiredCount: d.desired, PendingCount: d.pending, RunningCount: d.running, FailedTasks: d.failed,
		CreatedAt: toEpoch(d.createdAt), UpdatedAt: toEpoch(d.updatedAt),
		CapacityProviderStrategy: d.strategy, LaunchType: d.launchType, PlatformVersion: d.platformVersion,
		NetworkConfiguration: d.network, RolloutState: d.rolloutState, RolloutStateReason: d.rolloutStateReason,
	}
}

// breakerThreshold is the number of failed tasks that trips the deployment
// circuit breaker: max(3, min(200, ceil(0.5 * desiredCount))).
func breakerThreshold(desired int32) int32 {
	return max(3, min(200, (desired+1)/2))
}

// startDeployment makes a new PRIMARY deployment of td, demotes the current
// PRIMARY to ACTIVE and publishes SERVICE_DEPLOYMENT_IN_PROGRESS with reason
// (empty: "ECS deployment <id> in progress.").
func (e *ECS) startDeployment(s *service, td *taskDef, at time.Time, reason string) *deployment {
	if p := s.primary(); p != nil {
		p.status, p.updatedAt, p.next = "ACTIVE", at, time.Time{}
	}
	d := &deployment{
		id: e.deploymentID(), status: "PRIMARY", td: td,
		desired: s.desired, pending: s.desired,
		createdAt: at, updatedAt: at, rolloutState: "IN_PROGRESS",
		launchType: s.launchType, strategy: s.strategy, platformVersion: s.platformVersion, network: s.network,
		breaker: *s.config.DeploymentCircuitBreaker,
		phase:   phaseStart, next: at.Add(e.timing.TaskStart),
	}
	if reason == "" {
		reason = fmt.Sprintf("ECS deployment %s in progress.", d.id)
	}
	d.rolloutStateReason = reason
	s.deployments = append([]*deployment{d}, s.deployments...)
	e.publishDeployment(s, at, "INFO", events.DeploymentInProgress, d.id, reason)
	return d
}

func (e *ECS) publishDeployment(s *service, at time.Time, eventType, name, id, reason string) {
	e.publish(events.DetailTypeDeploymentStateChange, []string{s.arn}, events.ECSDeploymentStateChange{
		EventType: eventType, EventName: name, DeploymentID: id, UpdatedAt: at, Reason: reason,
	})
}

// scale applies a desiredCount change that starts no deployment.
func (e *ECS) scale(s *service, p *deployment, at time.Time) {
	p.desired, p.updatedAt = s.desired, at
	if p.rolloutState == "FAILED" {
		return
	}
	switch {
	case p.running > p.desired:
		e.stopServiceTasks(s, p, p.running-p.desired, at)
		p.pending = 0
		if p.phase == phaseDone {
			e.note(s, at, "has reached a steady state.")
		}
	case p.running < p.desired:
		p.pending = p.desired - p.running
		if p.phase == phaseDone {
			p.phase, p.next = phaseStart, at.Add(e.timing.TaskStart)
		}
	}
}

// stopServiceTasks stops n running tasks of d.
func (e *ECS) stopServiceTasks(s *service, d *deployment, n int32, at time.Time) {
	if n <= 0 {
		return
	}
	stopped := d.taskIDs[len(d.taskIDs)-int(n):]
	d.taskIDs = d.taskIDs[:len(d.taskIDs)-int(n)]
	d.running -= n
	d.updatedAt = at
	e.note(s, at, fmt.Sprintf("has stopped %d running tasks: %s.", n, taskList(stopped)))
}

func taskList(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "(task " + id + ")"
	}
	return strings.Join(parts, " ")
}

// stepDeployment runs the PRIMARY deployment d's transition due at at.
func (e *ECS) stepDeployment(s *service, d *deployment, at time.Time) {
	d.next = time.Time{}
	switch d.phase {
	case phaseStart:
		missing := d.desired - d.running
		if _, bad := e.startFailure(d.td); bad && missing > 0 {
			e.failAttempt(s, d, at)
			return
		}
		if missing > 0 {
			ids := make([]string, missing)
			for i := range ids {
				ids[i] = e.hexID("service-task")
			}
			d.taskIDs = append(d.taskIDs, ids...)
			d.running += missing
			e.note(s, at, fmt.Sprintf("has started %d tasks: %s.", missing, taskList(ids)))
		}
		d.pending, d.updatedAt = 0, at
		d.phase, d.next = phaseHealthy, at.Add(e.timing.HealthyAfter)
	case phaseHealthy:
		for _, o := range s.deployments {
			if o == d || o.status != "ACTIVE" {
				continue
			}
			e.stopServiceTasks(s, o, o.running, at)
			o.status, o.pending, o.updatedAt = "INACTIVE", 0, at
		}
		d.phase, d.updatedAt = phaseDone, at
		if d.rolloutState == "IN_PROGRESS" {
			d.rolloutState = "COMPLETED"
			d.rolloutStateReason = fmt.Sprintf("ECS deployment %s completed.", d.id)
			s.lastCompleted = d
			e.note(s, at, fmt.Sprintf("(deployment %s) deployment completed.", d.id))
			e.publishDeployment(s, at, "INFO", events.DeploymentCompleted, d.id, d.rolloutStateReason)
		}
		e.note(s, at, "has reached a steady state.")
	}
}

// failAttempt records one task that failed to start and trips the circuit
// breaker at the threshold; otherwise it schedules the next attempt.
func (e *ECS) failAttempt(s *service, d *deployment, at time.Time) {
	id := e.hexID("service-task")
	d.failed++
	d.pending = d.desired - d.running
	d.updatedAt = at
	e.note(s, at, fmt.Sprintf("has started 1 tasks: %s.", taskList([]string{id})))
	if d.failed == 3 {
		e.note(s, at, "is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")
	}
	if !d.breaker.Enable || d.failed < breakerThreshold(d.desired) {
		d.next = at.Add(e.timing.TaskStart)
		return
	}
	d.rolloutState = "FAILED"
	d.rolloutStateReason = "ECS deployment circuit breaker: task failed to start."
	d.pending, d.phase = 0, phaseDone
	e.note(s, at, fmt.Sprintf("(deployment %s) deployment failed: tasks failed to start.", d.id))
	e.publishDeployment(s, at, "ERROR", events.DeploymentFailed, d.id, d.rolloutStateReason)
	target := s.lastCompleted
	if !d.breaker.Rollback || d.rollback || target == nil || target == d {
		return
	}
	e.note(s, at, fmt.Sprintf("(deployment %s) rolling back to deployment %s.", d.id, target.id))
	nd := e.startDeployment(s, target.td, at,
		fmt.Sprintf("ECS deployment circuit breaker: rolling back to deploymentId %s.", target.id))
	nd.rollback = true
}

// stepService turns a DRAINING service INACTIVE.
func (e *ECS) stepService(s *service, at time.Time) {
	s.inactiveAt = time.Time{}
	s.status = "INACTIVE"
	for _, d := range s.deployments {
		d.status, d.running, d.pending, d.updatedAt = "INACTIVE", 0, 0, at
	}
}
