package main

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) initCmd() *cobra.Command {
	var req cli.InitRequest
	var dir string
	cmd := &cobra.Command{
		Use:   "init --cluster C (--service S | --task-definition FAMILY) [--binding NAME] [--dir DIR]",
		Short: "Adopt a running service (or a crontab job's task definition) into deckhand.yaml",
		Long: `init writes a template from the revision a service runs (or a job's family's
latest ACTIVE revision) and appends a binding to the manifest, creating it if need be.

The template is the revision as describe-task-definition prints it, output fields and
tags removed. Containers whose images come from this account's ECR are bound under
images:, their images become placeholders, and each gets a tag policy guessed from its
running tag (init prints what it guessed and why). Other containers keep their images as
written. Roles the revision names are added to roles:, and what the revision does that a
template may not do on its own (privileged containers, host paths, other registries) is
allowed in the entry's allow: block, with the reason printed.

Before it returns, init renders the new entry with the running images and checks that the
result is the running revision; if not, it puts the files back. A job gets an empty
schedule: for you to fill in (validate fails until you do).`,
		Example: `  deckhand init --cluster prod --service web --endpoint-url http://127.0.0.1:4566
  deckhand init --cluster prod --service web --binding web-eu --dir platform/
  deckhand init --cluster prod --task-definition nightly-report --subnet subnet-0a1b2c3d --security-group sg-0a1b2c3d`,
		Args: args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			req.Manifest = a.manifest
			if dir != "" {
				req.Manifest = filepath.Join(dir, "deckhand.yaml")
			}
			if err := cli.CheckInit(req); err != nil {
				return err
			}
			cfg, _, err := a.awsConfig(ctx)
			if err != nil {
				return err
			}
			env := &cli.Env{ECS: ecs.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg), Account: a.account, Region: cfg.Region, Logger: a.logger()}
			res, err := env.Init(ctx, req)
			if err != nil {
				return err
			}
			for _, n := range res.Notes {
				a.note("note: %s", n)
			}
			if a.json() {
				return a.printJSON(res)
			}
			a.printInit(res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Cluster, "cluster", "", "the cluster the service runs in (or the job will run in)")
	f.StringVar(&req.Service, "service", "", "the running service to adopt")
	f.StringVar(&req.TaskDefinition, "task-definition", "", "a crontab job's task definition: FAMILY, FAMILY:REVISION or ARN")
	f.StringVar(&req.Binding, "binding", "", "name of the manifest entry (default: the service, or the family)")
	f.StringVar(&dir, "dir", "", "directory of deckhand.yaml and templates/ (default: the --manifest file's)")
	f.BoolVar(&req.Force, "force", false, "replace an entry of that name and its template file")
	f.StringArrayVar(&req.Subnets, "subnet", nil, "a job's subnet, for networkMode awsvpc (repeatable)")
	f.StringArrayVar(&req.SecurityGroups, "security-group", nil, "a job's security group (repeatable)")
	f.StringVar(&req.AssignPublicIP, "assign-public-ip", "", "a job's assignPublicIp: ENABLED or DISABLED")
	return cmd
}

func (a *app) printInit(res *cli.InitResult) {
	w := a.stdout
	verb := "appended"
	if res.Replaced {
		verb = "replaced"
	}
	fmt.Fprintf(w, "adopted %s as %s %s\n", res.Revision, res.Kind, res.Binding)
	fmt.Fprintf(w, "  wrote %s; %s %s in %s\n", res.Template, verb, res.Binding, res.Manifest)
	for _, img := range res.Images {
		from := "no tag"
		if img.Tag != "" {
			from = "the running tag " + img.Tag
		}
		fmt.Fprintf(w, "  container %s: bound to repository %s, tags %q, guessed from %s: %s\n", img.Container, img.Repository, img.Policy, from, img.Why)
	}
	for _, u := range res.Unbound {
		fmt.Fprintf(w, "  container %s\n", u)
	}
	for _, r := range res.Roles {
		fmt.Fprintf(w, "  roles: added %s\n", r)
	}
	for _, why := range res.Allow {
		fmt.Fprintf(w, "  allow: %s\n", why)
	}
	fmt.Fprintf(w, "  checked: `deckhand render %s` gives the running revision, apart from the images\n", res.Binding)
	if res.Kind == "job" {
		fmt.Fprintf(w, "  schedule: left empty for you to fill in; `deckhand validate` fails until you do\n")
	}
	fmt.Fprintf(w, "next: review the guesses, run `deckhand validate`, then upload the manifest and template\n")
}
