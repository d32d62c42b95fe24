package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/cli/console"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/demo"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

func (a *app) sandboxCmd() *cobra.Command {
	var (
		addr, seed, consoleAddr string
		latency                 time.Duration
		clockRate               float64
	)
	cmd := &cobra.Command{
		Use:   "sandbox [--addr 127.0.0.1:4566] [--seed DIR [--console[=127.0.0.1:8080]]] [--latency 5ms] [--clock-rate 0]",
		Short: "Serve the local AWS sandbox (ECS, ECR, S3, SQS, EventBridge) until interrupted",
		Long: `sandbox serves Deckhand's in-process AWS emulator on a loopback address. Point the CLI
(or the AWS CLI, with --endpoint-url) at it; deckhand then waits by advancing the
sandbox's virtual clock. With --seed DIR it uploads DIR/deckhand.yaml and its templates
to s3://deckhand-config/, creates the clusters and services on their first images,
and runs the deployer and tracker against it, so pushes (POST /_sandbox/push-image)
deploy as they would in AWS. With --console it also serves 'deckhand console' over the
seeded sandbox, so you can watch pushes, verdicts and rollbacks as a timeline.

--latency delays every API answer by that much real time, as AWS's own latency does;
the default keeps clients such as ecspresso (older AWS SDK for Go v2 releases) off a
client-side race that only a loopback server's instant answers expose (docs/sandbox.md).
--clock-rate moves the virtual clock by that many seconds per real second, for tools
that wait in real time (ecspresso, the AWS CLI's waiters); 0 keeps it still until a
client advances it.`,
		Example: `  deckhand sandbox --addr 127.0.0.1:4566 --seed examples
  export AWS_ENDPOINT_URL=http://127.0.0.1:4566 DECKHAND_MANIFEST=s3://deckhand-config/deckhand.yaml
  deckhand status
  deckhand sandbox --seed examples --console          # and the console on http://127.0.0.1:8080/
  deckhand sandbox --seed examples --clock-rate 10   # a 40-second rollout in 4 real seconds`,
		Args: args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if latency < 0 || clockRate < 0 {
				return &cli.UsageError{Msg: "sandbox: --latency and --clock-rate must not be negative"}
			}
			if consoleAddr != "" && seed == "" {
				return &cli.UsageError{Msg: "--console needs --seed DIR: the console reads the seeded manifest"}
			}
			if consoleAddr != "" {
				if err := console.CheckAddr(consoleAddr); err != nil {
					return &cli.UsageError{Msg: err.Error()}
				}
			}
			sb := sandbox.New(sandbox.Options{Logger: a.logger(), Latency: latency})
			endpoint, err := sb.Listen(addr)
			if err != nil {
				return fmt.Errorf("serve sandbox: %w", err)
			}
			defer sb.Close()
			var st *local.Stack
			if seed == "" {
				fmt.Fprintf(a.stdout, "sandbox on %s; stop with Ctrl-C\n", endpoint)
			} else {
				if st, err = local.New(ctx, sb, local.Options{Dir: seed, InitialTags: demo.InitialTags, Logger: a.logger()}); err != nil {
					return fmt.Errorf("seed sandbox from %s: %w", seed, err)
				}
				fmt.Fprintf(a.stdout, "sandbox on %s, seeded from %s/deckhand.yaml; stop with Ctrl-C\n", endpoint, seed)
				fmt.Fprintf(a.stdout, "  export AWS_ENDPOINT_URL=%s DECKHAND_MANIFEST=s3://%s/deckhand.yaml\n", endpoint, local.Bucket)
			}
			if consoleAddr == "" {
				return serve(ctx, sb, st, clockRate, a.logger())
			}
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			served := make(chan error, 1)
			go func() { served <- serve(ctx, sb, st, clockRate, a.logger()) }()
			a.endpoint, a.manifest = endpoint, "s3://"+local.Bucket+"/deckhand.yaml"
			err = a.serveConsole(ctx, consoleAddr, false)
			cancel()
			return errors.Join(err, <-served)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:4566", "loopback address to serve on")
	cmd.Flags().StringVar(&seed, "seed", "", "seed from this directory's deckhand.yaml and templates, and run the functions")
	cmd.Flags().StringVar(&consoleAddr, "console", "", "also serve the console over the seeded sandbox on this loopback address")
	cmd.Flags().Lookup("console").NoOptDefVal = "127.0.0.1:8080"
	cmd.Flags().DurationVar(&latency, "latency", sandbox.DefaultServerLatency, "real time every API answer waits (0: none)")
	cmd.Flags().Float64Var(&clockRate, "clock-rate", 0, "virtual seconds the clock moves per real second (0: only when a client advances it)")
	return cmd
}

// serve runs until ctx is done: every tick it moves the virtual clock by
// clockRate times the real time passed, and delivers queued events through
// the deployer and tracker of st (when seeded). It polls in real time.
func serve(ctx context.Context, sb *sandbox.Sandbox, st *local.Stack, clockRate float64, log *slog.Logger) error {
	const tick = 200 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if clockRate > 0 {
				sb.Clock().Advance(time.Duration(clockRate * float64(tick)))
			}
			if st == nil {
				continue
			}
			if _, err := st.Pump(ctx); err != nil && ctx.Err() == nil {
				log.Warn("deliver sandbox events", "err", err)
			}
		}
	}
}

func (a *app) demoCmd() *cobra.Command {
	var dir string
	var broken bool
	cmd := &cobra.Command{
		Use:   "demo [--dir examples]",
		Short: "Play Deckhand end to end on an in-process sandbox, checking every outcome",
		Long: `demo seeds a sandbox from the example manifest and plays the scenes of 'make demo':
push-to-deploy, duplicates and late pushes, a circuit-breaker rollback reported as
ROLLED_BACK, a held service, a missed push caught by the reconciler, and a scheduled
job judged by its exit code. It exits 1 if any expectation is missed.`,
		Example: `  deckhand demo
  deckhand demo --dir examples --break   # must fail: shows the demo checks itself`,
		Args: args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := demo.Options{Dir: dir, Break: broken, Color: isTTY(a.stdout) && a.getenv("NO_COLOR") == ""}
			return demo.Run(cmd.Context(), a.stdout, opts)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "examples", "directory with deckhand.yaml and templates/")
	cmd.Flags().BoolVar(&broken, "break", false, "flip one expectation, so the demo must fail")
	return cmd
}
