package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/aws/ecrimages"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Invocation is the runner's input (DESIGN §7). EventBridge Scheduler
// sends {"job", "scheduledTime"} into the job's message group of the job
// FIFO queue; the tracker sends a re-run there with its attempt.
type Invocation struct {
	Job string `json:"job"`
	// ScheduledTime is the RFC 3339 time the schedule fired for
	// (<aws.scheduler.scheduled-time>). It keys the run's idempotency.
	ScheduledTime string `json:"scheduledTime"`
	// Attempt is the attempt to start: 0 (or 1) for a scheduled run, more
	// for a re-run of a task that failed to start for a transient reason.
	Attempt int `json:"attempt,omitempty"`
	// TaskDefinition is the revision a re-run starts: the failed
	// attempt's. The runner starts it only if Deckhand registered it for
	// the job (its deckhand:job tag). Empty: the job's current revision.
	TaskDefinition string `json:"taskDefinition,omitempty"`
}

// Result is what the runner returns (and logs) for one invocation.
type Result struct {
	Status         events.JobStatus `json:"status"`
	Job            string           `json:"job"`
	TaskARNs       []string         `json:"taskArns,omitempty"`
	TaskDefinition string           `json:"taskDefinition,omitempty"`
	Attempt        int              `json:"attempt,omitempty"`
	// Duplicate is true when this invocation repeats one whose task is
	// already started; nothing new was started.
	Duplicate bool   `json:"duplicate,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// ErrBadInvocation is returned for input that is not {"job", "scheduledTime"}.
var ErrBadInvocation = errors.New("bad runner invocation")

// ClientToken is the RunTask client token of a job's run: a hex SHA-256 of
// the job name and its scheduled time (in UTC), and of the attempt after the
// first, so 64 characters. Equal inputs give equal tokens, so ECS starts at
// most one task per scheduled run and attempt.
func ClientToken(job string, scheduled time.Time, attempt int) string {
	s := "deckhand-job\x00" + job + "\x00" + scheduled.UTC().Format(time.RFC3339)
	if attempt > 1 {
		s += "\x00attempt=" + strconv.Itoa(attempt)
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// replayAllowance bounds how much earlier than the invocation a task RunTask
// answers with may have been created and still be this invocation's: ECS
// answers a client token it has seen (for 24 hours) with the original
// result, so an older task is a run started long ago. It allows for clock
// skew between Lambda and ECS.
const replayAllowance = 5 * time.Minute

// Run runs one invocation of a job: apply the duplicate and overlap rules
// (rules.go) to the job's tasks, resolve its images, render and register
// (or reuse) its task definition, stop the runs it replaces and start the
// task, then wait until ECS lists the new task, so the next invocation of
// the job's message group sees it. Failures retrying cannot fix (an unknown
// job, a bad template, no eligible image, a request ECS refuses) are
// emitted as FAILED and returned as a FAILED result with a nil error; other
// AWS errors are returned so the invocation is retried.
func (e *Engine) Run(ctx context.Context, inv Invocation) (Result, error) {
	began := e.now()
	scheduled, err := time.Parse(time.RFC3339, inv.ScheduledTime)
	if inv.Job == "" || err != nil || inv.Attempt < 0 {
		return Result{}, fmt.Errorf("%w: want {\"job\": \"<name>\", \"scheduledTime\": \"2026-01-01T03:00:00Z\"}, got job %q scheduledTime %q attempt %d",
			ErrBadInvocation, inv.Job, inv.ScheduledTime, inv.Attempt)
	}
	attempt := max(inv.Attempt, 1)
	m, err := e.Source.Manifest(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("load manifest: %w", err)
	}
	job, ok := m.Job(inv.Job)
	if !ok {
		return e.fail(ctx, &manifest.Job{Name: inv.Job}, scheduled, attempt, fmt.Sprintf("job %s is not in the manifest", inv.Job))
	}
	res, err := e.run(ctx, m, job, scheduled, attempt, inv.TaskDefinition, began)
	if err != nil && (!revision.Retryable(err) || errors.Is(err, ecrimages.ErrNoEligibleImage)) {
		return e.fail(ctx, job, scheduled, attempt, err.Error())
	}
	return res, err
}

func (e *Engine) run(ctx context.Context, m *manifest.Manifest, job *manifest.Job, scheduled time.Time, attempt int, taskDef string, began time.Time) (Result, error) {
	ctx, err := e.inTarget(ctx, m, job.Target, job.Name)
	if err != nil {
		return Result{}, err
	}
	tasks, err := e.jobTasks(ctx, job.Cluster, job.Name)
	if err != nil {
		return Result{}, err
	}
	if same := sameRun(tasks, scheduled, attempt); len(same) > 0 {
		return e.duplicate(ctx, job, scheduled, same)
	}
	if blocking := forbidOverlap(job, tasks, scheduled); len(blocking) > 0 {
		return e.skip(ctx, job, scheduled, attempt, blocking,
			fmt.Sprintf("overlap is forbid and %d other run(s) still active", len(blocking)))
	}
	if newer := replaceObsolete(job, tasks, scheduled); len(newer) > 0 {
		return e.skip(ctx, job, scheduled, attempt, newer,
			fmt.Sprintf("overlap is replace and a newer run (scheduled at %s) has started; an older run never replaces it", scheduledOf(newer[0])))
	}
	if taskDef == "" {
		images, err := e.resolveImages(ctx, m, job)
		if err != nil {
			return Result{}, err
		}
		if taskDef, err = e.taskDefinition(ctx, m, job, images); err != nil {
			return Result{}, err
		}
	} else if err := e.checkJobRevision(ctx, job, taskDef); err != nil {
		return Result{}, err
	}
	reason := ReasonReplacedPrefix + " by the run scheduled at " + scheduled.UTC().Format(time.RFC3339)
	for _, t := range replaceTargets(job, tasks) {
		if err := e.stopTask(ctx, job.Cluster, aws.ToString(t.TaskArn), reason); err != nil {
			return Result{}, err
		}
	}
	return e.start(ctx, job, taskDef, scheduled, attempt, began)
}

// duplicate answers a delivery whose run has its task already. While that
// task is active STARTED is emitted again, in case the first delivery died
// before emitting it; after the task stopped its verdict stands and nothing
// is emitted.
func (e *Engine) duplicate(ctx context.Context, job *manifest.Job, scheduled time.Time, same []ecstypes.Task) (Result, error) {
	arns := taskARNs(same)
	attempt := attemptOf(same[0])
	res := Result{Status: events.JobStarted, Job: job.Name, TaskARNs: arns, Attempt: attempt, Duplicate: true,
		TaskDefinition: aws.ToString(same[0].TaskDefinitionArn), Reason: "the run scheduled at " + scheduled.UTC().Format(time.RFC3339) + " has its task already"}
	if !slices.ContainsFunc(same, active) {
		e.logger().InfoContext(ctx, "duplicate delivery of a finished run", "job", job.Name, "tasks", arns, "outcome", "duplicate")
		return res, nil
	}
	return res, e.emit(ctx, events.JobStateChange{Status: events.JobStarted, Job: job.Name, Cluster: job.Cluster,
		TaskARNs: arns, ScheduledTime: &scheduled, Attempt: attempt})
}

// skip emits and returns SKIPPED_OVERLAP, naming the runs in the way.
func (e *Engine) skip(ctx context.Context, job *manifest.Job, scheduled time.Time, attempt int, blocking []ecstypes.Task, reason string) (Result, error) {
	arns := taskARNs(blocking)
	res := Result{Status: events.JobSkippedOverlap, Job: job.Name, TaskARNs: arns, Attempt: attempt, Reason: reason}
	return res, e.emit(ctx, events.JobStateChange{Status: events.JobSkippedOverlap, Job: job.Name, Cluster: job.Cluster,
		TaskARNs: arns, ScheduledTime: &scheduled, Attempt: attempt, Reason: reason})
}

// start runs the task of one attempt. A RunTask failure with a transient
// reason (no capacity) is retried at once with the next attempt, up to the
// job's retries. A new task is waited for until ECS lists it (awaitListed)
// before STARTED is emitted.
func (e *Engine) start(ctx context.Context, job *manifest.Job, taskDef string, scheduled time.Time, attempt int, began time.Time) (Result, error) {
	for {
		out, err := e.ecs(ctx).RunTask(ctx, runTaskInput(job, taskDef, scheduled, attempt))
		if err != nil {
			if awserr.TokenConflict(err) {
				// The token was used for this run and attempt already, with
				// other parameters (a newer revision): that run stands.
				e.logger().InfoContext(ctx, "run already started", "job", job.Name, "attempt", attempt, "outcome", "duplicate")
				return Result{Status: events.JobStarted, Job: job.Name, Attempt: attempt, Duplicate: true, Reason: err.Error()}, nil
			}
			return Result{}, fmt.Errorf("run task %s: %w", job.Name, err)
		}
		if len(out.Failures) > 0 {
			reason := failureReason(out.Failures)
			if Transient(reason) && attempt <= job.Retries {
				if err := e.emit(ctx, events.JobStateChange{Status: events.JobRetrying, Job: job.Name, Cluster: job.Cluster,
					ScheduledTime: &scheduled, Attempt: attempt, Reason: reason}); err != nil {
					return Result{}, err
				}
				attempt++
				continue
			}
			return e.fail(ctx, job, scheduled, attempt, "run task: "+reason)
		}
		arns := taskARNs(out.Tasks)
		res := Result{Status: events.JobStarted, Job: job.Name, TaskARNs: arns, TaskDefinition: taskDef, Attempt: attempt}
		if replayed(out.Tasks, began) {
			// ECS answered with the task of this token's first RunTask, a
			// run older than the tasks ECS still lists.
			res.Duplicate, res.Reason = true, "RunTask answered with the task this run started before"
			e.logger().InfoContext(ctx, "duplicate delivery of a finished run", "job", job.Name, "tasks", arns, "outcome", "duplicate")
			return res, nil
		}
		for _, arn := range arns {
			if err := e.awaitListed(ctx, job, arn); err != nil {
				return Result{}, err
			}
		}
		return res, e.emit(ctx, events.JobStateChange{Status: events.JobStarted, Job: job.Name, Cluster: job.Cluster,
			TaskARNs: arns, ScheduledTime: &scheduled, Attempt: attempt})
	}
}

// replayed reports whether RunTask's tasks were created well before the
// invocation began: the answer to a client token ECS had seen.
func replayed(tasks []ecstypes.Task, began time.Time) bool {
	for _, t := range tasks {
		if t.CreatedAt == nil || !t.CreatedAt.Before(began.Add(-replayAllowance)) {
			return false
		}
	}
	return len(tasks) > 0
}

// fail emits FAILED and returns it as the result.
func (e *Engine) fail(ctx context.Context, job *manifest.Job, scheduled time.Time, attempt int, reason string) (Result, error) {
	res := Result{Status: events.JobFailed, Job: job.Name, Attempt: attempt, Reason: reason}
	return res, e.emit(ctx, events.JobStateChange{Status: events.JobFailed, Job: job.Name, Cluster: job.Cluster,
		ScheduledTime: &scheduled, Attempt: attempt, Reason: reason})
}

// runTaskInput builds a deterministic RunTask request: equal arguments give
// equal requests, as client-token idempotency requires.
func runTaskInput(job *manifest.Job, taskDef string, scheduled time.Time, attempt int) *ecs.RunTaskInput {
	in := &ecs.RunTaskInput{
		Cluster:              aws.String(job.Cluster),
		TaskDefinition:       aws.String(taskDef),
		Count:                aws.Int32(1),
		ClientToken:          aws.String(ClientToken(job.Name, scheduled, attempt)),
		StartedBy:            aws.String(StartedBy(job.Name)),
		Group:                aws.String(Group(job.Name)),
		PropagateTags:        ecstypes.PropagateTagsTaskDefinition,
		EnableECSManagedTags: true,
		Tags: []ecstypes.Tag{
			{Key: aws.String(revision.TagAttempt), Value: aws.String(strconv.Itoa(attempt))},
			{Key: aws.String(revision.TagScheduledTime), Value: aws.String(scheduled.UTC().Format(time.RFC3339))},
		},
	}
	if l := job.Launch; l != nil {
		in.LaunchType = ecstypes.LaunchType(l.LaunchType)
		for _, cp := range l.CapacityProviders {
			in.CapacityProviderStrategy = append(in.CapacityProviderStrategy, ecstypes.CapacityProviderStrategyItem{
				CapacityProvider: aws.String(cp.Provider), Weight: cp.Weight, Base: cp.Base})
		}
		if l.PlatformVersion != "" {
			in.PlatformVersion = aws.String(l.PlatformVersion)
		}
	}
	if n := job.Network; n != nil {
		in.NetworkConfiguration = &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: n.Subnets, SecurityGroups: n.SecurityGroups, AssignPublicIp: ecstypes.AssignPublicIp(n.AssignPublicIP)}}
	}
	if o := job.Overrides; o != nil {
		to := &ecstypes.TaskOverride{}
		if o.CPU != "" {
			to.Cpu = aws.String(o.CPU)
		}
		if o.Memory != "" {
			to.Memory = aws.String(o.Memory)
		}
		if len(o.Command) > 0 || len(o.Environment) > 0 {
			co := ecstypes.ContainerOverride{Name: aws.String(revision.JobPrimary(job)), Command: o.Command}
			for _, k := range slices.Sorted(maps.Keys(o.Environment)) {
				co.Environment = append(co.Environment, ecstypes.KeyValuePair{Name: aws.String(k), Value: aws.String(o.Environment[k])})
			}
			to.ContainerOverrides = []ecstypes.ContainerOverride{co}
		}
		in.Overrides = to
	}
	return in
}
