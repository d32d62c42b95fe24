package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// CloudWatch speaks three protocols, and the sandbox answers each the way
// CloudWatch does:
//
//   - awsQuery: a form-encoded Action, answered in XML (older SDKs; the
//     documented protocol);
//   - awsJson1.0: X-Amz-Target GraniteServiceVersion20100801.<op> (botocore
//     and the AWS CLI v1 since 2025), with awsQueryCompatible errors: the
//     x-amzn-query-error header carries the awsQuery code;
//   - Smithy RPC v2 CBOR: POST /service/GraniteServiceVersion20100801/
//     operation/<op> with Smithy-Protocol: rpc-v2-cbor (the Go SDK v2).
//
// All three decode into one tree that cloudWatch.do reads and produce one
// output tree that each encodes.

const (
	cwTarget    = "GraniteServiceVersion20100801"
	cwNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	cborType    = "application/cbor"
)

// flexInt, flexFloat and flexBool accept a JSON number or boolean, or its
// string form (awsQuery sends every value as a string).
type (
	flexInt   int
	flexFloat float64
	flexBool  bool
)

func unquote(b []byte) string { return strings.Trim(string(b), `"`) }

func (v *flexInt) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseFloat(unquote(b), 64)
	if err != nil || n != math.Trunc(n) {
		return fmt.Errorf("%s is not an integer", b)
	}
	*v = flexInt(n)
	return nil
}

func (v *flexInt) ptr() *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

func (v *flexFloat) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseFloat(unquote(b), 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", b)
	}
	*v = flexFloat(n)
	return nil
}

func (v *flexBool) UnmarshalJSON(b []byte) error {
	t, err := strconv.ParseBool(unquote(b))
	if err != nil {
		return fmt.Errorf("%s is not a boolean", b)
	}
	*v = flexBool(t)
	return nil
}

// cloudWatchJSON serves the awsJson1.0 protocol (jsonServices).
func (s *Sandbox) cloudWatchJSON(ctx context.Context, op string, body []byte) (any, error) {
	in := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, awsproto.Errorf(400, "SerializationException", "%v", err)
		}
	}
	out, err := s.cw.do(ctx, op, in)
	if err != nil {
		return nil, err
	}
	return jsonTree(out), nil
}

// jsonTree turns timestamps into epoch seconds, as the JSON protocols do.
func jsonTree(v any) any {
	switch v := v.(type) {
	case time.Time:
		return float64(v.UnixMilli()) / 1000
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = jsonTree(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonTree(e)
		}
		return out
	}
	return v
}

// cloudWatchRoute recognises CloudWatch's awsQuery and RPC v2 CBOR
// requests (the JSON ones are known by their X-Amz-Target). It reads an
// awsQuery body and puts it back for the handler.
func (s *Sandbox) cloudWatchRoute(r *http.Request) (route, bool) {
	rt := route{service: ServiceCloudWatch, supported: true, serve: s.serveCloudWatch}
	if op, ok := strings.CutPrefix(r.URL.Path, "/service/"+cwTarget+"/operation/"); ok && r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		rt.op, rt.proto = op, protoCBOR
		return rt, true
	}
	if r.Body == nil {
		return rt, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxAPIBody))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return rt, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") == "" {
		return rt, false
	}
	rt.op, rt.proto = form.Get("Action"), protoQuery
	return rt, true
}

// serveCloudWatch serves an awsQuery or RPC v2 CBOR request.
func (s *Sandbox) serveCloudWatch(w http.ResponseWriter, r *http.Request, rt route) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, rt, bodyError(err))
		return
	}
	var in map[string]any
	if rt.proto == protoCBOR {
		in, err = decodeCBOR(body)
	} else {
		in, err = decodeQuery(body)
	}
	if err != nil {
		s.writeError(w, rt, awsproto.Errorf(400, "SerializationException", "%v", err))
		return
	}
	out, err := s.cw.do(r.Context(), rt.op, in)
	if err != nil {
		s.writeError(w, rt, err)
		return
	}
	if rt.proto == protoCBOR {
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", cborType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(cbor.Encode(cborValue(out)))
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(queryResponse(rt.op, out, w.Header().Get("X-Amzn-Requestid"))))
}

// decodeQuery unflattens an awsQuery form ("AlarmNames.member.1",
// "Dimensions.member.2.Name") into a tree.
func decodeQuery(body []byte) (map[string]any, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	root := map[string]any{}
	for key, vals := range form {
		if key == "Action" || key == "Version" {
			continue
		}
		parts := strings.Split(key, ".")
		var cur any = root
		for i, p := range parts {
			last := i == len(parts)-1
			if p == "member" || p == "entry" {
				continue
			}
			if n, err := strconv.Atoi(p); err == nil && n >= 1 {
				m := cur.(map[string]any)
				if last {
					m[p] = vals[0]
				} else if _, ok := m[p]; !ok {
					m[p] = map[string]any{}
				}
				cur = m[p]
				continue
			}
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("parameter %s: %s is not a structure", key, p)
			}
			if last {
				m[p] = vals[0]
			} else if _, ok := m[p]; !ok {
				m[p] = map[string]any{}
			}
			cur = m[p]
		}
	}
	return listify(root).(map[string]any), nil
}

// listify turns maps keyed "1", "2", … into lists.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, e := range m {
		m[k] = listify(e)
	}
	if len(m) == 0 {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, err := strconv.Atoi(k)
		if err != nil {
			return m
		}
		idx = append(idx, n)
	}
	slices.Sort(idx)
	out := make([]any, 0, len(idx))
	for _, n := range idx {
		out = append(out, m[strconv.Itoa(n)])
	}
	return out
}

// queryResponse renders an output tree as an awsQuery XML answer.
func queryResponse(op string, out map[string]any, requestID string) string {
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, op, cwNamespace)
	if len(out) > 0 {
		fmt.Fprintf(&b, "<%sResult>", op)
		writeXMLTree(&b, out)
		fmt.Fprintf(&b, "</%sResult>", op)
	}
	fmt.Fprintf(&b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", requestID, op)
	return b.String()
}

func writeXMLTree(b *strings.Builder, v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			fmt.Fprintf(b, "<%s>", k)
			writeXMLTree(b, v[k])
			fmt.Fprintf(b, "</%s>", k)
		}
	case []any:
		for _, e := range v {
			b.WriteString("<member>")
			writeXMLTree(b, e)
			b.WriteString("</member>")
		}
	case time.Time:
		b.WriteString(v.UTC().Format("2006-01-02T15:04:05.000Z"))
	case string:
		_ = xml.EscapeText(b, []byte(v))
	default:
		fmt.Fprint(b, v)
	}
}
