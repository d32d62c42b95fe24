package console

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// revisionCache is the ECS client with DescribeTaskDefinition answers kept
// for the life of the console. A task-definition revision never changes
// once registered, and Deckhand writes its tags only when it registers it
// (README, "The engine remembers what it registered"), except a gated
// revision's approval state (deckhand:approval, DESIGN §11), which is never
// cached; so a revision read once is read for good: the fleet page then costs one DescribeServices per
// ten services and nothing per revision it has seen before. Only
// references by full ARN are cached ("family" or "family:rev" may be
// resolved later to another revision or status). Everything else goes
// straight to ECS.
type revisionCache struct {
	cli.ECSAPI
	mu   sync.Mutex
	revs map[string]*ecs.DescribeTaskDefinitionOutput
}

// maxCachedRevisions bounds the cache; when full it starts over.
const maxCachedRevisions = 20000

func newRevisionCache(api cli.ECSAPI) *revisionCache {
	if c, ok := api.(*revisionCache); ok {
		return c
	}
	return &revisionCache{ECSAPI: api, revs: map[string]*ecs.DescribeTaskDefinitionOutput{}}
}

// DescribeTaskDefinition answers from the cache for a full ARN asked with
// tags, else asks ECS (and caches an ACTIVE or INACTIVE revision asked by
// ARN with tags). Its status may go stale (ACTIVE to INACTIVE): the
// console reads through the cache and writes through the Env it was given.
func (c *revisionCache) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	key := aws.ToString(in.TaskDefinition)
	cacheable := strings.HasPrefix(key, "arn:") && withTags(in.Include)
	if cacheable {
		c.mu.Lock()
		out, ok := c.revs[key]
		c.mu.Unlock()
		if ok {
			return out, nil
		}
	}
	out, err := c.ECSAPI.DescribeTaskDefinition(ctx, in, optFns...)
	if err != nil || !cacheable || out.TaskDefinition == nil || out.TaskDefinition.Status == types.TaskDefinitionStatusDeleteInProgress {
		return out, err
	}
	if _, gated := revision.TagsOf(out.Tags)[revision.TagApproval]; gated {
		return out, nil // its approval state changes (DESIGN §11)
	}
	c.mu.Lock()
	if len(c.revs) >= maxCachedRevisions {
		clear(c.revs)
	}
	c.revs[key] = out
	c.mu.Unlock()
	return out, nil
}

func withTags(fields []types.TaskDefinitionField) bool {
	for _, f := range fields {
		if f == types.TaskDefinitionFieldTags {
			return true
		}
	}
	return false
}
