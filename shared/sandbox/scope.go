package sandbox

import (
	"context"
	"hash/fnv"
	"sync"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// scope is one account and Region's state. AWS keeps ECS, ECR, SQS,
// EventBridge, SSM, Secrets Manager and CloudWatch Logs per account and
// Region; the sandbox does too. IAM is per account (iamAccount) and S3's
// bucket names are global, so neither lives here.
type scope struct {
	account, region string
	bus             *bus
	ecs             *ecssim.ECS
	ecr             *ecrService
	sqs             *sqsService
	ssm             *ssmService
	secrets         *secretsService
	logs            *logsService
}

type place struct{ account, region string }

// scopes holds every account and Region the sandbox has seen, created on
// first use: a request signed for a Region or with credentials of an
// account the sandbox never saw simply finds it empty, as a new account
// or Region is in AWS.
type scopes struct {
	mu     sync.Mutex
	byKey  map[place]*scope
	order  []*scope
	ecsFns []func(*ecssim.ECS) // control calls every ECS gets, replayed on new ones
}

// newScope builds the state of one account and Region. Its ECS publishes
// on its own bus, and its task containers write their awslogs output.
func (s *Sandbox) newScope(account, region string) *scope {
	sc := &scope{account: account, region: region}
	sc.bus = newBus(s.clock, account, region, s.opts.Seed, &s.eventIDs)
	sc.ecr = newECR(s, account, region, sc.bus)
	sc.sqs = newSQS(s, account, region)
	sc.ssm = newSSM(s.clock, account, region)
	sc.secrets = newSecrets(s.clock, account, region)
	sc.logs = newLogs(s.clock, account, region)
	sc.ecs = ecssim.New(ecssim.Config{
		Account: account,
		Region:  region,
		Clock:   s.clock,
		Emit: func(detailType string, resources []string, detail any) {
			ev := sc.bus.emit(events.SourceECS, detailType, resources, detail)
			if detailType == events.DetailTypeTaskStateChange {
				s.awslogs(sc, ev)
			}
		},
		Timing:           s.opts.ECSTiming,
		AlarmStates:      s.cw.inAlarm,
		DeploymentIDBase: s.deploymentIDBase(account, region),
	})
	return sc
}

// deploymentIDBase keeps the deployment ids of each account and Region's
// ECS apart, as ECS's are unique: the sandbox's own account and Region
// count from ecs-svc/4000000000000000001 (the CLI's goldens name them),
// every other from a base of its own.
func (s *Sandbox) deploymentIDBase(account, region string) uint64 {
	if account == s.opts.Account && region == s.opts.Region {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(account + "/" + region))
	return (1 + uint64(h.Sum32())%899) * 1_000_000_000_000_000
}

// alarmsChanged tells every account's ECS that an alarm changed state.
func (s *Sandbox) alarmsChanged() {
	s.places.mu.Lock()
	all := append([]*scope(nil), s.places.order...)
	s.places.mu.Unlock()
	for _, sc := range all {
		sc.ecs.AlarmsChanged()
	}
}

// scope returns the state of account and Region, creating it on first use.
// An empty account or Region means the sandbox's own (Options).
func (s *Sandbox) scope(account, region string) *scope {
	if account == "" {
		account = s.opts.Account
	}
	if region == "" {
		region = s.opts.Region
	}
	s.places.mu.Lock()
	sc := s.places.byKey[place{account, region}]
	if sc != nil {
		s.places.mu.Unlock()
		return sc
	}
	sc = s.newScope(account, region)
	s.places.byKey[place{account, region}] = sc
	s.places.order = append(s.places.order, sc)
	fns := append([]func(*ecssim.ECS){}, s.places.ecsFns...)
	s.places.mu.Unlock()
	for _, f := range fns {
		f(sc.ecs)
	}
	return sc
}

// home is the sandbox's own account and Region: what callers that do not
// care about accounts (the demo, most tests) see.
func (s *Sandbox) home() *scope { return s.scope("", "") }

// everyECS applies a control call (image health, task scripts, capacity) to
// the ECS of every account and Region, including those created later: an
// image behaves alike wherever it runs.
func (s *Sandbox) everyECS(f func(*ecssim.ECS)) {
	s.places.mu.Lock()
	s.places.ecsFns = append(s.places.ecsFns, f)
	all := append([]*scope(nil), s.places.order...)
	s.places.mu.Unlock()
	for _, sc := range all {
		f(sc.ecs)
	}
}

// ECSIn returns the ECS emulator of an account and Region ("" for the
// sandbox's own), for control calls and snapshots there.
func (s *Sandbox) ECSIn(account, region string) *ecssim.ECS { return s.scope(account, region).ecs }

// EventsIn returns every event published on the default bus of an account
// and Region, in order. Events forwarded to the home bus (ForwardTarget)
// appear in both.
func (s *Sandbox) EventsIn(account, region string) []events.Raw {
	b := s.scope(account, region).bus
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]events.Raw(nil), b.log...)
}

// PushImageIn is PushImage into the registry of another account and Region.
func (s *Sandbox) PushImageIn(account, region, repository, tag string) (digest string) {
	return s.scope(account, region).ecr.pushSynthetic(repository, tag, false)
}

type callerKey struct{}

// withCaller puts the caller of an API request in its context.
func withCaller(ctx context.Context, c *caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// callerOf returns the caller a request's context carries; a context
// without one (the router's internal calls) is the home account's root.
func (s *Sandbox) callerOf(ctx context.Context) *caller {
	if c, ok := ctx.Value(callerKey{}).(*caller); ok {
		return c
	}
	return s.rootCaller(s.opts.Account, s.opts.Region)
}

// scopeOf is the account and Region state a request works on.
func (s *Sandbox) scopeOf(ctx context.Context) *scope {
	c := s.callerOf(ctx)
	return s.scope(c.account, c.region)
}

// inScope adapts a per-scope handler to the JSON dispatcher.
func (s *Sandbox) inScope(h func(sc *scope) jsonHandler) jsonHandler {
	return func(ctx context.Context, op string, body []byte) (any, error) {
		return h(s.scopeOf(ctx))(ctx, op, body)
	}
}
