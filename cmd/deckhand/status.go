package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) statusCmd() *cobra.Command {
	var runs, events int
	cmd := &cobra.Command{
		Use:   "status [binding|job...]",
		Short: "Show what services run and how jobs ran",
		Long: `status shows, per service binding: cluster/service, the running revision and each
container's image tag and digest, rollout state, running/desired tasks, hold and the
last verdict, then its recent ECS service events (--events); per job: its schedule in
its time zone, the next run, and the last runs (tasks started by deckhand/<job>) with
verdicts and exit codes. Without arguments it
shows everything in the manifest. A service or cluster that does not exist is shown
in its row and makes status exit 3.`,
		Example: `  deckhand status
  deckhand status web nightly-report -o json`,
		Args: args(0, -1, "binding or job names"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if events < 0 || events > cli.RecentEvents {
				return &cli.UsageError{Msg: fmt.Sprintf("--events %d: want 0 to %d (ECS service events per service)", events, cli.RecentEvents)}
			}
			ctx := cmd.Context()
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			st, err := env.Status(ctx, argv, runs)
			if st == nil {
				return err
			}
			st.TrimEvents(events)
			// A missing service or cluster is in its row; the command
			// still exits 3 for it, after printing everything else.
			if a.json() {
				if jerr := a.printJSON(st); jerr != nil {
					return jerr
				}
				return err
			}
			a.printStatus(st, env.Now(ctx))
			return err
		},
	}
	cmd.Flags().IntVar(&runs, "runs", 5, "show this many runs per job")
	cmd.Flags().IntVar(&events, "events", 5, fmt.Sprintf("show this many recent ECS events per service (0 to %d; 0 for none)", cli.RecentEvents))
	return cmd
}

func (a *app) printStatus(st *cli.Status, now time.Time) {
	w := a.stdout
	if len(st.Services) > 0 {
		tw := table(w)
		fmt.Fprintln(tw, "BINDING\tSERVICE\tREVISION\tIMAGES\tROLLOUT\tSTRATEGY\tTASKS\tHOLD\tLAST VERDICT")
		for _, s := range st.Services {
			if s.Error != "" {
				fmt.Fprintf(tw, "%s\t%s/%s\t-\t%s\t\t\t\t\t\n", s.Binding, s.Cluster, s.Service, s.Error)
				continue
			}
			var imgs []string
			for _, c := range sortedKeys(s.Images) {
				img := s.Images[c]
				imgs = append(imgs, fmt.Sprintf("%s=%s@%s", c, dash(img.Tag), short(img.Digest)))
			}
			hold := "-"
			if s.Held {
				hold = a.paint(w, "yellow", "held: "+s.HoldReason)
			}
			fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", s.Binding, s.Cluster, s.Service, revision(s.Revision),
				strings.Join(imgs, " "), dash(s.RolloutState), a.strategyCell(s), s.Running, s.Desired, hold,
				a.paint(w, statusColor(s.LastVerdict), dash(s.LastVerdict)))
		}
		tw.Flush()
		a.printGates(st.Services, now)
		a.printServiceEvents(st, now)
	}
	if len(st.Jobs) == 0 {
		return
	}
	if len(st.Services) > 0 {
		fmt.Fprintln(w)
	}
	tw := table(w)
	fmt.Fprintln(tw, "JOB\tCLUSTER\tSCHEDULE\tTIME ZONE\tNEXT RUN")
	for _, j := range st.Jobs {
		next := "-"
		if !j.Next.IsZero() {
			next = fmt.Sprintf("%s (%s)", j.Next.Format("2006-01-02 15:04 MST"), ago(j.Next, now))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.Job, j.Cluster, j.Schedule, j.Timezone, next)
	}
	tw.Flush()
	var hasRuns bool
	for _, j := range st.Jobs {
		hasRuns = hasRuns || len(j.Runs) > 0
	}
	if !hasRuns {
		return
	}
	fmt.Fprintln(w)
	tw = table(w)
	fmt.Fprintln(tw, "JOB\tTASK\tSTATUS\tVERDICT\tEXIT CODES\tSTARTED\tRAN")
	for _, j := range st.Jobs {
		for _, r := range j.Runs {
			ran := "-"
			if !r.StartedAt.IsZero() && !r.StoppedAt.IsZero() {
				ran = human(r.StoppedAt.Sub(r.StartedAt))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Job, taskID(r.TaskARN), r.LastStatus,
				a.paint(w, statusColor(string(r.Verdict)), dash(string(r.Verdict))), exitCodes(r.ExitCodes), ago(r.CreatedAt, now), ran)
		}
	}
	tw.Flush()
}

// strategyCell is the strategy and, in flight, the step, the traffic and
// the bake left; then the deployment alarms in ALARM.
func (a *app) strategyCell(s cli.ServiceStatus) string {
	cell := dash(s.Strategy)
	if s.Progress != nil {
		cell = s.Progress.String()
	}
	if len(s.AlarmsInAlarm) > 0 {
		cell += " " + a.paint(a.stdout, "red", "ALARM: "+strings.Join(s.AlarmsInAlarm, ","))
	}
	return cell
}

func taskID(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		arn = arn[i+1:]
	}
	return short(arn)
}

func exitCodes(codes map[string]int32) string {
	var parts []string
	for _, c := range sortedKeys(codes) {
		parts = append(parts, fmt.Sprintf("%s=%d", c, codes[c]))
	}
	return dash(strings.Join(parts, " "))
}
