package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) historyCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history <binding>",
		Short: "List a binding's Deckhand revisions with trigger, images, time and verdict",
		Long: `history reads the revisions Deckhand registered for a binding (revisions of the running
family tagged deckhand:binding) and shows, newest first, their trigger, image tags and
digests per container, registration time and verdict. The running revision is marked *.`,
		Example: `  deckhand history web
  deckhand history web --limit 5 -o json`,
		Args: args(1, 1, "one binding name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			h, err := env.History(ctx, argv[0], limit)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(h)
			}
			a.printHistory(h, env.Now(ctx))
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "show at most this many revisions")
	return cmd
}

func (a *app) printHistory(h *cli.History, now time.Time) {
	w := a.stdout
	fmt.Fprintf(w, "%s (%s/%s), family %s\n", h.Binding, h.Cluster, h.Service, h.Family)
	if len(h.Revisions) == 0 {
		fmt.Fprintf(w, "no Deckhand revisions yet; the service runs %s\n", revision(h.Running))
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "\tREVISION\tTRIGGER\tIMAGES\tREGISTERED\tVERDICT")
	for _, r := range h.Revisions {
		mark := ""
		if r.Running {
			mark = "*"
		}
		var imgs []string
		for _, c := range sortedKeys(r.Images) {
			img := r.Images[c]
			imgs = append(imgs, fmt.Sprintf("%s=%s@%s", c, dash(img.Tag), short(img.Digest)))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", mark, r.Revision, dash(r.Trigger), strings.Join(imgs, " "),
			ago(r.RegisteredAt, now), a.paint(w, statusColor(r.Verdict), dash(r.Verdict)))
	}
	tw.Flush()
	a.printDecisions(h)
}
