package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// fakeS3 serves one object and answers If-None-Match like S3.
type fakeS3 struct {
	body, etag string
	gets       []string // "200" or "304" per call
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if f.body == "" {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	}
	if aws.ToString(in.IfNoneMatch) == f.etag {
		f.gets = append(f.gets, "304")
		return nil, &smithy.GenericAPIError{Code: "NotModified"}
	}
	f.gets = append(f.gets, "200")
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(f.body)), ETag: aws.String(f.etag), VersionId: aws.String("v1")}, nil
}

func TestS3RevalidatesWithETag(t *testing.T) {
	f := &fakeS3{body: "version: 1\n", etag: `"e1"`}
	s := NewS3(f, "b", "deckhand.yaml")
	ctx := context.Background()
	m1, err := s.Manifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := s.Manifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m1 != m2 {
		t.Error("an unchanged manifest was parsed again")
	}
	f.body, f.etag = "version: 2\n", `"e2"`
	if _, err := s.Manifest(ctx); err == nil || !strings.Contains(err.Error(), "unsupported version 2") {
		t.Errorf("a changed manifest was not re-read: %v", err)
	}
	if got := strings.Join(f.gets, ","); got != "200,304,200" {
		t.Errorf("GETs = %s, want 200,304,200", got)
	}
	tmpl, err := s.Template(ctx, "deckhand.yaml")
	if err != nil || tmpl.Version != "deckhand.yaml@v1" {
		t.Errorf("Template = %+v, %v", tmpl, err)
	}
}

func TestMissingObjectIsNotFound(t *testing.T) {
	s := NewS3(&fakeS3{}, "b", "deckhand.yaml")
	if _, err := s.Template(context.Background(), "templates/x.json"); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if _, err := (Dir{ManifestPath: "testdata/none/deckhand.yaml"}).Template(context.Background(), "t.json"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Dir: err = %v, want ErrNotFound", err)
	}
}

func TestDirReadsRelativeToTheManifest(t *testing.T) {
	d := Dir{ManifestPath: "../../../examples/deckhand.yaml"}
	m, err := d.Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := d.Template(context.Background(), m.Services[0].Template)
	if err != nil || !strings.Contains(string(tmpl.Body), `"family"`) || !strings.HasPrefix(tmpl.Version, "templates/web.json@") {
		t.Errorf("Template = %q, %v", tmpl.Version, err)
	}
}

func TestDirNamesTheMissingTemplateFile(t *testing.T) {
	dir := t.TempDir()
	d := Dir{ManifestPath: filepath.Join(dir, "deckhand.yaml")}
	_, err := d.Template(context.Background(), "templates/missing.json")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	want := "read template " + filepath.Join(dir, "templates", "missing.json") + ": no such file"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to say %q", err, want)
	}
}

// TestS3ReadsABundle: a manifest with include: reaches the functions as one
// bundle object (manifest.Bundle, uploaded by the CDK app), read with one
// GET; the Dir source reads the same files from disk.
func TestS3ReadsABundle(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"deckhand.yaml":       "version: 1\ninclude: [teams/]\n",
		"teams/payments.yaml": "services:\n  - {name: pay, cluster: prod, service: pay, template: t.json, images: {pay: {repository: pay, tags: \"*\"}}}\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bundle, err := manifest.Bundle(filepath.Join(dir, "deckhand.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeS3{body: string(bundle), etag: `"e1"`}
	m, err := NewS3(f, "b", "deckhand.yaml").Manifest(context.Background())
	if err != nil {
		t.Fatalf("Manifest(bundle): %v", err)
	}
	if _, ok := m.Service("pay"); !ok || len(f.gets) != 1 {
		t.Errorf("the included service is missing or the bundle took %d GETs", len(f.gets))
	}
	local, err := (Dir{ManifestPath: filepath.Join(dir, "deckhand.yaml")}).Manifest(context.Background())
	if err != nil || len(local.BindingsFor("pay")) != 1 {
		t.Errorf("Dir: %v", err)
	}
}
