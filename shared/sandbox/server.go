package sandbox

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// Service names used by Fault, SetRate and Call.
const (
	ServiceECS    = "ecs"
	ServiceECR    = "ecr"
	ServiceSQS    = "sqs"
	ServiceEvents = "events"
	ServiceS3     = "s3"
)

const (
	json10 = "application/x-amz-json-1.0"
	json11 = "application/x-amz-json-1.1"
)

// jsonService is one AWS JSON-protocol service: its X-Amz-Target prefix, its
// content type and its operation handler.
type jsonService struct {
	name        string
	contentType string
	handle      func(ctx context.Context, op string, body []byte) (any, error)
}

// route picks the service for a request. Requests without a known
// X-Amz-Target are S3's.
func (s *Sandbox) route(r *http.Request) (svc *jsonService, op string) {
	target := r.Header.Get("X-Amz-Target")
	prefix, op, ok := strings.Cut(target, ".")
	if !ok {
		return nil, ""
	}
	switch prefix {
	case "AmazonEC2ContainerServiceV20141113":
		return &jsonService{ServiceECS, json11, s.ecs.Handle}, op
	case "AmazonEC2ContainerRegistry_V20150921":
		return &jsonService{ServiceECR, json11, s.ecr.handle}, op
	case "AmazonSQS":
		return &jsonService{ServiceSQS, json10, s.sqs.handle}, op
	case "AWSEvents":
		return &jsonService{ServiceEvents, json11, s.handleEvents}, op
	}
	return nil, ""
}

// ServeHTTP dispatches one request: the control API under /_sandbox/, the
// JSON-protocol services by X-Amz-Target, and everything else to S3. Every
// API call passes fault injection and throttling first and is recorded.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	svc, op := s.route(r)
	name := ServiceS3
	if svc != nil {
		name = svc.name
	} else {
		op = s3Op(r)
	}
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		s.calls.add(Call{Service: name, Op: op, Status: rec.status, Time: s.clock.Now()})
	}()

	fault, hit := s.faults.match(name, op)
	if hit {
		switch fault.Kind {
		case FaultLatency:
			time.Sleep(fault.Latency)
		case FaultReset:
			resetConnection(w) // recorded with Status 0
			return
		case FaultThrottle, Fault500:
			s.writeError(rec, svc, faultError(fault.Kind, name, op))
			return
		}
	}
	if err := s.throttle.take(name, op); err != nil {
		s.writeError(rec, svc, err)
		return
	}
	out := http.ResponseWriter(rec)
	if hit && fault.Kind == FaultAfter500 {
		out = &discardWriter{header: http.Header{}}
	}
	if svc == nil {
		s.s3.ServeHTTP(out, r)
	} else {
		s.serveJSON(out, r, svc, op)
	}
	if hit && fault.Kind == FaultAfter500 {
		s.writeError(rec, svc, faultError(Fault500, name, op))
	}
}

func (s *Sandbox) serveJSON(w http.ResponseWriter, r *http.Request, svc *jsonService, op string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, svc, awsproto.Errorf(http.StatusBadRequest, "SerializationException", "read body: %v", err))
		return
	}
	v, err := svc.handle(r.Context(), op, body)
	if err != nil {
		s.writeError(w, svc, err)
		return
	}
	awsproto.WriteJSON(w, svc.contentType, v)
}

// writeError writes err in the service's error shape: JSON for the JSON
// protocols (plus SQS's x-amzn-query-error header), XML for S3.
func (s *Sandbox) writeError(w http.ResponseWriter, svc *jsonService, err error) {
	if svc == nil {
		writeS3Error(w, err)
		return
	}
	if svc.name == ServiceSQS {
		e := asAWSError(err)
		fault := "Sender"
		if e.Status >= 500 {
			fault = "Receiver"
		}
		w.Header().Set("x-amzn-query-error", sqsQueryCode(e.Code)+";"+fault)
		err = e
	}
	awsproto.WriteJSONError(w, svc.contentType, err)
}

func asAWSError(err error) *awsproto.Error {
	if e, ok := err.(*awsproto.Error); ok {
		return e
	}
	return &awsproto.Error{Code: "InternalFailure", Message: err.Error(), Status: http.StatusInternalServerError}
}

// resetConnection closes the client's connection without a response. The SDK
// sees a transport error and retries it, as it would a timeout.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// discardWriter swallows a response, for FaultAfter500.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
