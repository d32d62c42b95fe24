// Command infra is Deckhand's AWS CDK app (`cdk synth` runs `go run ./infra`
// from the repository root, see cdk.json and docs/cdk.md).
//
// It reads the same deckhand.yaml the functions read, through the shared
// manifest package, and synthesizes the hub stack with everything in DESIGN
// §1 and §9, and one target stack per account and Region the manifest's
// targets name (DESIGN §12). cdk-nag's AwsSolutions pack runs on every
// synth.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// StackID is the stack's construct id and default stack name.
const StackID = "Deckhand"

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "deckhand infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := ConfigFromContext(app)
	if err != nil {
		return err
	}
	m, err := Load(cfg)
	if err != nil {
		return err
	}
	NewApp(app, cfg, m, &awscdk.StackProps{
		Description: jsii.String("Deckhand: event-driven deployer for Amazon ECS"),
		// Env-agnostic: account and Region come from the deploying
		// credentials, so `cdk synth` needs none.
	})
	app.Synth(nil)
	return nil
}

// Load validates cfg and reads the manifest, reporting every problem with
// the inputs at once: missing function binaries (run `make build`), a bad
// manifest, missing templates.
func Load(cfg Config) (*manifest.Manifest, error) {
	errs := []error{cfg.Validate()}
	m, err := manifest.Load(cfg.ManifestPath)
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, cfg.checkTargets(m))
		for _, u := range (&stack{cfg: cfg, m: m}).uploads() {
			if _, err := os.Stat(u.path); err != nil {
				errs = append(errs, fmt.Errorf("template %s: %w", u.key, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// Stacks are what NewApp adds: the hub and the target stacks by id.
type Stacks struct {
	Hub     awscdk.Stack
	Targets map[string]awscdk.Stack
}

// NewApp adds the Deckhand hub stack and one target stack per target
// account and Region to app, and applies cdk-nag's AwsSolutions checks to
// all of them. With targets, the hub is pinned to cfg's hub account and
// Region; without, it is environment-agnostic.
func NewApp(app awscdk.App, cfg Config, m *manifest.Manifest, props *awscdk.StackProps) Stacks {
	hubProps := *props
	if len(m.Targets) > 0 {
		hubProps.Env = &awscdk.Environment{Account: jsii.String(cfg.HubAccount), Region: jsii.String(cfg.HubRegion)}
	}
	out := Stacks{
		Hub:     NewDeckhandStack(app, StackID, &DeckhandStackProps{StackProps: hubProps, Config: cfg, Manifest: m}),
		Targets: map[string]awscdk.Stack{},
	}
	for _, p := range places(m) {
		id := targetStackID(p)
		out.Targets[id] = NewTargetStack(app, id, &TargetStackProps{
			StackProps: awscdk.StackProps{
				Description: jsii.String("Deckhand target " + p.account + " " + p.region + ": the role the hub assumes and the forwarding of ECS events to the hub"),
				Env:         &awscdk.Environment{Account: jsii.String(p.account), Region: jsii.String(p.region)},
				// No assets and no bootstrap version check: a target
				// stack deploys with the target account's own
				// credentials, or as a stack set, with no `cdk
				// bootstrap` there (docs/cdk.md).
				Synthesizer: awscdk.NewBootstraplessSynthesizer(&awscdk.BootstraplessSynthesizerProps{}),
			},
			Config: cfg, Manifest: m, Place: p,
		})
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return out
}
