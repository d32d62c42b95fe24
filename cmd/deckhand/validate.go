package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) validateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the manifest and render every template with sample data",
		Long: `validate checks the manifest (schema, names, schedules, tag policies, roles) and renders
every template it references with sample data: placeholder images with fake digests.
It lists every problem and exits 1 if there is any. It warns on literal values of
variables whose names look like secrets (SECRET, PASSWORD, TOKEN, KEY, ...).`,
		Example: `  deckhand validate --manifest examples/deckhand.yaml
  deckhand validate --manifest s3://deckhand-config/deckhand.yaml -o json`,
		Args: args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			src, err := a.source(ctx, nil)
			if err != nil {
				return err
			}
			rep, err := cli.Validate(ctx, src, a.manifest, or(a.region, a.getenv("AWS_REGION")))
			if err != nil {
				return err
			}
			if a.json() {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				a.printValidate(rep)
			}
			if !rep.OK() {
				return &exitError{code: exitFailure}
			}
			return nil
		},
	}
}

func (a *app) printValidate(rep *cli.ValidateReport) {
	w := a.stdout
	for _, f := range rep.Warnings {
		fmt.Fprintf(w, "%s %s\n", a.paint(w, "yellow", "warning:"), f)
	}
	for _, f := range rep.Problems {
		fmt.Fprintf(w, "%s %s\n", a.paint(w, "red", "error:"), f)
	}
	summary := fmt.Sprintf("%s: %d services, %d jobs, %d templates rendered", rep.Manifest, rep.Services, rep.Jobs, rep.Templates)
	switch {
	case !rep.OK():
		fmt.Fprintf(w, "%s; %s\n", summary, a.paint(w, "red", fmt.Sprintf("%d problem(s)", len(rep.Problems))))
	case len(rep.Warnings) > 0:
		fmt.Fprintf(w, "%s; %s\n", summary, a.paint(w, "yellow", fmt.Sprintf("ok with %d warning(s)", len(rep.Warnings))))
	default:
		fmt.Fprintf(w, "%s; %s\n", summary, a.paint(w, "green", "ok"))
	}
}
