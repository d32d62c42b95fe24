package store

import (
	"context"
	"errors"
	"sync"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Parts gives the deployer a Source per FIFO message group (DESIGN §12,
// fleet scale): the group's part of the manifest (manifest.Parts, which the
// CDK app uploads under a prefix beside the whole), so a cold deployer
// reads and parses its group's bindings rather than the whole fleet's, and
// the whole source's templates, one cache for every group. A group without
// a part (a manifest without parts, or a message of a group the last
// upload renamed) reads the whole manifest. It is safe for concurrent use.
type Parts struct {
	whole  *S3
	prefix string

	mu     sync.Mutex
	byName map[string]*part
}

// NewParts returns the parts under prefix in whole's bucket.
func NewParts(whole *S3, prefix string) *Parts {
	return &Parts{whole: whole, prefix: prefix, byName: map[string]*part{}}
}

// For returns the Source of message group group.
func (p *Parts) For(group string) Source {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.byName[group]
	if s == nil {
		m := NewS3(p.whole.Client, p.whole.Bucket, manifest.PartKey(p.prefix, group))
		m.Snapshot = p.whole.Snapshot // the deployment's snapshot holds the parts too
		s = &part{manifest: m, whole: p.whole}
		p.byName[group] = s
	}
	return s
}

// part is one message group's Source.
type part struct {
	manifest *S3
	whole    Source
}

// Manifest returns the group's part, revalidated by ETag like the whole
// manifest, or the whole manifest when the group has no part.
func (s *part) Manifest(ctx context.Context) (*manifest.Manifest, error) {
	m, err := s.manifest.Manifest(ctx)
	if errors.Is(err, ErrNotFound) {
		return s.whole.Manifest(ctx)
	}
	return m, err
}

// ExpectedManifest is the part the group will most likely read, known
// without a call: the one read last, else the deployment's snapshot's (nil
// when neither exists, as for a group without a part).
func (s *part) ExpectedManifest() *manifest.Manifest { return s.manifest.ExpectedManifest() }

// Template returns the template at key, from the whole source's cache.
func (s *part) Template(ctx context.Context, key string) (Template, error) {
	return s.whole.Template(ctx, key)
}
