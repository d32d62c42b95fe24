package chaos

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
)

// ECSAPI is the deploy engine's view of ECS: the methods of its consumer
// interface, so WrapECS can stand between the engine and the sandbox.
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// Input kinds.
const (
	KindPush        = "push"         // a policy-matching push to a bound repository
	KindBroken      = "broken"       // such a push of an image whose tasks never start
	KindNoMatch     = "tag-mismatch" // a push whose tag no policy matches
	KindStray       = "unbound"      // a push to a repository no service follows
	KindUntagged    = "untagged"     // an untagged push
	KindDelete      = "delete"       // an image deletion
	KindMalformed   = "malformed"    // a body that is not an ECR Image Action
	KindDuplicate   = "duplicate"    // an earlier event again, same id (at-least-once)
	KindRelease     = "release-push" // the push after a hold is released
	KindJob         = "job"          // a scheduled job invocation
	KindJobDup      = "job-dup"      // a scheduled time invoked again
	KindJobLate     = "job-late"     // a scheduled time invoked again, past the queue's deduplication window
	RouteQueue      = "queue"        // through the FIFO deploy queue
	RouteDirect     = "direct"       // a direct (asynchronous) Lambda invocation
	RouteJobQueue   = "job-queue"    // a job input through the job FIFO queue
	RouteRunner     = "runner"       // a job input straight to the runner (Config.JobsDirect)
	asyncAttempts   = 3              // Lambda async: 1 try + 2 retries
	trackerAttempts = 3
	jobAttempts     = 3
)

// Input is one thing the generator handed to Deckhand.
type Input struct {
	N        int
	Kind     string
	Route    string
	ID       string // event id
	Repo     string
	Tag      string
	Digest   string
	PushedAt time.Time
	Raw      []byte
	// Of is the original of a duplicate.
	Of *Input
	// Queue route: the SQS message id, and whether the FIFO dropped it as
	// a duplicate of a message sent within five minutes.
	MessageID string
	Deduped   bool
	// Direct route: attempts made and the last error.
	Attempts int
	Err      error
	// Job inputs: the job and the scheduled time; the runner's result
	// (job-queue route: of the receive that decided its message).
	Job       string
	Scheduled time.Time
	JobResult string
	sendErr   error
}

// isJob reports whether the input is a job invocation.
func (in *Input) isJob() bool {
	return in.Kind == KindJob || in.Kind == KindJobDup || in.Kind == KindJobLate
}

// push is the image push an input carries (itself, or its original).
func (in *Input) push() *Input {
	if in.Of != nil {
		return in.Of
	}
	return in
}

// Message is one SQS message the deploy queue accepted.
type Message struct {
	ID       string
	Input    *Input
	Receives []*Invocation
}

// Invocation is one deployer invocation and what it produced.
type Invocation struct {
	N        int
	Messages []string        // SQS message ids in the batch
	Failed   map[string]bool // batchItemFailures
	Direct   *Input
	Err      error
	Events   []events.DeploymentStateChange // Deckhand events published during it
	Logs     []decision                     // the engine's decision log lines
	// DeadLettered maps the messages the deployer put on the DLQ itself
	// (and acknowledged) to the reason it logged.
	DeadLettered map[string]string
	// EmitErr is the error the engine's event emission returned, if any.
	EmitErr error
}

// emitter is the engine's event sink (shared/engine/deploy's emitter interface).
type emitter interface {
	Put(ctx context.Context, evs ...emit.Event) error
}

// recordingEmitter passes events through and records emission errors, which
// the deployer's handler turns into a whole-batch failure without logging.
type recordingEmitter struct {
	inner emitter
	r     *recorder
}

func (e *recordingEmitter) Put(ctx context.Context, evs ...emit.Event) error {
	err := e.inner.Put(ctx, evs...)
	if err != nil {
		e.r.mu.Lock()
		if e.r.cur != nil {
			e.r.cur.EmitErr = err
		}
		e.r.mu.Unlock()
	}
	return err
}

// decision is one "deploy decision" log line of the engine.
type decision struct {
	Level   slog.Level
	EventID string
	Binding string
	Outcome string
	Reason  string
	Digests []string
}

// recorder attributes published events and engine logs to the deployer
// invocation running now (they run one at a time), and keeps the runner's
// decisions by message id.
type recorder struct {
	mu  sync.Mutex
	cur *Invocation
	all []*Invocation
	// runs are the runner's "job run" lines, by SQS message id.
	runs map[string][]jobRun
}

// jobRun is one "job run" line: the runner's decision on one message.
type jobRun struct {
	Job, Outcome, Reason string
	Duplicate            bool
}

// final reports whether the line decided its message (it was deleted).
func (j jobRun) final() bool {
	switch j.Outcome {
	case "STARTED", "SKIPPED_OVERLAP", "FAILED":
		return true
	}
	return false
}

func (r *recorder) jobRun(attrs []slog.Attr, rec slog.Record) {
	var id string
	var line jobRun
	visit := func(a slog.Attr) bool {
		switch a.Key {
		case "message_id":
			id = a.Value.String()
		case "job":
			line.Job = a.Value.String()
		case "outcome":
			line.Outcome = a.Value.String()
		case "reason":
			line.Reason = a.Value.String()
		case "duplicate":
			line.Duplicate = a.Value.Bool()
		}
		return true
	}
	for _, a := range attrs {
		visit(a)
	}
	rec.Attrs(visit)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runs == nil {
		r.runs = map[string][]jobRun{}
	}
	r.runs[id] = append(r.runs[id], line)
}

func (r *recorder) begin(inv *Invocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inv.N = len(r.all)
	r.all = append(r.all, inv)
	r.cur = inv
}

func (r *recorder) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = nil
}

func (r *recorder) onEvent(ev events.Raw) {
	if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandDeployment {
		return
	}
	var d events.DeploymentStateChange
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		r.cur.Events = append(r.cur.Events, d)
	}
}

// logHandler captures the engine's decision lines for the recorder.
type logHandler struct {
	r     *recorder
	attrs []slog.Attr
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message == "job run" {
		h.r.jobRun(h.attrs, rec)
		return nil
	}
	if rec.Message == "message dead-lettered" {
		var id, reason string
		rec.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "message_id":
				id = a.Value.String()
			case "reason":
				reason = a.Value.String()
			}
			return true
		})
		h.r.mu.Lock()
		defer h.r.mu.Unlock()
		if h.r.cur != nil {
			if h.r.cur.DeadLettered == nil {
				h.r.cur.DeadLettered = map[string]string{}
			}
			h.r.cur.DeadLettered[id] = reason
		}
		return nil
	}
	if rec.Message != "deploy decision" {
		return nil
	}
	d := decision{Level: rec.Level}
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "event_id":
			d.EventID = a.Value.String()
		case "binding":
			d.Binding = a.Value.String()
		case "outcome":
			d.Outcome = a.Value.String()
		case "reason":
			d.Reason = a.Value.String()
		case "digest":
			d.Digests = append(d.Digests, a.Value.String())
		}
		return true
	})
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	if h.r.cur != nil {
		h.r.cur.Logs = append(h.r.cur.Logs, d)
	}
	return nil
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{r: h.r, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *logHandler) WithGroup(string) slog.Handler { return h }
