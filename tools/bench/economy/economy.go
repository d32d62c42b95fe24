// Package economy counts the AWS calls one deployment makes and the
// longest chain of calls that had to wait for each other (the critical
// path), by recording every HTTP request the deployer's clients send to the
// sandbox while each call is held for a fixed latency.
package economy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/wire"
	"github.com/deckhand-ecs/deckhand/tools/bench/coldstart"
)

// Call is one recorded request.
type Call struct {
	Op         string // service:Operation, or s3:GET key
	Status     int
	Start, End time.Time
}

// Deployment is what one deployer invocation did.
type Deployment struct {
	Calls []Call
	// Depth is the longest chain of calls each starting after the previous
	// ended: the sequential round trips.
	Depth int
	// DepthBeforeEvents leaves out the PutEvents that reports the decision.
	DepthBeforeEvents int
	Wall              time.Duration
	// ToUpdate is the time from the event entering the handler to the
	// UpdateService request being sent; DepthToUpdate the sequential
	// round trips that ended before it was sent.
	ToUpdate      time.Duration
	DepthToUpdate int
	// Outcome is the engine's decision.
	Outcome string
}

// Result holds the deployments of new images to one binding: the first
// of a deployer with the deployment's snapshot (cold caches, as the CDK app
// deploys it), a later one (warm), and the first of a deployer without a
// snapshot (cold caches, as the CLI or a bucket changed outside cdk deploy
// see it).
type Result struct {
	Latency                    time.Duration
	Cold, Warm, ColdNoSnapshot Deployment
}

// recorder is an http.Client transport that records each call.
type recorder struct {
	inner http.RoundTripper
	mu    sync.Mutex
	calls []Call
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	c := Call{Op: opOf(req), Start: time.Now()}
	resp, err := r.inner.RoundTrip(req)
	c.End = time.Now()
	if resp != nil {
		c.Status = resp.StatusCode
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return resp, err
}

// opOf names a request: service:Operation, or s3:METHOD path.
func opOf(req *http.Request) string {
	op := req.Header.Get("X-Amz-Target")
	if _, name, ok := strings.Cut(req.URL.Path, "/operation/"); ok && op == "" { // RPC v2 CBOR (CloudWatch)
		return "cloudwatch:" + name
	}
	if op == "" {
		return "s3:" + req.Method + " " + req.URL.Path
	}
	if _, name, ok := strings.Cut(op, "."); ok {
		return serviceOf(op) + ":" + name
	}
	return op
}

func serviceOf(target string) string {
	switch {
	case strings.HasPrefix(target, "AmazonEC2ContainerService"):
		return "ecs"
	case strings.HasPrefix(target, "AWSEvents"):
		return "events"
	}
	return target
}

func (r *recorder) take() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// Measure deploys new images to one binding of f through deployers built
// like functions/deployer (their clients recorded), with every sandbox
// call held for latency by fault injection so parallel calls overlap
// visibly.
func Measure(ctx context.Context, f *coldstart.Fixture, latency time.Duration) (Result, error) {
	for _, svc := range []string{sandbox.ServiceECS, sandbox.ServiceS3, sandbox.ServiceEvents, sandbox.ServiceCloudWatch} {
		f.SB.InjectFault(sandbox.Fault{Service: svc, Kind: sandbox.FaultLatency, Latency: latency})
	}
	defer f.SB.ClearFaults()
	res := Result{Latency: latency}
	rec := &recorder{inner: http.DefaultTransport}
	h := deployer(f, rec, f.Snapshot)
	for i, d := range []*Deployment{&res.Cold, &res.Warm, &res.ColdNoSnapshot} {
		if d == &res.ColdNoSnapshot {
			h = deployer(f, rec, "")
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(f.Batch(1), &ev); err != nil {
			return res, err
		}
		start := time.Now()
		resp, err := h.HandleSQS(ctx, ev)
		d.Wall = time.Since(start)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			return res, fmt.Errorf("deployment %d: %v %+v", i, err, resp)
		}
		d.Calls = rec.take()
		if err := d.analyse(start); err != nil {
			return res, fmt.Errorf("deployment %d: %w", i, err)
		}
	}
	return res, nil
}

// analyse fills in the depths and ToUpdate of a deployment that began at
// start (its event entering the handler).
func (d *Deployment) analyse(start time.Time) error {
	d.Depth = depth(d.Calls)
	var update time.Time
	for _, c := range d.Calls {
		if c.Op == "ecs:UpdateService" {
			update = c.Start
		}
	}
	if update.IsZero() {
		return fmt.Errorf("no UpdateService among %+v", d.Calls)
	}
	var decide, beforeUpdate []Call
	for _, c := range d.Calls {
		if !strings.HasPrefix(c.Op, "events:") {
			decide = append(decide, c)
		}
		if !c.End.After(update) {
			beforeUpdate = append(beforeUpdate, c)
		}
	}
	d.DepthBeforeEvents = depth(decide)
	d.ToUpdate, d.DepthToUpdate = update.Sub(start), depth(beforeUpdate)
	d.Outcome = "STARTED"
	return nil
}

// deployer is a deployer handler built like functions/deployer's, its
// clients recorded by rec, with the deployment's snapshot in the directory
// snapshot ("" for none).
func deployer(f *coldstart.Fixture, rec *recorder, snapshot string) *deploy.Handler {
	cfg := f.SB.AWSConfig()
	cfg.HTTPClient = &http.Client{Transport: rec}
	parts := wire.FromAWS(config.Config{Bucket: local.Bucket, ManifestKey: "deckhand.yaml",
		Account: f.SB.Account(), Region: f.SB.Region(), Endpoint: f.SB.Endpoint(), Snapshot: snapshot, PartsPrefix: coldstart.PartsPrefix}, cfg)
	parts.Alarms = cloudwatch.NewFromConfig(cfg) // as functions/deployer does
	eng := wire.Deployer(parts)
	return &deploy.Handler{Engine: eng}
}

// depth is the longest chain of calls that did not overlap.
func depth(calls []Call) int {
	cs := append([]Call(nil), calls...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Start.Before(cs[j].Start) })
	best := make([]int, len(cs))
	out := 0
	for i := range cs {
		best[i] = 1
		for j := range i {
			if !cs[j].End.After(cs[i].Start) && best[j]+1 > best[i] {
				best[i] = best[j] + 1
			}
		}
		out = max(out, best[i])
	}
	return out
}
