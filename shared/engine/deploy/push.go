// Package deploy is Deckhand's deploy engine: it turns image pushes into
// task-definition revisions and service updates under the rules of
// DESIGN §5. Accept, coalesce, hold, dedupe, order, the rolled-back check
// and keep-other-containers are functions of this package (rules.go);
// reuse, register then update, error classification and pacing are
// shared/engine/revision's, which the job engine and the CLI use too.
package deploy

import (
	"fmt"
	"slices"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Push is one image push to deploy, from an ECR event, the reconciler or a
// person.
type Push struct {
	// EventID is the triggering event's id (the deckhand:event-id tag).
	EventID string
	// MessageID is the SQS message the push came in, for partial batch
	// responses. Empty for direct invocations.
	MessageID  string
	Account    string
	Region     string
	Repository string
	Tag        string
	Digest     string
	PushedAt   time.Time
	Trigger    events.Trigger
	// Force lets a manual deploy go to an older image or past a hold.
	Force bool
	// Binding, when set, restricts the push to one service binding.
	Binding string
	// Redelivered is set when the queue delivers the message again: the
	// engine then looks further back for a revision it may have registered
	// before a crash.
	Redelivered bool
	// Receive is the queue's ApproximateReceiveCount for the message (0:
	// not from a queue). A permanent failure is reported (FAILED) on the
	// first receive only: one bad push, one alert.
	Receive int
	// PromotedFrom and Container, on a promotion (trigger promote), name
	// the source binding and the container the digest is for.
	PromotedFrom string
	Container    string
	// Rescan marks a push re-driven by its image's scan result (an ECR
	// Image Scan or Inspector2 Scan event): the scan gate decides it again.
	Rescan bool
	// Group is the FIFO message group the push came in ("" for a direct
	// invocation): its manifest part's (parts.go).
	Group string
}

// ReconcileIDPrefix marks synthetic pushes enqueued by the reconciler; the
// deployer records them with trigger=reconcile.
const ReconcileIDPrefix = "reconcile-"

// PushFromEvent converts an ECR Image Action event into a push. It returns
// ok=false with a reason for events Deckhand does not deploy (rule 1).
func PushFromEvent(ev events.ImageActionEvent) (p Push, ok bool, reason string) {
	d := ev.Detail
	switch {
	case d.ActionType != events.ActionPush:
		return p, false, fmt.Sprintf("action %s is not a push", d.ActionType)
	case d.Result != events.ResultSuccess:
		return p, false, fmt.Sprintf("push result %s", d.Result)
	case d.ImageTag == "":
		return p, false, "untagged push"
	case d.ImageDigest == "":
		return p, false, "push without an image digest"
	}
	trigger := events.TriggerPush
	if len(ev.ID) > len(ReconcileIDPrefix) && ev.ID[:len(ReconcileIDPrefix)] == ReconcileIDPrefix {
		trigger = events.TriggerReconcile
	}
	return Push{
		EventID: ev.ID, Account: ev.Account, Region: ev.Region,
		Repository: d.RepositoryName, Tag: d.ImageTag, Digest: d.ImageDigest,
		PushedAt: ev.Time, Trigger: trigger,
	}, true, ""
}

// trusted is rule 1 for a push's origin: its account and Region are
// Deckhand's own or allowed by the manifest's sources:. An empty one is
// nobody's. A foreign push is ignored and logged with the reason (DESIGN
// §5 rule 1): SKIPPED, an event, and no DLQ, since retrying it can never
// make it ours. It returns the reason when the push is not trusted.
func (e *Engine) trusted(m *manifest.Manifest, p Push) (string, bool) {
	accountOK := p.Account != "" && p.Account == e.Account
	regionOK := p.Region != "" && p.Region == e.Region
	if s := m.Sources; s != nil {
		accountOK = accountOK || slices.Contains(s.Accounts, p.Account)
		regionOK = regionOK || slices.Contains(s.Regions, p.Region)
	}
	if !accountOK {
		return fmt.Sprintf("ForeignAccount: $.account: push from account %s; this is %s and the manifest's sources.accounts does not list it", p.Account, e.Account), false
	}
	if !regionOK {
		return fmt.Sprintf("ForeignRegion: $.region: push from Region %s; this is %s and the manifest's sources.regions does not list it", p.Region, e.Region), false
	}
	return "", true
}
