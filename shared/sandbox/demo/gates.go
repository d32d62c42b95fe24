package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// approver is who approves in the gates scene.
const approver = "arn:aws:iam::123456789012:user/alice"

// gates is the gates scene (DESIGN §11) on a sandbox of its own, seeded
// from examples/gates.yaml: shop deploys to staging once its scan is
// clean, soaks, waits for approval in production, is approved with
// `deckhand approve` (the CLI's own code), and a second image is BLOCKED
// by a CRITICAL finding.
func gatesScene(ctx context.Context, p *player) error {
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.Listen("127.0.0.1:0"); err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	defer sb.Close()
	raw, err := os.ReadFile(filepath.Join(p.opts.Dir, "gates.yaml"))
	if err != nil {
		return err
	}
	st, err := local.New(ctx, sb, local.Options{Dir: p.opts.Dir, Manifest: raw, InitialTags: map[string]string{"shop": "1.0.0"}, Logger: p.st.Deployer.Logger})
	if err != nil {
		return fmt.Errorf("seed sandbox from %s/gates.yaml: %w", p.opts.Dir, err)
	}
	main, seen := p.st, p.seen
	p.st, p.seen = st, 0
	defer func() { p.st, p.seen = main, seen }()
	p.say("a second sandbox, seeded from %s/gates.yaml: shop-staging (scan blocks CRITICAL) promotes to shop-prod", p.opts.Dir)
	p.say("(soak 10m, scan blocks CRITICAL and HIGH, approval required, weekend freeze)")

	mark := p.seen
	good := p.push("shop", "1.1.0")
	if err := p.settle(ctx, 2*time.Minute); err != nil {
		return err
	}
	got := p.statuses(mark, "shop-staging")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusPendingScan, events.StatusStarted, events.StatusSucceeded}),
		"shop-staging: PENDING_SCAN, then STARTED once the scan is clean, then SUCCEEDED (got %v)", got)

	rep, err := st.Reconciler.Run(ctx)
	if err != nil {
		return err
	}
	p.say("%s  reconcile: %s", p.now(), orDash(rep.Skipped["shop-prod"]))
	p.expect(len(rep.Promotions) == 0, "no promotion while staging soaks")
	sb.Clock().Advance(10 * time.Minute)
	p.say("%s  10 minutes later", p.now())
	mark = p.seen
	if rep, err = st.Reconciler.Run(ctx); err != nil {
		return err
	}
	p.say("%s  reconcile: %d promotion(s) sent", p.now(), len(rep.Promotions))
	if err := p.settle(ctx, 0); err != nil {
		return err
	}
	got = p.statuses(mark, "shop-prod")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusPendingApproval}), "shop-prod: PENDING_APPROVAL (got %v)", got)
	p.expect(!p.runsDigest("shop-prod", "shop", good), "shop-prod's service is untouched while it waits")

	if err := sb.AccessKey("AKIAALICE", approver); err != nil {
		return err
	}
	env := approverEnv(sb, st)
	pending, err := env.Pending(ctx, nil)
	if err != nil {
		return err
	}
	p.expect(len(pending) == 1 && pending[0].Images["shop"].NewDigest == good, "deckhand pending lists shop-prod with %s", short(good))
	p.say("%s  $ deckhand approve shop-prod   (as %s)", p.now(), approver)
	mark = p.seen
	res, err := env.Approve(ctx, "shop-prod")
	if err != nil {
		return err
	}
	if err := p.settle(ctx, 2*time.Minute); err != nil {
		return err
	}
	got = p.statuses(mark, "shop-prod")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusApproved, events.StatusStarted, events.StatusSucceeded}),
		"shop-prod: APPROVED by %s, STARTED, SUCCEEDED (got %v)", res.By, got)
	p.expect(p.runsDigest("shop-prod", "shop", good), "shop-prod runs exactly the digest staging reached SUCCEEDED with (%s)", short(good))

	mark = p.seen
	bad := sb.PushImage("shop", "1.2.0")
	if err := sb.SetScanFindings("", "", "shop", bad, sandbox.ScanScript{Severities: map[string]int{"CRITICAL": 1, "HIGH": 2}}); err != nil {
		return err
	}
	p.say("%s  push     shop:1.2.0 (%s); its scan will find CRITICAL 1, HIGH 2", p.now(), short(bad))
	if err := p.settle(ctx, 2*time.Minute); err != nil {
		return err
	}
	got = p.statuses(mark, "shop-staging")
	p.expect(slices.Equal(got, []events.DeploymentStatus{events.StatusPendingScan, events.StatusBlocked}), "shop-staging: PENDING_SCAN, then BLOCKED by the CRITICAL finding (got %v)", got)
	blocked := p.lastOf(mark, "shop-staging", events.StatusBlocked)
	p.expect(blocked != nil && blocked.Gate != nil && gate.Counts(blocked.Gate.Scans["shop"].Findings) == "CRITICAL 1, HIGH 2",
		"the BLOCKED event counts the findings per severity")
	p.expect(p.runsDigest("shop-staging", "shop", good), "shop-staging still runs 1.1.0")
	sb.Clock().Advance(15 * time.Minute)
	if _, err := st.Reconciler.Run(ctx); err != nil {
		return err
	}
	if err := p.settle(ctx, time.Minute); err != nil {
		return err
	}
	p.expect(len(p.statuses(mark, "shop-prod")) == 0 && !p.runsDigest("shop-prod", "shop", bad), "shop-prod never sees the blocked image")
	return nil
}

// approverEnv is the CLI's environment for the approver on sb.
func approverEnv(sb *sandbox.Sandbox, st *local.Stack) *cli.Env {
	cfg := sb.AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAALICE", "secret", "")
	return &cli.Env{ECS: ecs.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		Source: store.NewS3(st.S3, local.Bucket, "deckhand.yaml"), Account: sb.Account(), Region: sb.Region(),
		Clock: cli.SandboxClock{Endpoint: sb.Endpoint()}}
}

// lastOf is binding's newest event of a status since index from.
func (p *player) lastOf(from int, binding string, status events.DeploymentStatus) *local.Deployment {
	ds := p.st.Deployments()[from:]
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Binding == binding && ds[i].Status == status {
			return &ds[i]
		}
	}
	return nil
}
