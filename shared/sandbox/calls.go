package sandbox

import (
	"sync"
	"time"
)

// Call is one API call the sandbox answered. Status is the HTTP status sent,
// or 0 when a FaultReset dropped the connection. Time is virtual.
type Call struct {
	Service string    `json:"service"`
	Op      string    `json:"op"`
	Status  int       `json:"status"`
	Time    time.Time `json:"time"`
}

type callLog struct {
	mu    sync.Mutex
	calls []Call
}

func (l *callLog) add(c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// Calls returns every API call recorded since New or the last ResetCalls, in
// the order they finished. Control-API requests are not recorded.
func (s *Sandbox) Calls() []Call {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	return append([]Call(nil), s.calls.calls...)
}

// ResetCalls forgets the recorded calls.
func (s *Sandbox) ResetCalls() {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	s.calls.calls = nil
}

// CountCalls returns how many recorded calls match service and op ("" = any).
func (s *Sandbox) CountCalls(service, op string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Service == service && (op == "" || c.Op == op) {
			n++
		}
	}
	return n
}
