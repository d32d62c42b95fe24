package config

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// TestS3OptionsSilenceTheChecksumSkippedLine gets an object stored without
// a checksum (as the sandbox and most uploads serve it) and checks that the
// SDK's per-call "no supported checksum" line is logged without S3Options
// and not with it.
func TestS3OptionsSilenceTheChecksumSkippedLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abc"`)
		_, _ = w.Write([]byte("version: 1\n"))
	}))
	defer srv.Close()
	get := func(opts ...func(*s3.Options)) string {
		var buf bytes.Buffer
		env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL": srv.URL}
		cfg, err := AWS(func(k string) string { return env[k] }, "us-west-2")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Logger = logging.NewStandardLogger(&buf)
		opts = append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}, opts...)
		if _, err := s3.NewFromConfig(cfg, opts...).GetObject(t.Context(), &s3.GetObjectInput{
			Bucket: aws.String("b"), Key: aws.String("deckhand.yaml"), ChecksumMode: "ENABLED",
		}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	if out := get(); !strings.Contains(out, "checksum") {
		t.Fatalf("without S3Options the SDK logged nothing about the missing checksum (%q); this test no longer tests anything", out)
	}
	if out := get(S3Options(srv.URL)); out != "" {
		t.Errorf("with S3Options the SDK logged %q", out)
	}
}
