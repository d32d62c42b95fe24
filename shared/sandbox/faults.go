package sandbox

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// FaultKind says how a faulted call fails.
type FaultKind int

// Fault kinds.
const (
	// FaultThrottle answers 400 ThrottlingException (S3: 503 SlowDown).
	FaultThrottle FaultKind = iota + 1
	// Fault500 answers 500 (ECS and ECR: ServerException; S3: InternalError;
	// others: InternalFailure).
	Fault500
	// FaultLatency delays the call by Fault.Latency of real time and then
	// serves it normally. Keep the latency tiny.
	FaultLatency
	// FaultReset closes the connection without a response. The SDK treats this
	// as a retryable transport error; use it to simulate timeouts.
	FaultReset
	// FaultAfter500 serves the call (its state change happens) and then
	// answers 500 instead of the real response: a crash after a successful
	// write, as seen by the caller.
	FaultAfter500
	// FaultExpiredToken answers as AWS does to expired temporary
	// credentials: ExpiredTokenException (JSON protocols), ExpiredToken
	// (awsQuery, S3).
	FaultExpiredToken
)

var faultKindNames = map[FaultKind]string{
	FaultThrottle: "throttle", Fault500: "500", FaultLatency: "latency",
	FaultReset: "reset", FaultAfter500: "after500", FaultExpiredToken: "expired",
}

func (k FaultKind) String() string { return faultKindNames[k] }

// Fault is one injected failure rule. It matches calls to Service (one of the
// Service* constants) and Op ("" matches any operation). When Count > 0 it
// fails exactly the next Count matching calls and is then removed; otherwise
// it fails each matching call with Probability (0 means always), drawn from a
// source seeded by Options.Seed. Faults apply before the service handles the
// call, so a faulted call changes no state, except FaultAfter500.
type Fault struct {
	Service     string        `json:"service"`
	Op          string        `json:"op,omitempty"`
	Kind        FaultKind     `json:"kind"`
	Probability float64       `json:"probability,omitempty"`
	Count       int           `json:"count,omitempty"`
	Latency     time.Duration `json:"latency,omitempty"`
}

type faults struct {
	mu    sync.Mutex
	rnd   *rand.Rand
	rules []*Fault
}

func newFaults(seed uint64) *faults {
	return &faults{rnd: rand.New(rand.NewPCG(seed, seed^0x5eed))}
}

// InjectFault adds a fault rule. Rules are checked in the order they were
// added; the first that fires wins.
func (s *Sandbox) InjectFault(f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = append(s.faults.rules, &f)
}

// ClearFaults removes every fault rule.
func (s *Sandbox) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = nil
}

// match reports the fault, if any, that fires for this call.
func (f *faults) match(service, op string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.Service != service || (r.Op != "" && r.Op != op) {
			continue
		}
		if r.Count > 0 {
			r.Count--
			if r.Count == 0 {
				f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			}
			return *r, true
		}
		if r.Probability <= 0 || f.rnd.Float64() < r.Probability {
			return *r, true
		}
	}
	return Fault{}, false
}

// faultError is the error a faulted call answers with.
func faultError(kind FaultKind, service, op string) *awsproto.Error {
	if kind == FaultThrottle {
		switch service {
		case ServiceS3:
			return awsproto.Errorf(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		case ServiceSTS, ServiceIAM: // awsQuery services say Throttling
			return awsproto.Errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")
		}
		return awsproto.Throttling(op)
	}
	switch service {
	case ServiceECS, ServiceECR:
		return awsproto.Errorf(http.StatusInternalServerError, "ServerException", "injected server error in %s", op)
	case ServiceS3:
		return awsproto.Errorf(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	}
	return awsproto.Errorf(http.StatusInternalServerError, "InternalFailure", "injected server error in %s", op)
}
