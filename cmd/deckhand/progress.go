package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
)

// rolloutProgress returns a reporter that shows a rollout on stderr: one
// live line on a terminal, a line per change otherwise, and every new
// service event.
func (a *app) rolloutProgress() func(cli.Progress) {
	tty := isTTY(a.stderr)
	last := ""
	return func(p cli.Progress) {
		line := fmt.Sprintf("%6s  %-11s  running %d/%d  pending %d  failed %d",
			human(p.Elapsed), dash(p.RolloutState), p.Running, p.Desired, p.Pending, p.Failed)
		if p.Deployment != nil {
			line += "  " + p.Deployment.String()
		}
		if tty {
			fmt.Fprint(a.stderr, "\r\033[K")
		}
		for _, ev := range p.Events {
			fmt.Fprintf(a.stderr, "        %s\n", a.paint(a.stderr, "dim", ev))
		}
		switch {
		case tty:
			fmt.Fprint(a.stderr, a.paint(a.stderr, statusColor(p.RolloutState), line))
		case line[6:] != last:
			fmt.Fprintln(a.stderr, line)
		}
		last = line[6:]
	}
}

// endProgress ends a live line.
func (a *app) endProgress() {
	if isTTY(a.stderr) {
		fmt.Fprintln(a.stderr)
	}
}

// revision shortens a task definition ARN to family:revision.
func revision(s string) string {
	if s == "" {
		return "-"
	}
	if parsed, err := arn.Parse(s); err == nil {
		return strings.TrimPrefix(parsed.Resource, "task-definition/")
	}
	return s
}

// printVerdict prints a rollout's verdict for people.
func (a *app) printVerdict(v cli.Verdict) {
	w := a.stdout
	status := a.paint(w, statusColor(string(v.Status)), string(v.Status))
	fmt.Fprintf(w, "verdict: %s after %s", status, human(v.Duration))
	switch v.Status {
	case events.StatusSucceeded:
		fmt.Fprintf(w, ": %s is serving\n", revision(v.TaskDefinition))
	case events.StatusRolledBack:
		fmt.Fprintf(w, ": %s rolled %s back to %s\n", causeWords(v.Cause), revision(v.TaskDefinition), revision(v.RolledBackTo))
	default:
		fmt.Fprintln(w)
	}
	if v.Reason != "" && v.Status != events.StatusSucceeded {
		fmt.Fprintf(w, "  %s\n", v.Reason)
	}
}

// causeWords says a rollback's cause (events.Cause*) for people.
func causeWords(cause string) string {
	kind, name, _ := strings.Cut(cause, ":")
	switch kind {
	case events.CauseManual:
		return "a StopServiceDeployment request"
	case "alarm":
		return "the alarm " + name
	case "hook":
		return "the lifecycle hook " + name
	}
	return "the circuit breaker"
}

// containerLines prints per-container image changes.
func (a *app) containerLines(cs map[string]events.ContainerChange) {
	tw := table(a.stdout)
	for _, c := range sortedKeys(cs) {
		ch := cs[c]
		if ch.OldDigest == ch.NewDigest {
			fmt.Fprintf(tw, "  %s\t%s (%s)\t\tunchanged\n", c, dash(ch.NewTag), dash(short(ch.NewDigest)))
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s (%s)\t->\t%s (%s)\n", c, dash(ch.OldTag), dash(short(ch.OldDigest)), dash(ch.NewTag), dash(short(ch.NewDigest)))
	}
	tw.Flush()
}
