package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) approveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "approve <binding>",
		Short: "Deploy the revision that waits for approval (gates.approval)",
		Long: `approve deploys the binding's pending revision (tagged deckhand:approval=pending): it
records who you are (STS GetCallerIdentity) on the revision, emits APPROVED, updates the
service and emits STARTED. It refuses, changing nothing, when nothing is pending, when the
pending revision has expired, or when the binding is held or in a freeze window.`,
		Example: `  deckhand pending
  deckhand approve web-prod`,
		Args: args(1, 1, "one binding name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			env, err := a.env(cmd.Context())
			if err != nil {
				return err
			}
			res, err := env.Approve(cmd.Context(), argv[0])
			if err != nil {
				return err
			}
			return a.printDecision(res)
		},
	}
}

func (a *app) rejectCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "reject <binding> --reason TEXT",
		Short: "Refuse the revision that waits for approval, for a reason",
		Long: `reject refuses the binding's pending revision: it records who you are, when and why on the
revision (deckhand:approval=rejected) and emits REJECTED. The service is not touched, and the
image is not deployed again on its own; a new push asks again. --reason is required.`,
		Example: `  deckhand reject web-prod --reason "fails the load test, see INC-4711"`,
		Args:    args(1, 1, "one binding name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if strings.TrimSpace(reason) == "" {
				return &cli.UsageError{Msg: fmt.Sprintf("reject %s: give --reason, e.g. --reason \"fails the load test\"; it is recorded on the revision and in the REJECTED event", argv[0])}
			}
			env, err := a.env(cmd.Context())
			if err != nil {
				return err
			}
			res, err := env.Reject(cmd.Context(), argv[0], reason)
			if err != nil {
				return err
			}
			return a.printDecision(res)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required); recorded on the revision and in the REJECTED event")
	return cmd
}

func (a *app) pendingCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pending [binding...]",
		Short: "List the revisions that wait for approval, across bindings",
		Long: `pending lists, for every binding whose manifest entry requires approval (or the bindings
named), the revision that waits for 'deckhand approve': what it brings per container,
since when it waits and when it expires.`,
		Example: `  deckhand pending
  deckhand pending web-prod -o json`,
		Args: args(0, -1, "binding names"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			ps, err := env.Pending(ctx, argv)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(ps)
			}
			a.printPending(ps, env.Now(ctx))
			return nil
		},
	}
}

func (a *app) printDecision(r *cli.DecisionResult) error {
	if a.json() {
		return a.printJSON(r)
	}
	w := a.stdout
	switch r.Decision {
	case "approved":
		fmt.Fprintf(w, "%s (%s/%s): %s approved by %s\n", r.Binding, r.Cluster, r.Service, revision(r.Revision), r.By)
		if n := len(r.Events); n > 0 && r.Events[n-1].DeploymentID != "" {
			fmt.Fprintf(w, "deploying: deployment %s; follow it with `deckhand status %s`\n", r.Events[n-1].DeploymentID, r.Binding)
		}
	default:
		fmt.Fprintf(w, "%s (%s/%s): %s rejected by %s: %s\nthe service is untouched\n", r.Binding, r.Cluster, r.Service, revision(r.Revision), r.By, r.Reason)
	}
	return nil
}

func (a *app) printPending(ps []cli.PendingApproval, now time.Time) {
	w := a.stdout
	if len(ps) == 0 {
		fmt.Fprintln(w, "nothing waits for approval")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "BINDING\tSERVICE\tREVISION\tIMAGES\tTRIGGER\tWAITS SINCE\tEXPIRES")
	for _, p := range ps {
		var imgs []string
		for _, c := range sortedKeys(p.Images) {
			img := p.Images[c]
			imgs = append(imgs, fmt.Sprintf("%s=%s@%s", c, dash(img.NewTag), short(img.NewDigest)))
		}
		trigger := dash(p.Trigger)
		if p.PromotedFrom != "" {
			trigger += " from " + p.PromotedFrom
		}
		expires := ago(p.Expires, now)
		if p.Expired {
			expires = a.paint(w, "red", "expired "+expires)
		}
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\n", p.Binding, p.Cluster, p.Service, revision(p.Revision),
			strings.Join(imgs, " "), trigger, ago(p.Since, now), expires)
	}
	tw.Flush()
}

// printGates prints, under status's table, the gate states of the
// bindings that have any (DESIGN §11).
func (a *app) printGates(services []cli.ServiceStatus, now time.Time) {
	w := a.stdout
	var lines []string
	for _, s := range services {
		g := s.Gates
		if g == nil {
			continue
		}
		var parts []string
		if g.PromotesFrom != "" {
			parts = append(parts, "promotes from "+g.PromotesFrom)
		}
		if p := g.Pending; p != nil {
			var imgs []string
			for _, c := range sortedKeys(p.Images) {
				imgs = append(imgs, fmt.Sprintf("%s=%s@%s", c, dash(p.Images[c].NewTag), short(p.Images[c].NewDigest)))
			}
			parts = append(parts, a.paint(w, "yellow", fmt.Sprintf("pending approval: %s (%s) since %s, expires %s; deckhand approve %s",
				revision(p.Revision), strings.Join(imgs, " "), ago(p.Since, now), ago(p.Expires, now), s.Binding)))
		}
		if f := g.Frozen; f != nil {
			parts = append(parts, a.paint(w, "yellow", fmt.Sprintf("frozen until %s (%s)", f.Until.Format(time.RFC3339), f.Window)))
		}
		for _, c := range sortedKeys(g.Blocked) {
			digest, why, _ := strings.Cut(g.Blocked[c], " ")
			parts = append(parts, a.paint(w, "red", fmt.Sprintf("%s %s blocked by its scan (%s)", c, short(digest), strings.ToLower(why))))
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("  %s: %s", s.Binding, strings.Join(parts, "; ")))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "\ngates:")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// printDecisions prints, under history's table, who decided on its gated
// revisions and why.
func (a *app) printDecisions(h *cli.History) {
	var lines []string
	for _, r := range h.Revisions {
		g := r.Gate
		if g == nil || g.Approval == "" {
			continue
		}
		line := fmt.Sprintf("  %d: %s", r.Revision, g.Approval)
		if g.DecidedBy != "" {
			line += " by " + g.DecidedBy
		}
		if !g.DecidedAt.IsZero() {
			line += " at " + g.DecidedAt.Format(time.RFC3339)
		}
		if g.Reason != "" {
			line += ": " + g.Reason
		}
		if g.Approval == "pending" && !g.Expires.IsZero() {
			line += ", expires " + g.Expires.Format(time.RFC3339)
		}
		if g.PromotedFrom != "" {
			line += " (promoted from " + g.PromotedFrom + ")"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(a.stdout, "\napprovals:")
	for _, l := range lines {
		fmt.Fprintln(a.stdout, l)
	}
}
