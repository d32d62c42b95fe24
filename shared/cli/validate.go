package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Finding is one problem or warning. Templates are named in File with the
// JSON path in Field.
type Finding struct {
	File  string `json:"file"`
	Line  int    `json:"line,omitempty"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"message"`
}

func (f Finding) String() string {
	return manifest.Problem{File: f.File, Line: f.Line, Field: f.Field, Msg: f.Msg}.String()
}

// ValidateReport is the result of Validate.
type ValidateReport struct {
	Manifest  string    `json:"manifest"`
	Services  int       `json:"services"`
	Jobs      int       `json:"jobs"`
	Templates int       `json:"templatesRendered"`
	Problems  []Finding `json:"problems"`
	Warnings  []Finding `json:"warnings"`
}

// OK reports whether no problem was found (warnings are allowed).
func (r *ValidateReport) OK() bool { return len(r.Problems) == 0 }

// secretRe matches variable names that look like secrets (DESIGN §9).
var secretRe = regexp.MustCompile(`(?i)(SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|PRIVATE)`)

// LooksSecret reports whether a variable name looks like it holds a secret.
func LooksSecret(name string) bool { return secretRe.MatchString(name) }

// Validate checks the manifest and renders every template it references with
// sample data (placeholder images with fake digests), collecting every
// problem: manifest schema, schedules, tag policies, templates, roles. It
// warns on literal values of variables that look like secrets. The error is
// for a manifest that could not be read at all.
func Validate(ctx context.Context, src store.Source, name, region string) (*ValidateReport, error) {
	rep := &ValidateReport{Manifest: name, Problems: []Finding{}, Warnings: []Finding{}}
	m, err := src.Manifest(ctx)
	var merr *manifest.Error
	switch {
	case errors.As(err, &merr):
		for _, p := range merr.Problems {
			rep.Problems = append(rep.Problems, Finding{File: p.File, Line: p.Line, Field: p.Field, Msg: p.Msg})
		}
	case err != nil:
		return nil, fmt.Errorf("load manifest %s: %w", name, err)
	}
	if m == nil {
		return rep, nil
	}
	file := m.File
	if file == "" {
		file = name
	}
	rep.Services, rep.Jobs = len(m.Services), len(m.Jobs)
	account := OfflineAccount(m)
	if region == "" {
		region = "us-east-1"
	}
	var targets []renderTarget
	for i := range m.Services {
		targets = append(targets, serviceTarget(&m.Services[i]))
		secretVars(rep, file, fmt.Sprintf("services[%d].vars", i), m.Services[i].Vars)
	}
	for i := range m.Jobs {
		targets = append(targets, jobTarget(&m.Jobs[i]))
		secretVars(rep, file, fmt.Sprintf("jobs[%d].vars", i), m.Jobs[i].Vars)
	}
	registry := taskdef.Registry(account, region)
	// Name templates as people can open them: next to a local manifest.
	where := func(key string) string {
		if strings.Contains(name, "://") {
			return key
		}
		return filepath.Join(filepath.Dir(name), filepath.FromSlash(key))
	}
	for _, t := range targets {
		if t.template == "" || (t.kind == "service" && len(t.images) == 0) {
			continue // the manifest problems say so
		}
		tmpl, err := src.Template(ctx, t.template)
		if err != nil {
			rep.Problems = append(rep.Problems, Finding{File: where(t.template), Msg: fmt.Sprintf("%s %s: %v", t.kind, t.name, err)})
			continue
		}
		data := taskdef.Data{Account: account, Region: region, Cluster: t.cluster, Service: t.service,
			Images: map[string]taskdef.Image{}, Primary: t.primary, Vars: t.vars}
		for c, src := range t.images {
			data.Images[c] = Placeholder(src, registry).Image
		}
		opts := t.options(m)
		opts.OfflineRefs = true // names are checked; whether they exist is verify's
		r, err := taskdef.Render(tmpl.Body, data, opts)
		rep.Templates++
		if problems := taskdef.Problems(err); len(problems) > 0 {
			for _, te := range problems {
				msg := te.Err.Error()
				if te.Placeholder != "" {
					msg = fmt.Sprintf("%q: %s", te.Placeholder, msg)
				}
				rep.Problems = append(rep.Problems, Finding{File: where(t.template), Field: te.Path, Msg: fmt.Sprintf("%s %s: %s", t.kind, t.name, msg)})
			}
			continue
		}
		if err != nil {
			rep.Problems = append(rep.Problems, Finding{File: where(t.template), Msg: fmt.Sprintf("%s %s: %v", t.kind, t.name, err)})
			continue
		}
		secretEnv(rep, t, r, where(t.template))
		mutableImages(rep, t, r, where(t.template))
	}
	return rep, nil
}

// mutableImages warns on images of containers not bound in images: that
// are named by a tag: what runs changes whenever the tag is pushed again,
// with no deploy and no record.
func mutableImages(rep *ValidateReport, t renderTarget, r *taskdef.Rendered, file string) {
	for i, c := range r.Input.ContainerDefinitions {
		name, image := aws.ToString(c.Name), aws.ToString(c.Image)
		if _, bound := t.images[name]; bound || pinned(image) {
			continue
		}
		rep.Warnings = append(rep.Warnings, Finding{File: file, Field: fmt.Sprintf("$.containerDefinitions[%d].image", i),
			Msg: fmt.Sprintf("%s %s: container %s runs %s by a mutable tag, so what runs changes whenever the tag moves; pin it by digest (…@sha256:…) or bind the container under images:",
				t.kind, t.name, name, image)})
	}
}

// pinned reports whether an image reference names its digest.
func pinned(image string) bool {
	_, digest, ok := strings.Cut(image, "@")
	return ok && events.ValidImageDigest(digest)
}

func secretVars(rep *ValidateReport, file, path string, vars map[string]string) {
	for _, k := range sortedKeys(vars) {
		if LooksSecret(k) && vars[k] != "" {
			rep.Warnings = append(rep.Warnings, Finding{File: file, Field: path + "." + k,
				Msg: "looks like a secret but has a literal value; put it in Secrets Manager or SSM and reference it from the template's secrets[].valueFrom"})
		}
	}
}

// secretEnv warns on literal environment values with secret-looking names.
func secretEnv(rep *ValidateReport, t renderTarget, r *taskdef.Rendered, file string) {
	for i, c := range r.Input.ContainerDefinitions {
		for j, kv := range c.Environment {
			name := aws.ToString(kv.Name)
			if !LooksSecret(name) || aws.ToString(kv.Value) == "" {
				continue
			}
			rep.Warnings = append(rep.Warnings, Finding{File: file,
				Field: fmt.Sprintf("$.containerDefinitions[%d].environment[%d]", i, j),
				Msg: fmt.Sprintf("%s %s: %s looks like a secret but has a literal value; use secrets[].valueFrom instead",
					t.kind, t.name, strings.TrimSpace(name))})
		}
	}
}
