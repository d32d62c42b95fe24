package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// conditionalHeaders are the RFC 7232 request headers S3 honours on
// GetObject and HeadObject.
var conditionalHeaders = []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"}

// conditions are the preconditions of one read. A zero time or "" is absent.
type conditions struct {
	ifMatch, ifNoneMatch               string
	ifModifiedSince, ifUnmodifiedSince time.Time
}

func conditionsOf(h http.Header) conditions {
	date := func(k string) time.Time {
		t, err := http.ParseTime(h.Get(k))
		if err != nil {
			return time.Time{}
		}
		return t
	}
	return conditions{
		ifMatch: h.Get("If-Match"), ifNoneMatch: h.Get("If-None-Match"),
		ifModifiedSince: date("If-Modified-Since"), ifUnmodifiedSince: date("If-Unmodified-Since"),
	}
}

// judge evaluates the conditions against an object's ETag and Last-Modified
// header values, in S3's order: If-Match, else If-Unmodified-Since (412 when
// it fails); then If-None-Match, else If-Modified-Since (304 when it fails).
// It returns 200 when every condition holds, and the failed condition's
// header for a 412.
func (c conditions) judge(etag, lastModified string) (status int, failed string) {
	modified, err := http.ParseTime(lastModified)
	if err != nil {
		modified = time.Time{}
	}
	switch {
	case c.ifMatch != "":
		if !etagListed(c.ifMatch, etag) {
			return http.StatusPreconditionFailed, "If-Match"
		}
	case !c.ifUnmodifiedSince.IsZero() && !modified.IsZero() && modified.After(c.ifUnmodifiedSince):
		return http.StatusPreconditionFailed, "If-Unmodified-Since"
	}
	switch {
	case c.ifNoneMatch != "":
		if etagListed(c.ifNoneMatch, etag) {
			return http.StatusNotModified, ""
		}
	case !c.ifModifiedSince.IsZero() && !modified.IsZero() && !modified.After(c.ifModifiedSince):
		return http.StatusNotModified, ""
	}
	return http.StatusOK, ""
}

// etagListed reports whether etag is in an If-Match / If-None-Match list:
// "*" or comma-separated entity tags, quoted or not, weak or strong.
func etagListed(list, etag string) bool {
	norm := func(s string) string {
		return strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`)
	}
	for _, e := range strings.Split(list, ",") {
		if strings.TrimSpace(e) == "*" || norm(e) == norm(etag) {
			return true
		}
	}
	return false
}
