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
	"strings"
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

// Invocation is the runner's input from EventBridge Scheduler (DESIGN §7).
type Invocation struct {
	Job string `json:"job"`
	// ScheduledTime is the RFC 3339 time the schedule fired for
	// (<aws.scheduler.scheduled-time>). It keys the run's idempotency.
	ScheduledTime string `json:"scheduledTime"`
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

// Run runs one scheduled invocation of a job: resolve its images, render
// and register (or reuse) its task definition, apply the overlap policy and
// start the task. Failures retrying cannot fix (an unknown job, a bad
// template, no eligible image, a RunTask failure) are emitted as FAILED and
// returned as a FAILED result with a nil error; AWS errors are returned so
// the invocation is retried.
func (e *Engine) Run(ctx context.Context, inv Invocation) (Result, error) {
	scheduled, err := time.Parse(time.RFC3339, inv.ScheduledTime)
	if inv.Job == "" || err != nil {
		return Result{}, fmt.Errorf("%w: want {\"job\": \"<name>\", \"scheduledTime\": \"2026-01-01T03:00:00Z\"}, got job %q scheduledTime %q",
			ErrBadInvocation, inv.Job, inv.ScheduledTime)
	}
	m, err := e.Source.Manifest(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("load manifest: %w", err)
	}
	job, ok := m.Job(inv.Job)
	if !ok {
		return e.fail(ctx, &manifest.Job{Name: inv.Job}, scheduled, 1, fmt.Sprintf("job %s is not in the manifest", inv.Job))
	}
	res, err := e.run(ctx, m, job, scheduled)
	var perm *revision.PermanentError
	if errors.As(err, &perm) || errors.Is(err, ecrimages.ErrNoEligibleImage) {
		return e.fail(ctx, job, scheduled, 1, err.Error())
	}
	return res, err
}

func (e *Engine) run(ctx context.Context, m *manifest.Manifest, job *manifest.Job, scheduled time.Time) (Result, error) {
	running, err := e.runningTasks(ctx, job.Cluster, job.Name)
	if err != nil {
		return Result{}, err
	}
	stamp := scheduled.UTC().Format(time.RFC3339)
	var same, others []ecstypes.Task
	for _, t := range running {
		if revision.TagsOf(t.Tags)[revision.TagScheduledTime] == stamp {
			same = append(same, t)
		} else {
			others = append(others, t)
		}
	}
	if len(same) > 0 {
		// A duplicate delivery: the run is already going. Emit STARTED
		// again (in case the first delivery died before emitting) and stop.
		arns := taskARNs(same)
		attempt := attemptOf(same[0])
		res := Result{Status: events.JobStarted, Job: job.Name, TaskARNs: arns, Attempt: attempt, Duplicate: true,
			TaskDefinition: aws.ToString(same[0].TaskDefinitionArn)}
		return res, e.emit(ctx, events.JobStateChange{Status: events.JobStarted, Job: job.Name, Cluster: job.Cluster,
			TaskARNs: arns, ScheduledTime: &scheduled, Attempt: attempt})
	}
	if job.Overlap == manifest.OverlapForbid && len(others) > 0 {
		arns := taskARNs(others)
		reason := fmt.Sprintf("overlap is forbid and %d earlier run(s) still running", len(others))
		res := Result{Status: events.JobSkippedOverlap, Job: job.Name, TaskARNs: arns, Reason: reason}
		return res, e.emit(ctx, events.JobStateChange{Status: events.JobSkippedOverlap, Job: job.Name, Cluster: job.Cluster,
			TaskARNs: arns, ScheduledTime: &scheduled, Reason: reason})
	}
	images, err := e.resolveImages(ctx, m, job)
	if err != nil {
		return Result{}, err
	}
	taskDef, err := e.taskDefinition(ctx, m, job, images)
	if err != nil {
		return Result{}, err
	}
	if job.Overlap == manifest.OverlapReplace {
		reason := "Deckhand: replaced by the run scheduled at " + stamp
		for _, t := range others {
			if err := e.stopTask(ctx, job.Cluster, aws.ToString(t.TaskArn), reason); err != nil {
				return Result{}, err
			}
		}
	}
	return e.start(ctx, job, taskDef, scheduled, 1)
}

// start runs the task of one attempt. A RunTask failure with a transient
// reason (no capacity) is retried at once with the next attempt, up to the
// job's retries.
func (e *Engine) start(ctx context.Context, job *manifest.Job, taskDef string, scheduled time.Time, attempt int) (Result, error) {
	for {
		out, err := e.ECS.RunTask(ctx, runTaskInput(job, taskDef, scheduled, attempt))
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
		arns := make([]string, 0, len(out.Tasks))
		for _, t := range out.Tasks {
			arns = append(arns, aws.ToString(t.TaskArn))
		}
		res := Result{Status: events.JobStarted, Job: job.Name, TaskARNs: arns, TaskDefinition: taskDef, Attempt: attempt}
		return res, e.emit(ctx, events.JobStateChange{Status: events.JobStarted, Job: job.Name, Cluster: job.Cluster,
			TaskARNs: arns, ScheduledTime: &scheduled, Attempt: attempt})
	}
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

// runningTasks returns the job's tasks not yet told to stop, with tags.
func (e *Engine) runningTasks(ctx context.Context, cluster, job string) ([]ecstypes.Task, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(e.ECS, &ecs.ListTasksInput{Cluster: aws.String(cluster), StartedBy: aws.String(StartedBy(job)),
		DesiredStatus: ecstypes.DesiredStatusRunning})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tasks of job %s: %w", job, err)
		}
		arns = append(arns, out.TaskArns...)
	}
	return e.describeTasks(ctx, cluster, arns)
}

func (e *Engine) describeTasks(ctx context.Context, cluster string, arns []string) ([]ecstypes.Task, error) {
	var tasks []ecstypes.Task
	for len(arns) > 0 {
		n := min(len(arns), 100)
		out, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns[:n],
			Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("describe tasks in %s: %w", cluster, err)
		}
		tasks = append(tasks, out.Tasks...)
		arns = arns[n:]
	}
	return tasks, nil
}

func (e *Engine) stopTask(ctx context.Context, cluster, arn, reason string) error {
	if len(reason) > 255 {
		reason = reason[:255]
	}
	if _, err := e.ECS.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(arn), Reason: aws.String(reason)}); err != nil {
		return fmt.Errorf("stop task %s: %w", arn, err)
	}
	return nil
}

func taskARNs(tasks []ecstypes.Task) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = aws.ToString(t.TaskArn)
	}
	return out
}

// attemptOf reads the deckhand:attempt tag (1 when absent).
func attemptOf(t ecstypes.Task) int {
	if n, err := strconv.Atoi(revision.TagsOf(t.Tags)[revision.TagAttempt]); err == nil && n > 0 {
		return n
	}
	return 1
}

func failureReason(fs []ecstypes.Failure) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		s := aws.ToString(f.Reason)
		if d := aws.ToString(f.Detail); d != "" {
			s += " (" + d + ")"
		}
		if a := aws.ToString(f.Arn); a != "" {
			s += " [" + a + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
