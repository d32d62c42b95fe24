package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc64"
	"io"
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// Object reads and writes as S3 answers them. gofakes3 stores every X-Amz-*
// request header of a PUT as object metadata and sends it back on every
// read, ignores If-Match and If-Unmodified-Since, and puts its stored
// checksum on every read, 304s included. S3 instead:
//
//   - stores user metadata (x-amz-meta-*), the content headers and the
//     object's checksum, never the request's signing headers (X-Amz-Date,
//     X-Amz-Content-Sha256, X-Amz-Sdk-Checksum-Algorithm, ...);
//   - gives every new object a checksum: the one the client sent, else
//     CRC64NVME (S3's default data-integrity protection since 2025);
//   - sends x-amz-checksum-<algorithm> and x-amz-checksum-type on GetObject
//     and HeadObject only when the request enables checksum mode, and on the
//     PutObject answer;
//   - answers conditional reads by RFC 7232 with S3's precedence: If-Match
//     (else If-Unmodified-Since) that fails is 412 PreconditionFailed;
//     If-None-Match (else If-Modified-Since) that fails is 304 with no body,
//     no checksum and no content headers.
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html

// checksumPrefix starts the x-amz-checksum-<algorithm> headers (and
// x-amz-checksum-type and -mode), in canonical form.
const checksumPrefix = "X-Amz-Checksum-"

// crc64NVME is the NVME polynomial in the reversed form crc64.MakeTable takes.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// storedResponseHeaders are the X-Amz-* headers S3 keeps with an object and
// sends back on reads (beside x-amz-meta-* and the checksums).
var storedResponseHeaders = map[string]bool{
	"X-Amz-Storage-Class": true, "X-Amz-Website-Redirect-Location": true,
	"X-Amz-Server-Side-Encryption": true, "X-Amz-Tagging-Count": true,
}

// storedMetadata keeps what S3 stores with an object out of gofakes3's
// metadata (all X-Amz-* request headers plus content headers).
func storedMetadata(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		switch {
		case !strings.HasPrefix(k, "X-Amz-"),
			strings.HasPrefix(k, "X-Amz-Meta-"),
			storedResponseHeaders[k],
			isChecksumValue(k):
			out[k] = v
		}
	}
	return out
}

// isChecksumValue reports whether k is an x-amz-checksum-<algorithm> header.
func isChecksumValue(k string) bool {
	switch strings.TrimPrefix(k, checksumPrefix) {
	case "Crc32", "Crc32c", "Crc64nvme", "Sha1", "Sha256":
		return strings.HasPrefix(k, checksumPrefix)
	}
	return false
}

// PutObject stores an object with S3's metadata and, when the client sent
// no checksum, S3's default CRC64NVME.
func (b versionedBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64,
	conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	meta = storedMetadata(meta)
	if !hasChecksum(meta) {
		data, err := io.ReadAll(io.LimitReader(input, size))
		if err != nil {
			return gofakes3.PutObjectResult{}, err
		}
		var sum [8]byte
		binary.BigEndian.PutUint64(sum[:], crc64.Checksum(data, crc64NVME))
		meta[checksumPrefix+"Crc64nvme"] = base64.StdEncoding.EncodeToString(sum[:])
		input = bytes.NewReader(data)
	}
	return b.Backend.PutObject(bucket, key, meta, input, size, conditions)
}

func hasChecksum(h map[string]string) bool {
	for k := range h {
		if isChecksumValue(k) {
			return true
		}
	}
	return false
}

// put serves PutObject and adds the stored checksum to the answer.
func (s *s3Service) put(w http.ResponseWriter, r *http.Request) {
	rec := newRecorder().serve(s.fake, r)
	if rec.status == http.StatusOK {
		bucket, key := bucketKey(r)
		version := gofakes3.VersionID(rec.header.Get("X-Amz-Version-Id"))
		if obj, err := s.backend.GetObjectVersion(bucket, key, version, nil); err == nil {
			_ = obj.Contents.Close()
			for k, v := range obj.Metadata {
				if isChecksumValue(k) {
					rec.header.Set(k, v)
					rec.header.Set(checksumPrefix+"Type", "FULL_OBJECT")
				}
			}
		}
	}
	rec.writeTo(w, withoutCORS)
}

// read serves GetObject and HeadObject: gofakes3 answers without the
// conditional headers, then the conditions are judged against its ETag and
// Last-Modified and the headers trimmed to S3's.
func (s *s3Service) read(w http.ResponseWriter, r *http.Request) {
	cond := conditionsOf(r.Header)
	plain := r.Clone(r.Context())
	for _, h := range conditionalHeaders {
		plain.Header.Del(h)
	}
	rec := newRecorder().serve(s.fake, plain)
	checksumMode := strings.EqualFold(r.Header.Get(checksumPrefix+"Mode"), "ENABLED")
	if rec.status != http.StatusOK && rec.status != http.StatusPartialContent {
		rec.writeTo(w, withoutCORS)
		return
	}
	switch status, failed := cond.judge(rec.header.Get("ETag"), rec.header.Get("Last-Modified")); status {
	case http.StatusNotModified:
		writeNotModified(w, rec.header)
		return
	case http.StatusPreconditionFailed:
		writePreconditionFailed(w, r.Method, rec.header, failed)
		return
	}
	rec.writeTo(w, func(h http.Header, status int) {
		withoutCORS(h, status)
		trimObjectHeaders(h, checksumMode && status == http.StatusOK)
	})
}

// trimObjectHeaders removes the request headers gofakes3 stored with older
// objects and, unless checksums are wanted, the checksum headers.
func trimObjectHeaders(h http.Header, checksums bool) {
	found := false
	for k := range h {
		switch {
		case isChecksumValue(k):
			found = true
			if !checksums {
				h.Del(k)
			}
		case strings.HasPrefix(k, checksumPrefix):
			h.Del(k)
		case strings.HasPrefix(k, "X-Amz-") && !strings.HasPrefix(k, "X-Amz-Meta-") && !storedResponseHeaders[k] &&
			k != "X-Amz-Version-Id" && k != "X-Amz-Delete-Marker" && k != "X-Amz-Request-Id" && k != "X-Amz-Id-2":
			h.Del(k)
		}
	}
	if checksums && found {
		h.Set(checksumPrefix+"Type", "FULL_OBJECT")
	}
}

// writeNotModified answers 304 with the headers S3 sends on it: ETag,
// Last-Modified, Date, Server and the request ids; no body, no checksum.
func writeNotModified(w http.ResponseWriter, from http.Header) {
	for _, k := range []string{"ETag", "Last-Modified", "Date", "Server", "X-Amz-Request-Id", "X-Amz-Id-2"} {
		if v := from.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(http.StatusNotModified)
}

// writePreconditionFailed answers 412 PreconditionFailed naming the failed
// condition; a HEAD answer has no body.
func writePreconditionFailed(w http.ResponseWriter, method string, from http.Header, condition string) {
	for _, k := range []string{"Date", "Server", "X-Amz-Request-Id", "X-Amz-Id-2"} {
		if v := from.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	if method == http.MethodHead {
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	writeS3ErrorBody(w, s3ErrorBody{
		Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold",
		Condition: condition, RequestID: from.Get("X-Amz-Request-Id"), HostID: from.Get("X-Amz-Id-2"),
	}, http.StatusPreconditionFailed)
}

// withoutCORS drops gofakes3's wildcard CORS headers: S3 sends CORS headers
// only for a bucket with a CORS configuration, and the sandbox serves no
// browser.
func withoutCORS(h http.Header, _ int) {
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			h.Del(k)
		}
	}
}

func bucketKey(r *http.Request) (bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return bucket, key
}
