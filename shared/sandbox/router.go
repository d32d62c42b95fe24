package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/deckhand-ecs/deckhand/events"
)

// RouterConfig configures a Router the way the CDK app configures the rules
// and event source mappings.
type RouterConfig struct {
	// QueueName is the FIFO deploy queue (default "deckhand-deploy.fifo"). It
	// is created if missing, with a DLQ named after it ("<name>-dlq.fifo").
	QueueName string
	// MaxReceiveCount is the redrive policy's maxReceiveCount of the deploy
	// and job queues (default 3).
	MaxReceiveCount int
	// VisibilityTimeout of the deploy queue (default 30s, virtual).
	VisibilityTimeout time.Duration
	// BatchSize is the event source mapping's batch size (default 10).
	BatchSize int
	// GroupOf maps a repository to its message group. Repositories in no
	// group are not routed: the EventBridge rule would not match them.
	GroupOf func(repository string) (groupID string, ok bool)
	// ScanGroupOf maps a repository whose scan results the deployer needs
	// (a binding gates on scans) to its message group: its ECR Image Scan
	// and Inspector2 Scan events go into the deploy queue there, as the
	// CDK app's scan rules send them. Nil routes no scan event.
	ScanGroupOf func(repository string) (groupID string, ok bool)
	// Deployer receives SQS batches from the deploy queue; Tracker receives
	// ECS Deployment and Task State Change events one at a time. Build them
	// with lambda.NewHandler. A nil handler leaves its events undelivered.
	Deployer, Tracker lambda.Handler
	// TaskStartedBy, when set, is the startedBy prefix of the ECS Task State
	// Changes the tracker receives, as the CDK app's task rule keeps only
	// job tasks (the services' tasks are by far the most events). Empty
	// delivers every task state change.
	TaskStartedBy string
	// Runner receives SQS batches from the job queue (router_jobs.go), where
	// Schedule puts EventBridge Scheduler's invocations. With a nil Runner
	// there is no job queue.
	Runner lambda.Handler
	// JobQueueName is the FIFO job queue (default "deckhand-jobs.fifo",
	// content-based deduplication, a DLQ named after it).
	JobQueueName string
}

func (c RouterConfig) withDefaults() RouterConfig {
	if c.QueueName == "" {
		c.QueueName = "deckhand-deploy.fifo"
	}
	if c.MaxReceiveCount <= 0 {
		c.MaxReceiveCount = 3
	}
	if c.VisibilityTimeout <= 0 {
		c.VisibilityTimeout = 30 * time.Second
	}
	if c.BatchSize <= 0 || c.BatchSize > 10 {
		c.BatchSize = 10
	}
	if c.JobQueueName == "" {
		c.JobQueueName = "deckhand-jobs.fifo"
	}
	if c.GroupOf == nil {
		c.GroupOf = func(string) (string, bool) { return "", false }
	}
	return c
}

// Router delivers the sandbox's events the way the CDK app's rules would:
// ECR pushes of grouped repositories go into the FIFO deploy queue (message
// group = the repository's group, deduplication id = the event id, as an
// EventBridge SQS target does), and ECS state changes queue up for the
// tracker. Nothing is delivered inside the publishing call: Pump does the
// delivering, through the real Lambda handler path.
type Router struct {
	s   *Sandbox
	cfg RouterConfig

	queueURL, queueARN, dlqURL string
	jobs                       *jobQueue // nil without a Runner

	mu      sync.Mutex
	tracker [][]byte // raw events waiting for the tracker
	// intercept sees every event published on the bus before the rules
	// apply (Intercept).
	intercept func(events.Raw) bool
	errs      []error // routing errors, reported by the next Pump
	seq       int     // Lambda request ids
}

// NewRouter creates the deploy queue and its DLQ if missing and subscribes
// to the sandbox bus. Events published before NewRouter are not routed.
func NewRouter(s *Sandbox, cfg RouterConfig) (*Router, error) {
	cfg = cfg.withDefaults()
	r := &Router{s: s, cfg: cfg}
	dlqName := trimFIFO(cfg.QueueName) + "-dlq.fifo"
	var err error
	if r.dlqURL, err = r.createQueue(dlqName, map[string]string{"FifoQueue": "true"}); err != nil {
		return nil, err
	}
	dlqARN := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.opts.Region, s.opts.Account, dlqName)
	r.queueARN = fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.opts.Region, s.opts.Account, cfg.QueueName)
	r.queueURL, err = r.createQueue(cfg.QueueName, map[string]string{
		"FifoQueue":         "true",
		"VisibilityTimeout": fmt.Sprint(int(cfg.VisibilityTimeout / time.Second)),
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, cfg.MaxReceiveCount),
	})
	if err != nil {
		return nil, err
	}
	if cfg.Runner != nil {
		if r.jobs, err = r.createJobQueue(); err != nil {
			return nil, err
		}
	}
	s.Subscribe(func(ev events.Raw) {
		r.mu.Lock()
		f := r.intercept
		r.mu.Unlock()
		if f != nil && !f(ev) {
			return
		}
		raw, err := json.Marshal(ev)
		if err == nil {
			err = r.route(raw)
		}
		if err != nil {
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		}
	})
	return r, nil
}

func trimFIFO(name string) string {
	if len(name) > 5 && name[len(name)-5:] == ".fifo" {
		return name[:len(name)-5]
	}
	return name
}

// QueueURL returns the deploy queue's URL (what DECKHAND_QUEUE_URL names).
func (r *Router) QueueURL() string { return r.queueURL }

// DLQURL returns the deploy queue's DLQ URL (what DECKHAND_DLQ_URL names):
// the deployer sends a message that failed for good there at once.
func (r *Router) DLQURL() string { return r.dlqURL }

// QueueARN returns the deploy queue's ARN.
func (r *Router) QueueARN() string { return r.queueARN }

// sqsCall runs an SQS operation inside the sandbox, as AWS does for
// EventBridge targets and Lambda event source mappings: not recorded in
// Calls and never faulted.
func (r *Router) sqsCall(op string, in any, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("sqs %s: %w", op, err)
	}
	res, err := r.s.sqs.handle(context.Background(), op, body)
	if err != nil {
		return fmt.Errorf("sqs %s: %w", op, err)
	}
	if out == nil {
		return nil
	}
	data, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("sqs %s: %w", op, err)
	}
	return json.Unmarshal(data, out)
}

func (r *Router) createQueue(name string, attrs map[string]string) (string, error) {
	var out struct{ QueueUrl string }
	if err := r.sqsCall("CreateQueue", createQueueInput{QueueName: name, Attributes: attrs}, &out); err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return out.QueueUrl, nil
}

// Deliver routes a raw EventBridge event exactly as the rules would, for
// tests that inject duplicates or out-of-order events. The event is not
// published on the bus.
func (r *Router) Deliver(raw []byte) error {
	return r.route(raw)
}

// Intercept has f see every event published on the bus from now on,
// before the rules apply; when f returns false the event is not routed, as
// when EventBridge loses an event or delivers it late. Deliver routes it
// later (f does not see that). f runs in the publishing call: it must not
// call back into the sandbox. A nil f routes everything again.
func (r *Router) Intercept(f func(ev events.Raw) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.intercept = f
}

// route applies the rules to one event.
func (r *Router) route(raw []byte) error {
	ev, err := events.Decode[events.Raw](raw, "EventBridge event")
	if err != nil {
		return fmt.Errorf("route event: %w", err)
	}
	switch {
	case ev.Source == events.SourceECR && ev.DetailType == events.DetailTypeImageAction:
		act, err := events.Decode[events.ECRImageAction](ev.Detail, "ECR Image Action detail")
		if err != nil {
			return fmt.Errorf("route event %s: %w", ev.ID, err)
		}
		if act.ActionType != events.ActionPush || act.Result != events.ResultSuccess || act.ImageTag == "" {
			return nil
		}
		group, ok := r.cfg.GroupOf(act.RepositoryName)
		if !ok {
			return nil
		}
		err = r.sqsCall("SendMessage", map[string]string{
			"QueueUrl": r.queueURL, "MessageBody": string(raw),
			"MessageGroupId": group, "MessageDeduplicationId": ev.ID,
		}, nil)
		if err != nil {
			return fmt.Errorf("route event %s: %w", ev.ID, err)
		}
	case ev.Source == events.SourceECR && ev.DetailType == events.DetailTypeImageScan,
		ev.Source == events.SourceInspector && ev.DetailType == events.DetailTypeInspectorScan:
		return r.routeScan(ev, raw)
	case ev.Source == events.SourceECS &&
		(ev.DetailType == events.DetailTypeDeploymentStateChange || ev.DetailType == events.DetailTypeTaskStateChange):
		if r.cfg.Tracker == nil {
			return nil
		}
		if ev.DetailType == events.DetailTypeTaskStateChange && r.cfg.TaskStartedBy != "" {
			var d struct {
				StartedBy string `json:"startedBy"`
			}
			if err := json.Unmarshal(ev.Detail, &d); err != nil || !strings.HasPrefix(d.StartedBy, r.cfg.TaskStartedBy) {
				return nil
			}
		}
		r.mu.Lock()
		r.tracker = append(r.tracker, append([]byte(nil), raw...))
		r.mu.Unlock()
	}
	return nil
}

// DLQ returns the bodies of the messages in the deploy queue's DLQ, oldest
// first, without receiving them.
func (r *Router) DLQ() []string {
	return r.s.sqs.peek(r.dlqURL)
}

func (r *Router) lambdaContext(ctx context.Context, function string) context.Context {
	r.mu.Lock()
	r.seq++
	n := r.seq
	r.mu.Unlock()
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       uuidFrom(uint64(n), "lambda-request"),
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.s.opts.Region, r.s.opts.Account, function),
	})
}

func (r *Router) takeErrors() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := errors.Join(r.errs...)
	r.errs = nil
	return err
}

// routeScan sends a scan result of a scan-gated repository into the deploy
// queue, as the CDK app's scan rules do (deduplication id = the event id).
func (r *Router) routeScan(ev events.Raw, raw []byte) error {
	if r.cfg.ScanGroupOf == nil {
		return nil
	}
	var d struct {
		Repository string `json:"repository-name"`
	}
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return fmt.Errorf("route event %s: %w", ev.ID, err)
	}
	repo := d.Repository
	if _, name, ok := strings.Cut(repo, ":repository/"); ok {
		repo = name // Inspector names the repository by its ARN
	}
	group, ok := r.cfg.ScanGroupOf(repo)
	if !ok {
		return nil
	}
	err := r.sqsCall("SendMessage", map[string]string{
		"QueueUrl": r.queueURL, "MessageBody": string(raw),
		"MessageGroupId": group, "MessageDeduplicationId": ev.ID,
	}, nil)
	if err != nil {
		return fmt.Errorf("route event %s: %w", ev.ID, err)
	}
	return nil
}
