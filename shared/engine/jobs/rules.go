package jobs

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// The rules a job's invocation is decided by, in the order Run applies
// them to the job's tasks (jobTasks: running and recently stopped). The
// job FIFO queue hands the runner one invocation of a job at a time, and
// each run waits until ECS lists its task (awaitListed), so every decision
// sees every run started before it.

// sameRun (duplicate delivery): the tasks already started for this
// scheduled time at this attempt or a later one. A delivery that finds
// one starts nothing.
func sameRun(tasks []ecstypes.Task, scheduled time.Time, attempt int) []ecstypes.Task {
	stamp := scheduled.UTC().Format(time.RFC3339)
	var out []ecstypes.Task
	for _, t := range tasks {
		if scheduledOf(t) == stamp && attemptOf(t) >= attempt {
			out = append(out, t)
		}
	}
	return out
}

// forbidOverlap (overlap: forbid): the other runs still active block a
// new one, which is SKIPPED_OVERLAP. A run is active until its containers
// have stopped: a task told to stop (for its timeout) still runs them
// through its stop grace.
func forbidOverlap(job *manifest.Job, tasks []ecstypes.Task, scheduled time.Time) []ecstypes.Task {
	if job.Overlap != manifest.OverlapForbid {
		return nil
	}
	stamp := scheduled.UTC().Format(time.RFC3339)
	var out []ecstypes.Task
	for _, t := range tasks {
		if active(t) && scheduledOf(t) != stamp {
			out = append(out, t)
		}
	}
	return out
}

// replaceObsolete (overlap: replace): a run older than one already
// started never replaces it, whatever order Scheduler's deliveries and
// retries arrive in; it is SKIPPED_OVERLAP. It returns the newer runs.
func replaceObsolete(job *manifest.Job, tasks []ecstypes.Task, scheduled time.Time) []ecstypes.Task {
	if job.Overlap != manifest.OverlapReplace {
		return nil
	}
	var out []ecstypes.Task
	for _, t := range tasks {
		if at, err := time.Parse(time.RFC3339, scheduledOf(t)); err == nil && at.After(scheduled) {
			out = append(out, t)
		}
	}
	return out
}

// replaceTargets (overlap: replace): the runs not yet told to stop. They
// are stopped before the new run starts, so at most one run of the job is
// meant to run at any moment.
func replaceTargets(job *manifest.Job, tasks []ecstypes.Task) []ecstypes.Task {
	if job.Overlap != manifest.OverlapReplace {
		return nil
	}
	var out []ecstypes.Task
	for _, t := range tasks {
		if aws.ToString(t.DesiredStatus) != string(ecstypes.DesiredStatusStopped) {
			out = append(out, t)
		}
	}
	return out
}

// active reports whether a task's containers may still run: it is meant
// to run, or it has not yet reached DEPROVISIONING.
func active(t ecstypes.Task) bool {
	if aws.ToString(t.DesiredStatus) != string(ecstypes.DesiredStatusStopped) {
		return true
	}
	switch aws.ToString(t.LastStatus) {
	case "DEPROVISIONING", "STOPPED":
		return false
	}
	return true
}
