package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/cli/console"
)

func (a *app) consoleCmd() *cobra.Command {
	var addr string
	var open bool
	cmd := &cobra.Command{
		Use:   "console [--addr 127.0.0.1:8080] [--open]",
		Short: "Serve a local web console over the fleet, read with your own credentials",
		Long: `console serves a web page on a loopback address, like 'go tool pprof -http': the fleet
(what every binding runs, last verdicts, deployments in flight, holds), each binding's
timeline of deployments with revision diffs and rollback causes, jobs with their next
and last runs, and delivery metrics. It reads the account with the CLI's credentials
(--profile, --region) or the sandbox (--endpoint-url). Hold, release and rollback go
through the same code as the commands of the same name, after a confirmation.

It binds only to 127.0.0.1, ::1 or localhost, refuses requests for any other Host
(DNS rebinding) or from any other origin, and protects every write with a token.`,
		Example: `  deckhand console --manifest s3://deckhand-config/deckhand.yaml --profile prod --open
  deckhand console --endpoint-url http://127.0.0.1:4566 --manifest s3://deckhand-config/deckhand.yaml`,
		Args: args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := console.CheckAddr(addr); err != nil {
				return &cli.UsageError{Msg: err.Error()}
			}
			return a.serveConsole(cmd.Context(), addr, open)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "loopback address to serve on (port 0 picks a free one)")
	cmd.Flags().BoolVar(&open, "open", false, "open the console in the default browser")
	return cmd
}

// serveConsole serves the console against the invocation's AWS
// configuration until ctx is done.
func (a *app) serveConsole(ctx context.Context, addr string, open bool) error {
	env, err := a.env(ctx)
	if err != nil {
		return err
	}
	opts := console.Options{Env: env, Logger: a.logger()}
	if _, sandbox := env.Clock.(cli.SandboxClock); sandbox {
		opts.Endpoint, opts.Live = a.endpoint, true
		opts.Events = console.SandboxEvents{Endpoint: a.endpoint, Client: a.http}
	}
	srv, err := console.New(opts)
	if err != nil {
		return err
	}
	ln, url, err := console.Listen(addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "console on %s (reading %s); stop with Ctrl-C\n", url, where(opts.Endpoint, env))
	if open {
		openBrowser(url)
	}
	return srv.Serve(ctx, ln)
}

func where(endpoint string, env *cli.Env) string {
	if endpoint != "" {
		return "the sandbox at " + endpoint
	}
	return fmt.Sprintf("AWS %s, account %s", env.Region, env.Account)
}

// openBrowser asks the desktop to open url; failing to is not an error (the
// URL is printed).
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err == nil {
		go func() { _ = cmd.Wait() }()
	}
}
