package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

func (a *app) renderCmd() *cobra.Command {
	var images, vars []string
	var digest string
	var resolve bool
	cmd := &cobra.Command{
		Use:   "render <binding|job> --image REPO:TAG|REPO@DIGEST",
		Short: "Print the task definition exactly as the deployer would register it",
		Long: `render renders a binding's or job's template from the manifest and prints the
RegisterTaskDefinition input the deployer (or runner) would send. It works offline:
without --resolve a REPO:TAG image gets the digest from --digest, or a clearly fake one
(said on stderr), and containers without an --image get a placeholder image.`,
		Example: `  deckhand render web --image web:1.4.0 --manifest examples/deckhand.yaml
  deckhand render web --image web@sha256:0123… --image proxy:stable-3 --var LOG_LEVEL=debug
  deckhand render nightly-report --image report:1.2.0 --resolve --endpoint-url http://127.0.0.1:4566`,
		Args: args(1, 1, "one binding or job name"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ctx := cmd.Context()
			req := cli.RenderRequest{Name: argv[0], Vars: map[string]string{}}
			for _, kv := range vars {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return &cli.UsageError{Msg: fmt.Sprintf("--var %q: want NAME=VALUE", kv)}
				}
				req.Vars[k] = v
			}
			var env *cli.Env
			src, err := a.source(ctx, nil)
			if resolve {
				env, err = a.env(ctx)
				if env != nil {
					src, req.Account, req.Region, req.Refs = env.Source, env.Account, env.Region, env.Refs
				}
			}
			if err != nil {
				return err
			}
			if !resolve {
				m, _, err := cli.DraftManifest(ctx, src)
				if err != nil {
					return err
				}
				req.Account, req.Region = or(a.account, cli.OfflineAccount(m)), or(a.region, or(a.getenv("AWS_REGION"), "us-east-1"))
			}
			for _, s := range images {
				ref, err := cli.ParseImageRef(s)
				if err != nil {
					return err
				}
				var r cli.Resolved
				if env != nil {
					r, err = env.ResolveImage(ctx, ref)
				} else {
					r, err = cli.OfflineImage(ref, digest, "")
				}
				if err != nil {
					return err
				}
				req.Images = append(req.Images, r)
			}
			res, err := cli.Render(ctx, src, req)
			if err != nil {
				return err
			}
			for _, n := range res.Notes {
				a.note("note: %s", n)
			}
			return a.printRender(res)
		},
	}
	cmd.Flags().StringArrayVar(&images, "image", nil, "image for the containers of its repository: REPO:TAG or REPO@DIGEST (repeatable)")
	cmd.Flags().StringVar(&digest, "digest", "", "digest of a REPO:TAG image when rendering offline")
	cmd.Flags().StringArrayVar(&vars, "var", nil, "override a manifest variable: NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&resolve, "resolve", false, "look images up in ECR (needs AWS or the sandbox)")
	return cmd
}

func (a *app) printRender(res *cli.RenderResult) error {
	if !a.json() {
		var buf bytes.Buffer
		if err := json.Indent(&buf, res.Rendered.JSON, "", "  "); err != nil {
			return fmt.Errorf("indent rendered definition: %w", err)
		}
		buf.WriteByte('\n')
		_, err := a.stdout.Write(buf.Bytes())
		return err
	}
	images := map[string]string{}
	for c, img := range res.Images {
		images[c] = img.String()
	}
	return a.printJSON(map[string]any{
		"kind": res.Kind, "name": res.Name, "template": res.Template, "family": res.Family,
		"contentHash": res.Rendered.Hash, "images": images, "notes": res.Notes,
		"taskDefinition": json.RawMessage(res.Rendered.JSON),
	})
}
