package deploy

import (
	"context"

	"github.com/deckhand-ecs/deckhand/events"
)

// inputs decodes one message of the deploy queue into the pushes it
// carries, or the outcomes that account for it: an ECR push (rule 1), an
// image's scan result (scanpush.go) or a promotion (promote.go). Anything
// else is malformed.
func (h *Handler) inputs(ctx context.Context, r record) ([]Push, []Outcome) {
	malformed := func(err error) []Outcome {
		o := Malformed(r.messageID, err)
		o.Pushes[0].Receive = r.receive
		return []Outcome{o}
	}
	source, detailType, _ := events.Kind(r.body)
	switch {
	case source == events.SourceECR && detailType == events.DetailTypeImageScan:
		ev, err := events.DecodeImageScan(r.body)
		if err != nil {
			return nil, malformed(err)
		}
		d := ev.Detail
		return h.rescan(ctx, r, ScanTriggerOf(ev.ID, ev.Account, ev.Region, ev.DetailType, d.RepositoryName, d.ImageDigest))
	case source == events.SourceInspector && detailType == events.DetailTypeInspectorScan:
		ev, err := events.DecodeInspectorScan(r.body)
		if err != nil {
			return nil, malformed(err)
		}
		d := ev.Detail
		return h.rescan(ctx, r, ScanTriggerOf(ev.ID, ev.Account, ev.Region, ev.DetailType, d.RepositoryName, d.ImageDigest))
	case source == events.SourceDeckhand && detailType == events.DetailTypePromotion:
		ev, err := events.DecodePromotion(r.body)
		if err != nil {
			return nil, malformed(err)
		}
		return PromotionPushes(ev), nil
	}
	ev, err := events.DecodeImageAction(r.body)
	if err != nil {
		return nil, malformed(err)
	}
	p, ok, reason := PushFromEvent(ev)
	if !ok {
		return nil, []Outcome{Ignored(ev.ID, ev.Detail.RepositoryName, reason)}
	}
	return []Push{p}, nil
}

// rescan turns a scan result into the pushes it re-drives; when ECR could
// not be asked, the message fails (retryable) with the error.
func (h *Handler) rescan(ctx context.Context, r record, t ScanTrigger) ([]Push, []Outcome) {
	ps, outs, err := h.Engine.ScanPushes(ctx, t)
	if err != nil {
		o := failed(Outcome{Pushes: []Push{{EventID: t.EventID, MessageID: r.messageID, Receive: r.receive, Repository: t.Repository, Digest: t.Digest}},
			Event: events.DeploymentStateChange{EventID: t.EventID, Trigger: events.TriggerPush,
				Containers: map[string]events.ContainerChange{t.Repository: {NewDigest: t.Digest}}}}, err)
		return nil, []Outcome{o}
	}
	for i := range outs {
		outs[i].Pushes = []Push{{EventID: t.EventID, MessageID: r.messageID, Receive: r.receive}}
	}
	return ps, outs
}
