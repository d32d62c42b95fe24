package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/reconcile"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Gates for production (DESIGN §11, issue 13), with Config.Gates: one
// repository, gate-app, feeds gate-dev (scan gate, freeze windows), which
// promotes to gate-staging (soak, freeze windows), which promotes to
// gate-prod (soak, approval) and to gate-prod-eu (soak, freeze windows):
// a chain and a fan-out. Around it (gates.go, gates_promote.go):
//
//   - 6% of the seconds of a third of the minutes push to gate-app, through
//     the chaos queue like any push; its scan is scripted clean (60%), HIGH findings only (10%, not
//     blocking), CRITICAL (15%), never scanned (10%) or failed (5%);
//   - scan events reach the deploy queue on time (55%), on time and again
//     10 s to 7 min later (15%), 20 s to 5 min late (15%) or never (15%:
//     the reconciler's DescribeImageScanFindings fallback decides);
//   - a person (STS identity chaos-approver) decides each PENDING_APPROVAL:
//     approves within 2 min (55%), approves twice (10%), rejects (15%), or
//     ignores it until it expired and then approves, too late (20%);
//   - the gates' clock, a reconciler over the gated bindings, runs every
//     virtual minute (promotions after the soak, freeze ends, missed scans,
//     expiries); its promotions are sent again later (late duplicates),
//     promotions are sent early (inside the source's soak) and forged
//     (naming a digest the source never reached SUCCEEDED with).
//
// Invariants 13 to 15 (gates_check.go) judge every UpdateService of a
// gated binding and every push a gate held back.

// The gated world's names.
const (
	gateRepo    = "gate-app"
	gateDev     = "gate-dev"
	gateStaging = "gate-staging"
	gateProd    = "gate-prod"
	gateProdEU  = "gate-prod-eu"
	// approverARN is the person who approves and rejects.
	approverARN = "arn:aws:iam::123456789012:user/chaos-approver"
	approverKey = "AKIACHAOSAPPROVER"
	// KindGatePush is a push to gate-app.
	KindGatePush = "gated-push"
)

// gatedBinding is one binding of the gated chain.
type gatedBinding struct {
	name string
	// from is the promotion source ("" for gate-dev, fed by pushes).
	from string
	// gates is its gates: block in YAML flow style.
	gates    string
	soak     time.Duration
	approval bool
}

// gatedBindings are the chain dev → staging → prod and staging → prod-eu.
// The freeze windows recur every 5, 10 and 7 minutes, so a run meets many.
var gatedBindings = []gatedBinding{
	{name: gateDev, gates: `{scan: {block: [CRITICAL], timeout: 3m}, freeze: [{schedule: "cron(*/5 * * * ? *)", duration: 1m}]}`},
	{name: gateStaging, from: gateDev, soak: time.Minute, gates: `{soak: 1m, freeze: [{schedule: "cron(3,13,23,33,43,53 * * * ? *)", duration: 2m}]}`},
	{name: gateProd, from: gateStaging, soak: 2 * time.Minute, approval: true, gates: `{soak: 2m, approval: {required: true, expires: 10m}}`},
	{name: gateProdEU, from: gateStaging, soak: time.Minute, gates: `{soak: 1m, freeze: [{schedule: "cron(*/7 * * * ? *)", duration: 1m}]}`},
}

// gatedManifest is the gated bindings' lines of deckhand.yaml.
func gatedManifest() string {
	var b strings.Builder
	for _, g := range gatedBindings {
		img := fmt.Sprintf("{repository: %s, tags: \"semver:*\"}", gateRepo)
		if g.from != "" {
			img = fmt.Sprintf("{promoteFrom: %s}", g.from)
		}
		fmt.Fprintf(&b, "  - {name: %s, cluster: %s, service: %s, template: single.json, images: {%s: %s}, gates: %s}\n",
			g.name, cluster, g.name, appC, img, g.gates)
	}
	return b.String()
}

// addGates adds the gated chain to the world: gate-app feeds gate-dev.
func (w *world) addGates() {
	w.gates = true
	w.byRepo[gateRepo] = append(w.byRepo[gateRepo], feed{gateDev, appC})
}

// scanTruth is how the harness scripted one gate-app image's scan.
type scanTruth struct {
	outcome  string // clean, high, critical, never, failed
	pushedAt time.Time
}

// passes reports whether the scan gate (block CRITICAL) lets the image go.
func (s scanTruth) passes() bool { return s.outcome == "clean" || s.outcome == "high" }

// gateRun is the gated world's state during a run.
type gateRun struct {
	rnd    *rand.Rand
	person *cli.Env
	// clock is the gates' clock: the reconciler over the gated bindings.
	clock *reconcile.Reconciler
	// m is the gated bindings' manifest (the run's manifest's gate-* part).
	m *manifest.Manifest

	mu sync.Mutex // what the intercept and the bus subscription fill
	// held are scan events the intercept kept from the deploy queue.
	held []events.Raw
	// pending are PENDING_APPROVAL events, succeeded the sources' SUCCEEDED.
	pending, succeeded []events.DeploymentStateChange

	scans     map[string]scanTruth // digest → scripted scan
	seeded    string               // gate-app's seeded digest
	later     []later              // deliveries and decisions due later
	fates     map[string]bool      // revisions whose fate is drawn
	sent      [][]byte             // promotions the gates' clock sent
	lastClock time.Time
	settling  bool // the run's end: nothing is late any more
	// step counts the stream's seconds; busy is whether this minute pushes.
	step  int
	busy  bool
	stats GateStats
}

// later is something the harness does at a virtual time.
type later struct {
	at time.Time
	do func(ctx context.Context)
}

// GateStats counts what the gated world did, for the report.
type GateStats struct {
	Pushes        int
	Scans         map[string]int // scripted outcome → pushes
	ScanEvents    map[string]int // fate → scan events
	Approvals     map[string]int // person's action → result
	ClockPasses   int
	ClockErrors   int
	Promotions    int            // sent by the gates' clock
	Hostile       map[string]int // repeated, early, forged promotions sent
	SettleRounds  int
	SettleReached bool // the chain settled before the settle's bound
}

// setupGates builds the person, the gates' clock and the scan-event
// intercept (after the stack exists).
func (r *runner) setupGates(ctx context.Context) error {
	g := &gateRun{rnd: rand.New(rand.NewPCG(r.cfg.Seed, r.cfg.Seed^0x9a7e5)), scans: map[string]scanTruth{}, fates: map[string]bool{},
		stats: GateStats{Scans: map[string]int{}, ScanEvents: map[string]int{}, Approvals: map[string]int{}, Hostile: map[string]int{}}}
	r.g, r.res.gates = g, g
	r.res.Gates = &g.stats
	r.breakGates()
	m, err := manifest.Parse("gates.yaml", []byte(fmt.Sprintf("version: 1\nroles:\n  - %s\nservices:\n%s", executionR, gatedManifest())))
	if err != nil {
		return fmt.Errorf("gated manifest: %w", err)
	}
	g.m = m
	if err := r.sb.AccessKey(approverKey, approverARN); err != nil {
		return fmt.Errorf("approver identity: %w", err)
	}
	cfg := r.sb.AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(approverKey, "secret", "")
	src := store.NewS3(r.st.S3, local.Bucket, "deckhand.yaml")
	g.person = &cli.Env{ECS: ecs.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		Source: src, Account: r.sb.Account(), Region: r.sb.Region(), Clock: cli.SandboxClock{Endpoint: r.sb.Endpoint()}}
	clock := *r.st.Reconciler
	clock.Source, clock.Jobs = gatedSource{Source: clock.Source, m: m}, nil
	clock.Queue = &sentPromotions{inner: clock.Queue, g: g}
	g.clock = &clock
	_, g.seeded = runningDigest(r.sb, gateDev)
	r.sb.Subscribe(g.onEvent)
	r.st.Router.Intercept(g.intercept)
	return nil
}

// gatedSource is the run's manifest source with the gated bindings only, so
// the gates' clock catches up on nothing else (the main world's catch-up is
// the finale's reconcile pass).
type gatedSource struct {
	store.Source
	m *manifest.Manifest
}

func (s gatedSource) Manifest(context.Context) (*manifest.Manifest, error) { return s.m, nil }

// sentPromotions records the promotions the gates' clock sends.
type sentPromotions struct {
	inner interface {
		Send(ctx context.Context, group, id string, body []byte) error
	}
	g *gateRun
}

func (s *sentPromotions) Send(ctx context.Context, group, id string, body []byte) error {
	err := s.inner.Send(ctx, group, id, body)
	if err == nil && strings.HasPrefix(id, reconcile.PromotionIDPrefix) {
		s.g.mu.Lock()
		s.g.sent = append(s.g.sent, body)
		s.g.stats.Promotions++
		s.g.mu.Unlock()
	}
	return err
}

// intercept keeps gate-app's scan events from the deploy queue; the
// harness delivers them on its own terms (scanEvents).
func (g *gateRun) intercept(ev events.Raw) bool {
	if ev.Source != events.SourceECR || ev.DetailType != events.DetailTypeImageScan || !strings.Contains(string(ev.Detail), `"`+gateRepo+`"`) {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = append(g.held, ev)
	return false
}

// onEvent records the PENDING_APPROVAL of gate-prod and the SUCCEEDED of
// the promotion sources.
func (g *gateRun) onEvent(ev events.Raw) {
	if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandDeployment || !strings.Contains(string(ev.Detail), `"gate-`) {
		return
	}
	d, err := events.Decode[events.DeploymentStateChange](ev.Detail, "Deckhand deployment")
	if err != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case d.Status == events.StatusPendingApproval && d.Binding == gateProd:
		g.pending = append(g.pending, d)
	case d.Status == events.StatusSucceeded && (d.Binding == gateDev || d.Binding == gateStaging):
		g.succeeded = append(g.succeeded, d)
	}
}

// gatesStep is one second of the event stream's gated part: a push (6%
// of the seconds of the 35% of minutes that are busy, so the chain also
// gets quiet minutes to travel in), and the hostile promotions.
func (r *runner) gatesStep(ctx context.Context) {
	g := r.g
	if g.step%60 == 0 {
		g.busy = g.rnd.Float64() < 0.35
	}
	g.step++
	if g.busy && g.rnd.Float64() < 0.06 {
		if err := r.gatePush(ctx); err != nil {
			r.res.HarnessErrors = append(r.res.HarnessErrors, err)
		}
	}
	r.hostilePromotions()
}

// gatesTick runs before every pump, whatever the run is doing (the event
// stream, the drain, the finale): the scan events' fates, the approver,
// what is due, and the gates' clock once a virtual minute, as the
// reconciler's schedule runs it in AWS.
func (r *runner) gatesTick(ctx context.Context) {
	g := r.g
	r.scanEvents(g.settling)
	r.approvals()
	r.runLater(ctx)
	if now := r.sb.Clock().Now(); now.Sub(g.lastClock) >= time.Minute {
		g.lastClock = now
		r.gateClock(ctx)
	}
}

// gatePush pushes to gate-app with a scripted scan and delivers the push
// through the chaos queue.
func (r *runner) gatePush(ctx context.Context) error {
	g := r.g
	r.tags[gateRepo]++
	tag := fmt.Sprintf(r.w.tagOf(gateRepo), r.tags[gateRepo])
	digest := r.sb.PushImageSilently(gateRepo, tag)
	in := r.add(&Input{Kind: KindGatePush, Repo: gateRepo, Tag: tag, Digest: digest, PushedAt: r.sb.Clock().Now()})
	in.Raw = r.imageEvent(in, events.ActionPush)
	var script sandbox.ScanScript
	outcome := "clean"
	switch x := g.rnd.Float64(); {
	case x < 0.60:
	case x < 0.70:
		outcome, script.Severities = "high", map[string]int{"HIGH": 2, "LOW": 1}
	case x < 0.85:
		outcome, script.Severities = "critical", map[string]int{"CRITICAL": 1, "HIGH": 3}
	case x < 0.95:
		outcome, script.Status = "never", "NEVER"
	default:
		outcome, script.Status = "failed", "FAILED"
	}
	if err := r.sb.SetScanFindings("", "", gateRepo, digest, script); err != nil {
		return fmt.Errorf("script the scan of %s: %w", digest, err)
	}
	g.scans[digest] = scanTruth{outcome: outcome, pushedAt: in.PushedAt}
	g.stats.Pushes++
	g.stats.Scans[outcome]++
	return r.deliver(ctx, in)
}

// at schedules f at d from now.
func (r *runner) at(d time.Duration, f func(ctx context.Context)) {
	r.g.later = append(r.g.later, later{at: r.sb.Clock().Now().Add(d), do: f})
}

// runLater does what is due.
func (r *runner) runLater(ctx context.Context) {
	now := r.sb.Clock().Now()
	var due []later
	kept := r.g.later[:0]
	for _, l := range r.g.later {
		if !l.at.After(now) {
			due = append(due, l)
		} else {
			kept = append(kept, l)
		}
	}
	r.g.later = kept
	for _, l := range due {
		l.do(ctx)
	}
}

// scanEvents draws the fate of each scan event held back: on time, on
// time and again later, late, or never. While settling, nothing is late.
func (r *runner) scanEvents(settling bool) {
	g := r.g
	g.mu.Lock()
	held := g.held
	g.held = nil
	g.mu.Unlock()
	for _, ev := range held {
		raw, err := jsonOf(ev)
		if err != nil {
			r.res.HarnessErrors = append(r.res.HarnessErrors, err)
			continue
		}
		deliver := func(context.Context) {
			if err := r.st.Router.Deliver(raw); err != nil {
				r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("deliver scan event: %w", err))
			}
		}
		switch x := g.rnd.Float64(); {
		case x < 0.55 || settling && x < 0.85:
			g.stats.ScanEvents["on time"]++
			deliver(context.Background())
		case x < 0.70:
			g.stats.ScanEvents["on time, and again later"]++
			deliver(context.Background())
			r.at(time.Duration(10+g.rnd.IntN(400))*time.Second, deliver)
		case x < 0.85:
			g.stats.ScanEvents["late"]++
			r.at(time.Duration(20+g.rnd.IntN(280))*time.Second, deliver)
		default:
			g.stats.ScanEvents["never delivered"]++
		}
	}
}
