package sandbox

import (
	"net/http"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// s3Service is S3, served by gofakes3 over an in-memory backend whose
// buckets are created with versioning enabled (Deckhand's bucket is
// versioned). gofakes3 provides buckets, objects, ETags and versions; the
// wrappers in this package make its answers S3's where clients notice:
// object reads and writes (s3_object.go: headers, checksums, conditional
// requests) and ListObjectVersions pagination (s3_versions.go).
type s3Service struct {
	fake    http.Handler
	backend versionedBackend
}

// versionedBackend enables versioning on every bucket it creates and keeps
// only what S3 stores with an object (s3_object.go's storedMetadata).
type versionedBackend struct {
	*s3mem.Backend
}

func (b versionedBackend) CreateBucket(name string) error {
	if err := b.Backend.CreateBucket(name); err != nil {
		return err
	}
	return b.SetVersioningConfiguration(name, gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled})
}

// clockSource is the virtual clock as gofakes3's time source.
type clockSource struct{ c *vclock.Clock }

func (c clockSource) Now() time.Time                  { return c.c.Now() }
func (c clockSource) Since(t time.Time) time.Duration { return c.c.Now().Sub(t) }

func newS3(clock *vclock.Clock) *s3Service {
	ts := clockSource{clock}
	backend := versionedBackend{s3mem.New(s3mem.WithTimeSource(ts))}
	fake := gofakes3.New(backend,
		gofakes3.WithTimeSource(ts),
		gofakes3.WithTimeSkewLimit(0), // requests are signed in wall time, the fake runs on virtual time
		gofakes3.WithLogger(gofakes3.DiscardLog()),
	)
	return &s3Service{fake: fake.Server(), backend: backend}
}

// ServeHTTP serves one S3 request.
func (s *s3Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch s3Op(r) {
	case "GetObject", "HeadObject":
		s.read(w, r)
	case "PutObject":
		s.put(w, r)
	case "ListObjectVersions":
		s.listVersions(w, r)
	default:
		s.fake.ServeHTTP(&filteredWriter{ResponseWriter: w, filter: withoutCORS}, r)
	}
}

// s3Op names an S3 request by its REST operation, for call accounting and
// fault matching.
func s3Op(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	switch {
	case bucket == "":
		return "ListBuckets"
	case has("uploadId"):
		switch r.Method {
		case http.MethodPut:
			return "UploadPart"
		case http.MethodPost:
			return "CompleteMultipartUpload"
		case http.MethodDelete:
			return "AbortMultipartUpload"
		}
		return "ListParts"
	case has("uploads"):
		if r.Method == http.MethodPost {
			return "CreateMultipartUpload"
		}
		return "ListMultipartUploads"
	case has("versioning"):
		if r.Method == http.MethodPut {
			return "PutBucketVersioning"
		}
		return "GetBucketVersioning"
	case has("versions"):
		return "ListObjectVersions"
	case has("location"):
		return "GetBucketLocation"
	case has("delete") && r.Method == http.MethodPost:
		return "DeleteObjects"
	case key == "":
		switch r.Method {
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		case http.MethodHead:
			return "HeadBucket"
		}
		if q.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		return "ListObjects"
	}
	switch r.Method {
	case http.MethodGet:
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodDelete:
		return "DeleteObject"
	}
	return r.Method
}

// writeS3Error writes err in S3's XML error shape.
func writeS3Error(w http.ResponseWriter, err error) {
	e := asAWSError(err)
	writeS3ErrorBody(w, s3ErrorBody{Code: e.Code, Message: e.Message}, e.Status)
}
