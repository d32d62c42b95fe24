package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) runCmd() *cobra.Command {
	var override, command string
	var envs []string
	var wait, logs bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "run <job> [--wait] [--override JSON] [--command CMD] [--env K=V]",
		Short: "Run a job once, with its policies, and optionally wait for its exit code",
		Long: `run starts a one-off run of a job through the same run engine as the runner function:
images resolved, template rendered (a revision registered only when it changed), the
overlap policy applied, and RunTask with a clientToken keyed by the job and this run's
time (to the second). A second run for the same time starts nothing and says that the
run was already started (--wait then follows its task). --wait streams the task's
state and the lines its awslogs containers write to CloudWatch Logs, and exits with its
exit code.`,
		Example: `  deckhand run nightly-report --wait
  deckhand run nightly-report --command "./report --since 48h" --env DRY_RUN=1 --wait
  deckhand run nightly-report --override '{"cpu":"512","containerOverrides":[{"name":"report","command":["./report"]}]}'`,
		Args: args(1, 1, "one job name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			req := cli.RunRequest{Job: argv[0], Command: strings.Fields(command), Env: map[string]string{}}
			for _, kv := range envs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return &cli.UsageError{Msg: fmt.Sprintf("--env %q: want NAME=VALUE", kv)}
				}
				req.Env[k] = v
			}
			if override != "" {
				o, err := cli.ParseOverride(override)
				if err != nil {
					return err
				}
				req.Override = o
			}
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			res, err := env.Run(ctx, req)
			if err != nil {
				return err
			}
			out := map[string]any{"result": res}
			if !a.json() {
				a.printRunResult(res)
			}
			if res.Status != events.JobStarted {
				if a.json() {
					_ = a.printJSON(out)
				}
				return &exitError{code: exitFailure}
			}
			if !wait || len(res.TaskARNs) == 0 {
				if a.json() {
					return a.printJSON(out)
				}
				return nil
			}
			m, err := env.Source.Manifest(ctx)
			if err != nil {
				return fmt.Errorf("load manifest: %w", err)
			}
			job, _ := m.Job(res.Job)
			if timeout == 0 {
				timeout = time.Hour
				if d := job.TimeoutDuration(); d > 0 {
					timeout = d + 5*time.Minute
				}
			}
			follow, err := a.taskLogs(ctx, env, res, logs)
			if err != nil {
				return err
			}
			last := ""
			run, err := env.FollowTask(ctx, job.Cluster, res.TaskARNs[0], timeout, func(r cli.JobRun) {
				if r.LastStatus != last {
					a.note("%s  %s", env.Now(ctx).UTC().Format("15:04:05"), r.LastStatus)
					last = r.LastStatus
				}
				follow.poll(ctx)
			})
			if err != nil {
				return err
			}
			out["run"] = run
			if a.json() {
				if err := a.printJSON(out); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.stdout, "verdict: %s, exit codes %s", a.paint(a.stdout, statusColor(string(run.Verdict)), string(run.Verdict)), exitCodes(run.ExitCodes))
				if !run.StartedAt.IsZero() && !run.StoppedAt.IsZero() {
					fmt.Fprintf(a.stdout, ", ran %s", human(run.StoppedAt.Sub(run.StartedAt)))
				}
				fmt.Fprintln(a.stdout)
				if run.Reason != "" {
					fmt.Fprintf(a.stdout, "  %s\n", run.Reason)
				}
			}
			if code := run.ExitCode(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&override, "override", "", "RunTask overrides as JSON (the shape `aws ecs run-task --overrides` takes), merged over the job's")
	f.StringVar(&command, "command", "", "command for the job's main container, split on spaces")
	f.StringArrayVar(&envs, "env", nil, "environment variable for the job's main container: NAME=VALUE (repeatable)")
	f.BoolVar(&wait, "wait", false, "stream the task's state (and logs) and exit with its exit code")
	f.BoolVar(&logs, "logs", true, "with --wait, stream the task's CloudWatch Logs (containers with the awslogs driver)")
	f.DurationVar(&timeout, "timeout", 0, "how long --wait waits (default: the job's timeout, else 1h)")
	return cmd
}

// printRunResult prints what a run started, or that it was started before.
func (a *app) printRunResult(res cli.RunResult) {
	w := a.stdout
	status := string(res.Status)
	if res.Duplicate {
		status = "already started:"
	}
	fmt.Fprintf(w, "%s: %s", res.Job, a.paint(w, statusColor(string(res.Status)), status))
	if len(res.TaskARNs) > 0 {
		fmt.Fprintf(w, " task %s (attempt %d), %s", taskID(res.TaskARNs[0]), res.Attempt, revision(res.TaskDefinition))
	}
	switch {
	case res.Duplicate:
		fmt.Fprintf(w, "; the run for %s was started before, nothing new was started", res.ScheduledTime.Format(time.RFC3339))
	case res.Reason != "":
		fmt.Fprintf(w, ": %s", res.Reason)
	}
	fmt.Fprintln(w)
}
