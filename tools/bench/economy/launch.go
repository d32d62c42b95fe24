package economy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/tools/bench/coldstart"
	"github.com/deckhand-ecs/deckhand/tools/bench/lambdart"
)

// Push to UpdateService in a launched binary: the real deployer process,
// cold, under the Runtime API, with its calls timed in real time by a
// server in front of the sandbox.

// Launch is one launch of the deployer binary: its first invocation
// (a cold process) and its second (warm), each a new image for one binding.
type Launch struct {
	Cold, Warm Deployment
}

// front records each call that reaches the sandbox, in real time.
type front struct {
	next http.Handler
	mu   sync.Mutex
	rec  []Call
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := Call{Op: opOf(r), Start: time.Now()}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	f.next.ServeHTTP(sw, r)
	c.End, c.Status = time.Now(), sw.status
	f.mu.Lock()
	f.rec = append(f.rec, c)
	f.mu.Unlock()
}

func (f *front) calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.rec...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// MeasureLaunch launches bin (the deployer) with f's environment, its AWS
// endpoint a recording server in front of f's sandbox, and invokes it
// twice. Hold every call for a latency with sandbox.Options.Latency.
func MeasureLaunch(ctx context.Context, f *coldstart.Fixture, bin string) (Launch, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Launch{}, err
	}
	fr := &front{next: f.SB}
	srv := &http.Server{Handler: fr, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	var env []string
	for _, kv := range f.Env {
		if !strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ENDPOINT_URL=http://"+ln.Addr().String())
	l, err := lambdart.Run(ctx, bin, lambdart.Options{Env: env, Payloads: [][]byte{f.Batch(1), f.Batch(1)}})
	if err != nil {
		return Launch{}, err
	}
	calls := fr.calls()
	var out Launch
	for i, d := range []*Deployment{&out.Cold, &out.Warm} {
		r := l.Results[i]
		if r.Error {
			return out, fmt.Errorf("invocation %d answered an error: %s", i, r.Body)
		}
		for _, c := range calls {
			if !c.Start.Before(r.Handed) && !c.Start.After(r.At) {
				d.Calls = append(d.Calls, c)
			}
		}
		d.Wall = r.At.Sub(r.Handed)
		if err := d.analyse(r.Handed); err != nil {
			return out, fmt.Errorf("invocation %d: %w", i, err)
		}
	}
	return out, nil
}
