package store

import (
	"context"
	"sync"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Once returns a Source that reads the manifest and each template from src
// at most once: concurrent and later reads of a key share the first read's
// answer, error included. Build one per invocation, so that one invocation
// fetches one object once (issue 17): bindings that share a template, and a
// binding read ahead under the previous manifest and read again after it
// changed, all see the same body and version, and a failed read fails every
// binding that needs it alike. It is safe for concurrent use.
func Once(src Source) Source {
	return &once{src: src, templates: map[string]*templateRead{}}
}

type once struct {
	src Source

	manifestOnce sync.Once
	m            *manifest.Manifest
	mErr         error

	mu        sync.Mutex
	templates map[string]*templateRead
}

type templateRead struct {
	once sync.Once
	t    Template
	err  error
}

func (o *once) Manifest(ctx context.Context) (*manifest.Manifest, error) {
	o.manifestOnce.Do(func() { o.m, o.mErr = o.src.Manifest(ctx) })
	return o.m, o.mErr
}

func (o *once) Template(ctx context.Context, key string) (Template, error) {
	o.mu.Lock()
	r := o.templates[key]
	if r == nil {
		r = &templateRead{}
		o.templates[key] = r
	}
	o.mu.Unlock()
	r.once.Do(func() { r.t, r.err = o.src.Template(ctx, key) })
	return r.t, r.err
}
