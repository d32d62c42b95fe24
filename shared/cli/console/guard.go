package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// ErrNotLoopback is matched by errors.Is for an --addr that is not a
// loopback address: the console serves the caller's credentials and binds
// nowhere else.
var ErrNotLoopback = errors.New("not a loopback address")

// CheckAddr accepts a host:port whose host is a loopback IP literal
// (127.0.0.0/8, ::1) or "localhost"; the port may be 0 (any free port).
// Anything else (0.0.0.0, a LAN address, a name) is refused, because the
// console acts with the caller's own AWS credentials.
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("console address %q: want host:port, e.g. 127.0.0.1:8080: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("console address %q: no port; want host:port, e.g. 127.0.0.1:8080", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("console address %q: %w; the console acts with your AWS credentials, so it binds only to 127.0.0.1, ::1 or localhost", addr, ErrNotLoopback)
}

// guard is the console's front door. It refuses, before any handler runs:
//
//   - a Host header other than the address the console is bound to (DNS
//     rebinding: a page on evil.example whose name resolves to 127.0.0.1
//     sends Host: evil.example);
//   - a request with an Origin header of another origin;
//   - a cross-site request that is not a top-level navigation (Fetch
//     Metadata: Sec-Fetch-Site cross-site/same-site with Sec-Fetch-Mode other
//     than navigate), so other sites cannot embed or fetch the pages;
//   - any non-safe request that is cross-origin (net/http's
//     CrossOriginProtection: Sec-Fetch-Site, else Origin against Host), or
//     that does not carry the process's CSRF token.
//
// It answers OPTIONS with 405 and never sets CORS headers. Every response
// gets a strict Content-Security-Policy and no-referrer, no-framing headers.
type guard struct {
	bound string          // the address the console listens on
	hosts map[string]bool // allowed Host header values
	token string          // the per-process CSRF token
	cop   *http.CrossOriginProtection
	next  http.Handler
}

// csrfField is the form field that carries the CSRF token.
const csrfField = "csrf"

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("console: read random CSRF token: %v", err)) // crypto/rand never fails on supported systems
	}
	return hex.EncodeToString(b)
}

// allowedHosts are the Host values a browser sends for the bound address.
func allowedHosts(bound string) map[string]bool {
	host, port, _ := net.SplitHostPort(bound)
	hosts := map[string]bool{bound: true}
	switch ip := net.ParseIP(host); {
	case host == "localhost":
		hosts[net.JoinHostPort("127.0.0.1", port)] = true
	case ip != nil && ip.Equal(net.IPv4(127, 0, 0, 1)):
		hosts[net.JoinHostPort("localhost", port)] = true
	}
	return hosts
}

const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // not no-referrer: it makes browsers send Origin: null
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !g.hosts[r.Host] {
		refuse(w, http.StatusMisdirectedRequest, fmt.Sprintf("host %q is not this console's address; open it at http://%s", r.Host, g.bound))
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !g.sameOrigin(o) {
		refuse(w, http.StatusForbidden, fmt.Sprintf("cross-origin request from %s refused", o))
		return
	}
	if r.Method == http.MethodOptions {
		refuse(w, http.StatusMethodNotAllowed, "the console answers no CORS preflight")
		return
	}
	site, mode := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Sec-Fetch-Mode")
	if (site == "cross-site" || site == "same-site") && !(mode == "navigate" && (r.Method == http.MethodGet || r.Method == http.MethodHead)) {
		refuse(w, http.StatusForbidden, "cross-site request refused")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := g.cop.Check(r); err != nil {
			refuse(w, http.StatusForbidden, "cross-origin request refused: "+err.Error())
			return
		}
		if r.Header.Get("Origin") == "null" {
			refuse(w, http.StatusForbidden, "request from an opaque origin refused")
			return
		}
		if !g.validToken(r.PostFormValue(csrfField)) {
			refuse(w, http.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

func (g *guard) validToken(got string) bool {
	return len(got) == len(g.token) && subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) == 1
}

func (g *guard) sameOrigin(origin string) bool {
	rest, ok := strings.CutPrefix(origin, "http://")
	return ok && g.hosts[rest]
}

func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}
