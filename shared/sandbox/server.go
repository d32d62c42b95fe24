package sandbox

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// Service names used by Fault, SetRate and Call.
const (
	ServiceECS            = "ecs"
	ServiceECR            = "ecr"
	ServiceSQS            = "sqs"
	ServiceEvents         = "events"
	ServiceS3             = "s3"
	ServiceSTS            = "sts"
	ServiceIAM            = "iam"
	ServiceSSM            = "ssm"
	ServiceSecretsManager = "secretsmanager"
	ServiceLogs           = "logs"
	// ServiceCloudWatch is CloudWatch's signing name (its alarms subset).
	ServiceCloudWatch = "monitoring"
)

const (
	json10 = "application/x-amz-json-1.0"
	json11 = "application/x-amz-json-1.1"
)

// Request body limits. The sandbox refuses a bigger request (413) before
// reading it whole; AWS's own front doors refuse much smaller ones for most
// APIs.
const (
	maxAPIBody     = 8 << 20   // JSON and query APIs: SQS's 1 MiB messages and batches fit
	maxObjectBody  = 256 << 20 // one S3 request (PutObject, UploadPart)
	maxControlBody = 1 << 20   // the control API's small JSON documents
)

// ServeHTTP dispatches one request: the control API under /_sandbox/, the
// emulated JSON-protocol services by X-Amz-Target, S3 by its signing name
// (or no signature), and any other AWS service to an error in that
// service's own protocol (route). Requests from a browser page of another
// origin are refused. Every API call waits Options.Latency, passes fault
// injection and throttling, and is recorded under its service's name.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	control := strings.HasPrefix(r.URL.Path, controlPrefix)
	if control {
		r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
		s.serveControl(w, r)
		return
	}
	rt := s.route(r)
	limit := int64(maxAPIBody)
	if rt.proto == protoS3 {
		limit = maxObjectBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		s.calls.add(Call{Service: rt.service, Op: rt.op, Status: rec.status, Time: s.clock.Now()})
	}()
	if rt.proto != protoS3 {
		w.Header().Set("X-Amzn-Requestid", s.requestID())
	}
	if why := crossOrigin(r); why != "" {
		code := "AccessDeniedException"
		if rt.proto == protoS3 || rt.proto == protoQuery || rt.proto == protoEC2 {
			code = "AccessDenied"
		}
		s.writeError(rec, rt, awsproto.Errorf(http.StatusForbidden, code, "the sandbox refuses cross-origin browser requests (%s)", why))
		return
	}
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	fault, hit := s.faults.match(rt.service, rt.op)
	if hit {
		switch fault.Kind {
		case FaultLatency:
			time.Sleep(fault.Latency)
		case FaultReset:
			resetConnection(w) // recorded with Status 0
			return
		case FaultThrottle, Fault500:
			s.writeError(rec, rt, faultError(fault.Kind, rt.service, rt.op))
			return
		case FaultExpiredToken:
			s.writeError(rec, rt, expiredToken(rt.proto))
			return
		}
	}
	who, err := s.resolveCaller(r, rt.proto)
	if err != nil {
		s.writeError(rec, rt, err)
		return
	}
	r = r.WithContext(withCaller(r.Context(), who))
	if err := s.throttle.take(who.account+"/"+who.region, rt.service, rt.op); err != nil {
		s.writeError(rec, rt, err)
		return
	}
	if !rt.supported {
		s.writeError(rec, rt, awsproto.Errorf(http.StatusNotImplemented, "NotImplemented",
			"the Deckhand sandbox does not emulate %s (operation %s); docs/sandbox.md lists what it emulates", rt.service, rt.op))
		return
	}
	out := http.ResponseWriter(rec)
	if hit && fault.Kind == FaultAfter500 {
		out = &discardWriter{header: http.Header{}}
	}
	switch {
	case rt.serve != nil:
		rt.serve(out, r, rt)
	case rt.query != nil:
		s.serveQuery(out, r, rt)
	case rt.json == nil:
		s.s3.ServeHTTP(out, r)
	default:
		s.serveJSON(out, r, rt)
	}
	if hit && fault.Kind == FaultAfter500 {
		s.writeError(rec, rt, faultError(Fault500, rt.service, rt.op))
	}
}

func (s *Sandbox) serveJSON(w http.ResponseWriter, r *http.Request, rt route) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, rt, bodyError(err))
		return
	}
	v, err := rt.json.handle(r.Context(), rt.op, body)
	if err != nil {
		s.writeError(w, rt, err)
		return
	}
	awsproto.WriteJSON(w, rt.contentType, v)
}

// bodyError is the error for a request body that could not be read: 413
// when it is over the limit.
func bodyError(err error) *awsproto.Error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return awsproto.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			"request body is over the sandbox's limit of %d bytes", tooBig.Limit)
	}
	return awsproto.Errorf(http.StatusBadRequest, "SerializationException", "read body: %v", err)
}

// writeError writes err in the route's protocol: S3's XML, the JSON
// protocols' __type document (plus SQS's x-amzn-query-error header),
// awsQuery's and ec2Query's XML, or restJson's X-Amzn-Errortype.
func (s *Sandbox) writeError(w http.ResponseWriter, rt route, err error) {
	e := asAWSError(err)
	switch rt.proto {
	case protoS3:
		writeS3Error(w, e)
	case protoQuery:
		if rt.service == ServiceCloudWatch {
			e = &awsproto.Error{Code: cwQueryCode(e.Code), Message: e.Message, Status: e.Status}
		}
		awsproto.WriteQueryError(w, e, w.Header().Get("X-Amzn-Requestid"))
	case protoEC2:
		awsproto.WriteEC2Error(w, e, w.Header().Get("X-Amzn-Requestid"))
	case protoRESTJSON:
		awsproto.WriteRESTJSONError(w, e)
	case protoCBOR:
		w.Header().Set("x-amzn-query-error", cwQueryCode(e.Code)+";"+queryFault(e))
		writeCBORError(w, e)
	default:
		if rt.service == ServiceCloudWatch {
			w.Header().Set("x-amzn-query-error", cwQueryCode(e.Code)+";"+queryFault(e))
		}
		if rt.service == ServiceSQS {
			fault := "Sender"
			if e.Status >= 500 {
				fault = "Receiver"
			}
			w.Header().Set("x-amzn-query-error", sqsQueryCode(e.Code)+";"+fault)
		}
		awsproto.WriteJSONError(w, rt.contentType, e)
	}
}

// requestID returns a fresh, deterministic request id for an answer.
func (s *Sandbox) requestID() string {
	return uuidFrom(s.requests.Add(1), "request")
}

// crossOrigin says why r comes from a browser page of another origin, or
// "". AWS SDKs and CLIs send neither Origin nor Sec-Fetch-Site; a browser
// sends them on every cross-origin request, so a page the user visits
// cannot drive the sandbox (push images, fault it, read its events).
func crossOrigin(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "Sec-Fetch-Site: " + site
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		return "Origin: " + o
	}
	return ""
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

// queryFault is an error's awsQuery fault: Sender for 4xx, Receiver for 5xx.
func queryFault(e *awsproto.Error) string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}
