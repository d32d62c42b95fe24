package sandbox_test

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// putWithChecksum uploads body the way the AWS CLI and SDKs do: signed
// request headers plus an x-amz-checksum-crc32 header. It returns the ETag.
func putWithChecksum(t *testing.T, endpoint, path, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, endpoint+path, strings.NewReader(body))
	req.Header.Set("X-Amz-Date", "20261116T010000Z")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req.Header.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
	req.Header.Set("X-Amz-Checksum-Crc32", crc32Of(body))
	req.Header.Set("X-Amz-Meta-Team", "platform")
	req.Header.Set("Content-Type", "text/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", path, resp.Status)
	}
	return resp.Header.Get("ETag")
}

func crc32Of(s string) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE([]byte(s)))
	return base64.StdEncoding.EncodeToString(b[:])
}

// TestS3ObjectReadsSendS3sHeaders pins the headers of GetObject and
// HeadObject answers: checksums only in checksum mode and never on a 304,
// no echo of the PUT's signing headers, and S3's conditional-request
// precedence (If-Match over If-Unmodified-Since, If-None-Match over
// If-Modified-Since).
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
func TestS3ObjectReadsSendS3sHeaders(t *testing.T) {
	c := start(t)
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("reads")}); err != nil {
		t.Fatal(err)
	}
	const body = "version: 1\n"
	etag := putWithChecksum(t, c.sb.Endpoint(), "/reads/deckhand.yaml", body)
	modified := c.sb.Clock().Now()
	httpDate := func(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
	never := []string{"X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Sdk-Checksum-Algorithm", "Access-Control-Allow-Origin"}
	checksums := []string{"X-Amz-Checksum-Crc32", "X-Amz-Checksum-Type"}

	tests := map[string]struct {
		method  string
		headers map[string]string
		status  int
		present map[string]string // header → value ("" = any non-empty value)
		absent  []string
	}{
		"GET without checksum mode sends no checksum and echoes no request header": {
			method: http.MethodGet, status: 200,
			present: map[string]string{"ETag": etag, "Last-Modified": httpDate(modified), "X-Amz-Meta-Team": "platform", "Content-Type": "text/yaml", "X-Amz-Version-Id": ""},
			absent:  append(append([]string{}, never...), checksums...),
		},
		"GET in checksum mode sends the stored checksum": {
			method: http.MethodGet, headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}, status: 200,
			present: map[string]string{"X-Amz-Checksum-Crc32": crc32Of(body), "X-Amz-Checksum-Type": "FULL_OBJECT"},
			absent:  never,
		},
		"HEAD without checksum mode sends no checksum": {
			method: http.MethodHead, status: 200, present: map[string]string{"ETag": etag, "Content-Length": fmt.Sprint(len(body))},
			absent: append(append([]string{}, never...), checksums...),
		},
		"HEAD in checksum mode sends the stored checksum": {
			method: http.MethodHead, headers: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}, status: 200,
			present: map[string]string{"X-Amz-Checksum-Crc32": crc32Of(body)},
		},
		"a 304 carries no checksum, even in checksum mode": {
			method: http.MethodGet, headers: map[string]string{"If-None-Match": etag, "X-Amz-Checksum-Mode": "ENABLED"}, status: 304,
			present: map[string]string{"ETag": etag, "Last-Modified": httpDate(modified), "X-Amz-Request-Id": ""},
			absent:  append(append([]string{"Content-Type", "X-Amz-Meta-Team"}, never...), checksums...),
		},
		"If-Modified-Since at the last write is 304": {
			method: http.MethodGet, headers: map[string]string{"If-Modified-Since": httpDate(modified)}, status: 304,
			absent: checksums,
		},
		"If-None-Match with a stale ETag wins over If-Modified-Since": {
			method: http.MethodGet, headers: map[string]string{"If-None-Match": `"stale"`, "If-Modified-Since": httpDate(modified)}, status: 200,
		},
		"If-Match with a stale ETag is 412": {
			method: http.MethodGet, headers: map[string]string{"If-Match": `"stale"`}, status: 412, absent: checksums,
		},
		"If-Match with a stale ETag is 412 on HEAD too": {
			method: http.MethodHead, headers: map[string]string{"If-Match": `"stale"`}, status: 412,
		},
		"If-Unmodified-Since in the past is 412": {
			method: http.MethodGet, headers: map[string]string{"If-Unmodified-Since": httpDate(modified.Add(-time.Hour))}, status: 412,
		},
		"If-Match that holds wins over If-Unmodified-Since in the past": {
			method: http.MethodGet, headers: map[string]string{"If-Match": etag, "If-Unmodified-Since": httpDate(modified.Add(-time.Hour))}, status: 200,
		},
		"If-Match * holds for an existing object": {
			method: http.MethodGet, headers: map[string]string{"If-Match": "*"}, status: 200,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, c.sb.Endpoint()+"/reads/deckhand.yaml", nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, got)
			}
			if tc.status == 200 && tc.method == http.MethodGet && string(got) != body {
				t.Errorf("body %q, want %q", got, body)
			}
			if tc.status == 412 && tc.method == http.MethodGet && !strings.Contains(string(got), "<Code>PreconditionFailed</Code>") {
				t.Errorf("412 body %s, want S3's PreconditionFailed error", got)
			}
			for k, want := range tc.present {
				if v := resp.Header.Get(k); v == "" || want != "" && v != want {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
			for _, k := range tc.absent {
				if v, ok := resp.Header[http.CanonicalHeaderKey(k)]; ok {
					t.Errorf("header %s = %q, want none", k, v)
				}
			}
		})
	}
}

// TestS3ConditionalGetThroughTheSDK is the deployer's cache revalidation on
// an object uploaded with a checksum: the Go SDK validates checksums by
// default (checksum mode on), and a 304 must still surface as NotModified,
// never as a checksum mismatch over the empty body. A stale If-Match is
// PreconditionFailed.
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
func TestS3ConditionalGetThroughTheSDK(t *testing.T) {
	c := start(t)
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("templates")}); err != nil {
		t.Fatal(err)
	}
	put, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("templates"), Key: aws.String("web.json"),
		Body: strings.NewReader(`{"family":"web"}`), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("templates"), Key: aws.String("web.json"),
		ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("GetObject in checksum mode: %v", err)
	}
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || string(data) != `{"family":"web"}` {
		t.Errorf("GetObject body %q, %v (the SDK validates the CRC32 while reading)", data, err)
	}
	if aws.ToString(got.ChecksumCRC32) != aws.ToString(put.ChecksumCRC32) {
		t.Errorf("GetObject ChecksumCRC32 %q, want the uploaded %q", aws.ToString(got.ChecksumCRC32), aws.ToString(put.ChecksumCRC32))
	}
	codes := map[string]string{}
	for name, in := range map[string]*s3.GetObjectInput{
		"If-None-Match current":                   {IfNoneMatch: put.ETag},
		"If-None-Match current, in checksum mode": {IfNoneMatch: put.ETag, ChecksumMode: s3types.ChecksumModeEnabled},
		"If-Match stale":                          {IfMatch: aws.String(`"0123"`)},
	} {
		in.Bucket, in.Key = aws.String("templates"), aws.String("web.json")
		_, err := c.s3.GetObject(ctx, in, noRetry.s3)
		var api smithy.APIError
		if errors.As(err, &api) {
			codes[name] = api.ErrorCode()
		} else {
			codes[name] = fmt.Sprint(err)
		}
	}
	want := map[string]string{"If-None-Match current": "NotModified", "If-None-Match current, in checksum mode": "NotModified",
		"If-Match stale": "PreconditionFailed"}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("conditional GetObject error codes (-want +got):\n%s", diff)
	}
}

// TestS3DefaultChecksumIsCRC64NVME pins S3's default data-integrity
// protection: an object uploaded without a checksum gets a CRC64NVME
// checksum, which the SDK validates on a checksum-mode GET.
//
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
func TestS3DefaultChecksumIsCRC64NVME(t *testing.T) {
	c := start(t)
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, c.sb.Endpoint()+"/plain/k", strings.NewReader("no checksum sent"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Amz-Checksum-Crc64nvme") == "" || resp.Header.Get("X-Amz-Checksum-Type") != "FULL_OBJECT" {
		t.Errorf("PutObject answer headers %v, want x-amz-checksum-crc64nvme and type FULL_OBJECT", resp.Header)
	}
	got, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("plain"), Key: aws.String("k"), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || string(data) != "no checksum sent" || aws.ToString(got.ChecksumCRC64NVME) == "" {
		t.Errorf("GetObject = %q, CRC64NVME %q, err %v; want the body validated against S3's default checksum",
			data, aws.ToString(got.ChecksumCRC64NVME), err)
	}
}

// TestS3ListObjectVersionsPaginates pins the ListObjectVersions markers:
// a truncated page names NextKeyMarker and NextVersionIdMarker, the next
// page starts after them, and the SDK's paginator sees every version once,
// newest first within a key.
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
func TestS3ListObjectVersionsPaginates(t *testing.T) {
	c := start(t)
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("versions")}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, key := range []string{"a.json", "b.json", "c.json"} {
		var ids []string
		for i := range 3 {
			out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("versions"), Key: aws.String(key),
				Body: strings.NewReader(fmt.Sprint(key, i))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{key + "@" + aws.ToString(out.VersionId)}, ids...)
		}
		want = append(want, ids...)
	}
	p := s3.NewListObjectVersionsPaginator(c.s3, &s3.ListObjectVersionsInput{Bucket: aws.String("versions"), MaxKeys: aws.Int32(2)})
	var got []string
	pages := 0
	for p.HasMorePages() && pages < 20 {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if aws.ToBool(page.IsTruncated) && (page.NextKeyMarker == nil || page.NextVersionIdMarker == nil) {
			t.Fatalf("page %d is truncated without NextKeyMarker/NextVersionIdMarker", pages)
		}
		for _, v := range page.Versions {
			got = append(got, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 5 {
		t.Errorf("versions over %d pages (want 5) (-want +got):\n%s", pages, diff)
	}
}
