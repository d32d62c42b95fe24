package sandbox

import (
	"bytes"
	"encoding/xml"
	"net/http"
)

// recorder buffers one gofakes3 answer so that it can be judged and
// trimmed before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

// serve records h's answer to r; an answer that never set a status is 200.
func (r *recorder) serve(h http.Handler, req *http.Request) *recorder {
	h.ServeHTTP(r, req)
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// writeTo sends the recorded answer after filter has edited its headers.
func (r *recorder) writeTo(w http.ResponseWriter, filter func(http.Header, int)) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	filter(h, r.status)
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

// filteredWriter edits the headers of an answer once, just before they are
// sent.
type filteredWriter struct {
	http.ResponseWriter
	filter func(http.Header, int)
	done   bool
}

func (f *filteredWriter) WriteHeader(code int) {
	if !f.done {
		f.done = true
		f.filter(f.Header(), code)
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *filteredWriter) Write(b []byte) (int, error) {
	if !f.done {
		f.WriteHeader(http.StatusOK)
	}
	return f.ResponseWriter.Write(b)
}

// s3ErrorBody is S3's XML error document.
type s3ErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Condition string   `xml:"Condition,omitempty"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId,omitempty"`
	HostID    string   `xml:"HostId,omitempty"`
}

func writeS3ErrorBody(w http.ResponseWriter, body s3ErrorBody, status int) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(body)
}
