package deploy

import (
	"fmt"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// pushEvent starts an event for a push, with the binding if known.
func pushEvent(p Push, binding string, container string) events.DeploymentStateChange {
	ev := events.DeploymentStateChange{Binding: binding, Trigger: p.Trigger, EventID: p.EventID}
	if container != "" {
		ev.Containers = map[string]events.ContainerChange{container: {NewDigest: p.Digest, NewTag: p.Tag}}
	} else if p.Repository != "" {
		ev.Containers = map[string]events.ContainerChange{p.Repository: {NewDigest: p.Digest, NewTag: p.Tag}}
	}
	return ev
}

func bindingEvent(p Push, b *manifest.Service) events.DeploymentStateChange {
	ev := pushEvent(p, b.Name, "")
	ev.Cluster, ev.Service = b.Cluster, b.Service
	ev.Containers = nil
	for c, img := range b.Images {
		if img.Repository == p.Repository {
			if ev.Containers == nil {
				ev.Containers = map[string]events.ContainerChange{}
			}
			ev.Containers[c] = events.ContainerChange{NewDigest: p.Digest, NewTag: p.Tag}
		}
	}
	return ev
}

// skipped is rule 1's outcome for a push that no binding takes.
func skipped(p Push, b *manifest.Service, reason string) Outcome {
	ev := pushEvent(p, "", "")
	if b != nil {
		ev = bindingEvent(p, b)
	}
	ev.Status = events.StatusSkipped
	ev.Reason = reason
	return Outcome{Event: ev, Pushes: []Push{p}}
}

// supersededInBatch is rule 2's outcome for a push that lost to a newer one.
func supersededInBatch(loser Push, b *manifest.Service, container string, winner Push) Outcome {
	ev := bindingEvent(loser, b)
	ev.Status = events.StatusSuperseded
	ev.Reason = fmt.Sprintf("container %s: superseded in the same batch by %s (%s, pushed %s)",
		container, winner.Tag, shortDigest(winner.Digest), winner.PushedAt.Format("2006-01-02T15:04:05Z07:00"))
	return Outcome{Event: ev, Pushes: []Push{loser}}
}

// failed marks an outcome FAILED with err's reason.
func failed(o Outcome, err error) Outcome {
	o.Err = err
	o.Retry = revision.Retryable(err)
	o.Event.Status = events.StatusFailed
	o.Event.Reason = revision.Reason(err) + ": " + err.Error()
	return o
}

// Ignored builds the SKIPPED outcome for an event Deckhand does not deploy
// (a delete, an untagged or failed push); the handler reports it so nothing
// vanishes silently.
func Ignored(eventID, repository, reason string) Outcome {
	return Outcome{Event: events.DeploymentStateChange{
		Status: events.StatusSkipped, EventID: eventID, Trigger: events.TriggerPush,
		Reason: fmt.Sprintf("repository %s: %s", repository, reason),
	}}
}

// Malformed builds the FAILED outcome for an event that cannot be decoded.
func Malformed(messageID string, err error) Outcome {
	return failed(Outcome{Pushes: []Push{{MessageID: messageID}}}, err)
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
