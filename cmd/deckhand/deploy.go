package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
)

func (a *app) deployCmd() *cobra.Command {
	var images []string
	var wait, force, dryRun bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "deploy <binding> --image REPO:TAG|REPO@DIGEST [--wait] [--force]",
		Short: "Deploy an image to a service through the deploy engine (trigger=manual)",
		Long: `deploy runs the same engine as the deployer function, with trigger=manual, for one
binding: hold, dedupe, order, other containers keep their images, reuse, register,
update. It refuses to go to an image older than the running one, or past a hold,
unless --force. With --wait it follows the rollout to a verdict and exits 1 unless
it is SUCCEEDED (FAILED, or ROLLED_BACK by the circuit breaker). --dry-run is
'deckhand diff' with the same flags: it shows the decision and the change, and
writes nothing.`,
		Example: `  deckhand deploy web --image web:1.5.0 --wait
  deckhand deploy web --image web@sha256:4f1c… --force --wait --timeout 15m
  deckhand deploy web --image web:1.5.0 --image proxy:stable-4 -o json
  deckhand deploy web --image web:1.5.0 --dry-run   # the same as deckhand diff`,
		Args: args(1, 1, "one binding name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			imgs, err := resolveImages(ctx, env, images)
			if err != nil {
				return err
			}
			req := cli.DeployRequest{Binding: argv[0], Images: imgs, Force: force}
			if dryRun {
				if wait && !a.json() {
					a.note("--dry-run starts nothing, so there is nothing to --wait for")
				}
				return a.diff(ctx, env, req)
			}
			out, err := env.Deploy(ctx, req)
			if err != nil {
				return err
			}
			return a.finishDeploy(cmd, env, out, wait, timeout, nil)
		},
	}
	cmd.Flags().StringArrayVar(&images, "image", nil, "image to deploy: REPO:TAG or REPO@DIGEST (repeatable)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout to a verdict")
	cmd.Flags().BoolVar(&force, "force", false, "deploy an older image, or past a hold")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what the deploy would do, as deckhand diff does, and write nothing")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits for a verdict")
	return cmd
}

// finishDeploy prints an engine outcome and, with wait, follows the rollout.
// extra, when set, is added to the JSON result and means the caller printed
// the outcome already.
func (a *app) finishDeploy(cmd *cobra.Command, env *cli.Env, out deploy.Outcome, wait bool, timeout time.Duration, extra map[string]any) error {
	ev := out.Event
	if !a.json() && extra == nil {
		w := a.stdout
		fmt.Fprintf(w, "%s (%s/%s): %s", ev.Binding, ev.Cluster, ev.Service, a.paint(w, statusColor(string(ev.Status)), string(ev.Status)))
		if ev.Reason != "" {
			fmt.Fprintf(w, ": %s", ev.Reason)
		}
		fmt.Fprintln(w)
		a.containerLines(ev.Containers)
		if ev.NewRevision != "" {
			fmt.Fprintf(w, "  revision %s -> %s, deployment %s\n", revision(ev.OldRevision), revision(ev.NewRevision), dash(ev.DeploymentID))
		}
		switch ev.Status {
		case events.StatusHeld:
			a.note("hint: release the hold with `deckhand release %s`, or pass --force", ev.Binding)
		case events.StatusSuperseded:
			a.note("hint: pass --force to deploy an older image on purpose")
		}
	}
	result := map[string]any{"outcome": ev}
	for k, v := range extra {
		result[k] = v
	}
	var verdict *cli.Verdict
	var followErr error
	if wait && ev.Status == events.StatusStarted {
		if !a.json() {
			a.note("following deployment %s of %s/%s", ev.DeploymentID, ev.Cluster, ev.Service)
		}
		v, err := env.Follow(cmd.Context(), cli.Rollout{Cluster: ev.Cluster, Service: ev.Service,
			DeploymentID: ev.DeploymentID, TaskDefinition: ev.NewRevision}, timeout, a.rolloutProgress())
		a.endProgress()
		if err != nil && v.Status == "" {
			return err
		}
		verdict, followErr = &v, err
		result["verdict"] = v
		if !a.json() {
			a.printVerdict(v)
		}
	}
	if a.json() {
		if err := a.printJSON(result); err != nil {
			return err
		}
	}
	switch {
	case followErr != nil:
		return followErr
	case verdict != nil && !verdict.Succeeded():
		return &exitError{code: exitFailure}
	case ev.Status == events.StatusHeld, ev.Status == events.StatusSuperseded, ev.Status == events.StatusSkipped:
		return &exitError{code: exitFailure}
	}
	return nil
}
