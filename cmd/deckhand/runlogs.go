package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

// runLogs streams a waited-for task's CloudWatch Logs: each poll of the
// task prints the lines its awslogs containers wrote since the last one,
// to stdout (stderr with -o json, which keeps stdout for the result).
type runLogs struct {
	a      *app
	follow *cli.TaskLogs
	failed bool
}

// taskLogs is the follower of a run's task, or nil when --logs=false.
func (a *app) taskLogs(ctx context.Context, env *cli.Env, res cli.RunResult, on bool) (*runLogs, error) {
	if !on || len(res.TaskARNs) == 0 {
		return nil, nil
	}
	cfg, _, err := a.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	t := env.TaskLogs(ctx, cloudwatchlogs.NewFromConfig(cfg), res.TaskDefinition, res.TaskARNs[0])
	for _, n := range t.Notes {
		a.note("note: %s", n)
	}
	return &runLogs{a: a, follow: t}, nil
}

// poll prints the new lines. A read that fails is said once and ends the
// streaming; the wait for the exit code goes on.
func (l *runLogs) poll(ctx context.Context) {
	if l == nil || l.failed {
		return
	}
	lines, err := l.follow.Poll(ctx)
	w := l.a.stdout
	if l.a.json() {
		w = l.a.stderr
	}
	for _, line := range lines {
		_, _ = w.Write([]byte(line.At.Format("15:04:05") + " " + line.Container + " | " + line.Message + "\n"))
	}
	if err != nil {
		l.failed = true
		l.a.note("note: stopped showing the task's logs: %v", err)
	}
}
