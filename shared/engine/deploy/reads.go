package deploy

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// reads are the independent reads one binding needs before deciding: the
// template (S3, usually a 304), the service, and the family's latest
// revision, which is also the running one when the service runs it. They
// run in parallel: the family's latest does not wait for the template,
// whose family the engine names beforehand (knownFamily).
type reads struct {
	done    chan struct{}
	tmpl    store.Template
	tmplErr error
	run     *running
	runErr  error
}

// startReads starts a plan's reads and returns at once.
func (e *Engine) startReads(ctx context.Context, src store.Source, pl plan) *reads {
	r := &reads{done: make(chan struct{})}
	family := e.knownFamily(ctx, pl) // before the template is read again
	tmplDone := make(chan struct{})
	go func() {
		defer close(tmplDone)
		r.tmpl, r.tmplErr = src.Template(ctx, pl.binding.Template)
	}()
	latest := make(chan latestRead, 1)
	go func() { latest <- e.readLatest(ctx, family) }()
	go func() {
		defer close(r.done)
		r.run, r.runErr = e.describe(ctx, pl.binding, latest)
		<-tmplDone
	}()
	return r
}

// wait blocks until every read finished.
func (r *reads) wait() { <-r.done }

// latestRead is the family's latest revision as read beside the service;
// out is nil when the family is not known beforehand, is new, or could
// not be read (describe then reads it by the serving revision's family).
type latestRead struct {
	out *ecs.DescribeTaskDefinitionOutput
	// remembered: it came from the engine's memory of its own
	// registrations, not from a DescribeTaskDefinition call.
	remembered bool
}

// readLatest reads the latest revision of the family known beforehand
// (knownFamily), if one is: from the engine's memory when it registered
// that family's latest, else from ECS.
func (e *Engine) readLatest(ctx context.Context, known func() (string, bool)) latestRead {
	family, ok := known()
	if !ok {
		return latestRead{}
	}
	if l := e.placeOf(ctx).memory.Last(family); l != nil {
		return latestRead{out: l, remembered: true}
	}
	l, err := e.registrar(ctx).Describe(ctx, family)
	if err != nil {
		return latestRead{} // a new family, or a failure describe retries
	}
	return latestRead{out: l}
}

// expectedManifest is the manifest this invocation will most likely read
// from src (the whole manifest, or group's part), known without a call: the
// previous invocation's, else (on a cold start) the one the source expects
// (the deployment's snapshot, manifestHint).
func (e *Engine) expectedManifest(group string, src store.Source) *manifest.Manifest {
	if m := e.lastManifest(group); m != nil {
		return m
	}
	if h, ok := src.(manifestHint); ok {
		return h.ExpectedManifest()
	}
	return nil
}

// speculate starts the reads of every binding the pushes reach under the
// expected manifest, while the manifest is fetched. When the fetched one is
// the same (the usual 304 when warm, the snapshot's bytes when cold), the
// reads are used and the manifest's round trip is off the critical path;
// when it changed they are dropped.
//
// Only the first Concurrency bindings are read ahead, so reads in flight stay
// bounded (at most twice Concurrency) and fan-out stays paced.
func (e *Engine) speculate(ctx context.Context, src store.Source, prev *manifest.Manifest, pushes []Push, times *pushTimes) map[string]*reads {
	plans, _ := e.plan(prev, pushes, times)
	if len(plans) > e.Concurrency {
		plans = plans[:e.Concurrency]
	}
	out := make(map[string]*reads, len(plans))
	for _, p := range plans {
		bctx, err := e.inTarget(ctx, prev, p.binding)
		if err != nil {
			continue // deployBinding meets the error again, under the current manifest
		}
		out[p.binding.Name] = e.startReads(bctx, src, p)
	}
	return out
}
