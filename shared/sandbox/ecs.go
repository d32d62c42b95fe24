package sandbox

import (
	"context"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// ecsService is what the dispatcher needs from the ECS emulator.
type ecsService interface {
	Handle(ctx context.Context, op string, body []byte) (any, error)
}

// ECS returns the ECS emulator, for control calls such as SetImageHealth,
// ScriptImage and FinishTask.
func (s *Sandbox) ECS() *ecssim.ECS { return s.ecs.(*ecssim.ECS) }
