package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify [binding|job…]",
		Short: "Check the account has what deploying each binding needs",
		Long: `verify checks, against the account, what a deploy of each binding (all of the
manifest's services and jobs when none is named) needs (DESIGN §13): the cluster and
the service exist; each bound repository exists and holds an image its tag policy
accepts; the template renders and its {{ ssm }} and {{ secret }} references exist;
the task and execution roles exist and trust ecs-tasks.amazonaws.com; every
secrets[].valueFrom (SSM parameter or Secrets Manager secret) and every awslogs log
group exists. It lists every problem and exits 1 if there is one. It only reads.`,
		Example: `  deckhand verify
  deckhand verify web api -o json`,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			cfg, _, err := a.awsConfig(ctx)
			if err != nil {
				return err
			}
			env, err := a.env(ctx)
			if err != nil {
				return err
			}
			rep, err := env.Verify(ctx, cli.VerifyRequest{Bindings: argv, Clients: cli.NewVerifyClients(cfg)})
			if rep != nil {
				if a.json() {
					if perr := a.printJSON(rep); perr != nil {
						return perr
					}
				} else {
					a.printVerify(rep)
				}
			}
			if errors.Is(err, cli.ErrVerifyFailed) {
				return &exitError{code: exitFailure}
			}
			return err
		},
	}
}

func (a *app) printVerify(rep *cli.VerifyReport) {
	w := a.stdout
	tw := table(w)
	for _, p := range rep.Problems {
		field := ""
		if p.Field != "" {
			field = " (" + p.Field + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\n", p.Binding, p.Check, p.Subject, a.paint(w, "red", p.Msg), field)
	}
	tw.Flush()
	for _, n := range rep.Notes {
		a.note("note: %s", n)
	}
	if len(rep.Problems) == 0 {
		fmt.Fprintf(w, "%s: %d checks of %d binding(s), no problem\n", a.paint(w, "green", "ok"), rep.Checks, len(rep.Bindings))
		return
	}
	fmt.Fprintf(w, "%d problem(s) in %d checks of %d binding(s)\n", len(rep.Problems), rep.Checks, len(rep.Bindings))
}
