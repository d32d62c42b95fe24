// Package store loads the manifest and templates Deckhand runs from: from S3
// in the functions (cached across warm invocations and revalidated with a
// conditional GET on the ETag), or from a local directory in the CLI.
//
// A manifest that includes other files reaches S3 as one bundle object
// (manifest.Bundle, uploaded by the CDK app): one conditional GET revalidates
// all of it, and no reader sees a new root beside old team files.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/singleflight"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Template is a template body and the version it was read at.
type Template struct {
	Key  string
	Body []byte
	// Version identifies the body: "<key>@<version id>" in a versioned
	// bucket, else "<key>@<etag>". It becomes the deckhand:template tag.
	Version string
}

// Source is where the engines read the manifest and templates.
type Source interface {
	Manifest(ctx context.Context) (*manifest.Manifest, error)
	Template(ctx context.Context, key string) (Template, error)
}

type s3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ s3API = (*s3.Client)(nil)

// S3 is a Source backed by an S3 bucket. It is safe for concurrent use:
// concurrent reads of one key share one GET, whatever the cache state, so
// bindings that share a template never send two conditional GETs of it at
// once (issue 17). Within one invocation, wrap it in Once so that later
// reads of a key do not fetch it again either.
type S3 struct {
	Client      s3API
	Bucket      string
	ManifestKey string
	// Snapshot, when set, holds the bucket's objects as the function was
	// deployed with them, at their keys (snapshot.go): a hint for cold
	// starts, never read instead of the bucket.
	Snapshot fs.FS

	flight   singleflight.Group
	parseMu  sync.Mutex
	mu       sync.Mutex
	objects  map[string]object
	manifest *manifest.Manifest
	manETag  string
	snapOnce sync.Once
	snap     *parsedSnapshot
}

type object struct {
	etag, version string
	body          []byte
}

// NewS3 returns an S3 source for the manifest at key in bucket.
func NewS3(client s3API, bucket, manifestKey string) *S3 {
	return &S3{Client: client, Bucket: bucket, ManifestKey: manifestKey, objects: map[string]object{}}
}

// Manifest returns the parsed manifest, re-parsing only when its ETag
// changed. A manifest that fails validation is an error wrapping
// manifest.ErrInvalid.
func (s *S3) Manifest(ctx context.Context) (*manifest.Manifest, error) {
	obj, err := s.get(ctx, s.ManifestKey)
	if err != nil {
		return nil, err
	}
	s.parseMu.Lock() // one parse at a time, and every caller gets its result
	defer s.parseMu.Unlock()
	s.mu.Lock()
	cached, etag := s.manifest, s.manETag
	s.mu.Unlock()
	if cached != nil && etag == obj.etag {
		return cached, nil
	}
	m := s.adopt(obj.body) // the snapshot's parse, when the bytes are its
	if m == nil {
		if m, err = manifest.Parse(s.name(), obj.body); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.manifest, s.manETag = m, obj.etag
	s.mu.Unlock()
	return m, nil
}

// name is the manifest's name in errors: its S3 URI.
func (s *S3) name() string { return "s3://" + s.Bucket + "/" + s.ManifestKey }

// Template returns the template at key.
func (s *S3) Template(ctx context.Context, key string) (Template, error) {
	obj, err := s.get(ctx, key)
	if err != nil {
		return Template{}, err
	}
	v := obj.version
	if v == "" || v == "null" {
		v = obj.etag
	}
	return Template{Key: key, Body: obj.body, Version: key + "@" + v}, nil
}

// ErrNotFound is returned when the manifest or a template does not exist.
var ErrNotFound = errors.New("object not found")

// get fetches key, sending If-None-Match when cached. A 304 surfaces from
// the SDK as an API error with code NotModified: that is the cache hit.
// Concurrent gets of one key share one request.
func (s *S3) get(ctx context.Context, key string) (object, error) {
	v, err, _ := s.flight.Do(key, func() (any, error) { return s.fetch(ctx, key) })
	if err != nil {
		return object{}, err
	}
	return v.(object), nil
}

// fetch sends one (conditional) GET of key and caches the answer.
func (s *S3) fetch(ctx context.Context, key string) (object, error) {
	s.mu.Lock()
	cached, ok := s.objects[key]
	s.mu.Unlock()
	in := &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}
	if ok {
		in.IfNoneMatch = aws.String(cached.etag)
	}
	out, err := s.Client.GetObject(ctx, in)
	if err != nil {
		if ok && awserr.NotModified(err) {
			return cached, nil
		}
		if awserr.NoSuchKey(err) {
			return object{}, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, ErrNotFound)
		}
		return object{}, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return object{}, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	obj := object{etag: aws.ToString(out.ETag), version: aws.ToString(out.VersionId), body: body}
	s.mu.Lock()
	s.objects[key] = obj
	s.mu.Unlock()
	return obj, nil
}
