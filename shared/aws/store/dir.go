package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Dir is a Source that reads a manifest file and resolves template keys
// relative to the manifest's directory. The CLI uses it to work offline.
type Dir struct {
	ManifestPath string
}

// Manifest loads and validates the manifest file.
func (d Dir) Manifest(context.Context) (*manifest.Manifest, error) {
	return manifest.Load(d.ManifestPath)
}

// Template reads key relative to the manifest's directory. Its version is
// the key plus a hash of the body.
func (d Dir) Template(_ context.Context, key string) (Template, error) {
	path := filepath.Join(filepath.Dir(d.ManifestPath), filepath.FromSlash(key))
	body, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Template{}, &missingFile{path: path}
	}
	if err != nil {
		return Template{}, fmt.Errorf("read template %s: %w", path, err)
	}
	sum := sha256.Sum256(body)
	return Template{Key: key, Body: body, Version: key + "@" + hex.EncodeToString(sum[:8])}, nil
}

// missingFile is a template file that does not exist; it is ErrNotFound.
type missingFile struct{ path string }

func (e *missingFile) Error() string {
	return fmt.Sprintf("read template %s: no such file (template keys are relative to the manifest's directory)", e.path)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *missingFile) Is(target error) bool { return target == ErrNotFound }

// ExpectedTemplate is the template at key as Template reads it: a local
// file costs no call, so the deploy engine may name a binding's family from
// it before it reads anything from AWS.
func (d Dir) ExpectedTemplate(key string) ([]byte, bool) {
	t, err := d.Template(context.Background(), key)
	return t.Body, err == nil
}
