package store

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
)

const snapManifest = "version: 1\nservices:\n  - {name: web, cluster: c, service: web, template: t.json, images: {web: {repository: web, tags: \"*\"}}}\n"

func TestSnapshotStandsForAnIdenticalBucketManifest(t *testing.T) {
	f := &fakeS3{body: snapManifest, etag: `"e1"`}
	s := NewS3(f, "b", "deckhand.yaml")
	s.Snapshot = fstest.MapFS{"deckhand.yaml": {Data: []byte(snapManifest)}}
	expected := s.ExpectedManifest()
	if expected == nil || len(expected.Services) != 1 {
		t.Fatalf("ExpectedManifest = %+v, want the snapshot's manifest", expected)
	}
	if len(f.gets) != 0 {
		t.Errorf("ExpectedManifest sent %d GETs, want none", len(f.gets))
	}
	m, err := s.Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m != expected {
		t.Error("the bucket's manifest has the snapshot's bytes, yet Manifest returned another value than ExpectedManifest")
	}
	if got := strings.Join(f.gets, ","); got != "200" {
		t.Errorf("GETs = %s, want one 200: the bucket is always read", got)
	}
	if m.File != "s3://b/deckhand.yaml" {
		t.Errorf("File = %q, want the bucket's name, as if parsed from it", m.File)
	}
}

func TestStaleSnapshotGivesWayToTheBucket(t *testing.T) {
	bucket := strings.Replace(snapManifest, "service: web", "service: web-v2", 1)
	f := &fakeS3{body: bucket, etag: `"e2"`}
	s := NewS3(f, "b", "deckhand.yaml")
	s.Snapshot = fstest.MapFS{"deckhand.yaml": {Data: []byte(snapManifest)}}
	expected := s.ExpectedManifest()
	m, err := s.Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m == expected || m.Services[0].Service != "web-v2" {
		t.Errorf("Manifest = %+v, want the bucket's (service web-v2), not the snapshot's", m.Services[0])
	}
	if got := s.ExpectedManifest(); got != m {
		t.Error("after a read, ExpectedManifest is not the manifest read last")
	}
}

func TestExpectedManifest(t *testing.T) {
	tests := map[string]struct {
		snapshot fstest.MapFS
		want     bool
	}{
		"no snapshot":                        {snapshot: nil, want: false},
		"a snapshot without the manifest":    {snapshot: fstest.MapFS{"t.json": {Data: []byte("{}")}}, want: false},
		"a snapshot whose manifest is wrong": {snapshot: fstest.MapFS{"deckhand.yaml": {Data: []byte("version: 7\n")}}, want: false},
		"a valid snapshot":                   {snapshot: fstest.MapFS{"deckhand.yaml": {Data: []byte(snapManifest)}}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := NewS3(&fakeS3{body: snapManifest, etag: `"e1"`}, "b", "deckhand.yaml")
			if tc.snapshot != nil {
				s.Snapshot = tc.snapshot
			}
			if got := s.ExpectedManifest() != nil; got != tc.want {
				t.Errorf("ExpectedManifest present = %v, want %v", got, tc.want)
			}
			// Whatever the snapshot, the bucket's manifest is read and
			// becomes the expected one.
			m, err := s.Manifest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s.ExpectedManifest() != m {
				t.Error("after a read, ExpectedManifest is not the manifest read last")
			}
		})
	}
}

func TestExpectedTemplate(t *testing.T) {
	f := &fakeS3{body: `{"family":"bucket"}`, etag: `"e1"`}
	s := NewS3(f, "b", "deckhand.yaml")
	if _, ok := s.ExpectedTemplate("t.json"); ok {
		t.Error("an expected template without a snapshot or a read")
	}
	s.Snapshot = fstest.MapFS{"t.json": {Data: []byte(`{"family":"snapshot"}`)}}
	if b, ok := s.ExpectedTemplate("t.json"); !ok || string(b) != `{"family":"snapshot"}` {
		t.Errorf("before a read: %q, %v; want the snapshot's", b, ok)
	}
	for _, key := range []string{"missing.json", "../t.json", "/t.json"} {
		if _, ok := s.ExpectedTemplate(key); ok {
			t.Errorf("ExpectedTemplate(%q) found something", key)
		}
	}
	if _, err := s.Template(context.Background(), "t.json"); err != nil {
		t.Fatal(err)
	}
	if b, ok := s.ExpectedTemplate("t.json"); !ok || string(b) != `{"family":"bucket"}` {
		t.Errorf("after a read: %q, %v; want the body read", b, ok)
	}
	if len(f.gets) != 1 {
		t.Errorf("GETs = %v, want only Template's", f.gets)
	}
}
