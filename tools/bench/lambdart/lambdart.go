// Package lambdart is a minimal AWS Lambda Runtime API (2018-06-01) for
// benchmarks: it hands invocations to a runtime's `next` requests and
// collects its `response` and `error` posts, recording when each arrived.
// It serves loopback only.
package lambdart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// Result is a runtime's answer to one invocation.
type Result struct {
	RequestID string
	Body      []byte
	// Error is true for a post to …/error (the body is the error document).
	Error bool
	// Handed is when the invocation was handed to the runtime's `next`
	// request (its event entering the handler); At when the answer came.
	Handed, At time.Time
}

// Server is one runtime's API endpoint.
type Server struct {
	// FunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	FunctionARN string

	srv  *http.Server
	ln   net.Listener
	work chan invocation

	mu        sync.Mutex
	firstNext time.Time
	nextSeen  chan struct{}
	pending   map[string]chan Result
	handed    map[string]time.Time
	initErr   []byte
	seq       int
}

type invocation struct {
	id      string
	payload []byte
}

// Start serves the Runtime API on 127.0.0.1 on a free port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{
		FunctionARN: "arn:aws:lambda:us-west-2:123456789012:function:bench",
		ln:          ln, work: make(chan invocation, 16), nextSeen: make(chan struct{}),
		pending: map[string]chan Result{}, handed: map[string]time.Time{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server; runtimes blocked in `next` get an error.
func (s *Server) Close() error { return s.srv.Close() }

// FirstNext returns a channel closed when the first `next` request arrives,
// and that time.
func (s *Server) FirstNext() (<-chan struct{}, func() time.Time) {
	return s.nextSeen, func() time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.firstNext
	}
}

// InitError returns the body of an init/error post, if any.
func (s *Server) InitError() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

// Invoke queues payload for the runtime and waits for its answer.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("bench-%06d", s.seq)
	done := make(chan Result, 1)
	s.pending[id] = done
	s.mu.Unlock()
	select {
	case s.work <- invocation{id: id, payload: payload}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-done:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s: %w", id, ctx.Err())
	}
}

// ServeHTTP implements the three endpoints a runtime uses (next, response,
// error) and init/error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		s.next(w, r)
	case r.Method == http.MethodPost && path == "init/error":
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.initErr = body
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		body, _ := io.ReadAll(r.Body)
		if err := s.answer(id, kind, body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.firstNext.IsZero() {
		s.firstNext = time.Now()
		close(s.nextSeen)
	}
	s.mu.Unlock()
	select {
	case inv := <-s.work:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(5*time.Minute).UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", s.FunctionARN)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
		_ = http.NewResponseController(w).Flush()
		s.mu.Lock()
		s.handed[inv.id] = time.Now()
		s.mu.Unlock()
	case <-r.Context().Done():
	}
}

var errUnknown = errors.New("unknown request id")

func (s *Server) answer(id, kind string, body []byte) error {
	if kind != "response" && kind != "error" {
		return fmt.Errorf("invocation %s: unknown post %q", id, kind)
	}
	s.mu.Lock()
	done, ok := s.pending[id]
	handed := s.handed[id]
	delete(s.pending, id)
	delete(s.handed, id)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q", errUnknown, id)
	}
	done <- Result{RequestID: id, Body: body, Error: kind == "error", Handed: handed, At: time.Now()}
	return nil
}
