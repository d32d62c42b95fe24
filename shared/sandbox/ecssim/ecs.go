// Package ecssim emulates the Amazon ECS API for the local sandbox.
//
// It serves the JSON-protocol operations Deckhand, the AWS SDK v2 and the
// AWS CLI use: clusters, task definitions (families, revisions, tags),
// services with deployments that roll out on the sandbox's virtual clock
// (including the deployment circuit breaker and rollback), and RunTask tasks
// with a full lifecycle, exit codes, clientToken idempotency and capacity
// failures. It emits "ECS Deployment State Change" and "ECS Task State
// Change" events through Config.Emit.
//
// Nothing reads wall time: every transition is scheduled on the virtual clock
// and happens, stamped with its scheduled time, when the clock is advanced
// past it. Identifiers come from counters, so runs are deterministic.
//
// Rollouts. UpdateService with a new task definition (or forceNewDeployment)
// makes a PRIMARY deployment (SERVICE_DEPLOYMENT_IN_PROGRESS) and demotes the
// old one to ACTIVE. After Timing.TaskStart the new tasks run; after
// Timing.HealthyAfter more the ACTIVE deployments drain to INACTIVE and the
// rollout COMPLETES (SERVICE_DEPLOYMENT_COMPLETED): 40s with the defaults.
// minimumHealthyPercent and maximumPercent are stored but not simulated. If
// an image of the task definition is unhealthy (SetImageHealth) or scripted
// to fail to start (ScriptImage), each attempt, Timing.TaskStart apart, fails
// one task; at max(3, min(200, ceil(desiredCount/2))) failures an enabled
// circuit breaker FAILS the deployment and, with rollback, starts a new
// deployment of the last COMPLETED one's task definition. Without the breaker
// the deployment retries forever.
//
// A service's tasks are task objects (service_tasks.go): started by their
// deployment ("ecs-svc/…") in group "service:<name>", PENDING from the
// deployment's start, RUNNING after Timing.TaskStart, STOPPED by the
// scheduler when an older deployment drains, a superseded one is dropped or
// the service scales in; ListTasks, DescribeTasks, DescribeServices and
// DescribeClusters agree on them. A deployment superseded before it ran a
// task is dropped at once, so updates while the clock stands still leave two
// deployments, not one per update. RunTask tasks go PROVISIONING → PENDING
// → RUNNING → DEPROVISIONING → STOPPED; their essential container exits
// after Timing.TaskRun (30s by default) with exit code 0 unless ScriptImage
// says otherwise (RunFor, ExitCode, or UntilStopped to run until StopTask).
// Deployment strategies (strategy.go, progress.go): BLUE_GREEN, LINEAR and
// CANARY deployments run ECS's lifecycle stages on the clock, shift
// production traffic in steps and bake; the circuit breaker, CloudWatch
// alarms (Config.AlarmStates, AlarmsChanged) and lifecycle hooks fail and
// roll them back. Every deployment is recorded as a service deployment and
// a service revision (svcdeploy.go) for ListServiceDeployments,
// DescribeServiceDeployments, DescribeServiceRevisions,
// StopServiceDeployment and ContinueServiceDeployment. Task definitions go
// ACTIVE → INACTIVE → DELETE_IN_PROGRESS → deleted (taskdef_delete.go).
//
// Every task change bumps the task's version and emits a task state change.
// A container stopped by StopTask exits with 143 (SIGTERM). Stopped tasks stay
// describable (service tasks: the last 100 per service, for an hour).
package ecssim

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// Config configures an ECS emulator.
type Config struct {
	Account, Region string // e.g. "123456789012", "us-west-2"
	// Clock is the only time source. A nil Clock gets a private clock that
	// starts at 2026-01-01T00:00:00Z.
	Clock *vclock.Clock
	// Emit publishes an AWS event with source "aws.ecs". detailType is
	// events.DetailTypeDeploymentStateChange (resources [serviceARN], detail
	// events.ECSDeploymentStateChange) or events.DetailTypeTaskStateChange
	// (resources [taskARN], detail events.ECSTaskStateChange). Emit is called
	// without any emulator lock held, in causal order, and may call back into
	// the emulator. A nil Emit drops events.
	Emit   func(detailType string, resources []string, detail any)
	Timing Timing // zero fields take the documented defaults
	// AlarmStates returns those of the named CloudWatch alarms that are in
	// the ALARM state, in the order given. It is called with the
	// emulator's lock held and must not call back into the emulator. Nil:
	// no alarm is ever in ALARM. Call AlarmsChanged when a state changes.
	AlarmStates func(names []string) []string
	// DeploymentIDBase is added to the number of every deployment id
	// ("ecs-svc/<19 digits>"), so that emulators of different accounts and
	// Regions never name two deployments alike, as ECS's ids are unique.
	// Keep it below 5e18 and a multiple of a large power of ten.
	DeploymentIDBase uint64
}

// Timing holds the durations of the simulated lifecycles. A zero field takes
// its default.
type Timing struct {
	// Provision is PROVISIONING → PENDING of a task (default 5s).
	Provision time.Duration
	// TaskStart is PENDING → RUNNING of a task (default 10s). For services it
	// is the time from a deployment's creation (or from the previous failed
	// attempt) to its tasks running or failing to start.
	TaskStart time.Duration
	// TaskRun is how long a task's essential container runs when no
	// TaskScript sets RunFor (default 30s).
	TaskRun time.Duration
	// StopGrace is StopTask → DEPROVISIONING (default 2s).
	StopGrace time.Duration
	// Deprovision is DEPROVISIONING → STOPPED (default 5s).
	Deprovision time.Duration
	// HealthyAfter is how long a deployment's tasks run before they count as
	// healthy; the old deployments then drain and the rollout completes
	// (default 30s). A healthy rollout thus completes TaskStart+HealthyAfter
	// (40s by default) after UpdateService.
	HealthyAfter time.Duration
}

func (t Timing) withDefaults() Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Provision, 5*time.Second)
	def(&t.TaskStart, 10*time.Second)
	def(&t.TaskRun, 30*time.Second)
	def(&t.StopGrace, 2*time.Second)
	def(&t.Deprovision, 5*time.Second)
	def(&t.HealthyAfter, 30*time.Second)
	return t
}

// ECS is the emulator. It is safe for concurrent use.
type ECS struct {
	account, region string
	clock           *vclock.Clock
	emit            func(string, []string, any)
	timing          Timing
	idBase          uint64 // Config.DeploymentIDBase

	mu       sync.Mutex
	clusters map[string]*cluster // by name
	order    []*cluster          // creation order
	families map[string][]*taskDef
	tags     map[string][]tag // by resource ARN
	services []*service       // creation order, all clusters
	tasks    map[string]*task // by ARN
	taskList []*task          // creation order
	live     []*task          // tasks not yet STOPPED, creation order
	tokens   map[string]*runRecord
	history  []UpdateRecord
	health   map[string]bool // image or digest → healthy
	scripts  map[string]TaskScript
	capacity map[string]bool // provider → available
	seq      uint64          // id counter

	recordSeq   uint64                        // id counter of service deployments and hooks
	sdeps       map[string]*serviceDeployment // by ARN
	revisions   map[string]*serviceRevision   // by ARN
	hookFails   map[string]bool               // hook target ARN → fails
	alarmStates func([]string) []string
	deleting    []*taskDef // DELETE_IN_PROGRESS revisions (taskdef_delete.go)

	queue    []event // events waiting to be emitted, in causal order
	draining bool
}

type event struct {
	detailType string
	resources  []string
	detail     any
}

// New returns an emulator with no clusters, task definitions or services. It
// registers itself on cfg.Clock to progress rollouts and tasks.
func New(cfg Config) *ECS {
	if cfg.Clock == nil {
		cfg.Clock = vclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	e := &ECS{
		account:  cfg.Account,
		region:   cfg.Region,
		idBase:   cfg.DeploymentIDBase,
		clock:    cfg.Clock,
		emit:     cfg.Emit,
		timing:   cfg.Timing.withDefaults(),
		clusters: map[string]*cluster{},
		families: map[string][]*taskDef{},
		tags:     map[string][]tag{},
		tasks:    map[string]*task{},
		tokens:   map[string]*runRecord{},
		health:   map[string]bool{},
		scripts:  map[string]TaskScript{},
		capacity: map[string]bool{},

		sdeps:       map[string]*serviceDeployment{},
		revisions:   map[string]*serviceRevision{},
		hookFails:   map[string]bool{},
		alarmStates: cfg.AlarmStates,
	}
	cfg.Clock.OnAdvance(e.advance)
	return e
}

type handler func(e *ECS, body []byte, now time.Time) (any, error)

var handlers = map[string]handler{
	"CreateCluster":              (*ECS).createCluster,
	"DescribeClusters":           (*ECS).describeClusters,
	"ListClusters":               (*ECS).listClusters,
	"RegisterTaskDefinition":     (*ECS).registerTaskDefinition,
	"DescribeTaskDefinition":     (*ECS).describeTaskDefinition,
	"DeregisterTaskDefinition":   (*ECS).deregisterTaskDefinition,
	"ListTaskDefinitions":        (*ECS).listTaskDefinitions,
	"ListTaskDefinitionFamilies": (*ECS).listTaskDefinitionFamilies,
	"TagResource":                (*ECS).tagResource,
	"UntagResource":              (*ECS).untagResource,
	"ListTagsForResource":        (*ECS).listTagsForResource,
	"CreateService":              (*ECS).createService,
	"UpdateService":              (*ECS).updateService,
	"DescribeServices":           (*ECS).describeServices,
	"ListServices":               (*ECS).listServices,
	"DeleteService":              (*ECS).deleteService,
	"RunTask":                    (*ECS).runTask,
	"StopTask":                   (*ECS).stopTask,
	"DescribeTasks":              (*ECS).describeTasks,
	"ListTasks":                  (*ECS).listTasks,
	"ListServiceDeployments":     (*ECS).listServiceDeployments,
	"DescribeServiceDeployments": (*ECS).describeServiceDeployments,
	"DescribeServiceRevisions":   (*ECS).describeServiceRevisions,
	"StopServiceDeployment":      (*ECS).stopServiceDeployment,
	"ContinueServiceDeployment":  (*ECS).continueServiceDeployment,
	"DeleteTaskDefinitions":      (*ECS).deleteTaskDefinitions,
}

// Handle serves one ECS JSON-protocol operation. op is the operation name
// (e.g. "RegisterTaskDefinition") and body the raw JSON request. It returns
// the response value to JSON-encode, or an *awsproto.Error carrying the AWS
// error code. An unknown op yields "UnknownOperationException".
func (e *ECS) Handle(ctx context.Context, op string, body []byte) (any, error) {
	h, ok := handlers[op]
	if !ok {
		return nil, awsproto.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %s is not supported by the ECS sandbox", op)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := func() (any, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		now := e.clock.Now()
		e.catchUp(now) // transitions due before a racing clock listener ran
		out, err := h(e, body, now)
		e.reapDeleted()
		return out, err
	}()
	e.flush()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decode parses a request body into v. An empty body is an empty object.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return awsproto.Errorf(http.StatusBadRequest, "SerializationException", "%v", err)
	}
	return nil
}

// publish queues an event; it is emitted by flush after the lock is released.
// Callers hold e.mu.
func (e *ECS) publish(detailType string, resources []string, detail any) {
	e.queue = append(e.queue, event{detailType, resources, detail})
}

// flush emits the queued events in order. Only one goroutine drains at a
// time, so events leave in the order they were queued even when Emit calls
// back into the emulator (the nested call's events are emitted by the outer
// drain, after the event that caused them).
func (e *ECS) flush() {
	e.mu.Lock()
	if e.draining {
		e.mu.Unlock()
		return
	}
	e.draining = true
	e.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			e.mu.Lock()
			e.draining = false
			e.mu.Unlock()
			panic(r)
		}
	}()
	for {
		e.mu.Lock()
		if len(e.queue) == 0 {
			e.draining = false
			e.mu.Unlock()
			return
		}
		ev := e.queue[0]
		e.queue = e.queue[1:]
		e.mu.Unlock()
		if e.emit != nil {
			e.emit(ev.detailType, ev.resources, ev.detail)
		}
	}
}
