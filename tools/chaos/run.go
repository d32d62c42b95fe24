package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// Result is everything one run produced, for Check.
type Result struct {
	Config      Config
	world       *world
	Inputs      []*Input
	Messages    map[string]*Message
	Invocations []*Invocation
	// Deployments are every Deckhand deployment event, verdicts included.
	Deployments []local.Deployment
	DLQ         []string
	// JobDLQ is the job queue's DLQ; JobRuns the runner's decisions by
	// message id.
	JobDLQ  []string
	JobRuns map[string][]jobRun
	Calls   []sandbox.Call
	// Held are the services that were held at some point.
	Held    map[string]bool
	Virtual time.Duration
	// HarnessErrors are problems of the run itself (routing, pumping).
	HarnessErrors []error
	// AlarmFlips is how often an alarm was set to ALARM (progressive.go).
	AlarmFlips int
	// TrackerDLQ are tracker events whose invocation failed its last
	// asynchronous retry; TagOutages counts the TagResource outages.
	TrackerDLQ []DeadEvent
	TagOutages int
	// Redelivered counts rolled-back pushes delivered again at the end;
	// ReconcileEnqueued the synthetic pushes the final reconcile pass sent
	// (ReconcileErrors, its errors: AWS faults, retried by the next pass).
	Redelivered       int
	ReconcileEnqueued int
	ReconcileErrors   []string
	// Templates maps the shared template's versions (as the deckhand:template
	// tag writes them) to whether the version is the changed one.
	Templates map[string]bool
	// Poisoned is the service started on a revision with a pushed-at mark
	// in 2099.
	Poisoned string
	// PruneRounds counts retention rounds, Pruned the revisions they
	// removed, PruneErrors their failed reads and writes (faults; the next
	// round retries). refused are updates ECS refused for a revision no
	// longer ACTIVE (invariant 17).
	PruneRounds, Pruned, PruneErrors int
	refused                          []string
	// Gates counts what the gated world did (nil without Config.Gates).
	Gates *GateStats

	sb    *sandbox.Sandbox
	gates *gateRun
	st    *local.Stack
}

// runner is one run in progress.
type runner struct {
	cfg    Config
	rnd    *rand.Rand
	sb     *sandbox.Sandbox
	st     *local.Stack
	w      *world
	rec    *recorder
	res    *Result
	router *sandbox.Router
	sqs    *sqs.Client
	dh     *deploy.Handler
	jobs   lambda.Handler
	tags   map[string]int // per repository: tags pushed so far
	held   map[string]bool
	// firing are the alarms in ALARM now, until the step given
	// (progressive.go).
	firing map[string]int
	sched  map[string][]time.Time // per job: scheduled times invoked so far
	// dueJobs are job inputs waiting for the next pump (jobs.go).
	dueJobs []*Input
	// failing are the jobs whose image fails to start now.
	failing map[string]bool
	// jobDigests are the jobs' images.
	jobDigests map[string]string
	mu         sync.Mutex // seq, for concurrent job deliveries
	seq        int
	// pre are inputs to deliver, and pump, before the one drawn (trust.go).
	pre []*Input
	// trackerRetries are failed tracker invocations Lambda retries later.
	trackerRetries []trackerRetry
	// watch sees the deployer's updates refused for an inactive revision.
	watch *inactiveWatch
	// g is the gated world (gates.go), nil without Config.Gates.
	g *gateRun
}

// Run generates and delivers cfg.Events inputs against sb (a fresh,
// listening sandbox whose Options.Seed should be cfg.Seed), then drains the
// queues and settles the clock. dir receives the manifest and templates.
func Run(ctx context.Context, sb *sandbox.Sandbox, dir string, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	r := &runner{
		cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0xc4a05)), sb: sb, w: newWorld(cfg.Services, cfg.Progressive, cfg.Targets),
		rec: &recorder{}, tags: map[string]int{}, held: map[string]bool{}, firing: map[string]int{}, sched: map[string][]time.Time{}, failing: map[string]bool{},
	}
	r.w.keep = cfg.Keep
	if cfg.Gates {
		r.w.addGates()
	}
	r.res = &Result{Config: cfg, world: r.w, Messages: map[string]*Message{}, Held: r.held, sb: sb}
	if err := r.setup(ctx, dir); err != nil {
		return nil, err
	}
	start := sb.Clock().Now()
	if err := r.poison(ctx); err != nil {
		return nil, err
	}
	r.faults()
	if err := r.generate(ctx); err != nil {
		return nil, err
	}
	if err := r.finish(ctx); err != nil {
		return nil, err
	}
	r.res.Virtual = sb.Clock().Now().Sub(start)
	return r.res, nil
}

func (r *runner) setup(ctx context.Context, dir string) error {
	for key, body := range templates {
		if err := os.WriteFile(filepath.Join(dir, key), []byte(body), 0o644); err != nil {
			return fmt.Errorf("write template %s: %w", key, err)
		}
	}
	initial := map[string]string{}
	for _, j := range chaosJobs {
		initial[j.repo] = "1.0.0"
	}
	for _, repo := range append(append(append([]string{}, r.w.appRepos...), r.w.side...), r.w.ties...) {
		initial[repo] = fmt.Sprintf(r.w.tagOf(repo), 0)
	}
	if r.w.gates {
		initial[gateRepo] = fmt.Sprintf(r.w.tagOf(gateRepo), 0)
	}
	st, err := local.New(ctx, r.sb, local.Options{
		Dir: dir, Manifest: []byte(r.w.manifest()), InitialTags: initial, DesiredCount: 1,
		Logger: slog.New(&logHandler{r: r.rec}),
	})
	if err != nil {
		return fmt.Errorf("start stack: %w", err)
	}
	r.st, r.res.st = st, st
	// One binding at a time: fault draws then follow the event stream, so
	// a seed replays the same run (up to the engine's parallel template and
	// service reads).
	st.Deployer.Concurrency = 1
	// ECS's register rate on the virtual clock, so bursts of pushes make the
	// engine catch up through ECR (shared/engine/deploy/catchup.go) as it would in
	// AWS. Its waits are not slept: the sandbox's clock moves on its own.
	st.Deployer.RegisterLimit = rate.NewLimiter(revision.RegisterRate, revision.RegisterBurst)
	st.Deployer.Events = &recordingEmitter{inner: st.Deployer.Events, r: r.rec}
	if r.cfg.WrapECS != nil {
		st.Deployer.ECS = r.cfg.WrapECS(st.ECS)
	}
	r.watch = &inactiveWatch{ECSAPI: st.Deployer.ECS, breakRetention: r.cfg.BreakRetention, raw: st.ECS, sb: r.sb}
	st.Deployer.ECS = r.watch
	r.breakStack()
	if err := r.decoys(ctx); err != nil {
		return err
	}
	if r.w.gates {
		if err := r.setupGates(ctx); err != nil {
			return err
		}
	}
	if err := r.setupJobs(ctx); err != nil {
		return err
	}
	r.sb.Subscribe(r.rec.onEvent)
	// A second router owns the chaos deploy queue so every deployer
	// invocation is observed; it also delivers ECS events to the tracker
	// with Lambda's asynchronous retries, while the stack's own router
	// delivers them a second time (EventBridge is at-least-once).
	r.router, err = sandbox.NewRouter(r.sb, sandbox.RouterConfig{
		QueueName: "chaos-deploy.fifo", GroupOf: st.Manifest.GroupOf,
		Deployer: lambda.NewHandler(r.deployer), Tracker: lambda.NewHandler(r.tracker),
	})
	if err != nil {
		return fmt.Errorf("create chaos router: %w", err)
	}
	r.sqs = sqs.NewFromConfig(r.sb.AWSConfig())
	// The deployer dead-letters to the chaos queue's DLQ, as the CDK app
	// wires DECKHAND_DLQ_URL.
	r.dh = &deploy.Handler{Engine: st.Deployer, DLQ: queue.New(r.sb.AWSConfig(), r.router.DLQURL())}
	return nil
}

// deployer is the observed deployer function.
func (r *runner) deployer(ctx context.Context, payload json.RawMessage) (any, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	inv := &Invocation{Failed: map[string]bool{}}
	for _, m := range ev.Records {
		inv.Messages = append(inv.Messages, m.MessageId)
		if msg := r.res.Messages[m.MessageId]; msg != nil {
			msg.Receives = append(msg.Receives, inv)
		}
	}
	r.rec.begin(inv)
	defer r.rec.end()
	out, err := r.dh.Handle(ctx, payload)
	inv.Err = err
	if resp, ok := out.(events.SQSEventResponse); ok {
		for _, f := range resp.BatchItemFailures {
			inv.Failed[f.ItemIdentifier] = true
		}
	}
	return out, err
}

// tracker is the tracker with Lambda's asynchronous retries: a failed
// invocation is tried again one and then two minutes later on the virtual
// clock (retryTrackers), then dead-lettered.
func (r *runner) tracker(ctx context.Context, payload json.RawMessage) (any, error) {
	out, err := r.st.Tracker.Handle(ctx, payload)
	if err != nil {
		r.scheduleTracker(payload, 2, err)
	}
	return out, err
}

// faults injects cfg.FaultRate of failures into every AWS call Deckhand
// makes, split evenly between throttling, 500s and dropped connections,
// plus a crash after RegisterTaskDefinition succeeds (FaultAfter500).
func (r *runner) faults() {
	p := r.cfg.FaultRate
	if p <= 0 {
		return
	}
	// The first rule that fires wins, so later rules take conditional
	// probabilities: three kinds at p/3 each of all calls.
	third := p / 3
	r.targetFaults()
	r.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "RegisterTaskDefinition", Kind: sandbox.FaultAfter500, Probability: third})
	for _, svc := range []string{sandbox.ServiceECS, sandbox.ServiceS3, sandbox.ServiceEvents, sandbox.ServiceECR} {
		for i, kind := range []sandbox.FaultKind{sandbox.FaultThrottle, sandbox.Fault500, sandbox.FaultReset} {
			r.sb.InjectFault(sandbox.Fault{Service: svc, Kind: kind, Probability: third / (1 - float64(i)*third)})
		}
	}
}

// lambdaCtx is the context of an invocation outside the routers.
func (r *runner) lambdaCtx(ctx context.Context, fn string) context.Context {
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       fmt.Sprintf("chaos-%s-%d", fn, seq),
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.sb.Region(), r.sb.Account(), fn),
	})
}

// pump delivers everything due: the chaos queue, the job inputs and the
// job queue, then the stack's router (its copy of the ECS events, and the
// job queue again for re-runs the tracker sent).
func (r *runner) pump(ctx context.Context) {
	if r.g != nil {
		r.gatesTick(ctx)
	}
	r.retryTrackers(ctx)
	r.pumpJobs(ctx)
	if _, err := r.router.Pump(ctx); err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("pump chaos router: %w", err))
	}
	if _, err := r.st.Pump(ctx); err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("pump stack router: %w", err))
	}
}

// queueDepth is the chaos queue's visible plus in-flight messages.
func (r *runner) queueDepth(ctx context.Context) (int, error) {
	out, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(r.router.QueueURL()),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		return 0, fmt.Errorf("queue depth: %w", err)
	}
	n := 0
	for _, v := range out.Attributes {
		var k int
		fmt.Sscan(v, &k)
		n += k
	}
	return n, nil
}
