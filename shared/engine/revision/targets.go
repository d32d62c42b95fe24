package revision

import (
	"errors"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
)

// targetFailure classifies a binding's target that could not be reached
// (DESIGN §12): an AssumeRole the target's role refused is permanent (one
// FAILED naming the role, never a retry loop); a throttled one, a 5xx or a
// transport error is retryable.
func targetFailure(err error) (retry bool, reason string, ok bool) {
	var te *targets.Error
	if !errors.As(err, &te) {
		return false, "", false
	}
	return te.Retryable(), te.Reason(), true
}
