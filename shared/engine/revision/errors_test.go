package revision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// httpErr is an AWS answer with an HTTP status, as the SDK wraps it.
func httpErr(status int, code string) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: apiErr(code, code)}
}

// TestClassify is rule 9's error classification: what is retried (the
// message fails on its own and comes back in order) and what is reported
// FAILED for good, with the reason the event names.
func TestClassify(t *testing.T) {
	tests := map[string]struct {
		err           error
		wantRetryable bool
		wantReason    string
	}{
		"throttling is retried":           {httpErr(400, "ThrottlingException"), true, "Throttled"},
		"a 5xx is retried":                {httpErr(503, "ServiceUnavailableException"), true, "ServiceUnavailableException"},
		"a timeout is retried":            {fmt.Errorf("call: %w", context.DeadlineExceeded), true, "Timeout"},
		"a dropped connection is retried": {&net.OpError{Op: "read", Err: errors.New("connection reset")}, true, "NetworkError"},
		"an unknown error is retried":     {errors.New("something"), true, "Error"},
		"a missing service is permanent":  {httpErr(400, "ServiceNotFoundException"), false, "ServiceNotFound"},
		"a revision deregistered since it was read is retried": {&smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}},
			Err: apiErr("ClientException", "TaskDefinition is inactive")}, true, "ClientException"},
		"access denied is permanent":         {httpErr(403, "AccessDeniedException"), false, "AccessDenied"},
		"another 4xx is permanent":           {httpErr(400, "ValidationException"), false, "ValidationException"},
		"a bad template is permanent":        {&taskdef.Error{Key: "web.json", Path: "$.family", Err: errors.New("bad")}, false, (&taskdef.Error{}).Reason()},
		"a bad manifest is permanent":        {fmt.Errorf("load: %w", manifest.ErrInvalid), false, "BadManifest"},
		"a malformed event is permanent":     {fmt.Errorf("decode: %w", events.ErrMalformed), false, "MalformedEvent"},
		"a missing template is permanent":    {fmt.Errorf("get: %w", store.ErrNotFound), false, "TemplateNotFound"},
		"a PermanentError keeps its reason":  {&PermanentError{Reason: "ForeignAccount", Err: errors.New("x")}, false, "ForeignAccount"},
		"a wrapped PermanentError is as one": {fmt.Errorf("deploy: %w", &PermanentError{Reason: "NoRunningImage", Err: errors.New("x")}), false, "NoRunningImage"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Retryable(tc.err); got != tc.wantRetryable {
				t.Errorf("Retryable = %v, want %v", got, tc.wantRetryable)
			}
			if got := Reason(tc.err); got != tc.wantReason {
				t.Errorf("Reason = %q, want %q", got, tc.wantReason)
			}
		})
	}
	if Retryable(nil) {
		t.Error("Retryable(nil) = true")
	}
}
