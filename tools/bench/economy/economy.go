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
	// Outcome is the engine's decision.
	Outcome string
}

// Result holds the first (cold caches) and a later (warm) deployment of a
// new image to one binding.
type Result struct {
	Latency    time.Duration
	Cold, Warm Deployment
}

// recorder is an http.Client transport that records each call.
type recorder struct {
	inner http.RoundTripper
	mu    sync.Mutex
	calls []Call
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	if _, name, ok := strings.Cut(req.URL.Path, "/operation/"); ok && op == "" { // RPC v2 CBOR (CloudWatch)
		op = "cloudwatch:" + name
	} else if op == "" {
		op = "s3:" + req.Method + " " + req.URL.Path
	} else if _, name, ok := strings.Cut(op, "."); ok {
		op = serviceOf(op) + ":" + name
	}
	c := Call{Op: op, Start: time.Now()}
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

// Measure deploys two new images to one binding of f through a deployer
// built like functions/deployer (its clients recorded), with every sandbox
// call held for latency so parallel calls overlap visibly.
func Measure(ctx context.Context, f *coldstart.Fixture, latency time.Duration) (Result, error) {
	rec := &recorder{inner: http.DefaultTransport}
	cfg := f.SB.AWSConfig()
	cfg.HTTPClient = &http.Client{Transport: rec}
	parts := wire.FromAWS(config.Config{Bucket: local.Bucket, ManifestKey: "deckhand.yaml",
		Account: f.SB.Account(), Region: f.SB.Region(), Endpoint: f.SB.Endpoint()}, cfg)
	parts.Alarms = cloudwatch.NewFromConfig(cfg) // as functions/deployer does
	eng := wire.Deployer(parts)
	h := &deploy.Handler{Engine: eng}
	for _, svc := range []string{sandbox.ServiceECS, sandbox.ServiceS3, sandbox.ServiceEvents, sandbox.ServiceCloudWatch} {
		f.SB.InjectFault(sandbox.Fault{Service: svc, Kind: sandbox.FaultLatency, Latency: latency})
	}
	defer f.SB.ClearFaults()
	res := Result{Latency: latency}
	for i, d := range []*Deployment{&res.Cold, &res.Warm} {
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
		d.Depth = depth(d.Calls)
		var decide []Call
		for _, c := range d.Calls {
			if !strings.HasPrefix(c.Op, "events:") {
				decide = append(decide, c)
			}
		}
		d.DepthBeforeEvents = depth(decide)
		d.Outcome = "STARTED"
	}
	return res, nil
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
