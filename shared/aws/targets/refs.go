package targets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Refs is the resolver of {{ ssm }} and {{ secret }} references for ctx's
// binding. In Deckhand's own account and Region it is r, which reads the
// hub's SSM and Secrets Manager. In a target, whose parameters and secrets
// live in the target's account where the hub cannot look them up, it
// resolves without a call what can be computed: an SSM parameter's ARN in
// the target's account and Region (its existence is `deckhand verify`'s to
// check, with the target's credentials), and a secret named by its full
// ARN. A secret named by its name is refused for good: the six characters
// Secrets Manager appends to its ARN are only known in the target.
func Refs(ctx context.Context, r taskdef.Resolver) taskdef.Resolver {
	s := From(ctx)
	if s == nil || r == nil {
		return r
	}
	return inTarget{s}
}

// ErrUnsupported is something Deckhand does not do in a target yet: a
// permanent failure (revision.Reason "UnsupportedInTarget").
var ErrUnsupported = errors.New("not supported in a target yet")

type inTarget struct{ s *Scope }

func (t inTarget) Resolve(_ context.Context, refs []taskdef.Ref) (taskdef.Refs, error) {
	out := taskdef.Refs{}
	for _, ref := range refs {
		switch {
		case ref.Kind == taskdef.RefSSM:
			out[ref] = taskdef.ParameterARN(t.s.Account, t.s.Region, ref.Name)
		case strings.HasPrefix(ref.Name, "arn:"):
			out[ref] = ref.Name
		default:
			return nil, fmt.Errorf("{{ secret %q }} in a template of target %s: %w; name the secret by its full ARN", ref.Name, t.s.Target, ErrUnsupported)
		}
	}
	return out, nil
}
