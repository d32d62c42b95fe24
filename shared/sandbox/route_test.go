package sandbox_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// sigV4 is an Authorization header signed for service, as SDKs send it.
func sigV4(service string) string {
	return "AWS4-HMAC-SHA256 Credential=test/20261116/us-west-2/" + service +
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123"
}

// TestUnsupportedServicesAnswerInTheirOwnProtocol pins how the sandbox
// answers a service it does not emulate: routed by the SigV4 signing name
// (never into S3), an error in that service's protocol that its SDK can
// parse, and a call recorded under the service's real name.
//
// https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization
// https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#operation-error-serialization
// https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html#operation-error-serialization
// https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization
func TestUnsupportedServicesAnswerInTheirOwnProtocol(t *testing.T) {
	tests := map[string]struct {
		method, path, body string
		headers            map[string]string
		wantType           string
		wantCall           sandbox.Call
		code               func(t *testing.T, body []byte) string
	}{
		"Application Auto Scaling (awsJson 1.1) gets a __type document": {
			method: "POST", path: "/", body: `{"ServiceNamespace":"ecs"}`,
			headers: map[string]string{"Authorization": sigV4("application-autoscaling"),
				"X-Amz-Target": "AnyScaleFrontendService.DescribeScalableTargets", "Content-Type": "application/x-amz-json-1.1"},
			wantType: "application/x-amz-json-1.1",
			wantCall: sandbox.Call{Service: "application-autoscaling", Op: "DescribeScalableTargets", Status: 501},
			code:     jsonType,
		},
		"Cloud Map (awsJson 1.1) gets a __type document": {
			method: "POST", path: "/", body: `{}`,
			headers: map[string]string{"Authorization": sigV4("servicediscovery"),
				"X-Amz-Target": "Route53AutoNaming_v20170314.ListNamespaces", "Content-Type": "application/x-amz-json-1.1"},
			wantType: "application/x-amz-json-1.1",
			wantCall: sandbox.Call{Service: "servicediscovery", Op: "ListNamespaces", Status: 501},
			code:     jsonType,
		},
		"CloudFormation (awsQuery) gets an ErrorResponse document": {
			method: "POST", path: "/", body: "Action=DescribeStacks&Version=2010-05-15",
			headers:  map[string]string{"Authorization": sigV4("cloudformation"), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
			wantType: "text/xml",
			wantCall: sandbox.Call{Service: "cloudformation", Op: "DescribeStacks", Status: 501},
			code: func(t *testing.T, body []byte) string {
				var doc struct {
					XMLName xml.Name `xml:"ErrorResponse"`
					Code    string   `xml:"Error>Code"`
				}
				if err := xml.Unmarshal(body, &doc); err != nil {
					t.Fatalf("decode %s: %v", body, err)
				}
				return doc.Code
			},
		},
		"EC2 (ec2Query) gets a Response/Errors document": {
			method: "POST", path: "/", body: "Action=DescribeSubnets&Version=2016-11-15",
			headers:  map[string]string{"Authorization": sigV4("ec2"), "Content-Type": "application/x-www-form-urlencoded"},
			wantType: "text/xml",
			wantCall: sandbox.Call{Service: "ec2", Op: "DescribeSubnets", Status: 501},
			code: func(t *testing.T, body []byte) string {
				var doc struct {
					XMLName xml.Name `xml:"Response"`
					Code    string   `xml:"Errors>Error>Code"`
				}
				if err := xml.Unmarshal(body, &doc); err != nil {
					t.Fatalf("decode %s: %v", body, err)
				}
				return doc.Code
			},
		},
		"Lambda (restJson) gets X-Amzn-Errortype": {
			method: "GET", path: "/2015-03-31/functions",
			headers:  map[string]string{"Authorization": sigV4("lambda")},
			wantType: "application/json",
			wantCall: sandbox.Call{Service: "lambda", Op: "GET /2015-03-31/functions", Status: 501},
			code:     func(t *testing.T, _ []byte) string { return "" },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := start(t)
			req, _ := http.NewRequest(tc.method, c.sb.Endpoint()+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 501 || resp.Header.Get("Content-Type") != tc.wantType || resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Errorf("status %d, content type %q, request id %q; want 501, %q and an id",
					resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Amzn-Requestid"), tc.wantType)
			}
			code := tc.code(t, body)
			if code == "" {
				code = resp.Header.Get("X-Amzn-Errortype")
			}
			if code != "NotImplemented" || !strings.Contains(string(body), "does not emulate "+tc.wantCall.Service) {
				t.Errorf("error code %q, body %s; want NotImplemented naming %s", code, body, tc.wantCall.Service)
			}
			calls := c.sb.Calls()
			if len(calls) != 1 || calls[0].Service != tc.wantCall.Service || calls[0].Op != tc.wantCall.Op || calls[0].Status != tc.wantCall.Status {
				t.Errorf("calls = %+v, want one %+v", calls, tc.wantCall)
			}
		})
	}
}

func jsonType(t *testing.T, body []byte) string {
	t.Helper()
	var doc struct {
		Type string `json:"__type"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return doc.Type
}

// TestJSONServicesSendARequestID pins x-amzn-RequestId on every answer of
// the JSON-protocol services, success or error, fresh per request.
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonParameters.html
func TestJSONServicesSendARequestID(t *testing.T) {
	c := start(t)
	var ids []string
	for _, target := range []string{"AmazonEC2ContainerServiceV20141113.ListClusters", "AmazonEC2ContainerServiceV20141113.DescribeServices", "AmazonSQS.ListQueues"} {
		req, _ := http.NewRequest(http.MethodPost, c.sb.Endpoint()+"/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ids = append(ids, resp.Header.Get("x-amzn-RequestId"))
	}
	if ids[0] == "" || ids[1] == "" || ids[2] == "" || ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("request ids %q: want three distinct ids", ids)
	}
}

// TestBrowserRequestsFromAnotherOriginAreRefused pins the sandbox's answer
// to a page in a browser: requests carrying another Origin or a cross-site
// Sec-Fetch-Site are refused (403) before anything happens; the SDKs and
// CLIs, which send neither, are served.
func TestBrowserRequestsFromAnotherOriginAreRefused(t *testing.T) {
	c := start(t)
	ep := c.sb.Endpoint()
	tests := map[string]struct {
		method, path, body string
		headers            map[string]string
		want               int
	}{
		"control API with another Origin": {"POST", "/_sandbox/push-image", `{"repository":"web","tag":"1"}`,
			map[string]string{"Origin": "https://evil.example"}, 403},
		"control API cross-site fetch without Origin": {"GET", "/_sandbox/events", "",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		"control API from another local port": {"POST", "/_sandbox/advance", `{"seconds":1}`,
			map[string]string{"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"}, 403},
		"control API from its own origin": {"GET", "/_sandbox/now", "",
			map[string]string{"Origin": ep, "Sec-Fetch-Site": "same-origin"}, 200},
		"control API from a CLI": {"GET", "/_sandbox/now", "", nil, 200},
		"S3 PUT from another origin": {"PUT", "/deckhand-config/templates/web.json", "{}",
			map[string]string{"Origin": "https://evil.example"}, 403},
		"S3 preflight from another origin": {"OPTIONS", "/deckhand-config/templates/web.json", "",
			map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}, 403},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, ep+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("status %d (want %d), Access-Control-Allow-Origin %q; body %s",
					resp.StatusCode, tc.want, resp.Header.Get("Access-Control-Allow-Origin"), body)
			}
		})
	}
	if n := len(c.sb.Events()); n != 0 {
		t.Errorf("%d events published; the refused push-image must publish none", n)
	}
}

// TestRequestBodiesAreBounded pins the body limits: 413 for a control
// request over 1 MiB and for an API request over 8 MiB, read no further.
func TestRequestBodiesAreBounded(t *testing.T) {
	c := start(t)
	tests := map[string]struct {
		path, target string
		size         int
	}{
		"control API over 1 MiB": {"/_sandbox/advance", "", 1<<20 + 1},
		"ECS request over 8 MiB": {"/", "AmazonEC2ContainerServiceV20141113.ListClusters", 8<<20 + 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := `{"seconds": 1, "pad": "` + strings.Repeat("x", tc.size) + `"}`
			req, _ := http.NewRequest(http.MethodPost, c.sb.Endpoint()+tc.path, strings.NewReader(body))
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413; body %.200s", resp.StatusCode, got)
			}
		})
	}
	if now := c.sb.Clock().Now(); !now.Equal(sandbox.DefaultStart) {
		t.Errorf("clock at %s: the refused advance must not move it", now)
	}
}

// TestLatencyDelaysEveryAPIAnswer pins Options.Latency: an API answer takes
// at least that long (a lower bound, whatever the machine's speed), and the
// control API and the virtual clock are not delayed or moved by it.
func TestLatencyDelaysEveryAPIAnswer(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Options{Latency: 30 * time.Millisecond})
	req, _ := http.NewRequest(http.MethodPost, sb.Endpoint()+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(began); resp.StatusCode != 200 || took < 30*time.Millisecond {
		t.Errorf("ListClusters: %d after %s, want 200 after at least 30ms", resp.StatusCode, took)
	}
	if !sb.Clock().Now().Equal(sandbox.DefaultStart) {
		t.Errorf("the latency moved the virtual clock to %s", sb.Clock().Now())
	}
}
