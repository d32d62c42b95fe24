package revision

import (
	"errors"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
)

// targetFailure classifies a binding's target that could not be reached
// (DESIGN §12): an AssumeRole the target's role refused is permanent (one
// FAILED naming the role, never a retry loop); a throttled one, a 5xx or a
// transport error is retryable. So is a call refused because its
// credentials expired (a 4xx): a target's session is renewed and the call
// retried at once (shared/aws/targets), and a function's own credentials
// are fresh in the execution environment the retried message meets.
func targetFailure(err error) (retry bool, reason string, ok bool) {
	var te *targets.Error
	switch {
	case errors.As(err, &te):
		return te.Retryable(), te.Reason(), true
	case awserr.ExpiredToken(err):
		return true, "ExpiredToken", true
	case errors.Is(err, targets.ErrUnsupported):
		return false, "UnsupportedInTarget", true
	}
	return false, "", false
}
