package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) reportCmd() *cobra.Command {
	var since string
	cmd := &cobra.Command{
		Use:   "report [binding…] [--since 30d]",
		Short: "Print the delivery metrics the tracker publishes, from ECS",
		Long: `report prints, per service binding and for the fleet, the delivery metrics the
tracker publishes to CloudWatch (DESIGN §13): deployments that reached a verdict,
failures (FAILED or ROLLED_BACK) and the change failure rate, rollbacks, lead time
(push → SUCCEEDED) and time to restore (rollback → next SUCCEEDED). It computes them
the same way (shared/engine/delivery) from the bindings' Deckhand revisions (their
deckhand:pushed-at tags) and ECS's service-deployment records of the services, so it
works without CloudWatch, and only as far back as ECS keeps records.

--since is a window ending now: 30d, 12h, 90m.`,
		Example: `  deckhand report
  deckhand report web --since 7d -o json`,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			window, err := parseWindow(since)
			if err != nil {
				return &cli.UsageError{Msg: fmt.Sprintf("--since %q: %v", since, err)}
			}
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			until := env.Now(ctx)
			rep, err := env.Report(ctx, cli.ReportRequest{Bindings: argv, Since: until.Add(-window), Until: until})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(rep)
			}
			a.printReport(rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "30d", "the window, ending now: Nd, Nh or Nm")
	return cmd
}

// parseWindow reads 30d, or any Go duration (12h, 90m).
func parseWindow(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("want a number of days, as in 30d")
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("want 30d, 12h or 90m")
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive window")
	}
	return d, nil
}

func (a *app) printReport(rep *cli.Report) {
	w := a.stdout
	fmt.Fprintf(w, "delivery from %s to %s\n", rep.Since.UTC().Format(time.RFC3339), rep.Until.UTC().Format(time.RFC3339))
	tw := table(w)
	fmt.Fprintf(tw, "BINDING\tDEPLOYMENTS\tFAILURES\tFAILURE RATE\tROLLBACKS\tLEAD TIME\tTIME TO RESTORE\n")
	for _, b := range append(rep.Bindings, rep.Fleet) {
		if b.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\n", b.Binding, a.paint(w, "red", b.Error))
			continue
		}
		rate := "—"
		if b.ChangeFailureRate != nil {
			rate = fmt.Sprintf("%.0f%%", *b.ChangeFailureRate*100)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%s\t%s\n", b.Binding, b.Deployments, b.Failures, rate, b.Rollbacks,
			medianText(b.LeadTimeMS, len(b.LeadTimesMS)), medianText(b.TimeToRestoreMS, len(b.RestoresMS)))
	}
	tw.Flush()
}

// medianText is a median in milliseconds for people, with how many values
// it is the median of.
func medianText(ms *int64, n int) string {
	if ms == nil {
		return "—"
	}
	return fmt.Sprintf("%s (median of %d)", (time.Duration(*ms) * time.Millisecond).Round(time.Second), n)
}
