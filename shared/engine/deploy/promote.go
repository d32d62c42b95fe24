package deploy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Promotions (DESIGN §11): a binding whose images say `promoteFrom: src`
// deploys exactly the digests src reached SUCCEEDED with and served for
// gates.soak. The reconciler finds them (shared/engine/reconcile) and sends
// a Deckhand Promotion into the deploy queue, in the message group of the
// source's repositories; the deployer turns it into one push per container
// (trigger promote) that goes through every rule, and the soak gate
// confirms with ECS, before anything is written, that src still serves
// those digests and has for long enough (gates.go).

// bindingsFor is rule 1's choice of bindings for a push: those that follow
// its repository (restricted to p.Binding when set) or, for a promotion,
// the binding it promotes to.
func bindingsFor(m *manifest.Manifest, p Push) []*manifest.Service {
	if p.Trigger == events.TriggerPromote {
		if b, ok := m.Service(p.Binding); ok && b.PromoteFrom() == p.PromotedFrom && p.PromotedFrom != "" {
			return []*manifest.Service{b}
		}
		return nil
	}
	bindings := m.BindingsFor(p.Repository)
	if p.Binding != "" {
		bindings = filterBinding(bindings, p.Binding)
	}
	return bindings
}

// acceptPush is rule 1 for one binding: accept for a push, and for a
// promotion the container it names, when the binding promotes it from the
// promotion's source and it comes from the pushed repository.
func acceptPush(b *manifest.Service, p Push) []string {
	if p.Trigger != events.TriggerPromote {
		return accept(b, p)
	}
	img, ok := b.Images[p.Container]
	if !ok || img.PromoteFrom != p.PromotedFrom || img.Origin() != p.Repository {
		return nil
	}
	return []string{p.Container}
}

func notBound(p Push) string {
	if p.Trigger == events.TriggerPromote {
		return fmt.Sprintf("binding %s does not promote from %s (the manifest changed since the promotion was sent?)", p.Binding, p.PromotedFrom)
	}
	return fmt.Sprintf("repository %s is not bound to any service", p.Repository)
}

func notAccepted(b *manifest.Service, p Push) string {
	if p.Trigger == events.TriggerPromote {
		return fmt.Sprintf("binding %s does not promote container %s of repository %s from %s", b.Name, p.Container, p.Repository, p.PromotedFrom)
	}
	return fmt.Sprintf("tag %s does not match the tag policy of binding %s", p.Tag, b.Name)
}

// PromotionPushes turns a Deckhand Promotion into its pushes, one per
// container, in name order.
func PromotionPushes(ev events.PromotionEvent) []Push {
	d := ev.Detail
	var out []Push
	for _, c := range slices.Sorted(maps.Keys(d.Containers)) {
		img := d.Containers[c]
		out = append(out, Push{
			EventID: ev.ID, Account: ev.Account, Region: ev.Region, Repository: img.Repository, Tag: img.Tag, Digest: img.Digest,
			PushedAt: img.PushedAt, Trigger: events.TriggerPromote, Binding: d.Binding,
			PromotedFrom: d.From, Container: c,
		})
	}
	return out
}
