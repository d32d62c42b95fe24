package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
)

func (a *app) rollbackCmd() *cobra.Command {
	var to string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rollback <binding> [--to REVISION] [--wait]",
		Short: "Redeploy the previous Deckhand revision and hold the service",
		Long: `rollback points the service back at the previous Deckhand revision (the newest one
older than the running revision, from 'deckhand history'; without one, the revision the
service ran before Deckhand's first deploy), or at --to, exactly as it was registered.
It first puts a hold (deckhand:hold) on the service, or keeps the one there, so the
next push does not undo the rollback: release it with 'deckhand release <binding>' once
fixed. It marks the digests it left as rolled back (deckhand:rolled-back:<container>),
so Deckhand does not deploy them again on its own.`,
		Example: `  deckhand rollback web --wait
  deckhand rollback web --to 12
  deckhand rollback web --to arn:aws:ecs:us-west-2:123456789012:task-definition/web:12 -o json`,
		Args: args(1, 1, "one binding name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			res, err := env.Rollback(ctx, argv[0], to)
			if err != nil {
				return err
			}
			if !a.json() {
				ev := res.Event
				fmt.Fprintf(a.stdout, "rolling %s (%s/%s) back: %s -> %s, deployment %s\n", ev.Binding, ev.Cluster, ev.Service,
					revision(ev.OldRevision), revision(ev.NewRevision), dash(ev.DeploymentID))
				a.containerLines(ev.Containers)
				if res.Target.Trigger == "" {
					fmt.Fprintf(a.stdout, "%s is a revision Deckhand did not register (the one before its first deploy).\n", revision(ev.NewRevision))
				}
				if res.KeptHold {
					fmt.Fprintf(a.stdout, "%s was already held (%s); the hold stays, so the next push does not undo the rollback.\n", ev.Binding, res.Hold)
				} else {
					fmt.Fprintf(a.stdout, "%s is now held, so the next push does not undo the rollback (%s).\n", ev.Binding, res.Hold)
				}
				for _, c := range sortedKeys(res.Marked) {
					fmt.Fprintf(a.stdout, "%s is marked rolled back for %s: Deckhand will not deploy it again on its own.\n", short(res.Marked[c]), c)
				}
				fmt.Fprintf(a.stdout, "Release it with `deckhand release %s` once the fix is pushed.\n", ev.Binding)
			}
			if res.Note != "" {
				a.note("warning: %s", res.Note)
			}
			return a.finishDeploy(cmd, env, deploy.Outcome{Event: res.Event}, wait, timeout, map[string]any{"hold": res.Hold})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "revision to go back to: a number, family:revision or an ARN")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout to a verdict")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits for a verdict")
	return cmd
}
