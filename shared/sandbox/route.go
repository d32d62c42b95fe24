package sandbox

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// protocol is the wire protocol of an AWS API, which decides the shape of
// its errors.
type protocol int

const (
	protoS3       protocol = iota // restXml, S3's flavour
	protoJSON                     // awsJson1_0 / awsJson1_1: X-Amz-Target
	protoQuery                    // awsQuery: form-encoded Action (STS, IAM, ELBv2, ...)
	protoEC2                      // ec2Query
	protoRESTJSON                 // restJson1 (Lambda, ...)
	protoCBOR                     // Smithy RPC v2 CBOR (CloudWatch from the Go SDK)
)

// route is where one request goes: an emulated JSON service, S3, or a
// service the sandbox does not emulate, answered in its own protocol.
type route struct {
	service     string        // Service* constant, or the signing name of an unsupported service
	op          string        // operation name
	proto       protocol      // wire protocol, for error shapes
	contentType string        // JSON protocols: the content type to answer with
	json        *jsonService  // the emulated JSON service; nil for S3 and unsupported services
	query       *queryService // the emulated awsQuery service (STS, IAM), or nil
	supported   bool
	serve       func(http.ResponseWriter, *http.Request, route) // another emulated protocol (CloudWatch's query and CBOR)
}

// jsonService is one AWS JSON-protocol service: its content type and its
// operation handler.
type jsonService struct {
	name        string
	contentType string
	handle      func(ctx context.Context, op string, body []byte) (any, error)
}

// jsonHandler serves one operation of a JSON-protocol service.
type jsonHandler = func(ctx context.Context, op string, body []byte) (any, error)

// jsonServices maps the X-Amz-Target prefixes of the emulated JSON services.
func (s *Sandbox) jsonServices(prefix string) *jsonService {
	switch prefix {
	case "AmazonEC2ContainerServiceV20141113":
		return &jsonService{ServiceECS, json11, s.inScope(func(sc *scope) jsonHandler { return sc.ecs.Handle })}
	case "AmazonEC2ContainerRegistry_V20150921":
		return &jsonService{ServiceECR, json11, s.inScope(func(sc *scope) jsonHandler { return sc.ecr.handle })}
	case "AmazonSQS":
		return &jsonService{ServiceSQS, json10, s.inScope(func(sc *scope) jsonHandler { return sc.sqs.handle })}
	case "AWSEvents":
		return &jsonService{ServiceEvents, json11, s.handleEvents}
	case "AmazonSSM":
		return &jsonService{ServiceSSM, json11, s.inScope(func(sc *scope) jsonHandler { return sc.ssm.handle })}
	case "secretsmanager":
		return &jsonService{ServiceSecretsManager, json11, s.inScope(func(sc *scope) jsonHandler { return sc.secrets.handle })}
	case "Logs_20140328":
		return &jsonService{ServiceLogs, json11, s.inScope(func(sc *scope) jsonHandler { return sc.logs.handle })}
	case cwTarget:
		return &jsonService{ServiceCloudWatch, json10, s.cloudWatchJSON}
	}
	return nil
}

// route classifies a request. An emulated JSON service is known by its
// X-Amz-Target; S3 is whatever is signed for "s3" or not signed at all (a
// plain curl); any other signing service (Application Auto Scaling, CloudWatch
// Logs, SSM, STS, IAM, ...) or unknown target is unsupported, and its
// protocol is read from the request: a target means awsJson, a form-encoded
// Action awsQuery (ec2Query for "ec2"), anything else restJson.
func (s *Sandbox) route(r *http.Request) route {
	target := r.Header.Get("X-Amz-Target")
	prefix, op, hasTarget := strings.Cut(target, ".")
	if hasTarget {
		if svc := s.jsonServices(prefix); svc != nil {
			return route{service: svc.name, op: op, proto: protoJSON, contentType: svc.contentType, json: svc, supported: true}
		}
	}
	signed := signingService(r)
	if !hasTarget && signed == ServiceCloudWatch {
		if rt, ok := s.cloudWatchRoute(r); ok {
			return rt
		}
	}
	if !hasTarget && (signed == "" || signed == ServiceS3) {
		return route{service: ServiceS3, op: s3Op(r), proto: protoS3, supported: true}
	}
	rt := route{service: signed}
	if rt.service == "" {
		rt.service = prefix // an unsigned request naming an unknown target
	}
	switch ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); {
	case hasTarget:
		rt.proto, rt.op, rt.contentType = protoJSON, op, json11
		if ct == json10 {
			rt.contentType = json10
		}
	case ct == "application/x-www-form-urlencoded" || r.URL.Query().Get("Action") != "":
		rt.proto, rt.op = protoQuery, formAction(r)
		if signed == "ec2" {
			rt.proto = protoEC2
		}
		if rt.query = s.queryServices(signed); rt.query != nil {
			rt.supported = true
		}
	default:
		rt.proto, rt.op = protoRESTJSON, r.Method+" "+r.URL.Path
	}
	return rt
}

// signingService is the service name in a request's SigV4 credential scope
// (Authorization header or presigned X-Amz-Credential), or "".
func signingService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	// AKID/date/region/service/aws4_request
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// formAction reads the Action of an awsQuery request from the URL or the
// (bounded) form body, which it puts back for the handler.
func formAction(r *http.Request) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if r.Body == nil {
		return ""
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxAPIBody))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("Action")
}
