package sandbox_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

func TestS3ETagsConditionalGetAndVersions(t *testing.T) {
	c := start(t)
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("deckhand")}); err != nil {
		t.Fatal(err)
	}
	put := func(body string) *s3.PutObjectOutput {
		out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deckhand"), Key: aws.String("deckhand.yaml"),
			Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	v1, v2 := put("version: 1\n"), put("version: 2\n")
	if aws.ToString(v1.VersionId) == "" || aws.ToString(v1.VersionId) == aws.ToString(v2.VersionId) {
		t.Errorf("version ids %q %q: want distinct, non-empty", aws.ToString(v1.VersionId), aws.ToString(v2.VersionId))
	}
	got, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("deckhand"), Key: aws.String("deckhand.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != "version: 2\n" || aws.ToString(got.ETag) != aws.ToString(v2.ETag) || aws.ToString(got.VersionId) != aws.ToString(v2.VersionId) {
		t.Errorf("GetObject = %q etag %s version %s", body, aws.ToString(got.ETag), aws.ToString(got.VersionId))
	}
	// If-None-Match with the current ETag: 304, which the SDK reports as NotModified.
	_, err = c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("deckhand"), Key: aws.String("deckhand.yaml"),
		IfNoneMatch: v2.ETag})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "NotModified" {
		t.Errorf("conditional GET: err = %v, want NotModified", err)
	}
	old, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("deckhand"), Key: aws.String("deckhand.yaml"),
		VersionId: v1.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(old.Body)
	old.Body.Close()
	if string(body) != "version: 1\n" {
		t.Errorf("GetObject version 1 = %q", body)
	}
	var statuses []int
	for _, call := range c.sb.Calls() {
		if call.Service == sandbox.ServiceS3 && call.Op == "GetObject" {
			statuses = append(statuses, call.Status)
		}
	}
	if len(statuses) != 3 || statuses[1] != 304 {
		t.Errorf("GetObject statuses = %v, want [200 304 200]", statuses)
	}
}
