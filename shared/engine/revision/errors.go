package revision

import (
	"context"
	"errors"
	"net"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Error classification (DESIGN §5 rule 9): a retryable error fails only
// its own SQS message or invocation, so it is retried in order; a permanent
// one is reported FAILED with its cause, once, and its message goes to the
// DLQ at once (the deployer sends it) instead of being retried.

// PermanentError is an error retrying cannot fix: a bad template or event, a
// missing service, a forbidden role. It becomes one FAILED event and a DLQ
// entry.
type PermanentError struct {
	Reason string // short cause for the FAILED event, e.g. "ServiceNotFound"
	Err    error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Retryable reports false.
func (e *PermanentError) Retryable() bool { return false }

// Retryable reports whether err is worth retrying: throttling, 5xx,
// timeouts and transport errors are; template, manifest and client errors
// are not. Unknown errors are treated as retryable, since the queue's
// maxReceiveCount bounds the retries and the DLQ keeps the message.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if retry, _, ok := targetFailure(err); ok {
		return retry
	}
	if awserr.TaskDefinitionInactive(err) {
		// A revision read as ACTIVE was deregistered since (retention
		// racing a reuse of an older revision): trying again registers or
		// picks one that is ACTIVE.
		return true
	}
	var perm *PermanentError
	if errors.As(err, &perm) || errors.Is(err, taskdef.ErrTemplate) || errors.Is(err, manifest.ErrInvalid) ||
		errors.Is(err, events.ErrMalformed) || errors.Is(err, store.ErrNotFound) {
		return false
	}
	if _, ok := awserr.Permanent(err); ok {
		return false
	}
	return !awserr.ClientFault(err)
}

// Reason returns a short cause for a FAILED event.
func Reason(err error) string {
	var perm *PermanentError
	if errors.As(err, &perm) {
		return perm.Reason
	}
	var te *taskdef.Error
	if errors.As(err, &te) {
		return te.Reason()
	}
	if _, reason, ok := targetFailure(err); ok {
		return reason
	}
	switch {
	case errors.Is(err, manifest.ErrInvalid):
		return "BadManifest"
	case errors.Is(err, events.ErrMalformed):
		return "MalformedEvent"
	case errors.Is(err, store.ErrNotFound):
		return "TemplateNotFound"
	case awserr.Throttled(err):
		return "Throttled"
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	}
	if r, ok := awserr.Permanent(err); ok {
		return r
	}
	if code := awserr.Code(err); code != "" {
		return code
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return "NetworkError"
	}
	return "Error"
}
