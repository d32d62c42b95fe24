package deploy

import (
	"context"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// manifestHint is a Source that knows, without a call, which manifest it
// will most likely return: store.S3 (the one read last, else the
// deployment's snapshot).
type manifestHint interface {
	ExpectedManifest() *manifest.Manifest
}

// templateHint is a Source that knows, without a call, the body a template
// most likely has: store.S3 (the body read last, else the deployment's
// snapshot) and store.Dir (a local file).
type templateHint interface {
	ExpectedTemplate(key string) ([]byte, bool)
}

var (
	_ manifestHint = (*store.S3)(nil)
	_ templateHint = (*store.S3)(nil)
	_ templateHint = store.Dir{}
)

// knownFamily names the family the plan's binding registers its revisions
// in before its template is read, so that the family's latest revision is
// read beside the service rather than after it: the family of the
// binding's last render in this process, else the family of the template
// body the source expects (templateHint), rendered with the plan's pushes
// (taskdef.Family). It takes what the engine knows when it is called and
// returns a function that names the family (false: none is known), to be
// called beside the reads.
//
// The family is a guess, and the engine relies on it for nothing but
// timing: the family's latest stands for the running revision only when
// their ARNs agree, and for the family's latest only when it is of the
// running revision's family (describe); rule 7 reuses it only when its
// family is the rendered one (revision.Registrar.Reuse). A wrong guess
// costs a call.
func (e *Engine) knownFamily(ctx context.Context, pl plan) func() (string, bool) {
	b := pl.binding
	if f, ok := e.families.Load(b.Name); ok {
		return func() (string, bool) { return f.(string), true }
	}
	unknown := func() (string, bool) { return "", false }
	h, ok := e.Source.(templateHint)
	if !ok {
		return unknown
	}
	body, ok := h.ExpectedTemplate(b.Template)
	if !ok {
		return unknown
	}
	account, region := e.where(ctx)
	return func() (string, bool) {
		data := taskdef.Data{Account: account, Region: region, Cluster: b.Cluster, Service: b.Service,
			Images: map[string]taskdef.Image{}, Vars: b.Vars}
		for c, p := range pl.pushes {
			data.Images[c] = taskdef.Image{Registry: registryOf(p, e), Repository: p.Repository, Tag: p.Tag, Digest: p.Digest, PushedAt: p.PushedAt}
		}
		if primary := revision.ServicePrimary(b); data.Images[primary].Digest != "" {
			data.Primary = primary // else a family naming .Image is not known yet
		}
		family, err := taskdef.Family(body, data)
		return family, err == nil
	}
}
