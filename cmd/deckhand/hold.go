package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) holdCmd() *cobra.Command {
	var reason string
	var force bool
	cmd := &cobra.Command{
		Use:   "hold <binding> [--reason TEXT]",
		Short: "Stop automatic deploys to a service (tag deckhand:hold)",
		Long: `hold tags the binding's ECS service with deckhand:hold. The deployer then skips pushes
for it with HELD, until 'deckhand release'. A manual 'deckhand deploy --force' still goes.
The first hold's reason stands: holding a held service with another reason is refused
(exit 1) unless --force, which replaces it; the same reason, or none, changes nothing.`,
		Example: `  deckhand hold web --reason "incident 4711: investigating latency"
  deckhand hold web --reason "release freeze" --force   # replace the reason of a hold`,
		Args: args(1, 1, "one binding name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			env, err := a.env(cmd.Context())
			if err != nil {
				return err
			}
			res, err := env.Hold(cmd.Context(), argv[0], reason, force)
			if err != nil {
				return err
			}
			return a.printHold(res)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why; shown by status and in HELD events")
	cmd.Flags().BoolVar(&force, "force", false, "replace the reason of an existing hold")
	return cmd
}

func (a *app) releaseCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "release <binding>",
		Short:   "Resume automatic deploys to a held service",
		Long:    `release removes the deckhand:hold tag from the binding's service; the next push deploys again.`,
		Example: `  deckhand release web`,
		Args:    args(1, 1, "one binding name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			env, err := a.env(cmd.Context())
			if err != nil {
				return err
			}
			res, err := env.Release(cmd.Context(), argv[0])
			if err != nil {
				return err
			}
			return a.printHold(res)
		},
	}
}

func (a *app) printHold(r *cli.HoldResult) error {
	if a.json() {
		return a.printJSON(r)
	}
	w := a.stdout
	switch {
	case r.Held && r.Replaced != "":
		fmt.Fprintf(w, "%s (%s/%s) is held: %s (it was: %s)\n", r.Binding, r.Cluster, r.Service, r.Reason, r.Replaced)
	case r.Held && r.Changed:
		fmt.Fprintf(w, "%s (%s/%s) is held: %s\npushes are skipped with HELD until `deckhand release %s`\n", r.Binding, r.Cluster, r.Service, r.Reason, r.Binding)
	case r.Held:
		fmt.Fprintf(w, "%s (%s/%s) was already held: %s\n", r.Binding, r.Cluster, r.Service, r.Reason)
	case r.Changed:
		fmt.Fprintf(w, "%s (%s/%s) is released (the hold was: %s); the next push deploys\n", r.Binding, r.Cluster, r.Service, r.Reason)
	default:
		fmt.Fprintf(w, "%s (%s/%s) was not held\n", r.Binding, r.Cluster, r.Service)
	}
	return nil
}
