package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1 // an error, or a verdict that is not SUCCEEDED
	exitUsage    = 2
	exitNotFound = 3
)

// app is one invocation: its streams, environment and global flags.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	manifest     string
	region       string
	profile      string
	endpoint     string
	account      string
	eventBus     string
	output       string
	sandboxClock bool
	verbose      bool

	// http is the one HTTP client of this invocation (AWS and the sandbox
	// control API); its idle connections are closed when the command ends.
	http *http.Client
}

// exitError ends a command with a code after its output was printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// run executes the CLI and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, http: &http.Client{Transport: transport}}
	root := a.root()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "deckhand: "+line)
	}
	switch {
	case errors.Is(err, cli.ErrUsage), isCobraUsage(err):
		if !errors.Is(err, cli.ErrUsage) {
			fmt.Fprintln(stderr, "Run 'deckhand --help' for usage.")
		}
		return exitUsage
	case errors.Is(err, cli.ErrNotFound):
		return exitNotFound
	}
	return exitFailure
}

func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "required flag"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "deckhand",
		Short: "Deploy and run on Amazon ECS with the same engine as Deckhand's Lambda functions",
		Long: `deckhand renders, diffs, deploys, rolls back and runs what deckhand.yaml describes,
against AWS (standard credential chain, --region, --profile) or the local sandbox
(--endpoint-url or AWS_ENDPOINT_URL).

Exit codes: 0 ok; 1 failure or a verdict other than SUCCEEDED; 2 usage; 3 not found.`,
		Example: `  deckhand validate --manifest examples/deckhand.yaml
  deckhand deploy web --image web:1.5.0 --wait --endpoint-url http://127.0.0.1:4566`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.output != "text" && a.output != "json" {
				return &cli.UsageError{Msg: fmt.Sprintf("--output %q: want text or json", a.output)}
			}
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&a.manifest, "manifest", or(a.getenv("DECKHAND_MANIFEST"), "deckhand.yaml"), "manifest file, or s3://bucket/key (env DECKHAND_MANIFEST)")
	f.StringVar(&a.region, "region", "", "AWS Region (default: AWS_REGION or the profile's)")
	f.StringVar(&a.profile, "profile", "", "shared config profile")
	f.StringVar(&a.endpoint, "endpoint-url", a.getenv("AWS_ENDPOINT_URL"), "AWS endpoint override, e.g. the sandbox http://127.0.0.1:4566 (env AWS_ENDPOINT_URL)")
	f.StringVar(&a.account, "account", a.getenv("DECKHAND_ACCOUNT"), "AWS account id (default: read from the cluster ARN)")
	f.StringVar(&a.eventBus, "event-bus", or(a.getenv("DECKHAND_EVENT_BUS"), "default"), "EventBridge bus for Deckhand events")
	f.StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	f.BoolVar(&a.sandboxClock, "sandbox-clock", false, "wait by advancing the sandbox's virtual clock (detected automatically)")
	f.BoolVarP(&a.verbose, "verbose", "v", false, "log engine decisions to stderr")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cli.UsageError{Msg: fmt.Sprintf("%v; see '%s --help'", err, cmd.CommandPath())}
	})
	root.AddCommand(a.validateCmd(), a.renderCmd(), a.diffCmd(), a.deployCmd(),
		a.rollbackCmd(), a.holdCmd(), a.releaseCmd(), a.approveCmd(), a.rejectCmd(), a.pendingCmd(), a.historyCmd(),
		a.statusCmd(), a.runCmd(), a.sandboxCmd(), a.demoCmd(), a.consoleCmd(),
		a.pruneCmd(), a.verifyCmd(), a.reportCmd(), a.initCmd())
	return root
}

// args checks the number of positional arguments.
func args(min, max int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return &cli.UsageError{Msg: fmt.Sprintf("%s: want %s, got %d argument(s); see 'deckhand %s --help'", cmd.Name(), names, len(args), cmd.Name())}
		}
		return nil
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
