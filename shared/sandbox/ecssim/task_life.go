package ecssim

import (
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// Task lifecycle: PROVISIONING → PENDING (Timing.Provision) → RUNNING
// (Timing.TaskStart) → DEPROVISIONING when the essential container exits
// (TaskScript.RunFor, default Timing.TaskRun) → STOPPED (Timing.Deprovision).
// A start failure goes PENDING → DEPROVISIONING → STOPPED without running.
// Every lastStatus change bumps the task's version and emits an "ECS Task
// State Change" event.

// stopSignalExit is the exit code of a container stopped by StopTask (or
// stopped because another essential container exited): 128+SIGTERM.
const stopSignalExit = 143

// stepTask runs the transition of t due at at.
func (e *ECS) stepTask(t *task, at time.Time) {
	t.next = time.Time{}
	switch t.lastStatus {
	case "PROVISIONING":
		if t.desiredStatus == "STOPPED" {
			e.deprovision(t, at, nil)
			return
		}
		t.connectivityAt, t.pullStartedAt = at, at
		t.next = at.Add(e.timing.TaskStart)
		e.setStatus(t, "PENDING", at)
	case "PENDING":
		if t.desiredStatus == "STOPPED" {
			e.deprovision(t, at, nil)
			return
		}
		if reason, bad := e.startFailure(t.td); bad {
			t.desiredStatus, t.stopCode, t.stoppedReason = "STOPPED", "TaskFailedToStart", reason
			for _, c := range t.containers {
				if _, failed := e.containerFailure(c.image); failed {
					c.reason = reason
				}
			}
			e.deprovision(t, at, nil)
			return
		}
		t.pullStoppedAt, t.startedAt = at, at
		for _, c := range t.containers {
			c.lastStatus, c.runtimeID = "RUNNING", e.hexID("runtime")+e.hexID("runtime")
		}
		if d := e.runFor(t); d >= 0 {
			t.next = at.Add(d)
		}
		e.setStatus(t, "RUNNING", at)
	case "RUNNING":
		codes := map[string]int32{}
		if t.desiredStatus == "STOPPED" { // StopTask
			for _, c := range t.containers {
				codes[c.name] = stopSignalExit
			}
		} else {
			end := e.runFor(t)
			for _, c := range t.containers {
				codes[c.name] = stopSignalExit
				if d := e.containerRunFor(c); d >= 0 && d <= end {
					codes[c.name] = e.script(c.image).ExitCode
				}
			}
			t.desiredStatus, t.stopCode, t.stoppedReason = "STOPPED", "EssentialContainerExited", "Essential container in task exited"
		}
		e.deprovision(t, at, codes)
	case "DEPROVISIONING":
		t.stoppedAt = at
		e.setStatus(t, "STOPPED", at)
		if t.service != nil {
			e.retire(t, at)
		}
	}
}

// runFor is how long t runs: until its first essential container exits.
// It is negative when no essential container exits on its own.
func (e *ECS) runFor(t *task) time.Duration {
	end := UntilStopped
	for _, c := range t.containers {
		if d := e.containerRunFor(c); c.essential && d >= 0 && (end < 0 || d < end) {
			end = d
		}
	}
	return end
}

// containerRunFor is how long c runs before exiting on its own, or
// UntilStopped.
func (e *ECS) containerRunFor(c *taskContainer) time.Duration {
	switch d := e.script(c.image).RunFor; {
	case d > 0:
		return d
	case d < 0:
		return UntilStopped
	}
	return e.timing.TaskRun
}

// deprovision stops t's containers (with exit codes when it ran) and moves
// it to DEPROVISIONING; STOPPED follows after Timing.Deprovision.
func (e *ECS) deprovision(t *task, at time.Time, codes map[string]int32) {
	t.desiredStatus = "STOPPED"
	if t.stoppingAt.IsZero() {
		t.stoppingAt = at
	}
	if codes != nil {
		t.executionStoppedAt = at
	}
	for _, c := range t.containers {
		c.lastStatus = "STOPPED"
		if code, ok := codes[c.name]; ok {
			c.exitCode = &code
		}
	}
	t.next = at.Add(e.timing.Deprovision)
	e.setStatus(t, "DEPROVISIONING", at)
}

func (e *ECS) setStatus(t *task, status string, at time.Time) {
	t.lastStatus = status
	t.version++
	e.publishTask(t, at)
}

func (e *ECS) stopTask(body []byte, now time.Time) (any, error) {
	var in struct {
		Cluster string `json:"cluster"`
		Task    string `json:"task"`
		Reason  string `json:"reason"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	t := e.tasks[e.arn("task/"+c.name+"/"+taskID(in.Task))]
	if t == nil {
		return nil, awsproto.InvalidParameter("The referenced task was not found.")
	}
	if len(in.Reason) > 255 {
		return nil, awsproto.InvalidParameter("reason can have at most 255 characters.")
	}
	if t.desiredStatus == "RUNNING" {
		if in.Reason == "" {
			in.Reason = "Task stopped by user"
		}
		t.desiredStatus, t.stopCode, t.stoppedReason = "STOPPED", "UserInitiated", in.Reason
		t.stoppingAt = now
		t.next = now.Add(e.timing.StopGrace)
		if t.service != nil { // a service task joins the RunTask lifecycle to stop
			e.live = append(e.live, t)
		}
	}
	return map[string]any{"task": e.wireTask(t, false)}, nil
}

// FinishTask stops the RUNNING task taskARN now: its containers exit with
// exitCodes (by container name; a missing name exits 0), the stop code is
// EssentialContainerExited, and the task goes DEPROVISIONING at once and
// STOPPED after Timing.Deprovision.
func (e *ECS) FinishTask(taskARN string, exitCodes map[string]int32) error {
	e.mu.Lock()
	now := e.clock.Now()
	e.catchUp(now)
	t := e.tasks[taskARN]
	switch {
	case t == nil:
		e.mu.Unlock()
		return fmt.Errorf("finish task %s: no such task", taskARN)
	case t.lastStatus != "RUNNING":
		e.mu.Unlock()
		return fmt.Errorf("finish task %s: task is %s, not RUNNING", taskARN, t.lastStatus)
	}
	codes := map[string]int32{}
	for _, c := range t.containers {
		codes[c.name] = exitCodes[c.name]
	}
	t.stopCode, t.stoppedReason = "EssentialContainerExited", "Essential container in task exited"
	e.deprovision(t, now, codes)
	e.mu.Unlock()
	e.flush()
	return nil
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// publishTask queues t's state as an "ECS Task State Change" event.
func (e *ECS) publishTask(t *task, at time.Time) {
	w := e.wireTask(t, false)
	d := events.ECSTaskStateChange{
		AvailabilityZone: w.AvailabilityZone, ClusterARN: t.cluster.arn, Containers: []events.ECSContainer{},
		CreatedAt: tp(t.createdAt), LaunchType: t.launchType, CapacityProvider: t.provider,
		CPU: t.cpu, Memory: t.memory, DesiredStatus: t.desiredStatus, Group: t.group, LastStatus: t.lastStatus,
		Overrides: &events.ECSOverrides{ContainerOverrides: []events.ECSContainerOverride{}}, Connectivity: w.Connectivity,
		ConnectivityAt: tp(t.connectivityAt), PullStartedAt: tp(t.pullStartedAt), PullStoppedAt: tp(t.pullStoppedAt),
		StartedAt: tp(t.startedAt), StartedBy: t.startedBy, StopCode: t.stopCode, StoppedAt: tp(t.stoppedAt),
		StoppedReason: t.stoppedReason, StoppingAt: tp(t.stoppingAt), UpdatedAt: &at,
		TaskARN: t.arn, TaskDefinitionARN: t.td.arn, Version: t.version, PlatformVersion: t.platformVersion,
	}
	for _, a := range w.Attachments {
		ea := events.ECSAttachment{ID: a.ID, Type: a.Type, Status: a.Status}
		for _, kv := range a.Details {
			ea.Details = append(ea.Details, events.ECSNameValue{Name: kv.Name, Value: kv.Value})
		}
		d.Attachments = append(d.Attachments, ea)
	}
	for _, c := range w.Containers {
		d.Containers = append(d.Containers, events.ECSContainer{
			ContainerARN: c.ContainerArn, ExitCode: c.ExitCode, LastStatus: c.LastStatus, Name: c.Name,
			Image: c.Image, ImageDigest: c.ImageDigest, RuntimeID: c.RuntimeID, TaskARN: c.TaskArn,
			Reason: c.Reason, CPU: c.Cpu,
		})
	}
	for _, o := range t.overrides.ContainerOverrides {
		eo := events.ECSContainerOverride{Name: o.Name, Command: o.Command}
		for _, kv := range o.Environment {
			eo.Environment = append(eo.Environment, events.ECSNameValue{Name: kv.Name, Value: kv.Value})
		}
		d.Overrides.ContainerOverrides = append(d.Overrides.ContainerOverrides, eo)
	}
	e.publish(events.DetailTypeTaskStateChange, []string{t.arn}, d)
}
