package targets

import (
	"context"
	"errors"
	"fmt"

	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Refs is the resolver of {{ ssm }} and {{ secret }} references for ctx's
// binding: r in Deckhand's own account and Region; in a target, one that
// refuses, because r reads the hub's SSM and Secrets Manager and a target's
// parameters and secrets live in the target's account. Not supported yet;
// a clear failure beats an ARN from the wrong account.
func Refs(ctx context.Context, r taskdef.Resolver) taskdef.Resolver {
	s := From(ctx)
	if s == nil || r == nil {
		return r
	}
	return refused{target: s.Target}
}

// ErrUnsupported is something Deckhand does not do in a target yet: a
// permanent failure (revision.Reason "UnsupportedInTarget").
var ErrUnsupported = errors.New("not supported in a target yet")

type refused struct{ target string }

func (r refused) Resolve(_ context.Context, refs []taskdef.Ref) (taskdef.Refs, error) {
	return nil, fmt.Errorf("%d {{ ssm }} or {{ secret }} references in a template of target %s: %w (Deckhand resolves them in its own account)", len(refs), r.target, ErrUnsupported)
}
