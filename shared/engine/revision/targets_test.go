package revision

import (
	"fmt"
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
)

// TestClassifyTargetFailures: a binding's target that could not be
// reached is classified by why (issue 14): a refused AssumeRole is one
// FAILED naming the role, never a retry loop, even when the refusal comes
// back from a credential refresh inside an ECS call; a throttled one is
// retried.
func TestClassifyTargetFailures(t *testing.T) {
	role := "arn:aws:iam::210987654321:role/deckhand-target"
	te := func(err error) *targets.Error {
		return &targets.Error{Target: "prod-eu", Role: role, Binding: "web-eu", Err: err}
	}
	tests := map[string]struct {
		err           error
		wantRetryable bool
		wantReason    string
	}{
		"a refused AssumeRole is permanent": {te(httpErr(403, "AccessDenied")), false, "AssumeRoleDenied"},
		"a refusal met while signing an ECS call is permanent": {
			fmt.Errorf("operation error ECS: UpdateService, failed to sign request: failed to retrieve credentials: %w", te(httpErr(403, "AccessDenied"))),
			false, "AssumeRoleDenied"},
		"a throttled AssumeRole is retried":      {te(httpErr(400, "Throttling")), true, "AssumeRoleThrottled"},
		"an STS 5xx is retried":                  {te(httpErr(500, "InternalFailure")), true, "AssumeRoleFailed"},
		"an engine without target clients fails": {te(targets.ErrNoClients), false, "NoTargetClients"},
		"expired credentials are retried":        {httpErr(400, "ExpiredTokenException"), true, "ExpiredToken"},
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
}
