package console

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckAddr(t *testing.T) {
	tests := map[string]struct {
		addr        string
		notLoopback bool
		bad         bool
	}{
		"IPv4 loopback is served":                 {addr: "127.0.0.1:8080"},
		"any free port on loopback is served":     {addr: "127.0.0.1:0"},
		"all of 127/8 is loopback":                {addr: "127.9.9.9:8080"},
		"IPv6 loopback is served":                 {addr: "[::1]:8080"},
		"localhost is served":                     {addr: "localhost:8080"},
		"every interface is refused":              {addr: "0.0.0.0:8080", notLoopback: true},
		"an empty host (every interface) refused": {addr: ":8080", notLoopback: true},
		"a LAN address is refused":                {addr: "192.168.1.20:8080", notLoopback: true},
		"a name other than localhost is refused":  {addr: "console.example.com:8080", notLoopback: true},
		"IPv6 any is refused":                     {addr: "[::]:8080", notLoopback: true},
		"no port is a bad address":                {addr: "127.0.0.1", bad: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckAddr(tc.addr)
			if got := errors.Is(err, ErrNotLoopback); got != tc.notLoopback {
				t.Errorf("CheckAddr(%q) = %v; not loopback %v, want %v", tc.addr, err, got, tc.notLoopback)
			}
			if refused := err != nil; refused != (tc.notLoopback || tc.bad) {
				t.Errorf("CheckAddr(%q) = %v, want refused: %v", tc.addr, err, tc.notLoopback || tc.bad)
			}
		})
	}
}

func TestGuardRefusals(t *testing.T) {
	const bound = "127.0.0.1:8080"
	const token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	reached := 0
	g := &guard{bound: bound, hosts: allowedHosts(bound), token: token, cop: http.NewCrossOriginProtection(),
		next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached++; w.WriteHeader(http.StatusNoContent) })}
	form := url.Values{"csrf": {token}, "reason": {"x"}}.Encode()
	tests := map[string]struct {
		method, host string
		headers      map[string]string
		body         string
		want         int
	}{
		"a page from the console is served":                       {method: "GET", host: bound, want: 204},
		"localhost names the same console":                        {method: "GET", host: "localhost:8080", want: 204},
		"a top-level navigation from another site is served":      {method: "GET", host: bound, headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, want: 204},
		"DNS rebinding: another Host is refused":                  {method: "GET", host: "evil.example:8080", want: http.StatusMisdirectedRequest},
		"another port of loopback as Host is refused":             {method: "GET", host: "127.0.0.1:9999", want: http.StatusMisdirectedRequest},
		"a GET from another origin is refused":                    {method: "GET", host: bound, headers: map[string]string{"Origin": "http://evil.example"}, want: 403},
		"a subresource fetch from another site is refused":        {method: "GET", host: bound, headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}, want: 403},
		"a CORS preflight is refused":                             {method: "OPTIONS", host: bound, want: 405},
		"a same-origin POST with the token reaches the handler":   {method: "POST", host: bound, headers: map[string]string{"Origin": "http://" + bound, "Sec-Fetch-Site": "same-origin"}, body: form, want: 204},
		"a POST without the token is refused":                     {method: "POST", host: bound, headers: map[string]string{"Sec-Fetch-Site": "same-origin"}, body: "reason=x", want: 403},
		"a POST with a wrong token is refused":                    {method: "POST", host: bound, headers: map[string]string{"Sec-Fetch-Site": "same-origin"}, body: "csrf=" + strings.Repeat("0", 64), want: 403},
		"a cross-site POST with the token is refused":             {method: "POST", host: bound, headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, body: form, want: 403},
		"a same-site (other port) POST with the token is refused": {method: "POST", host: bound, headers: map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"}, body: form, want: 403},
		"a POST from another Origin (no fetch metadata) refused":  {method: "POST", host: bound, headers: map[string]string{"Origin": "http://127.0.0.1:9999"}, body: form, want: 403},
		"a POST from an opaque origin is refused":                 {method: "POST", host: bound, headers: map[string]string{"Origin": "null"}, body: form, want: 403},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := reached
			req := httptest.NewRequest(tc.method, "/b/web/hold", strings.NewReader(tc.body))
			req.Host = tc.host
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tc.want)
			}
			if passed := reached > before; passed != (tc.want == 204) {
				t.Errorf("reached the handler: %v, want %v", passed, tc.want == 204)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin: %q; the console sets no CORS header", got)
			}
			for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
				if rec.Header().Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
		})
	}
}

func TestAllowedHosts(t *testing.T) {
	tests := map[string]struct {
		bound string
		want  map[string]bool
	}{
		"127.0.0.1 also answers to localhost": {"127.0.0.1:8080", map[string]bool{"127.0.0.1:8080": true, "localhost:8080": true}},
		"localhost also answers to 127.0.0.1": {"localhost:8080", map[string]bool{"127.0.0.1:8080": true, "localhost:8080": true}},
		"::1 answers to itself only":          {"[::1]:8080", map[string]bool{"[::1]:8080": true}},
		"127.0.0.2 answers to itself only":    {"127.0.0.2:8080", map[string]bool{"127.0.0.2:8080": true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, allowedHosts(tc.bound)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
