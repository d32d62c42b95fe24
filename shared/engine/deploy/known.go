package deploy

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The engine remembers the last revision it registered in each family, as
// RegisterTaskDefinition returned it (content and tags). A revision never
// changes once registered, and Deckhand writes a revision's tags only when
// it registers it, so the memory is exact for as long as it names the
// family's latest revision.
//
// The warm path uses it instead of describing the family's latest revision:
// when the service still runs the revision this engine registered last,
// that revision is both what runs (rules 4–6) and, as far as Deckhand's
// serialized deliveries can tell, the family's latest (rule 7). When the
// service runs anything else, someone else deployed since, and the engine
// reads both from ECS as on a cold start. A redelivered push still scans
// the family's recent revisions (findRevision's deep look), which covers a
// crash between another process's register and update.
//
// What the memory cannot see: a revision with identical content that some
// other process registered after this engine's last one and never deployed
// (a `deckhand deploy` that failed between its register and its update).
// The next push for that binding then registers a second revision with the
// same content instead of reusing it.

// remember records a revision this engine registered with tags sent. ECS
// answers RegisterTaskDefinition with the revision and its tags; should an
// answer lack the tags, the ones sent are what the revision has.
func (e *Engine) remember(out *ecs.RegisterTaskDefinitionOutput, sent []types.Tag) {
	if out == nil || out.TaskDefinition == nil {
		return
	}
	tags := out.Tags
	if len(tags) == 0 {
		tags = sent
	}
	e.registered.Store(aws.ToString(out.TaskDefinition.Family),
		&ecs.DescribeTaskDefinitionOutput{TaskDefinition: out.TaskDefinition, Tags: tags})
}

// forgetUnlessLatest drops a family's memory when the engine reused a
// revision other than the one it remembers: the memory no longer says what
// the service will run next.
func (e *Engine) forgetUnlessLatest(family, arn string) {
	if l := e.lastRegistered(family); l != nil && aws.ToString(l.TaskDefinition.TaskDefinitionArn) != arn {
		e.registered.Delete(family)
	}
}

// lastRegistered is the revision this engine registered last in family, or
// nil.
func (e *Engine) lastRegistered(family string) *ecs.DescribeTaskDefinitionOutput {
	v, ok := e.registered.Load(family)
	if !ok {
		return nil
	}
	return v.(*ecs.DescribeTaskDefinitionOutput)
}
