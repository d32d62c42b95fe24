package jobs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/deckhand-ecs/deckhand/events"
)

// ECS stop codes (Task.StopCode).
const (
	StopTaskFailedToStart        = "TaskFailedToStart"
	StopEssentialContainerExited = "EssentialContainerExited"
	StopUserInitiated            = "UserInitiated"
)

// Reasons Deckhand gives ECS when it stops a job's task. The tracker reads
// them back from stoppedReason.
const (
	ReasonTimedOutPrefix = "Deckhand: timed out"
	ReasonReplacedPrefix = "Deckhand: replaced"
)

// transientMarkers are start-failure reasons worth a re-run: the image pull
// or the task's resources failed, or Spot had no capacity.
var transientMarkers = []string{
	"CannotPullContainerError",
	"ResourceInitializationError",
	"capacity is unavailable",
}

// Transient reports whether a task start failure (a stoppedReason, a
// container reason or a RunTask failure reason) is transient.
func Transient(reason string) bool {
	lower := strings.ToLower(reason)
	for _, m := range transientMarkers {
		if strings.Contains(lower, strings.ToLower(m)) {
			return true
		}
	}
	return false
}

// Verdict is the outcome of a stopped job task.
type Verdict struct {
	// Status is SUCCEEDED or FAILED, or TIMED_OUT when Deckhand stopped the
	// task for its timeout (the reconciler has reported that already).
	Status    events.JobStatus
	ExitCodes map[string]int32
	Reason    string
	// Transient is true when the task failed to start for a reason worth a
	// re-run (see Transient).
	Transient bool
}

// Judge gives the verdict of a STOPPED task from its stop code and the exit
// codes of its essential containers. essential names the essential
// containers of the task definition; nil treats every container as
// essential. It succeeds only when the task stopped because an essential
// container exited and every essential container exited 0.
func Judge(d events.ECSTaskStateChange, essential map[string]bool) Verdict {
	v := Verdict{Status: events.JobFailed, ExitCodes: map[string]int32{}}
	for _, c := range d.Containers {
		if c.ExitCode != nil {
			v.ExitCodes[c.Name] = *c.ExitCode
		}
	}
	if strings.HasPrefix(d.StoppedReason, ReasonTimedOutPrefix) {
		v.Status, v.Reason = events.JobTimedOut, d.StoppedReason
		return v
	}
	if d.StopCode == StopTaskFailedToStart {
		reasons := []string{d.StoppedReason}
		for _, c := range d.Containers {
			if c.Reason != "" && c.Reason != d.StoppedReason {
				reasons = append(reasons, c.Name+": "+c.Reason)
			}
		}
		v.Reason = "failed to start: " + strings.Join(reasons, "; ")
		v.Transient = Transient(v.Reason)
		return v
	}
	var bad []string
	names := make([]string, 0, len(d.Containers))
	for _, c := range d.Containers {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	byName := map[string]events.ECSContainer{}
	for _, c := range d.Containers {
		byName[c.Name] = c
	}
	for _, n := range names {
		if essential != nil && !essential[n] {
			continue
		}
		c := byName[n]
		switch {
		case c.ExitCode == nil:
			why := c.Reason
			if why == "" {
				why = "no exit code"
			}
			bad = append(bad, fmt.Sprintf("container %s did not exit: %s", n, why))
		case *c.ExitCode != 0:
			bad = append(bad, fmt.Sprintf("container %s exited with code %d", n, *c.ExitCode))
		}
	}
	if d.StopCode != "" && d.StopCode != StopEssentialContainerExited {
		bad = append([]string{fmt.Sprintf("stopped (%s): %s", d.StopCode, d.StoppedReason)}, bad...)
	}
	if len(bad) > 0 {
		v.Reason = strings.Join(bad, "; ")
		return v
	}
	v.Status = events.JobSucceeded
	return v
}
