package ecssim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Progressive strategies on the virtual clock. A BLUE_GREEN, LINEAR or
// CANARY deployment runs a program of lifecycle stages:
//
//	PRE_SCALE_UP → SCALE_UP (the green tasks start after Timing.TaskStart
//	and are healthy Timing.HealthyAfter later) → POST_SCALE_UP →
//	TEST_TRAFFIC_SHIFT (test traffic 100%) → POST_TEST_TRAFFIC_SHIFT →
//	per traffic step: PRE_PRODUCTION_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT
//	(the step's weight; then the step bake, except after 100%) →
//	POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME (bakeTimeInMinutes, both
//	revisions running) → CLEAN_UP (the blue tasks stop; SUCCESSFUL).
//
// BLUE_GREEN shifts 100% at once, CANARY canaryPercent then 100% after
// canaryBakeTimeInMinutes, LINEAR stepPercent more every
// stepBakeTimeInMinutes. Lifecycle hooks run when their stage is entered:
// an AWS_LAMBDA hook succeeds at once unless ScriptHook makes its target
// fail, which rolls the deployment back; a PAUSE hook waits for
// ContinueServiceDeployment or its timeout (timeoutConfiguration, 60
// minutes and ROLLBACK by default). The circuit breaker watches the green
// tasks' starts and the alarms every transition and every alarm change,
// until the deployment finishes.

// progStep is one step of a progressive deployment's program.
type progStep struct {
	stage   string
	weight  float64 // production weight set on entry; <0: unchanged
	test    bool    // test traffic moves to the target
	wait    time.Duration
	scaleUp bool // start the green tasks and wait for them
	cleanup bool
}

// program returns the steps of a deployment of cfg, or nil for ROLLING.
func program(cfg deploymentConfiguration) []progStep {
	weights := trafficSteps(cfg)
	if weights == nil {
		return nil
	}
	p := []progStep{
		{stage: "PRE_SCALE_UP", weight: -1},
		{stage: "SCALE_UP", weight: -1, scaleUp: true},
		{stage: "POST_SCALE_UP", weight: -1},
		{stage: "TEST_TRAFFIC_SHIFT", weight: -1, test: true},
		{stage: "POST_TEST_TRAFFIC_SHIFT", weight: -1},
	}
	bake := time.Duration(stepBake(cfg)) * time.Minute
	for i, w := range weights {
		p = append(p, progStep{stage: "PRE_PRODUCTION_TRAFFIC_SHIFT", weight: -1})
		st := progStep{stage: "PRODUCTION_TRAFFIC_SHIFT", weight: w}
		if i < len(weights)-1 {
			st.wait = bake
		}
		p = append(p, st)
	}
	var final time.Duration
	if cfg.BakeTimeInMinutes != nil {
		final = time.Duration(*cfg.BakeTimeInMinutes) * time.Minute
	}
	return append(p,
		progStep{stage: "POST_PRODUCTION_TRAFFIC_SHIFT", weight: -1},
		progStep{stage: "BAKE_TIME", weight: -1, wait: final},
		progStep{stage: "CLEAN_UP", weight: -1, cleanup: true},
	)
}

// runProgram runs d's program from d.pc until it has to wait.
func (e *ECS) runProgram(s *service, d *deployment, at time.Time) {
	sd := d.sd
	for d.pc < len(d.program) && d.rolloutState == "IN_PROGRESS" {
		st := d.program[d.pc]
		if sd.stage != st.stage || !d.entered {
			sd.stage, sd.updatedAt, d.entered = st.stage, at, true
			if st.weight >= 0 {
				sd.weight = st.weight
				e.note(s, at, fmt.Sprintf("(deployment %s) shifted %g%% of production traffic to service revision %s.", d.id, st.weight, sd.target.id))
			}
			if st.test {
				sd.testWeight = 100
			}
		}
		if done := e.runHooks(s, d, st.stage, at); !done {
			return
		}
		if d.rolloutState != "IN_PROGRESS" {
			return // a hook failed
		}
		d.pc++
		d.entered = false
		switch {
		case st.scaleUp:
			d.phase, d.next = phaseStart, at.Add(e.timing.TaskStart)
			return
		case st.cleanup:
			e.completeDeployment(s, d, at)
			return
		case st.wait > 0:
			d.phase, d.next = phaseProgress, at.Add(st.wait)
			return
		}
	}
}

// hookRun is one run of a lifecycle hook at a stage.
type hookRun struct {
	id, stage string
	hook      lifecycleHook
	pc        int // the program step it ran at
	status    string
	expiresAt time.Time
	action    string // ContinueServiceDeployment's action, once given
}

func (h *hookRun) timeoutAction() string {
	if t := h.hook.TimeoutConfiguration; t != nil && t.Action != "" {
		return t.Action
	}
	return "ROLLBACK"
}

func (h *hookRun) wire() wireHookDetail {
	w := wireHookDetail{HookID: h.id, Status: h.status, TargetType: h.hook.TargetType, TargetArn: h.hook.HookTargetArn}
	if w.TargetType == "" {
		w.TargetType = "AWS_LAMBDA"
	}
	if w.TargetType == "PAUSE" {
		w.ExpiresAt, w.TimeoutAction = toEpoch(h.expiresAt), h.timeoutAction()
	}
	return w
}

// ScriptHook makes every AWS_LAMBDA lifecycle hook whose hookTargetArn is
// target fail (fail true) or succeed from now on. A failed hook rolls its
// deployment back ("…lifecycle hook(s) failed…").
func (e *ECS) ScriptHook(target string, fail bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hookFails[target] = fail
}

// runHooks runs the hooks of stage for d's current step and reports
// whether the step may go on. A failing hook fails the deployment.
func (e *ECS) runHooks(s *service, d *deployment, stage string, at time.Time) bool {
	sd := d.sd
	for i, hook := range sd.config.LifecycleHooks {
		if !slices.Contains(hook.LifecycleStages, stage) {
			continue
		}
		h := sd.hookAt(d.pc, i)
		if h == nil {
			h = &hookRun{id: hookUUID(e.recordID("hook")), stage: stage, hook: hook, pc: d.pc*100 + i, status: "IN_PROGRESS"}
			sd.hooks = append(sd.hooks, h)
			if hook.TargetType == "PAUSE" {
				minutes := int32(60)
				if t := hook.TimeoutConfiguration; t != nil && t.TimeoutInMinutes != nil {
					minutes = *t.TimeoutInMinutes
				}
				h.status, h.expiresAt = "AWAITING_ACTION", at.Add(time.Duration(minutes)*time.Minute)
			} else if e.hookFails[hook.HookTargetArn] {
				h.status = "FAILED"
				e.failHook(s, d, at, fmt.Sprintf("Lifecycle hook target %s returned FAILED status.", hook.HookTargetArn))
				return false
			} else {
				h.status = "SUCCEEDED"
			}
		}
		if h.status != "AWAITING_ACTION" {
			continue
		}
		switch {
		case h.action == "CONTINUE":
			h.status = "SUCCEEDED"
		case h.action == "ROLLBACK":
			h.status = "FAILED"
			e.failHook(s, d, at, "The PAUSE lifecycle hook was resolved with ROLLBACK.")
			return false
		case !at.Before(h.expiresAt) && h.timeoutAction() == "CONTINUE":
			h.status = "TIMED_OUT"
		case !at.Before(h.expiresAt):
			h.status = "TIMED_OUT"
			e.failHook(s, d, at, "The PAUSE lifecycle hook timed out.")
			return false
		default:
			d.phase, d.next = phaseProgress, h.expiresAt
			return false
		}
	}
	return true
}

// hookAt returns the run of hook i at program step pc, if it ran.
func (sd *serviceDeployment) hookAt(pc, i int) *hookRun {
	for _, h := range sd.hooks {
		if h.pc == pc*100+i {
			return h
		}
	}
	return nil
}

func (e *ECS) failHook(s *service, d *deployment, at time.Time, detail string) {
	reason := fmt.Sprintf("Service deployment rolled back because %s lifecycle hook(s) failed. %s", d.sd.stage, detail)
	e.failDeployment(s, d, at, failCause{
		rollout: "ECS deployment failed: lifecycle hook(s) failed.", status: reason, rollback: true,
		rollbackReason: "ECS deployment lifecycle hook: rolling back to deploymentId %s.",
	})
}

// checkAlarms fails d when one of its service deployment's alarms is in
// ALARM while they are watched, and reports whether it did.
func (e *ECS) checkAlarms(s *service, d *deployment, at time.Time) bool {
	sd := d.sd
	if sd == nil || sd.status != sdInProgress || !sd.monitoring || !sd.alarmsEnabled() || e.alarmStates == nil || d.rollback {
		return false
	}
	fired := e.alarmStates(sd.config.Alarms.AlarmNames)
	if len(fired) == 0 {
		return false
	}
	sd.triggered = fired
	names := strings.Join(fired, ", ")
	e.failDeployment(s, d, at, failCause{
		rollout:  fmt.Sprintf("ECS deployment failed: alarm(s) %s in ALARM state.", names),
		status:   fmt.Sprintf("Service deployment rolled back because the CloudWatch alarm(s) %s went into ALARM state.", names),
		rollback: sd.config.Alarms.Rollback, rollbackReason: "ECS deployment alarms: rolling back to deploymentId %s.",
		stopped: fmt.Sprintf("Service deployment stopped because the CloudWatch alarm(s) %s went into ALARM state.", names),
	})
	return true
}

// AlarmsChanged tells the emulator that CloudWatch alarm states changed:
// every unfinished deployment watching an alarm now in ALARM fails at once
// (and rolls back when its alarms say rollback).
func (e *ECS) AlarmsChanged() {
	e.mu.Lock()
	now := e.clock.Now()
	e.catchUp(now)
	for _, s := range e.services {
		if d := s.primary(); d != nil && s.status == "ACTIVE" && d.rolloutState == "IN_PROGRESS" {
			e.checkAlarms(s, d, now)
		}
	}
	e.mu.Unlock()
	e.flush()
}

// hookUUID shapes a 32-hex-digit id as a UUID.
func hookUUID(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
