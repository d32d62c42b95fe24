package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// controlPrefix is the path prefix of the control API. The control API lets
// out-of-process users (the `deckhand sandbox` server, `make demo`) drive
// the sandbox the way Go tests do through methods:
//
//	POST   /_sandbox/advance       {"seconds": 40}                 → {"now": "..."}
//	GET    /_sandbox/now                                           → {"now": "..."}
//	POST   /_sandbox/image-health  {"image": "...", "healthy": false}
//	POST   /_sandbox/script-image  {"image": "...", "runForSeconds": 5, "exitCode": 1, "startFailure": ""} (runForSeconds -1: until stopped)
//	POST   /_sandbox/finish-task   {"taskArn": "...", "exitCodes": {"app": 0}}
//	POST   /_sandbox/capacity      {"provider": "FARGATE_SPOT", "available": false}
//	POST   /_sandbox/push-image    {"repository": "web", "tag": "1.4.0", "silent": false} → {"digest": "..."}
//	POST   /_sandbox/faults        {"service": "ecs", "op": "UpdateService", "kind": "throttle", "count": 1, "probability": 0, "latencyMs": 0}
//	DELETE /_sandbox/faults
//	POST   /_sandbox/throttling    {"on": true}
//	GET    /_sandbox/events                                        → [EventBridge events]
//	GET    /_sandbox/calls                                         → [{"service","op","status","time"}]
//	DELETE /_sandbox/calls
//	POST   /_sandbox/alarm-state   {"alarmName": "web-5xx", "state": "ALARM", "reason": "..."}
//	POST   /_sandbox/hook-result   {"hookTargetArn": "arn:aws:lambda:...", "fail": true}
//
// Fault kinds are "throttle", "500", "latency", "reset" and "after500".
// Errors answer {"error": "..."} with 400, 403 (a cross-origin browser
// request), 404 (no such endpoint) or 413 (a body over 1 MiB).
// docs/sandbox.md documents the API for people.
const controlPrefix = "/_sandbox/"

type controlFault struct {
	Service     string  `json:"service"`
	Op          string  `json:"op"`
	Kind        string  `json:"kind"`
	Probability float64 `json:"probability"`
	Count       int     `json:"count"`
	LatencyMS   int     `json:"latencyMs"`
}

// serveControl serves one control request. It refuses requests from a
// browser page of another origin (403): the control API pushes images,
// injects faults and reads every event, and a page the user happens to
// visit must not. Bodies over 1 MiB are refused (413).
func (s *Sandbox) serveControl(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, controlPrefix)
	var (
		out any
		err error
	)
	if why := crossOrigin(r); why == "" {
		out, err = s.control(route, r)
	} else {
		err = fmt.Errorf("%w (%s)", errCrossOrigin, why)
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		var tooBig *http.MaxBytesError
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, errNoRoute):
			status = http.StatusNotFound
		case errors.Is(err, errCrossOrigin):
			status = http.StatusForbidden
		case errors.As(err, &tooBig):
			status = http.StatusRequestEntityTooLarge
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	if out == nil {
		out = map[string]any{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

var (
	errNoRoute     = errors.New("no such control endpoint")
	errCrossOrigin = errors.New("the control API refuses cross-origin browser requests")
)

func (s *Sandbox) control(route string, r *http.Request) (any, error) {
	decode := func(v any) error {
		if err := json.NewDecoder(r.Body).Decode(v); err != nil {
			return fmt.Errorf("decode %s: %w", route, err)
		}
		return nil
	}
	now := func() any { return map[string]string{"now": s.clock.Now().Format(time.RFC3339Nano)} }
	if out, err, ok := s.controlServices(route, r, decode); ok {
		return out, err
	}
	switch route {
	case "GET now":
		return now(), nil
	case "POST advance":
		var in struct {
			Seconds float64 `json:"seconds"`
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		if in.Seconds < 0 {
			return nil, fmt.Errorf("advance: seconds must not be negative")
		}
		s.clock.Advance(time.Duration(in.Seconds * float64(time.Second)))
		return now(), nil
	case "POST push-image":
		var in struct {
			Repository, Tag string
			Silent          bool
			Account, Region string // another registry than the sandbox's own
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		if in.Repository == "" {
			return nil, fmt.Errorf("push-image: repository is required")
		}
		return map[string]string{"digest": s.scope(in.Account, in.Region).ecr.pushSynthetic(in.Repository, in.Tag, in.Silent)}, nil
	case "POST faults":
		var in controlFault
		if err := decode(&in); err != nil {
			return nil, err
		}
		f, err := in.fault()
		if err != nil {
			return nil, err
		}
		s.InjectFault(f)
		return nil, nil
	case "DELETE faults":
		s.ClearFaults()
		return nil, nil
	case "POST throttling":
		var in struct{ On bool }
		if err := decode(&in); err != nil {
			return nil, err
		}
		s.EnableThrottling(in.On)
		return nil, nil
	case "GET events":
		return s.Events(), nil
	case "GET calls":
		return s.Calls(), nil
	case "DELETE calls":
		s.ResetCalls()
		return nil, nil
	}
	return s.controlECS(route, decode)
}

func (c controlFault) fault() (Fault, error) {
	f := Fault{Service: c.Service, Op: c.Op, Probability: c.Probability, Count: c.Count,
		Latency: time.Duration(c.LatencyMS) * time.Millisecond}
	for k, name := range faultKindNames {
		if name == c.Kind {
			f.Kind = k
		}
	}
	switch {
	case f.Kind == 0:
		return f, fmt.Errorf("fault: unknown kind %q", c.Kind)
	case c.Service == "":
		return f, fmt.Errorf("fault: service is required")
	}
	return f, nil
}

// ListenAndServe runs a sandbox on addr (loopback only) until ctx is done.
// It logs the endpoint through opts.Logger. The CLI's `deckhand sandbox`
// command is a thin wrapper around it.
func ListenAndServe(ctx context.Context, addr string, opts Options) error {
	s := New(opts)
	if _, err := s.Listen(addr); err != nil {
		return fmt.Errorf("serve sandbox: %w", err)
	}
	<-ctx.Done()
	return s.Close()
}
