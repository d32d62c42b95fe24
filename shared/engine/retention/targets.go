package retention

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
)

// ecs is the ECS client of ctx's binding: its target's session when the
// reconciler scoped ctx to a target (shared/aws/targets), else p.ECS. A
// target's revisions are never read or removed through Deckhand's own
// client: a target session whose client cannot deregister answers every
// call with a permanent error instead.
func (p *Pruner) ecs(ctx context.Context) ECSAPI {
	s := targets.From(ctx)
	if s == nil {
		return p.ECS
	}
	if c, ok := s.ECS.(ECSAPI); ok {
		return c
	}
	return refused{target: s.Target}
}

// refused is a target's ECS client that lacks retention's calls.
type refused struct{ target string }

func (r refused) err() error {
	return fmt.Errorf("retention in target %s: its ECS client cannot list, deregister or delete revisions: %w", r.target, targets.ErrUnsupported)
}

func (r refused) DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return nil, r.err()
}

func (r refused) DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return nil, r.err()
}

func (r refused) ListTaskDefinitions(context.Context, *ecs.ListTaskDefinitionsInput, ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	return nil, r.err()
}

func (r refused) DeregisterTaskDefinition(context.Context, *ecs.DeregisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error) {
	return nil, r.err()
}

func (r refused) DeleteTaskDefinitions(context.Context, *ecs.DeleteTaskDefinitionsInput, ...func(*ecs.Options)) (*ecs.DeleteTaskDefinitionsOutput, error) {
	return nil, r.err()
}
