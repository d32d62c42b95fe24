package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
)

func (a *app) pruneCmd() *cobra.Command {
	var dryRun bool
	var keep int
	cmd := &cobra.Command{
		Use:   "prune [binding…] [--dry-run] [--keep N]",
		Short: "Deregister and delete Deckhand's old revisions beyond retention: { keep: N }",
		Long: `prune does by hand what the reconciler does on every pass (DESIGN §13): for each
binding with retention: { keep: N } (top level or its own), it keeps Deckhand's newest N
revisions of the family the service runs and deregisters, then deletes, the older ones,
paced within ECS's rate. It never touches the serving revision, a revision a deployment of
the service runs (in flight, or the one a rollback returns to), deckhand rollback's target,
a revision whose approval is pending, or a revision Deckhand did not register. It looks at
every ACTIVE and INACTIVE revision (a revision left INACTIVE by a failed delete is deleted).

--dry-run prints what it would remove and writes nothing. --keep N replaces the
manifest's retention for this run (at least 1).`,
		Example: `  deckhand prune --dry-run
  deckhand prune web api
  deckhand prune web --keep 5 -o json`,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			if cmd.Flags().Changed("keep") && keep < 1 {
				return &cli.UsageError{Msg: fmt.Sprintf("--keep %d: want at least 1 (the serving revision must stay)", keep)}
			}
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			res, err := env.Prune(ctx, cli.PruneRequest{Bindings: argv, DryRun: dryRun, Keep: keep})
			if res != nil {
				if a.json() {
					if perr := a.printJSON(res); perr != nil {
						return perr
					}
				} else {
					a.printPrune(res, dryRun)
				}
			}
			if errors.Is(err, cli.ErrPruneFailed) {
				a.note("deckhand: %v", err)
				return &exitError{code: exitFailure}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be removed; write nothing")
	cmd.Flags().IntVar(&keep, "keep", 0, "keep this many of Deckhand's newest revisions instead of the manifest's retention (at least 1)")
	return cmd
}

func (a *app) printPrune(results []retention.Result, dry bool) {
	w := a.stdout
	verb := "removed"
	if dry {
		verb = "would remove"
	}
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(w, "%s: skipped: %s\n", r.Binding, r.Skipped)
			continue
		}
		fmt.Fprintf(w, "%s: keep %d of family %s; serving %s\n", r.Binding, r.Keep, r.Family, revision(r.Serving))
		if len(r.Removed) == 0 {
			fmt.Fprintf(w, "  nothing to remove\n")
		}
		tw := table(w)
		for _, rm := range r.Removed {
			state := verb
			switch {
			case rm.Error != "":
				state = a.paint(w, "red", "failed: "+rm.Error)
			case !dry && !rm.Deleted:
				state = "deregistered, not deleted"
			}
			fmt.Fprintf(tw, "  %s\t%s:%d\t%s\n", "-", r.Family, rm.Revision, state)
		}
		for _, k := range r.Kept {
			fmt.Fprintf(tw, "  %s\t%s:%d\tkept: %s\n", "+", r.Family, k.Revision, k.Why)
		}
		tw.Flush()
	}
	n := retention.Removals(results)
	fmt.Fprintf(w, "%s %d revision(s)\n", verb, n)
}
