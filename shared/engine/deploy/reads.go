package deploy

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// reads are the independent reads one binding needs before deciding: the
// template (S3, usually a 304), the service, and the family's latest
// revision (the family learned from this binding's last render). They run
// in parallel.
type reads struct {
	done    chan struct{}
	tmpl    store.Template
	tmplErr error
	run     *running
	runErr  error
	// remembered: the family's latest came from the engine's memory of its
	// own registrations, not from a DescribeTaskDefinition call.
	remembered bool
}

// startReads starts a binding's reads and returns at once.
func (e *Engine) startReads(ctx context.Context, src store.Source, b *manifest.Service) *reads {
	r := &reads{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		var latest *ecs.DescribeTaskDefinitionOutput
		family, known := e.families.Load(b.Name)
		side := make(chan struct{}, 2)
		go func() {
			r.tmpl, r.tmplErr = src.Template(ctx, b.Template)
			side <- struct{}{}
		}()
		go func() {
			if known {
				if latest = e.placeOf(ctx).memory.Last(family.(string)); latest == nil {
					latest, _ = e.registrar(ctx).Describe(ctx, family.(string))
				} else {
					r.remembered = true
				}
			}
			side <- struct{}{}
		}()
		r.run, r.runErr = e.describe(ctx, b, func() (*ecs.DescribeTaskDefinitionOutput, bool) { <-side; <-side; return latest, r.remembered })
	}()
	return r
}

// wait blocks until every read finished.
func (r *reads) wait() { <-r.done }

// speculate starts the reads of every binding the pushes reach under the
// manifest of the previous invocation, while that manifest is revalidated.
// When it is unchanged (the usual 304), the reads are used and the manifest's
// round trip is off the critical path; when it changed they are dropped.
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
		out[p.binding.Name] = e.startReads(bctx, src, p.binding)
	}
	return out
}
