package ecssim

import (
	"strings"
	"time"
)

// TaskScript scripts how containers of RunTask tasks running an image
// behave. Without a script a container runs for Timing.TaskRun (30s of
// virtual time by default) and exits 0.
type TaskScript struct {
	// RunFor is how long the container runs before it exits (zero:
	// Timing.TaskRun; UntilStopped: until StopTask or FinishTask).
	RunFor time.Duration
	// ExitCode is the container's exit code when it exits on its own.
	ExitCode int32
	// StartFailure, when set, makes every task using the image fail to start
	// with this reason, e.g. "CannotPullContainerError: pull image manifest
	// has been retried 5 time(s)": the task stops with stop code
	// TaskFailedToStart, stoppedReason and the container's reason set to it.
	// A service deployment using the image never gets running tasks.
	StartFailure string
}

// UntilStopped as TaskScript.RunFor keeps a container running until the
// task is stopped (StopTask, FinishTask), like a server.
const UntilStopped time.Duration = -1

// unhealthyReason is the start failure of an image marked unhealthy with
// SetImageHealth and started by RunTask.
const unhealthyReason = "CannotStartContainerError: the image is marked unhealthy in the sandbox"

// imageMatches reports whether a container image matches ref: ref is the full
// image reference, or a digest ("sha256:…") the image is pinned to.
func imageMatches(image, ref string) bool {
	return image == ref || strings.HasPrefix(ref, "sha256:") && strings.HasSuffix(image, "@"+ref)
}

// SetImageHealth marks an image healthy or unhealthy. image is a full image
// reference or a digest "sha256:…" (matching images pinned to it). A
// deployment whose task definition uses an unhealthy image never gets running
// tasks: every start attempt fails (failedTasks++), which trips the circuit
// breaker. A RunTask task using it fails to start.
func (e *ECS) SetImageHealth(image string, healthy bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.health[image] = healthy
}

// ScriptImage sets how containers using image (a full reference or a digest,
// as for SetImageHealth) behave. The latest script for a reference wins; an
// exact reference wins over a digest.
func (e *ECS) ScriptImage(image string, s TaskScript) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scripts[image] = s
}

// SetCapacityAvailable scripts whether a capacity provider (e.g.
// "FARGATE_SPOT", or a launch type such as "FARGATE") can place tasks. RunTask
// on an unavailable provider returns a failure and no task. The provider
// named "UNAVAILABLE" never has capacity.
func (e *ECS) SetCapacityAvailable(provider string, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.capacity[provider] = ok
}

// script returns the script for image, or the zero script.
func (e *ECS) script(image string) TaskScript {
	if s, ok := e.scripts[image]; ok {
		return s
	}
	for ref, s := range e.scripts {
		if imageMatches(image, ref) {
			return s
		}
	}
	return TaskScript{}
}

// containerFailure returns why a container using image fails to start.
func (e *ECS) containerFailure(image string) (string, bool) {
	if s := e.script(image); s.StartFailure != "" {
		return s.StartFailure, true
	}
	if healthy, ok := e.health[image]; ok {
		if healthy {
			return "", false
		}
		return unhealthyReason, true
	}
	for ref, healthy := range e.health {
		if !healthy && imageMatches(image, ref) {
			return unhealthyReason, true
		}
	}
	return "", false
}

// startFailure returns why tasks of td fail to start, if they do.
func (e *ECS) startFailure(td *taskDef) (string, bool) {
	for _, c := range td.containers {
		if reason, bad := e.containerFailure(c.image); bad {
			return reason, true
		}
	}
	return "", false
}
