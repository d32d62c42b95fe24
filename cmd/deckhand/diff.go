package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) diffCmd() *cobra.Command {
	var images []string
	var force bool
	cmd := &cobra.Command{
		Use:   "diff <binding> --image REPO:TAG|REPO@DIGEST",
		Short: "Show what a deploy would change, and the engine's decision, without writing",
		Long: `diff runs the deploy engine against a read-only ECS client and shows its decision
(deploy, ALREADY_DEPLOYED, SUPERSEDED, HELD) with the reason, the image changes, and
a unified diff from the running revision to the one that would be registered or
reused. When the engine would not deploy, the diff shows what --force would deploy.`,
		Example: `  deckhand diff web --image web:1.5.0
  deckhand diff api --image api@sha256:9b2e… -o json`,
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
			return a.diff(ctx, env, cli.DeployRequest{Binding: argv[0], Images: imgs, Force: force})
		},
	}
	cmd.Flags().StringArrayVar(&images, "image", nil, "image to compare: REPO:TAG or REPO@DIGEST (repeatable)")
	cmd.Flags().BoolVar(&force, "force", false, "decide as deploy --force would")
	return cmd
}

// diff prints the plan of a deploy: deckhand diff, and deploy --dry-run.
func (a *app) diff(ctx context.Context, env *cli.Env, req cli.DeployRequest) error {
	plan, err := env.Diff(ctx, req)
	if err != nil {
		return err
	}
	if a.json() {
		return a.printJSON(plan)
	}
	a.printPlan(plan)
	return nil
}

func (a *app) printPlan(p *cli.Plan) {
	w := a.stdout
	decision := string(p.Decision)
	if p.Decision == events.StatusStarted {
		decision = "deploy"
	}
	fmt.Fprintf(w, "%s (%s/%s): %s", p.Binding, p.Cluster, p.Service, a.paint(w, statusColor(decision), decision))
	if p.Reason != "" && p.Decision != events.StatusStarted {
		fmt.Fprintf(w, ": %s", p.Reason)
	}
	fmt.Fprintln(w)
	a.containerLines(p.Containers)
	would := "would"
	if p.Forced {
		would = "with --force it would"
	}
	switch {
	case p.Target == "":
		fmt.Fprintf(w, "  running %s; nothing to deploy\n", revision(p.Running))
		return
	case p.Register:
		fmt.Fprintf(w, "  running %s; %s register %s and update the service\n", revision(p.Running), would, revision(p.Target))
	default:
		fmt.Fprintf(w, "  running %s; %s reuse %s and update the service\n", revision(p.Running), would, revision(p.Target))
	}
	if p.Diff == "" {
		fmt.Fprintln(w, "  the task definitions are identical; only Deckhand's revision tags would change")
		return
	}
	for _, line := range strings.SplitAfter(p.Diff, "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			fmt.Fprint(w, a.paint(w, "bold", strings.TrimSuffix(line, "\n"))+"\n")
		case strings.HasPrefix(line, "+"):
			fmt.Fprint(w, a.paint(w, "green", strings.TrimSuffix(line, "\n"))+"\n")
		case strings.HasPrefix(line, "-"):
			fmt.Fprint(w, a.paint(w, "red", strings.TrimSuffix(line, "\n"))+"\n")
		case strings.HasPrefix(line, "@@"):
			fmt.Fprint(w, a.paint(w, "cyan", strings.TrimSuffix(line, "\n"))+"\n")
		default:
			fmt.Fprint(w, line)
		}
	}
}
