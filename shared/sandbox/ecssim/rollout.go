package ecssim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
)

// Rollout phases of a PRIMARY deployment.
const (
	phaseStart    = iota // next: start the missing tasks (or fail an attempt)
	phaseHealthy         // next: tasks are healthy; drain the others, complete (ROLLING) or go on with the program
	phaseDone            // nothing scheduled
	phaseProgress        // next: run the progressive program (progress.go)
)

// Stop requests (StopServiceDeployment) a deployment acts on at its next step.
const (
	stopNone = iota
	stopRollback
	stopAbort
)

// deployment is one ECS deployment of a service.
type deployment struct {
	id                 string
	status             string // PRIMARY, ACTIVE, INACTIVE
	td                 *taskDef
	desired, failed    int32
	createdAt          time.Time
	updatedAt          time.Time
	rolloutState       string // IN_PROGRESS, COMPLETED, FAILED
	rolloutStateReason string
	launchType         string
	strategy           []strategyItem
	platformVersion    string
	network            *networkConfiguration
	breaker            circuitBreaker
	rollback           bool    // a rollback deployment; never rolled back itself
	tasks              []*task // live tasks (not yet STOPPED), creation order
	phase              int
	next               time.Time // zero: nothing scheduled

	rev     *serviceRevision   // what it deploys
	sd      *serviceDeployment // its service deployment record
	program []progStep         // progressive strategies: the stages (progress.go)
	pc      int                // the program step to run next
	entered bool               // program[pc] has been entered
	stop    int                // a StopServiceDeployment request to act on
}

func (d *deployment) wire() wireDeployment {
	running, pending := d.counts()
	return wireDeployment{
		ID: d.id, Status: d.status, TaskDefinition: d.td.arn,
		DesiredCount: d.desired, PendingCount: pending, RunningCount: running, FailedTasks: d.failed,
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

// startDeployment makes a new PRIMARY deployment of td with its pending
// tasks, demotes the current PRIMARY to ACTIVE, drops the deployments it
// supersedes (supersede), records its service revision and service
// deployment, and publishes SERVICE_DEPLOYMENT_IN_PROGRESS.
func (e *ECS) startDeployment(s *service, td *taskDef, at time.Time) *deployment {
	sources := s.sourceDeployments()
	d := e.newDeployment(s, td, at, "")
	d.rev = e.newRevision(s, d, at)
	e.newServiceDeployment(s, d, sources, at)
	if d.program = program(s.config); d.program != nil {
		d.phase, d.next = phaseProgress, at
	}
	e.launch(s, d, at)
	return d
}

// newDeployment builds a PRIMARY deployment of td, scheduled to start its
// tasks after Timing.TaskStart. reason is its rolloutStateReason (empty:
// "ECS deployment <id> in progress.").
func (e *ECS) newDeployment(s *service, td *taskDef, at time.Time, reason string) *deployment {
	d := &deployment{
		id: e.deploymentID(), status: "PRIMARY", td: td, desired: s.desired,
		createdAt: at, updatedAt: at, rolloutState: "IN_PROGRESS",
		launchType: s.launchType, strategy: s.strategy, platformVersion: s.platformVersion, network: s.network,
		breaker: *s.config.DeploymentCircuitBreaker,
		phase:   phaseStart, next: at.Add(e.timing.TaskStart),
	}
	if reason == "" {
		reason = fmt.Sprintf("ECS deployment %s in progress.", d.id)
	}
	d.rolloutStateReason = reason
	return d
}

// launch makes d the PRIMARY deployment: it demotes the old PRIMARY, drops
// what d supersedes, adds d's pending tasks and publishes
// SERVICE_DEPLOYMENT_IN_PROGRESS.
func (e *ECS) launch(s *service, d *deployment, at time.Time) {
	if p := s.primary(); p != nil {
		p.status, p.updatedAt, p.next = "ACTIVE", at, time.Time{}
	}
	e.supersede(s, at)
	s.deployments = append([]*deployment{d}, s.deployments...)
	e.addServiceTasks(s, d, d.desired, at)
	e.publishDeployment(s, at, "INFO", events.DeploymentInProgress, d.id, d.rolloutStateReason)
	e.pruneRecords(s)
}

// supersede drops the ACTIVE deployments a new one replaces, as ECS's
// scheduler scales them in: every ACTIVE deployment but the one serving
// while the new one rolls out (the COMPLETED one with running tasks, else
// the newest with running tasks) and those that FAILED (the subject of a
// rollback) goes INACTIVE with its tasks stopped. So a service updated
// again and again keeps the PRIMARY, one serving deployment and its tasks
// (at most maximumPercent, 200%, running), whether or not the clock moves
// between the updates. INACTIVE deployments are kept for the snapshot, at
// most maxInactiveDeployments of them.
func (e *ECS) supersede(s *service, at time.Time) {
	var serving *deployment
	for _, d := range s.deployments { // newest first
		if running, _ := d.counts(); d.status != "ACTIVE" || d.rolloutState == "FAILED" || running == 0 {
			continue
		}
		if serving == nil || d.rolloutState == "COMPLETED" && serving.rolloutState != "COMPLETED" {
			serving = d
		}
	}
	kept := s.deployments[:0]
	inactive := 0
	for _, d := range s.deployments {
		if d.status == "ACTIVE" && d.rolloutState != "FAILED" && d != serving {
			e.stopDeploymentTasks(d, at, scalingReason(d))
			d.status, d.updatedAt, d.next = "INACTIVE", at, time.Time{}
		}
		if d.status == "INACTIVE" {
			if inactive++; inactive > maxInactiveDeployments {
				continue
			}
		}
		kept = append(kept, d)
	}
	clear(s.deployments[len(kept):])
	s.deployments = kept
}

// maxInactiveDeployments bounds the INACTIVE deployments a service keeps.
const maxInactiveDeployments = 10

func (e *ECS) publishDeployment(s *service, at time.Time, eventType, name, id, reason string) {
	e.publish(events.DetailTypeDeploymentStateChange, []string{s.arn}, events.ECSDeploymentStateChange{
		EventType: eventType, EventName: name, DeploymentID: id, UpdatedAt: at, Reason: reason,
	})
}

// scale applies a desiredCount change that starts no deployment: pending
// tasks are added (and started on the deployment's next start step), or
// tasks stopped, pending ones first, then the newest running ones.
func (e *ECS) scale(s *service, p *deployment, at time.Time) {
	p.desired, p.updatedAt = s.desired, at
	if p.rolloutState == "FAILED" {
		return
	}
	running, pending := p.counts()
	if running+pending <= p.desired {
		e.fill(s, p, at)
		return
	}
	excess := running + pending - p.desired
	var stopped []string
	for _, t := range slices.Backward(append(runningTasks(p), p.pendingTasks()...)) {
		if excess == 0 {
			break
		}
		if t.lastStatus == "RUNNING" {
			stopped = append(stopped, t.id)
		}
		e.stopServiceTask(t, at, "ServiceSchedulerInitiated", scalingReason(p))
		excess--
	}
	if len(stopped) > 0 {
		e.note(s, at, fmt.Sprintf("has stopped %d running tasks: %s.", len(stopped), taskList(stopped)))
	}
	if p.phase == phaseDone {
		e.note(s, at, "has reached a steady state.")
	}
}

// runningTasks returns d's running tasks, oldest first.
func runningTasks(d *deployment) []*task {
	var out []*task
	for _, t := range d.tasks {
		if t.lastStatus == "RUNNING" && t.desiredStatus == "RUNNING" {
			out = append(out, t)
		}
	}
	return out
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
	if d.stop != stopNone {
		e.stopRequested(s, d, at)
		return
	}
	if e.checkAlarms(s, d, at) {
		return
	}
	switch d.phase {
	case phaseStart:
		if _, bad := e.startFailure(d.td); bad && len(d.pendingTasks()) > 0 {
			e.failAttempt(s, d, at)
			return
		}
		if ids := e.startServiceTasks(d, at); len(ids) > 0 {
			e.note(s, at, fmt.Sprintf("has started %d tasks: %s.", len(ids), taskList(ids)))
		}
		d.updatedAt = at
		d.phase, d.next = phaseHealthy, at.Add(e.timing.HealthyAfter)
	case phaseHealthy:
		if ids := e.startServiceTasks(d, at); len(ids) > 0 { // replacements asked for meanwhile
			e.note(s, at, fmt.Sprintf("has started %d tasks: %s.", len(ids), taskList(ids)))
		}
		if d.pc < len(d.program) && d.rolloutState == "IN_PROGRESS" {
			d.phase = phaseProgress
			e.runProgram(s, d, at)
			return
		}
		e.completeDeployment(s, d, at)
	case phaseProgress:
		e.runProgram(s, d, at)
	}
}

// completeDeployment drains every other deployment of s and completes d:
// SERVICE_DEPLOYMENT_COMPLETED, and its service deployment SUCCESSFUL (or
// ROLLBACK_SUCCESSFUL for a rollback).
func (e *ECS) completeDeployment(s *service, d *deployment, at time.Time) {
	if ids := e.startServiceTasks(d, at); len(ids) > 0 {
		e.note(s, at, fmt.Sprintf("has started %d tasks: %s.", len(ids), taskList(ids)))
	}
	for _, o := range s.deployments {
		if o == d || o.status != "ACTIVE" {
			continue
		}
		if ids := e.stopDeploymentTasks(o, at, scalingReason(o)); len(ids) > 0 {
			e.note(s, at, fmt.Sprintf("has stopped %d running tasks: %s.", len(ids), taskList(ids)))
		}
		o.status, o.updatedAt, o.next = "INACTIVE", at, time.Time{}
	}
	d.phase, d.updatedAt, d.next = phaseDone, at, time.Time{}
	if d.rolloutState == "IN_PROGRESS" {
		d.rolloutState = "COMPLETED"
		d.rolloutStateReason = fmt.Sprintf("ECS deployment %s completed.", d.id)
		s.lastCompleted = d
		e.note(s, at, fmt.Sprintf("(deployment %s) deployment completed.", d.id))
		e.publishDeployment(s, at, "INFO", events.DeploymentCompleted, d.id, d.rolloutStateReason)
		if sd := d.sd; sd != nil && sd.active() {
			sd.stage = ""
			if d.rollback {
				sd.weight = 0
				e.finishSD(sd, at, sdRollbackSuccessful, "")
			} else {
				sd.weight, sd.testWeight = 100, 100
				if sd.shiftsTraffic() {
					sd.stage = "CLEAN_UP"
				}
				e.finishSD(sd, at, sdSuccessful, "")
			}
		}
	}
	e.note(s, at, "has reached a steady state.")
}

// stepService turns a DRAINING service INACTIVE.
func (e *ECS) stepService(s *service, at time.Time) {
	s.inactiveAt = time.Time{}
	s.status = "INACTIVE"
	for _, d := range s.deployments {
		e.stopDeploymentTasks(d, at, "Service is being deleted")
		d.status, d.updatedAt = "INACTIVE", at
	}
}
