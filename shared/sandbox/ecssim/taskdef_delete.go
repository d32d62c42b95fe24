package ecssim

import (
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// Task definition deletion follows ECS's states: ACTIVE → INACTIVE
// (DeregisterTaskDefinition) → DELETE_IN_PROGRESS (DeleteTaskDefinitions)
// → gone. A revision stays DELETE_IN_PROGRESS while a service deployment
// (PRIMARY or ACTIVE) or a task that is not STOPPED uses it; it goes when
// the last such use ends. A deleted revision is neither described nor
// listed, a family whose revisions are all deleted is not listed, and its
// revision numbers are never reused.

// statusDeleted marks a revision that is gone. It never reaches the wire.
const statusDeleted = "DELETED"

func (e *ECS) deleteTaskDefinitions(body []byte, now time.Time) (any, error) {
	var in struct {
		TaskDefinitions []string `json:"taskDefinitions"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.TaskDefinitions) == 0 || len(in.TaskDefinitions) > 10 {
		return nil, awsproto.InvalidParameter("taskDefinitions must contain between 1 and 10 task definitions.")
	}
	out := struct {
		TaskDefinitions []any     `json:"taskDefinitions"`
		Failures        []failure `json:"failures"`
	}{TaskDefinitions: []any{}, Failures: []failure{}}
	for _, ref := range in.TaskDefinitions {
		td, reason := e.deletable(ref)
		if reason != "" {
			out.Failures = append(out.Failures, failure{Arn: e.taskDefARN(ref), Reason: reason})
			continue
		}
		if td.status == "INACTIVE" {
			td.status, td.deleteRequestedAt = "DELETE_IN_PROGRESS", now
			e.deleting = append(e.deleting, td)
		}
		out.TaskDefinitions = append(out.TaskDefinitions, e.renderTaskDef(td))
	}
	e.reapDeleted()
	return out, nil
}

// deletable resolves a DeleteTaskDefinitions reference, or says why it
// cannot be deleted.
func (e *ECS) deletable(ref string) (*taskDef, string) {
	name := ref
	if p, ok := resourcePath(ref); ok {
		name = strings.TrimPrefix(p, "task-definition/")
	}
	if !strings.Contains(name, ":") {
		return nil, "The specified task definition does not include a revision."
	}
	td, err := e.taskDefRef(ref)
	if err != nil || td.status == statusDeleted {
		return nil, "The specified task definition does not exist."
	}
	if td.status == "ACTIVE" {
		return nil, "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
	}
	return td, ""
}

// taskDefARN returns the ARN a reference names, for failures.
func (e *ECS) taskDefARN(ref string) string {
	if _, ok := resourcePath(ref); ok {
		return ref
	}
	return e.arn("task-definition/" + ref)
}

// reapDeleted deletes the DELETE_IN_PROGRESS revisions nothing uses any
// more. Callers hold e.mu.
func (e *ECS) reapDeleted() {
	if len(e.deleting) == 0 {
		return
	}
	used := map[*taskDef]bool{}
	for _, s := range e.services {
		for _, d := range s.deployments {
			if d.status != "INACTIVE" || len(d.tasks) > 0 {
				used[d.td] = true
			}
		}
	}
	for _, t := range e.live {
		used[t.td] = true
	}
	kept := e.deleting[:0]
	for _, td := range e.deleting {
		if used[td] {
			kept = append(kept, td)
			continue
		}
		td.status = statusDeleted
		delete(e.tags, td.arn)
	}
	clear(e.deleting[len(kept):])
	e.deleting = kept
}
