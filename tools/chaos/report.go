package chaos

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// maxShown bounds the violations printed per invariant.
const maxShown = 10

// Write prints the report as the tables RELIABILITY.md quotes.
func (r *Report) Write(w io.Writer) {
	cfg := r.Config
	fmt.Fprintf(w, "chaos: seed=%d events=%d services=%d faults=%.0f%% virtual=%s\n\n",
		cfg.Seed, cfg.Events, cfg.Services, cfg.FaultRate*100, r.Virtual.Round(1e9))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "input kind\tcount\tresolution")
	for _, kind := range sortedKeys(r.Inputs) {
		total := 0
		var parts []string
		for _, res := range sortedKeys(r.Inputs[kind]) {
			total += r.Inputs[kind][res]
			parts = append(parts, fmt.Sprintf("%d %s", r.Inputs[kind][res], res))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", kind, total, strings.Join(parts, ", "))
	}
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Deckhand deployment events\tcount")
	for _, s := range sortedKeys(r.Outcomes) {
		fmt.Fprintf(tw, "%s\t%d\n", s, r.Outcomes[s])
	}
	tw.Flush()
	fmt.Fprintln(w)

	failed := 0
	var parts []string
	for _, s := range sortedKeys(r.Failed) {
		failed += r.Failed[s]
		label := "HTTP " + s
		if s == "0" {
			label = "connection reset"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", label, r.Failed[s]))
	}
	rate := 0.0
	if r.Calls > 0 {
		rate = float64(failed) / float64(r.Calls) * 100
	}
	fmt.Fprintf(w, "AWS calls: %d, answered with a failure: %d (%.1f%%; %s); registers: %d (%d deployments caught up to a newer image through ECR during bursts); DLQ: %d; identical events put again by PutEvents retries: %d\n",
		r.Calls, failed, rate, strings.Join(parts, ", "), r.Registers, r.CaughtUp, r.DLQ, r.RepeatedEvents)
	fmt.Fprintf(w, "TagResource outages: %d (and one through the finale); tracker events dead-lettered after Lambda's retries: %d; rolled-back pushes delivered again: %d; final reconcile pass enqueued: %d\n",
		r.TagOutages, r.TrackerDLQ, r.Redelivered, r.ReconcileEnqueued)
	fmt.Fprintf(w, "alarms set to ALARM: %d; ROLLED_BACK by cause: %s\n", r.AlarmFlips, causes(r.Causes))
	if t := r.Targets; t.Targets > 0 {
		fmt.Fprintf(w, "targets: %d, with %d of the services; AssumeRole calls: %d (%d answered Throttling); sessions issued: %d for %d bindings (renewed %d times: before expiry on the virtual clock, or after an ExpiredToken answer)\n",
			t.Targets, t.Bindings, t.AssumeRoles, t.Throttled, t.Sessions, t.SessionBindings, t.Sessions-t.SessionBindings)
	}
	if cfg.Keep > 0 {
		fmt.Fprintf(w, "retention keep %d: %d rounds (and the final reconcile pass) removed %d revisions; %d reads or writes failed and were retried by a later round\n",
			cfg.Keep, r.PruneRounds, r.Pruned, r.PruneErrors)
	}
	fmt.Fprintln(w)
	r.writeGates(w)

	if len(r.JobOutcomes) > 0 {
		var parts []string
		for _, o := range sortedKeys(r.JobOutcomes) {
			parts = append(parts, fmt.Sprintf("%s %d", o, r.JobOutcomes[o]))
		}
		fmt.Fprintf(w, "runner decisions on job-queue messages (scheduled runs and re-runs; retry and held are redelivered): %s\n", strings.Join(parts, ", "))
		parts = parts[:0]
		for _, st := range sortedKeys(r.JobEvents) {
			parts = append(parts, fmt.Sprintf("%s %d", st, r.JobEvents[st]))
		}
		fmt.Fprintf(w, "Deckhand job events: %s\n\n", strings.Join(parts, ", "))
	}

	if len(r.DLQReasons) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "dead-lettered inputs by reason of the last receive\tcount")
		for _, why := range sortedKeys(r.DLQReasons) {
			fmt.Fprintf(tw, "%s\t%d\n", why, r.DLQReasons[why])
		}
		tw.Flush()
		fmt.Fprintln(w)
	}

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "invariant\tchecked\tviolations\tknown gap\tresult")
	rows := append([]Row(nil), r.Rows...)
	sort.SliceStable(rows, func(i, j int) bool { return invariantLess(rows[i].Name, rows[j].Name) })
	for _, row := range rows {
		result := "PASS"
		switch {
		case len(row.Violations) > 0:
			result = "FAIL"
		case len(row.Known) > 0:
			result = "KNOWN GAP (fails strict)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", row.Name, row.Checked, len(row.Violations), len(row.Known), result)
	}
	tw.Flush()
	for _, row := range rows {
		for i, v := range append(append([]string{}, row.Violations...), row.Known...) {
			if i == maxShown {
				fmt.Fprintf(w, "  … %d more\n", len(row.Violations)+len(row.Known)-maxShown)
				break
			}
			fmt.Fprintf(w, "  [%s] %s\n", row.Name[:1], v)
		}
	}
	for _, id := range sortedKeys(KnownGaps) {
		fmt.Fprintf(w, "known gap %s: %s\n", id, KnownGaps[id])
	}
}

func causes(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// invariantLess orders invariant names by their leading number (2 before
// 10), then by name.
func invariantLess(a, b string) bool {
	na, _ := strconv.Atoi(strings.SplitN(a, " ", 2)[0])
	nb, _ := strconv.Atoi(strings.SplitN(b, " ", 2)[0])
	if na != nb {
		return na < nb
	}
	return a < b
}
