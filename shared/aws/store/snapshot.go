package store

import (
	"bytes"
	"io/fs"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// The snapshot: the bucket's manifest and templates as the CDK app
// uploaded them, shipped beside the function (the deployer's snapshot
// layer, DECKHAND_SNAPSHOT). It lets a cold start know, before any call,
// which manifest the bucket most likely holds and what its templates say,
// so the deploy engine can read a binding's service, template and
// family-latest revision while the manifest is fetched. It is a hint, never
// the truth: the bucket's manifest is always fetched, the snapshot's parse
// stands for it only when the two are byte for byte the same, and the
// engine only names a family with a snapshot template (the bucket's
// template is the one rendered).

// ExpectedManifest is the manifest the source will most likely return,
// known without a call: the one read last, else (on a cold start) the
// snapshot's, parsed under the bucket's name; nil when neither exists or
// the snapshot's does not validate. When the bucket's manifest turns out
// to have the snapshot's bytes, Manifest returns this very value.
func (s *S3) ExpectedManifest() *manifest.Manifest {
	s.mu.Lock()
	m := s.manifest
	s.mu.Unlock()
	if m != nil {
		return m
	}
	if snap := s.snapshotManifest(); snap != nil {
		return snap.m
	}
	return nil
}

// ExpectedTemplate is the body the template at key most likely has, known
// without a call: the one read last, else the snapshot's.
func (s *S3) ExpectedTemplate(key string) ([]byte, bool) {
	s.mu.Lock()
	obj, ok := s.objects[key]
	s.mu.Unlock()
	if ok {
		return obj.body, true
	}
	if s.Snapshot == nil || !fs.ValidPath(key) {
		return nil, false
	}
	body, err := fs.ReadFile(s.Snapshot, key)
	return body, err == nil
}

// parsedSnapshot is the snapshot's manifest, parsed once.
type parsedSnapshot struct {
	body []byte
	m    *manifest.Manifest
}

// snapshotManifest reads and parses the snapshot's manifest once, until
// the bucket's manifest was read for the first time (adopt).
func (s *S3) snapshotManifest() *parsedSnapshot {
	if s.Snapshot == nil || !fs.ValidPath(s.ManifestKey) {
		return nil
	}
	s.snapOnce.Do(func() {
		body, err := fs.ReadFile(s.Snapshot, s.ManifestKey)
		if err != nil {
			return
		}
		m, err := manifest.Parse(s.name(), body)
		if err != nil {
			return // the bucket's copy will say what is wrong with it
		}
		s.snap = &parsedSnapshot{body: body, m: m}
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}

// adopt returns the snapshot's manifest when the bucket's manifest (body)
// has its bytes, and forgets the snapshot's manifest either way: from now
// on the manifest read last is what the source expects.
func (s *S3) adopt(body []byte) *manifest.Manifest {
	snap := s.snapshotManifest()
	s.mu.Lock()
	s.snap = nil
	s.mu.Unlock()
	if snap != nil && bytes.Equal(snap.body, body) {
		return snap.m
	}
	return nil
}
