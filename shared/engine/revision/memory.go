package revision

import (
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Memory remembers the last revision a process registered in each family,
// as RegisterTaskDefinition returned it (content and tags). A revision never
// changes once registered, and Deckhand writes a revision's tags only when
// it registers it, so the memory is exact for as long as it names the
// family's latest revision. (A gated revision's approval tags change later,
// DESIGN §11; they are read from ECS by shared/engine/gate, never from the
// memory.) The zero value is empty; a nil Memory
// remembers nothing.
//
// The deploy engine's warm path uses it instead of describing the family's
// latest revision: when the service still runs the revision the engine
// registered last, that revision is both what runs (rules 4–6) and, as far
// as Deckhand's serialized deliveries can tell, the family's latest (rule
// 7). When the service runs anything else, someone else deployed since, and
// the engine reads both from ECS as on a cold start. A redelivered push
// still looks back over the family's recent revisions (Reuse), which covers
// a crash between another process's register and update.
//
// What the memory cannot see: a revision with identical content that some
// other process registered after this one's last and never deployed (a
// `deckhand deploy` that failed between its register and its update). The
// next push for that binding then registers a second revision with the
// same content instead of reusing it.
type Memory struct{ families sync.Map }

// remember records a revision registered with tags sent. ECS answers
// RegisterTaskDefinition with the revision and its tags; should an answer
// lack the tags, the ones sent are what the revision has.
func (m *Memory) remember(out *ecs.RegisterTaskDefinitionOutput, sent []types.Tag) {
	if m == nil || out == nil || out.TaskDefinition == nil {
		return
	}
	tags := out.Tags
	if len(tags) == 0 {
		tags = sent
	}
	m.families.Store(aws.ToString(out.TaskDefinition.Family),
		&ecs.DescribeTaskDefinitionOutput{TaskDefinition: out.TaskDefinition, Tags: tags})
}

// forget drops a family's memory: a failed register may have written a
// revision after all, so the family's latest is no longer known.
func (m *Memory) forget(family string) {
	if m != nil {
		m.families.Delete(family)
	}
}

// forgetUnlessLatest drops a family's memory when a revision other than
// the remembered one was reused: the memory no longer says what the
// service will run next.
func (m *Memory) forgetUnlessLatest(family, arn string) {
	if l := m.Last(family); l != nil && aws.ToString(l.TaskDefinition.TaskDefinitionArn) != arn {
		m.families.Delete(family)
	}
}

// Last is the revision registered last in family, as
// DescribeTaskDefinition would show it, or nil.
func (m *Memory) Last(family string) *ecs.DescribeTaskDefinitionOutput {
	if m == nil {
		return nil
	}
	v, ok := m.families.Load(family)
	if !ok {
		return nil
	}
	return v.(*ecs.DescribeTaskDefinitionOutput)
}
