package sandbox

import (
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/johannesboyne/gofakes3"
)

// listVersions serves ListObjectVersions with S3's pagination: versions in
// key order, newest first within a key; a page holds at most max-keys
// (default and limit 1000) entries; a truncated page names NextKeyMarker
// and NextVersionIdMarker (its last entry), and key-marker plus
// version-id-marker resume after that entry (key-marker alone: after every
// version of that key). gofakes3 lists versions oldest first and leaves the
// Next markers out, so paginators stop after the first page or loop on it.
// Listings with a delimiter are left to gofakes3, unpaginated.
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
func (s *s3Service) listVersions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	_, hasVersionMarker := q["version-id-marker"]
	keyMarker, versionMarker := q.Get("key-marker"), q.Get("version-id-marker")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			maxKeys = -1
		} else {
			maxKeys = min(n, 1000)
		}
	}
	bucket, _ := bucketKey(r)
	prefix := q.Get("prefix")
	fallback := q.Get("delimiter") != "" || maxKeys < 0 || hasVersionMarker && (versionMarker == "" || keyMarker == "")
	var all *gofakes3.ListBucketVersionsResult
	if !fallback {
		var err error
		all, err = s.backend.ListBucketVersions(bucket, &gofakes3.Prefix{HasPrefix: prefix != "", Prefix: prefix}, nil)
		fallback = err != nil
	}
	if fallback {
		s.fake.ServeHTTP(&filteredWriter{ResponseWriter: w, filter: withoutCORS}, r)
		return
	}
	out := &gofakes3.ListBucketVersionsResult{
		Xmlns: all.Xmlns, Name: bucket, Prefix: prefix, MaxKeys: int64(maxKeys),
		KeyMarker: keyMarker, VersionIDMarker: gofakes3.VersionID(versionMarker),
	}
	started := keyMarker == ""
	for _, v := range newestFirst(all.Versions) {
		key, id := versionKey(v), string(v.GetVersionID())
		if id == "" {
			id = "null"
		}
		if !started {
			switch {
			case key < keyMarker:
				continue
			case key == keyMarker && versionMarker == "":
				continue
			case key == keyMarker && id != versionMarker:
				continue
			case key == keyMarker: // the marker itself: resume after it
				started = true
				continue
			}
			started = true
		}
		if len(out.Versions) == maxKeys {
			out.IsTruncated = true
			break
		}
		out.Versions = append(out.Versions, v)
		out.NextKeyMarker, out.NextVersionIDMarker = key, gofakes3.VersionID(id)
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextVersionIDMarker = "", ""
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}

// newestFirst reorders gofakes3's listing (keys in order, each key's
// versions oldest first) to S3's: each key's versions newest first.
func newestFirst(vs []gofakes3.VersionItem) []gofakes3.VersionItem {
	out := make([]gofakes3.VersionItem, 0, len(vs))
	for i := 0; i < len(vs); {
		j := i
		for j < len(vs) && versionKey(vs[j]) == versionKey(vs[i]) {
			j++
		}
		for k := j - 1; k >= i; k-- {
			out = append(out, vs[k])
		}
		i = j
	}
	return out
}

func versionKey(v gofakes3.VersionItem) string {
	switch v := v.(type) {
	case *gofakes3.Version:
		return v.Key
	case *gofakes3.DeleteMarker:
		return v.Key
	}
	return ""
}
