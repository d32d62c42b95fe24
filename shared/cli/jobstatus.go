package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/schedule"
)

// JobStatus is a job's schedule and its last runs.
type JobStatus struct {
	Job      string `json:"job"`
	Cluster  string `json:"cluster"`
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone"`
	// Next is the next scheduled run in the job's time zone; zero for a
	// rate schedule that has not run yet (rates count from the schedule's
	// creation, which the manifest does not say).
	Next time.Time `json:"next,omitzero"`
	// Runs are the newest runs first.
	Runs []JobRun `json:"runs"`
}

// JobRun is one task of a job.
type JobRun struct {
	TaskARN       string           `json:"taskArn"`
	LastStatus    string           `json:"lastStatus"`
	ScheduledTime string           `json:"scheduledTime,omitempty"`
	Attempt       int              `json:"attempt,omitempty"`
	CreatedAt     time.Time        `json:"createdAt,omitzero"`
	StartedAt     time.Time        `json:"startedAt,omitzero"`
	StoppedAt     time.Time        `json:"stoppedAt,omitzero"`
	ExitCodes     map[string]int32 `json:"exitCodes,omitempty"`
	// Verdict is SUCCEEDED, FAILED or TIMED_OUT for stopped tasks.
	Verdict events.JobStatus `json:"verdict,omitempty"`
	Reason  string           `json:"reason,omitempty"`
}

func (e *Env) jobStatus(ctx context.Context, j *manifest.Job, now time.Time, limit int) (JobStatus, error) {
	st := JobStatus{Job: j.Name, Cluster: j.Cluster, Schedule: j.Schedule, Timezone: j.Timezone, Runs: []JobRun{}}
	if st.Timezone == "" {
		st.Timezone = "UTC"
	}
	runs, err := e.jobRuns(ctx, j, limit)
	if err != nil {
		return st, err
	}
	st.Runs = runs
	sch, err := schedule.Parse(j.Schedule)
	if err != nil {
		return st, fmt.Errorf("job %s: %w", j.Name, err)
	}
	loc, err := schedule.LoadLocation(st.Timezone)
	if err != nil {
		return st, fmt.Errorf("job %s: %w", j.Name, err)
	}
	switch {
	case sch.Kind == schedule.KindRate && len(runs) > 0:
		last := runs[0].CreatedAt
		for !last.After(now) {
			last = last.Add(sch.Every)
		}
		st.Next = last.In(loc)
	case sch.Kind != schedule.KindRate:
		next, err := sch.Next(loc, now)
		if err == nil {
			st.Next = next.In(loc)
		} else if !errors.Is(err, schedule.ErrNoNext) {
			return st, fmt.Errorf("job %s: %w", j.Name, err)
		}
	}
	return st, nil
}

// jobRuns returns the newest tasks started for the job (startedBy
// deckhand/<job>), running and stopped.
func (e *Env) jobRuns(ctx context.Context, j *manifest.Job, limit int) ([]JobRun, error) {
	if limit <= 0 {
		limit = 5
	}
	var arns []string
	for _, status := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		out, err := e.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(j.Cluster), StartedBy: aws.String(jobs.StartedBy(j.Name)),
			DesiredStatus: status, MaxResults: aws.Int32(100)})
		if err != nil {
			if awserr.ClusterNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("list tasks of job %s: %w", j.Name, err)
		}
		arns = append(arns, out.TaskArns...)
	}
	var tasks []types.Task
	for len(arns) > 0 {
		n := min(len(arns), 100)
		out, err := e.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(j.Cluster), Tasks: arns[:n],
			Include: []types.TaskField{types.TaskFieldTags}})
		if err != nil {
			return nil, fmt.Errorf("describe tasks of job %s: %w", j.Name, err)
		}
		tasks = append(tasks, out.Tasks...)
		arns = arns[n:]
	}
	sort.SliceStable(tasks, func(a, b int) bool { return aws.ToTime(tasks[a].CreatedAt).After(aws.ToTime(tasks[b].CreatedAt)) })
	if len(tasks) > limit {
		tasks = tasks[:limit]
	}
	essential := map[string]map[string]bool{}
	runs := make([]JobRun, 0, len(tasks))
	for _, t := range tasks {
		run, err := e.jobRun(ctx, t, essential)
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// jobRun describes one task and, once stopped, judges it like the tracker.
func (e *Env) jobRun(ctx context.Context, t types.Task, essential map[string]map[string]bool) (JobRun, error) {
	tags := map[string]string{}
	for _, tg := range t.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	r := JobRun{TaskARN: aws.ToString(t.TaskArn), LastStatus: aws.ToString(t.LastStatus), ScheduledTime: tags[revision.TagScheduledTime],
		CreatedAt: aws.ToTime(t.CreatedAt), StartedAt: aws.ToTime(t.StartedAt), StoppedAt: aws.ToTime(t.StoppedAt)}
	r.Attempt, _ = strconv.Atoi(tags[revision.TagAttempt])
	if r.LastStatus != "STOPPED" {
		return r, nil
	}
	tdARN := aws.ToString(t.TaskDefinitionArn)
	ess, ok := essential[tdARN]
	if !ok {
		td, err := e.describeTaskDefinition(ctx, tdARN)
		if err != nil && !isNotFound(err) {
			return r, err
		}
		if err == nil {
			ess = map[string]bool{}
			for _, cd := range td.TaskDefinition.ContainerDefinitions {
				if cd.Essential == nil || *cd.Essential {
					ess[aws.ToString(cd.Name)] = true
				}
			}
		}
		essential[tdARN] = ess
	}
	d := events.ECSTaskStateChange{StopCode: string(t.StopCode), StoppedReason: aws.ToString(t.StoppedReason), LastStatus: r.LastStatus}
	for _, c := range t.Containers {
		d.Containers = append(d.Containers, events.ECSContainer{Name: aws.ToString(c.Name), ExitCode: c.ExitCode, Reason: aws.ToString(c.Reason)})
	}
	v := jobs.Judge(d, ess)
	r.Verdict, r.Reason, r.ExitCodes = v.Status, v.Reason, v.ExitCodes
	return r, nil
}
