package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// queryService is one emulated awsQuery-protocol service (STS, IAM): its
// XML namespace and its operation handler, which gets the request's form
// and returns the value to encode as <Op>Result.
type queryService struct {
	name   string
	xmlns  string
	handle func(ctx context.Context, op string, form url.Values) (any, error)
}

// queryServices maps the signing names of the emulated awsQuery services.
func (s *Sandbox) queryServices(signed string) *queryService {
	switch signed {
	case ServiceSTS:
		return &queryService{ServiceSTS, "https://sts.amazonaws.com/doc/2011-06-15/", s.handleSTS}
	case ServiceIAM:
		return &queryService{ServiceIAM, "https://iam.amazonaws.com/doc/2010-05-08/", s.handleIAM}
	}
	return nil
}

// serveQuery serves one awsQuery call: the form (URL query and body), then
// <Op>Response with <Op>Result and ResponseMetadata, as the awsQuery
// protocol answers.
func (s *Sandbox) serveQuery(w http.ResponseWriter, r *http.Request, rt route) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, rt, bodyError(err))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.writeError(w, rt, awsproto.Errorf(http.StatusBadRequest, "MalformedQueryString", "decode form: %v", err))
		return
	}
	for k, v := range r.URL.Query() {
		form[k] = append(form[k], v...)
	}
	out, err := rt.query.handle(r.Context(), rt.op, form)
	if err != nil {
		s.writeError(w, rt, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	enc := xml.NewEncoder(w)
	start := xml.StartElement{Name: xml.Name{Local: rt.op + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: rt.query.xmlns}}}
	_ = enc.EncodeToken(start)
	if out != nil {
		_ = enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: rt.op + "Result"}})
	}
	_ = enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{w.Header().Get("X-Amzn-Requestid")}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	_ = enc.EncodeToken(start.End())
	_ = enc.Flush()
}

// unknownQueryOp is the error for an operation of an emulated awsQuery
// service that the sandbox does not serve.
func unknownQueryOp(service, op string) error {
	return awsproto.Errorf(http.StatusNotImplemented, "NotImplemented",
		"the Deckhand sandbox does not emulate %s operation %s; docs/sandbox.md lists what it emulates", service, op)
}

// queryPairs reads an awsQuery list of structures with two fields, such as
// Tags.member.N.Key and Tags.member.N.Value, in order.
func queryPairs(form url.Values, prefix, key, value string) [][2]string {
	var out [][2]string
	for i := 1; ; i++ {
		p := prefix + ".member." + strconv.Itoa(i) + "."
		k, ok := form[p+key]
		if !ok {
			return out
		}
		out = append(out, [2]string{k[0], form.Get(p + value)})
	}
}

// idSuffix derives n deterministic upper-case letters and digits from
// seed, for AWS-shaped ids (AROA…, ASIA…).
func idSuffix(seed string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		h := sha256.Sum256([]byte(seed + "#" + strconv.Itoa(i)))
		for _, c := range h {
			if b.Len() == n {
				break
			}
			b.WriteByte(alphabet[int(c)%len(alphabet)])
		}
	}
	return b.String()
}
