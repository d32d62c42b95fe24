package ecssim

import (
	"fmt"
	"time"
)

// Service tasks. Every task a service runs is a task object, like a RunTask
// task: started by its deployment (startedBy "ecs-svc/…", the deployment id)
// in group "service:<name>", it is created PENDING when its deployment, a
// scale-up or a replacement asks for it, goes RUNNING when the deployment's
// start step runs, and is STOPPED at once, stop code ServiceSchedulerInitiated,
// when the scheduler scales in, drains an older deployment, supersedes a
// deployment that never started, or deletes the service. A start attempt of
// an unhealthy image stops a task with TaskFailedToStart. Each change emits
// an ECS Task State Change. Deployment, service and cluster counts are read
// off these tasks, so they always agree with ListTasks and DescribeTasks.
//
// Service tasks never exit on their own (TaskScript applies to RunTask
// tasks). StopTask stops one through the RunTask lifecycle, and a PRIMARY
// deployment then starts a replacement.
//
// Cost stays bounded: a deployment keeps only its live tasks, and a service
// keeps its stopped tasks describable for stoppedTaskRetention of virtual
// time and at most maxStoppedServiceTasks of them (ECS shows stopped tasks
// for at least an hour). No per-tick work walks them.

const (
	maxStoppedServiceTasks = 100
	stoppedTaskRetention   = time.Hour
)

// counts returns how many of d's tasks run and how many are pending.
func (d *deployment) counts() (running, pending int32) {
	for _, t := range d.tasks {
		switch t.lastStatus {
		case "RUNNING":
			running++
		case "PROVISIONING", "PENDING":
			pending++
		}
	}
	return running, pending
}

// pendingTasks returns d's tasks waiting to start.
func (d *deployment) pendingTasks() []*task {
	var out []*task
	for _, t := range d.tasks {
		if t.lastStatus == "PENDING" && t.desiredStatus == "RUNNING" {
			out = append(out, t)
		}
	}
	return out
}

// addServiceTasks creates n PENDING tasks for d.
func (e *ECS) addServiceTasks(s *service, d *deployment, n int32, at time.Time) {
	for range n {
		id := e.hexID("task")
		c := s.cluster
		provider, launchType := placement(d.launchType, d.strategy, c.strategy)
		t := &task{
			arn: e.arn("task/" + c.name + "/" + id), id: id, cluster: c, td: d.td, service: s, deployment: d,
			lastStatus: "PENDING", desiredStatus: "RUNNING", version: 1,
			startedBy: d.id, group: "service:" + s.name, launchType: launchType,
			cpu: d.td.cpu, memory: d.td.memory, network: d.network, createdAt: at,
		}
		if d.launchType == "" && (len(d.strategy) > 0 || len(c.strategy) > 0) {
			t.provider = provider
		}
		if launchType == "FARGATE" {
			t.platformVersion = d.platformVersion
			if t.platformVersion == "" || t.platformVersion == "LATEST" {
				t.platformVersion = "1.4.0"
			}
		}
		e.addContainers(t, nil)
		if t.network != nil && t.network.AwsvpcConfiguration != nil {
			t.attachmentID = e.uuid("eni")
		}
		switch s.propagateTags {
		case "SERVICE":
			e.addTags(t.arn, e.tags[s.arn])
		case "TASK_DEFINITION":
			e.addTags(t.arn, e.tags[d.td.arn])
		}
		if s.managedTags {
			e.addTags(t.arn, []tag{{"aws:ecs:clusterName", c.name}, {"aws:ecs:serviceName", s.name}})
		}
		e.tasks[t.arn] = t
		d.tasks = append(d.tasks, t)
		e.publishTask(t, at)
	}
}

// startServiceTasks moves d's pending tasks to RUNNING and returns their ids.
func (e *ECS) startServiceTasks(d *deployment, at time.Time) []string {
	var ids []string
	for _, t := range d.pendingTasks() {
		t.connectivityAt, t.pullStartedAt, t.pullStoppedAt, t.startedAt = at, at, at, at
		for _, c := range t.containers {
			c.lastStatus, c.runtimeID = "RUNNING", e.hexID("runtime")+e.hexID("runtime")
		}
		e.setStatus(t, "RUNNING", at)
		ids = append(ids, t.id)
	}
	return ids
}

// stopServiceTask stops t at once: the scheduler's stop (stop code
// ServiceSchedulerInitiated) or a failed start (TaskFailedToStart). A task
// already stopping through StopTask finishes its own lifecycle.
func (e *ECS) stopServiceTask(t *task, at time.Time, code, reason string) {
	if t.desiredStatus == "STOPPED" {
		return
	}
	ran := t.lastStatus == "RUNNING"
	t.desiredStatus, t.stopCode, t.stoppedReason = "STOPPED", code, reason
	t.stoppingAt, t.stoppedAt = at, at
	if ran {
		t.executionStoppedAt = at
	}
	for _, c := range t.containers {
		if ran {
			exit := int32(stopSignalExit)
			c.exitCode = &exit
		} else if code == "TaskFailedToStart" {
			c.reason = reason
		}
		c.lastStatus = "STOPPED"
	}
	e.setStatus(t, "STOPPED", at)
	e.retire(t, at)
}

// stopDeploymentTasks stops every live task of d (pending ones first) and
// returns the ids of those that were running.
func (e *ECS) stopDeploymentTasks(d *deployment, at time.Time, reason string) []string {
	var ran []string
	for _, t := range append([]*task(nil), d.tasks...) {
		if t.lastStatus == "RUNNING" && t.desiredStatus == "RUNNING" {
			ran = append(ran, t.id)
		}
		e.stopServiceTask(t, at, "ServiceSchedulerInitiated", reason)
	}
	return ran
}

// scalingReason is the stopped reason of a task the scheduler stops.
func scalingReason(d *deployment) string {
	return fmt.Sprintf("Scaling activity initiated by (deployment %s)", d.id)
}

// retire moves a STOPPED service task from its deployment to its service's
// stopped tasks, forgets the stopped tasks past retention, and lets a
// PRIMARY deployment replace a task stopped outside the scheduler.
func (e *ECS) retire(t *task, at time.Time) {
	s, d := t.service, t.deployment
	for i, live := range d.tasks {
		if live == t {
			d.tasks = append(d.tasks[:i:i], d.tasks[i+1:]...)
			break
		}
	}
	s.stopped = append(s.stopped, t)
	drop := 0
	for drop < len(s.stopped) && (len(s.stopped)-drop > maxStoppedServiceTasks || at.Sub(s.stopped[drop].stoppedAt) > stoppedTaskRetention) {
		delete(e.tasks, s.stopped[drop].arn)
		delete(e.tags, s.stopped[drop].arn)
		drop++
	}
	s.stopped = append(s.stopped[:0], s.stopped[drop:]...)
	if t.stopCode == "UserInitiated" && d.status == "PRIMARY" && s.status == "ACTIVE" && d.rolloutState != "FAILED" {
		e.fill(s, d, at)
	}
}

// fill adds pending tasks until d has its desired count and schedules
// their start when the deployment has nothing scheduled.
func (e *ECS) fill(s *service, d *deployment, at time.Time) {
	running, pending := d.counts()
	if missing := d.desired - running - pending; missing > 0 {
		e.addServiceTasks(s, d, missing, at)
	}
	if d.phase == phaseDone && len(d.pendingTasks()) > 0 {
		d.phase, d.next = phaseStart, at.Add(e.timing.TaskStart)
	}
}

// serviceTasks returns s's tasks, live ones (newest deployment first) then
// stopped ones (oldest first).
func (s *service) serviceTasks() []*task {
	var out []*task
	for _, d := range s.deployments {
		out = append(out, d.tasks...)
	}
	return append(out, s.stopped...)
}
