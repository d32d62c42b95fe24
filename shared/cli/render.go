package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// RenderRequest asks for the task definition of a binding or job.
type RenderRequest struct {
	Name   string     // a service binding or a job
	Images []Resolved // images for some of its containers
	// Vars override the manifest's vars (--var K=V).
	Vars            map[string]string
	Account, Region string
	// Refs resolves {{ ssm }} and {{ secret }} references (render
	// --resolve); without it they are rendered offline: an SSM parameter's
	// ARN computed, a secret's suffix "XXXXXX" (noted).
	Refs taskdef.Resolver
}

// RenderResult is a rendered task definition and how it was made.
type RenderResult struct {
	Kind     string // "service" or "job"
	Name     string
	Template string
	Family   string
	Rendered *taskdef.Rendered
	// Images are the images per container, as rendered.
	Images map[string]Resolved
	// Notes say what was made up: placeholder images, fake digests.
	Notes []string
}

// Render renders a binding's or job's template the way the deployer or the
// runner would, from src alone. Containers without an image in the request
// get a placeholder image with a fake digest (noted): offline, Deckhand
// cannot know what they run.
func Render(ctx context.Context, src store.Source, req RenderRequest) (*RenderResult, error) {
	m, pending, err := DraftManifest(ctx, src)
	if err != nil {
		return nil, err
	}
	t, err := target(m, req.Name)
	if err != nil {
		return nil, err
	}
	res := &RenderResult{Kind: t.kind, Name: t.name, Template: t.template, Notes: pending}
	assigned, err := assignImages(t.name, t.images, req.Images, t.kind == "service")
	if err != nil {
		return nil, err
	}
	registry := taskdef.Registry(req.Account, req.Region)
	res.Images = map[string]Resolved{}
	for _, c := range sortedKeys(t.images) {
		if r, ok := assigned[c]; ok {
			if r.Registry == "" {
				r.Registry = registry
			}
			if r.Fake {
				res.Notes = append(res.Notes, fmt.Sprintf("container %s: %s:%s has no digest offline; using the fake digest %s (pass --digest, or REPO@DIGEST)",
					c, r.Repository, r.Tag, r.Digest))
			}
			res.Images[c] = r
			continue
		}
		ph := Placeholder(t.images[c], registry)
		res.Images[c] = ph
		res.Notes = append(res.Notes, fmt.Sprintf("container %s: no --image given; using the placeholder %s:%s with a fake digest", c, ph.Repository, ph.Tag))
	}
	vars := maps.Clone(t.vars)
	if len(req.Vars) > 0 && vars == nil {
		vars = map[string]string{}
	}
	maps.Copy(vars, req.Vars)
	tmpl, err := src.Template(ctx, t.template)
	if err != nil {
		return nil, fmt.Errorf("load template %s of %s: %w", t.template, t.name, err)
	}
	data := taskdef.Data{Account: req.Account, Region: req.Region, Cluster: t.cluster, Service: t.service,
		Images: map[string]taskdef.Image{}, Primary: t.primary, Vars: vars}
	for c, r := range res.Images {
		data.Images[c] = r.Image
	}
	opts := t.options(m)
	if req.Refs != nil {
		if data.Refs, err = taskdef.ResolveRefs(ctx, req.Refs, tmpl.Body, t.template); err != nil {
			return nil, err
		}
	} else if refs, _ := taskdef.References(tmpl.Body, t.template); len(refs) > 0 {
		opts.OfflineRefs = true
		res.Notes = append(res.Notes, fmt.Sprintf("%d {{ ssm }}/{{ secret }} reference(s) rendered offline: SSM parameter ARNs computed, secret ARNs end in -XXXXXX (pass --resolve to look them up)", len(refs)))
	}
	r, err := taskdef.Render(tmpl.Body, data, opts)
	if err != nil {
		return nil, err
	}
	res.Rendered = r
	res.Family = derefString(r.Input.Family)
	return res, nil
}

// DraftManifest loads the manifest for an offline render. A manifest whose
// only problems are values left for a person to fill in (a job's schedule
// after `deckhand init`) still renders: they are returned as notes, since
// they do not change a task definition; validate and deploy refuse it.
func DraftManifest(ctx context.Context, src store.Source) (*manifest.Manifest, []string, error) {
	m, err := src.Manifest(ctx)
	var merr *manifest.Error
	if err != nil && m != nil && errors.As(err, &merr) && merr.OnlyPending() {
		var notes []string
		for _, p := range merr.Problems {
			notes = append(notes, p.String()+" (validate and deploy refuse the manifest until it is filled in)")
		}
		return m, notes, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load manifest: %w", err)
	}
	return m, nil, nil
}

// Placeholder is the sample image of a container source: its repository
// (or the service it follows) with tag "sample" and a fake digest.
func Placeholder(src manifest.Image, registry string) Resolved {
	repo := src.Origin()
	if repo == "" {
		repo = src.FromService
	}
	return Resolved{Image: taskdef.Image{Registry: registry, Repository: repo, Tag: "sample", Digest: FakeDigest(repo, "sample")},
		Tags: []string{"sample"}, Fake: true}
}

// renderTarget is what a binding and a job have in common for rendering.
type renderTarget struct {
	kind, name, template string
	cluster, service     string
	images               map[string]manifest.Image
	vars                 map[string]string
	primary              string
	allow                *manifest.Allow
	job                  *manifest.Job // for a job: RunTask's refusals are checked too
}

// options are the renderer's options for the target, as the deployer and
// the runner pass them.
func (t renderTarget) options(m *manifest.Manifest) taskdef.Options {
	return taskdef.Options{Key: t.template, Roles: m.Roles, Allow: t.allow, Sources: m.Sources, Job: t.job}
}

func target(m *manifest.Manifest, name string) (renderTarget, error) {
	if b, ok := m.Service(name); ok {
		return serviceTarget(b), nil
	}
	if j, ok := m.Job(name); ok {
		return jobTarget(j), nil
	}
	var known []string
	for _, s := range m.Services {
		known = append(known, s.Name)
	}
	for _, j := range m.Jobs {
		known = append(known, j.Name+" (job)")
	}
	return renderTarget{}, &NotFoundError{Kind: "binding or job", Name: name, Known: known, KnownLabel: "bindings and jobs"}
}

func serviceTarget(b *manifest.Service) renderTarget {
	return renderTarget{kind: "service", name: b.Name, template: b.Template, cluster: b.Cluster, service: b.Service,
		images: b.Images, vars: b.Vars, primary: revision.ServicePrimary(b), allow: b.Allow}
}

func jobTarget(j *manifest.Job) renderTarget {
	return renderTarget{kind: "job", name: j.Name, template: j.Template, cluster: j.Cluster, service: j.Name,
		images: j.Images, vars: j.Vars, primary: revision.JobPrimary(j), allow: j.Allow, job: j}
}

// OfflineAccount is the account to render with offline: the one the
// manifest's roles name (so the role allow-list holds), else a sample.
func OfflineAccount(m *manifest.Manifest) string {
	for _, r := range m.Roles {
		parts := strings.SplitN(r, ":", 6)
		if len(parts) == 6 && len(parts[4]) == 12 {
			return parts[4]
		}
	}
	return "123456789012"
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
