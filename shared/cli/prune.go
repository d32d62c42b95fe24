package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// PruneRequest asks for retention by hand (deckhand prune).
type PruneRequest struct {
	// Bindings to prune (every service binding when empty).
	Bindings []string
	// DryRun reports what would be removed and writes nothing.
	DryRun bool
	// Keep, when positive, replaces the manifest's retention; 0 uses the
	// manifest's (bindings without one are skipped). A negative Keep is
	// refused: the serving revision must stay.
	Keep int
}

// ErrPruneFailed is matched by errors.Is when some revision could not be
// deregistered or deleted (the results say which).
var ErrPruneFailed = errors.New("some revisions could not be removed")

// Prune applies retention by hand with the reconciler's code
// (retention.Pruner): every ACTIVE and INACTIVE revision of each binding's
// family is looked at (a sweep), there is no per-run bound, and writes are
// paced at retention's rate on the Env's clock (against the sandbox, its
// virtual clock). Results are in manifest order; a failed write is in its
// result and the error wraps ErrPruneFailed.
func (e *Env) Prune(ctx context.Context, req PruneRequest) ([]retention.Result, error) {
	if req.Keep < 0 {
		return nil, usagef("--keep %d: want at least 1 (the serving revision must stay), or leave it out to use the manifest's retention:", req.Keep)
	}
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range req.Bindings {
		if _, err := Binding(m, name); err != nil {
			return nil, err
		}
	}
	api, ok := e.ECS.(retention.ECSAPI)
	if !ok {
		return nil, errors.New("prune: this ECS client cannot deregister or delete task definitions")
	}
	clock := e.clock()
	p := &retention.Pruner{ECS: api, Sweep: true, MaxRemovals: -1, DryRun: req.DryRun, Keep: req.Keep, Logger: e.logger(),
		Pacer: revision.Pacer{Sleep: clock.Wait, Now: func() time.Time { return e.Now(ctx) }}}
	res, err := p.Run(ctx, m, req.Bindings...)
	if err != nil {
		return res, fmt.Errorf("prune: %w", err)
	}
	for _, r := range res {
		for _, rm := range r.Removed {
			if rm.Error != "" {
				return res, fmt.Errorf("%s: %s: %w", r.Binding, rm.ARN, ErrPruneFailed)
			}
		}
	}
	return res, nil
}
