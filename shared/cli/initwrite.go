package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

type ecsInput = ecs.RegisterTaskDefinitionInput

// scheduleComment follows the empty schedule init writes for a job.
const scheduleComment = "  # fill in: cron(0 3 * * ? *), rate(1 hour), … (EventBridge Scheduler); deckhand validate fails until you do"

// writeAdoption edits the manifest and writes the template, then renders
// the new entry with the running images and checks it against the running
// revision. On any failure the files are put back as they were.
func (e *Env) writeAdoption(ctx context.Context, req InitRequest, res *InitResult, d *described, entry any, tmpl []byte, running []Resolved) error {
	src, m, existed, err := loadForInit(ctx, req.Manifest)
	if err != nil {
		return err
	}
	text, err := parseManifestText(req.Manifest, src)
	if err != nil {
		return err
	}
	if kind := existing(m, res.Binding); kind != "" {
		if !req.Force {
			return fmt.Errorf("%s already has a %s named %s; pass --force to replace it, or --binding to name this one differently", req.Manifest, kind, res.Binding)
		}
		if !text.removeItem("services", res.Binding) && !text.removeItem("jobs", res.Binding) {
			return fmt.Errorf("%s %s is in a file %s includes; remove it there, or pass --binding to name this one differently", kind, res.Binding, req.Manifest)
		}
		res.Replaced = true
		if err := text.reparse(); err != nil {
			return err
		}
	}
	oldTmpl, tmplErr := os.ReadFile(res.Template)
	if tmplErr == nil && !req.Force {
		return fmt.Errorf("%s exists; pass --force to overwrite it, or --binding to name this one differently", res.Template)
	}
	res.Roles = addedRoles(m, d.Input)
	if err := text.appendScalars("roles", res.Roles); err != nil {
		return err
	}
	item, err := entryYAML(entry)
	if err != nil {
		return err
	}
	section := "services"
	if res.Kind == "job" {
		section = "jobs"
		item = []byte(strings.Replace(string(item), "schedule: \"\"\n", "schedule: \"\""+scheduleComment+"\n", 1))
	}
	if err := text.appendItem(section, item); err != nil {
		return err
	}
	restore := func() {
		if existed {
			_ = os.WriteFile(req.Manifest, src, 0o644)
		} else {
			_ = os.Remove(req.Manifest)
		}
		if tmplErr == nil {
			_ = os.WriteFile(res.Template, oldTmpl, 0o644)
		} else {
			_ = os.Remove(res.Template)
		}
	}
	if err := os.MkdirAll(filepath.Dir(res.Template), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(res.Template), err)
	}
	if err := os.WriteFile(res.Template, tmpl, 0o644); err != nil {
		restore()
		return fmt.Errorf("write template: %w", err)
	}
	if err := writeFileAtomic(req.Manifest, text.bytes()); err != nil {
		restore()
		return err
	}
	if err := e.checkAdoption(ctx, req, res, d, running); err != nil {
		restore()
		return err
	}
	return nil
}

// checkAdoption renders the new entry as `deckhand render` would, with the
// running images, and compares it with the running revision.
func (e *Env) checkAdoption(ctx context.Context, req InitRequest, res *InitResult, d *described, running []Resolved) error {
	src := store.Dir{ManifestPath: req.Manifest}
	m, pending, err := DraftManifest(ctx, src)
	if err != nil {
		return fmt.Errorf("the manifest with the new entry does not load (nothing was written): %w", err)
	}
	res.Notes = append(res.Notes, pending...)
	images := make([]Resolved, len(running))
	for i, r := range running {
		// The running digest, whatever tag the reference names: the check
		// is of the template, not of the guessed policy.
		r.Tag, r.Offline = "", true
		images[i] = r
	}
	r, err := Render(ctx, src, RenderRequest{Name: res.Binding, Images: images, Account: accountOf(d.ARN), Region: e.Region})
	if err != nil {
		return fmt.Errorf("the new entry does not render (nothing was written): %w", err)
	}
	bound := map[string]manifest.Image{}
	if b, ok := m.Service(res.Binding); ok {
		bound = b.Images
	} else if j, ok := m.Job(res.Binding); ok {
		bound = j.Images
	}
	return sameAsRunning(d, r.Rendered, bound)
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, so a crash leaves the old manifest or the new one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".deckhand-init-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
