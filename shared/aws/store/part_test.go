package store

import (
	"context"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// bucketS3 serves several objects by key, with one ETag each, and answers
// If-None-Match like S3.
type bucketS3 struct {
	objects map[string]string
	gets    map[string][]string // key → "200", "304" or "404" per call
}

func (f *bucketS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	body, ok := f.objects[key]
	switch {
	case !ok:
		f.gets[key] = append(f.gets[key], "404")
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	case aws.ToString(in.IfNoneMatch) == `"`+key+`"`:
		f.gets[key] = append(f.gets[key], "304")
		return nil, &smithy.GenericAPIError{Code: "NotModified"}
	}
	f.gets[key] = append(f.gets[key], "200")
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body)), ETag: aws.String(`"` + key + `"`)}, nil
}

const (
	webBinding = "  - {name: web, cluster: prod, service: web, template: t.json, images: {web: {repository: web, tags: \"*\"}}}\n"
	apiBinding = "  - {name: api, cluster: prod, service: api, template: t.json, images: {api: {repository: api, tags: \"*\"}}}\n"
)

// TestPartsReadTheirGroupsPartElseTheWhole: a group's source parses its
// part of the manifest, a group without a part reads the whole, and both
// read templates through the whole source's one cache.
func TestPartsReadTheirGroupsPartElseTheWhole(t *testing.T) {
	f := &bucketS3{gets: map[string][]string{}, objects: map[string]string{
		"deckhand.yaml":  "version: 1\nservices:\n" + webBinding + apiBinding,
		"parts/web.yaml": "version: 1\nservices:\n" + webBinding,
		"t.json":         "{}",
	}}
	parts := NewParts(NewS3(f, "b", "deckhand.yaml"), "parts/")
	ctx := context.Background()
	for group, want := range map[string]int{"web": 1, "api": 2} {
		m, err := parts.For(group).Manifest(ctx)
		if err != nil {
			t.Fatalf("group %s: %v", group, err)
		}
		if len(m.Services) != want {
			t.Errorf("group %s reads %d services, want %d", group, len(m.Services), want)
		}
		if _, err := parts.For(group).Template(ctx, "t.json"); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(f.gets["t.json"], " "); got != "200 304" {
		t.Errorf("template GETs for two groups: %s, want 200 304 (one cache)", got)
	}
	if got := strings.Join(f.gets["deckhand.yaml"], " "); got != "200" {
		t.Errorf("whole manifest GETs: %s, want one (for the group without a part)", got)
	}
}

// TestAPartIsExpectedFromTheSnapshot: on a cold start a group's part is
// known from the deployment's snapshot before any call, and stands for the
// bucket's part when their bytes agree; a group without a part expects
// nothing.
func TestAPartIsExpectedFromTheSnapshot(t *testing.T) {
	webPart := "version: 1\nservices:\n" + webBinding
	f := &bucketS3{gets: map[string][]string{}, objects: map[string]string{
		"deckhand.yaml":  "version: 1\nservices:\n" + webBinding + apiBinding,
		"parts/web.yaml": webPart,
	}}
	whole := NewS3(f, "b", "deckhand.yaml")
	whole.Snapshot = fstest.MapFS{"parts/web.yaml": {Data: []byte(webPart)}}
	parts := NewParts(whole, "parts/")
	type hint interface{ ExpectedManifest() *manifest.Manifest }
	web := parts.For("web").(hint)
	expected := web.ExpectedManifest()
	if expected == nil || len(expected.Services) != 1 {
		t.Fatalf("ExpectedManifest of group web = %+v, want the snapshot's part", expected)
	}
	if len(f.gets["parts/web.yaml"]) != 0 {
		t.Errorf("ExpectedManifest sent GETs: %v", f.gets)
	}
	m, err := parts.For("web").Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m != expected {
		t.Error("the bucket's part has the snapshot's bytes, yet Manifest returned another value than ExpectedManifest")
	}
	if got := parts.For("api").(hint).ExpectedManifest(); got != nil {
		t.Errorf("group api has no part, yet expects %+v", got)
	}
}
