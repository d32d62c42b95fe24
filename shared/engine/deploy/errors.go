package deploy

import (
	"context"
	"errors"
	"net"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// PermanentError is an error retrying cannot fix: a bad template or event, a
// missing service, a forbidden role. It becomes a FAILED event and, after the
// queue's maxReceiveCount, a DLQ entry.
type PermanentError struct {
	Reason string // short cause for the FAILED event, e.g. "ServiceNotFound"
	Err    error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Retryable reports false.
func (e *PermanentError) Retryable() bool { return false }

// permanentCodes are AWS error codes that retrying will not fix.
var permanentCodes = map[string]string{
	"ClientException":             "ClientException",
	"InvalidParameterException":   "InvalidParameter",
	"ServiceNotFoundException":    "ServiceNotFound",
	"ServiceNotActiveException":   "ServiceNotActive",
	"ClusterNotFoundException":    "ClusterNotFound",
	"AccessDeniedException":       "AccessDenied",
	"AccessDenied":                "AccessDenied",
	"UnsupportedFeatureException": "UnsupportedFeature",
	"PlatformUnknownException":    "PlatformUnknown",
}

// Retryable reports whether err is worth retrying: throttling, 5xx,
// timeouts and transport errors are; template, manifest and client errors
// are not. Unknown errors are treated as retryable, since the queue's
// maxReceiveCount bounds the retries and the DLQ keeps the message.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var perm *PermanentError
	if errors.As(err, &perm) || errors.Is(err, taskdef.ErrTemplate) || errors.Is(err, manifest.ErrInvalid) ||
		errors.Is(err, events.ErrMalformed) || errors.Is(err, store.ErrNotFound) {
		return false
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if _, ok := permanentCodes[apiErr.ErrorCode()]; ok {
			return false
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 400 && respErr.HTTPStatusCode() < 500 &&
		!isThrottle(err) {
		return false
	}
	return true
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
	switch {
	case errors.Is(err, manifest.ErrInvalid):
		return "BadManifest"
	case errors.Is(err, events.ErrMalformed):
		return "MalformedEvent"
	case errors.Is(err, store.ErrNotFound):
		return "TemplateNotFound"
	case isThrottle(err):
		return "Throttled"
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if r, ok := permanentCodes[apiErr.ErrorCode()]; ok {
			return r
		}
		return apiErr.ErrorCode()
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return "NetworkError"
	}
	return "Error"
}

func isThrottle(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown":
		return true
	}
	return false
}
