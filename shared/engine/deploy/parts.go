package deploy

import (
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Manifest parts (DESIGN §12, fleet scale). A push reaches the deployer in
// its repository's FIFO message group, and every binding it can reach is
// in that group (manifest.MessageGroups). With Parts, a batch of one group
// is decided from that group's part of the manifest (manifest.Parts),
// which the CDK app uploads beside the whole: a cold deployer reads and
// parses a few dozen bindings instead of the whole fleet's thousands. The
// whole manifest decides a batch of several groups (the handler splits
// them), a direct invocation, and a batch with a push the part does not
// bind (a message sent before an upload that regrouped its repository).

// sourceOf is the source a batch is decided from, and its message group
// ("" for the whole manifest).
func (e *Engine) sourceOf(pushes []Push) (string, store.Source) {
	if e.Parts == nil || len(pushes) == 0 {
		return "", e.Source
	}
	group := pushes[0].Group
	for _, p := range pushes {
		if p.Group != group {
			return "", e.Source
		}
	}
	if group == "" {
		return "", e.Source
	}
	return group, e.Parts(group)
}

// unbound reports whether a push's repository has no binding in m.
func unbound(m *manifest.Manifest, pushes []Push) bool {
	for _, p := range pushes {
		if len(m.BindingsFor(p.Repository)) == 0 {
			return true
		}
	}
	return false
}

// lastManifest is the manifest the engine last read for group ("": the
// whole): speculate reads ahead under it.
func (e *Engine) lastManifest(group string) *manifest.Manifest {
	if group == "" {
		return e.manifest.Load()
	}
	m, _ := e.parts.Load(group)
	prev, _ := m.(*manifest.Manifest)
	return prev
}

// remember records the manifest read for group.
func (e *Engine) remember(group string, m *manifest.Manifest) {
	if group == "" {
		e.manifest.Store(m)
		return
	}
	e.parts.Store(group, m)
}
