package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// RunRequest is a one-off run of a job.
type RunRequest struct {
	Job string
	// Override is merged over the job's own overrides: set fields win,
	// container overrides merge by name (command replaced, environment
	// merged by variable).
	Override *types.TaskOverride
	// Command and Env override the job's main container (the one
	// overrides.container names, else the first by name).
	Command []string
	Env     map[string]string
}

// ParseOverride decodes an --override argument: a RunTask TaskOverride in
// the AWS wire shape, as `aws ecs run-task --overrides` takes it.
func ParseOverride(s string) (*types.TaskOverride, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var o types.TaskOverride
	if err := dec.Decode(&o); err != nil {
		return nil, usagef(`--override: want a TaskOverride as JSON, e.g. {"containerOverrides":[{"name":"report","command":["./report","--since","48h"]}]}: %v`, err)
	}
	return &o, nil
}

// RunResult is the run engine's result for a one-off run and the run's
// time, which keys its idempotency.
type RunResult struct {
	jobs.Result
	// ScheduledTime is this run's time, to the second: the engine starts
	// at most one task per job and time, so a second run within the same
	// second (on the sandbox: before its clock moves) is a Duplicate.
	ScheduledTime time.Time `json:"scheduledTime"`
}

// Run starts a one-off run of a job through the run engine, with the job's
// policies (overlap, retries, clientToken keyed by the run's time). A run
// whose time already has a task starts nothing and is reported Duplicate.
func (e *Env) Run(ctx context.Context, req RunRequest) (RunResult, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return RunResult{}, err
	}
	j, err := Job(m, req.Job)
	if err != nil {
		return RunResult{}, err
	}
	if len(req.Command) > 0 || len(req.Env) > 0 {
		co := types.ContainerOverride{Name: aws.String(revision.JobPrimary(j)), Command: req.Command}
		for _, k := range sortedKeys(req.Env) {
			co.Environment = append(co.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(req.Env[k])})
		}
		extra := &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{co}}
		if req.Override == nil {
			req.Override = extra
		} else {
			req.Override = mergeOverride(req.Override, extra)
		}
	}
	if o := req.Override; o != nil {
		for _, role := range []*string{o.TaskRoleArn, o.ExecutionRoleArn} {
			if r := aws.ToString(role); r != "" && !slices.Contains(m.Roles, r) {
				return RunResult{}, usagef("--override names role %s, which the manifest's roles: does not allow", r)
			}
		}
	}
	now := e.Now(ctx)
	p := e.parts(&overridingECS{ECSAPI: e.ECS, override: req.Override})
	p.Now = func() time.Time { return e.Now(ctx) }
	at := now.UTC().Truncate(time.Second)
	res, err := wire.Jobs(p).Run(ctx, jobs.Invocation{Job: j.Name, ScheduledTime: at.Format(time.RFC3339)})
	if err != nil {
		return RunResult{res, at}, fmt.Errorf("run %s: %w", j.Name, err)
	}
	return RunResult{res, at}, nil
}

// FollowTask polls a job's task until it stops and judges it as the
// tracker does; report is called after each poll.
func (e *Env) FollowTask(ctx context.Context, cluster, taskARN string, timeout time.Duration, report func(JobRun)) (JobRun, error) {
	clock := e.clock()
	start := e.Now(ctx)
	ess := map[string]map[string]bool{}
	for {
		out, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{taskARN},
			Include: []types.TaskField{types.TaskFieldTags}})
		if err != nil {
			return JobRun{}, fmt.Errorf("describe task %s: %w", taskARN, err)
		}
		if len(out.Tasks) == 0 {
			return JobRun{}, &NotFoundError{Kind: "task", Name: taskARN, Hint: "stopped tasks stay describable for about an hour"}
		}
		run, err := e.jobRun(ctx, out.Tasks[0], ess)
		if err != nil {
			return run, err
		}
		if report != nil {
			report(run)
		}
		if run.LastStatus == "STOPPED" {
			return run, nil
		}
		if timeout > 0 && e.Now(ctx).Sub(start) >= timeout {
			return run, fmt.Errorf("follow task %s: %w (%s); it goes on: watch it with `deckhand status`", taskARN, ErrTimeout, timeout)
		}
		if err := clock.Wait(ctx, e.poll()); err != nil {
			return run, err
		}
	}
}

// ExitCode is the exit code a finished run maps to: 0 when it succeeded,
// else the first non-zero exit code of its containers (by name), else 1.
func (r JobRun) ExitCode() int {
	if r.Verdict == events.JobSucceeded {
		return 0
	}
	for _, c := range sortedKeys(r.ExitCodes) {
		if code := r.ExitCodes[c]; code > 0 && code < 256 {
			return int(code)
		}
	}
	return 1
}

// overridingECS merges a one-off override into the run engine's RunTask.
type overridingECS struct {
	ECSAPI
	override *types.TaskOverride
}

func (o *overridingECS) RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	if o.override != nil {
		cp := *in
		cp.Overrides = mergeOverride(in.Overrides, o.override)
		in = &cp
	}
	return o.ECSAPI.RunTask(ctx, in, optFns...)
}

func mergeOverride(base, over *types.TaskOverride) *types.TaskOverride {
	out := types.TaskOverride{}
	if base != nil {
		out = *base
		out.ContainerOverrides = slices.Clone(base.ContainerOverrides)
	}
	for _, p := range []struct{ dst, src **string }{{&out.Cpu, &over.Cpu}, {&out.Memory, &over.Memory},
		{&out.TaskRoleArn, &over.TaskRoleArn}, {&out.ExecutionRoleArn, &over.ExecutionRoleArn}} {
		if *p.src != nil {
			*p.dst = *p.src
		}
	}
	for _, co := range over.ContainerOverrides {
		i := slices.IndexFunc(out.ContainerOverrides, func(c types.ContainerOverride) bool { return aws.ToString(c.Name) == aws.ToString(co.Name) })
		if i < 0 {
			out.ContainerOverrides = append(out.ContainerOverrides, co)
			continue
		}
		cur := out.ContainerOverrides[i]
		if len(co.Command) > 0 {
			cur.Command = co.Command
		}
		for _, kv := range co.Environment {
			j := slices.IndexFunc(cur.Environment, func(c types.KeyValuePair) bool { return aws.ToString(c.Name) == aws.ToString(kv.Name) })
			if j < 0 {
				cur.Environment = append(slices.Clone(cur.Environment), kv)
			} else {
				cur.Environment = slices.Clone(cur.Environment)
				cur.Environment[j] = kv
			}
		}
		out.ContainerOverrides[i] = cur
	}
	return &out
}
