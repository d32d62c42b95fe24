package sandbox

import (
	"context"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// ecsService is what the dispatcher needs from the ECS emulator.
type ecsService interface {
	Handle(ctx context.Context, op string, body []byte) (any, error)
}

// newECS wires the ECS emulator (package ecssim) to the sandbox clock and
// bus: its state changes are published as source "aws.ecs" events.
func newECS(s *Sandbox) ecsService {
	return ecssim.New(ecssim.Config{
		Account: s.opts.Account,
		Region:  s.opts.Region,
		Clock:   s.clock,
		Emit: func(detailType string, resources []string, detail any) {
			s.bus.emit(events.SourceECS, detailType, resources, detail)
		},
		Timing:      s.opts.ECSTiming,
		AlarmStates: s.cw.inAlarm,
	})
}

// ECS returns the ECS emulator, for control calls such as SetImageHealth,
// ScriptImage and FinishTask.
func (s *Sandbox) ECS() *ecssim.ECS { return s.ecs.(*ecssim.ECS) }
