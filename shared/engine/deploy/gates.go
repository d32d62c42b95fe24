package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// The gates of DESIGN §11, one function each, applied after rules 1–6 to a
// binding that has them: freeze (before catch-up, which it makes moot),
// then soak (promotions) and scan on the images the deploy brings, then,
// once the revision is rendered, approval (approval.go). A gate that stops
// a deploy decides the outcome; the gates passed are recorded in the
// event's gate detail.

// gateECS is the part of ECS the gates read and write: promotion sources
// (services, revisions, service-deployment records), gated revisions and
// their approval tags, and the scan gate's service marks.
type gateECS interface {
	gate.ECSAPI
	gate.TagAPI
}

var _ gateECS = (*ecs.Client)(nil)

// gateReader reads gates with the engine's clients and pacing.
func (e *Engine) gateReader() gate.Reader {
	return gate.Reader{ECS: e.Gates, ECR: e.Scans, Retry: e.pacer().Retry}
}

// stop is a gate's decision to stop a deploy.
type stop struct {
	status events.DeploymentStatus
	reason string
}

// freeze is the freeze gate: a binding in one of its freeze windows is
// BLOCKED, with the window and when it ends. Nothing is lost: the
// reconciler sends the newest eligible image when the window ends. A
// forced manual deploy goes, as it goes past a hold.
func freeze(b *manifest.Service, lead Push, now time.Time) (*stop, *events.GateDetail) {
	w, frozen := b.Frozen(now)
	if !frozen || lead.Force {
		return nil, nil
	}
	end := w.End.UTC()
	return &stop{events.StatusBlocked, fmt.Sprintf("%s: frozen from %s until %s; the newest blocked push deploys when the window ends",
			w, w.Start.UTC().Format(time.RFC3339), end.Format(time.RFC3339))},
		&events.GateDetail{Name: events.GateFreeze, Until: &end, Window: w.Freeze.String()}
}

// soak is the promotion gate: each promoted digest is the one the source
// binding serves now, in Deckhand's revision of the source that ECS's
// newest SUCCESSFUL deployment brought (gate.Reader.Promotable), and the
// source has served it for gates.soak. A rolled-back or superseded source
// never promotes: its promotion is SKIPPED. A soak not over yet is
// BLOCKED until it is (the reconciler sends the promotion again then).
func (e *Engine) soak(ctx context.Context, m *manifest.Manifest, b *manifest.Service, deploy map[string]Push) (*stop, *events.GateDetail, error) {
	src, ok := m.Service(b.PromoteFrom())
	if !ok {
		return &stop{events.StatusSkipped, fmt.Sprintf("source binding %s is not in the manifest", b.PromoteFrom())}, nil, nil
	}
	if e.Gates == nil {
		return nil, nil, &revision.PermanentError{Reason: "GatesUnreadable", Err: fmt.Errorf("binding %s promotes from %s, and the deploy engine has no ECS client for gates", b.Name, src.Name)}
	}
	cand, why, err := e.gateReader().Promotable(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	if why != "" {
		return &stop{events.StatusSkipped, why + ": a rolled-back or superseded source never promotes"}, nil, nil
	}
	for _, c := range slices.Sorted(maps.Keys(deploy)) {
		if p := deploy[c]; cand.Digest(c) != p.Digest {
			return &stop{events.StatusSkipped, fmt.Sprintf("source %s serves %s with %s %s now, not the promoted %s: a rolled-back or superseded source never promotes",
				src.Name, cand.Revision, c, shortDigest(cand.Digest(c)), shortDigest(p.Digest))}, nil, nil
		}
	}
	now := e.Now()
	detail := &events.GateDetail{Name: events.GateSoak, Source: cand.Verdict(now)}
	if ready := cand.SucceededAt.Add(b.Gates.SoakDuration()); now.Before(ready) {
		until := ready.UTC()
		detail.Until = &until
		return &stop{events.StatusBlocked, fmt.Sprintf("soak: %s reached SUCCEEDED with %s at %s and has served it %s of %s; it promotes from %s",
			src.Name, cand.Revision, cand.SucceededAt.UTC().Format(time.RFC3339), now.Sub(cand.SucceededAt).Round(time.Second),
			b.Gates.SoakDuration(), until.Format(time.RFC3339))}, detail, nil
	}
	return nil, detail, nil
}

// scan is the scan gate: every image the deploy brings has a finished
// scan (ECR basic or Inspector enhanced, read from ECR whatever woke the
// engine) with no finding at a blocking severity. Findings, a failed scan
// or a scan that did not finish within gates.scan.timeout of the push are
// BLOCKED, with the counts per severity, and marked on the service
// (deckhand:blocked:<container>) so the reconciler does not send it again
// while its scan says the same; a scan still running is PENDING_SCAN, and
// its result (the scan event, or the reconciler) decides again.
func (e *Engine) scan(ctx context.Context, b *manifest.Service, deploy map[string]Push, run *running) (*stop, *events.GateDetail, error) {
	block := b.Gates.ScanBlocks()
	if e.Scans == nil {
		return nil, nil, &revision.PermanentError{Reason: "ScansUnreadable", Err: fmt.Errorf("binding %s gates on scans, and the deploy engine has no ECR client to read them", b.Name)}
	}
	now := e.Now()
	detail := &events.GateDetail{Name: events.GateScan, Scans: map[string]events.ScanResult{}, Block: block}
	var stopped, pending []string
	var deadline time.Time
	marks := revision.Tags{}
	for _, c := range slices.Sorted(maps.Keys(deploy)) {
		p := deploy[c]
		var res events.ScanResult
		err := e.pacer().Retry(ctx, func() error {
			var err error
			res, err = gate.ReadScan(ctx, e.Scans, gate.Image{Registry: e.registryID(p), Repository: p.Repository, Digest: p.Digest}, block)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		res = gate.Overdue(res, p.PushedAt, now, b.Gates.ScanTimeout())
		detail.Scans[c] = res
		switch res.Status {
		case events.ScanStateClean:
		case events.ScanStatePending:
			pending = append(pending, fmt.Sprintf("%s %s", c, shortDigest(p.Digest)))
			if d := p.PushedAt.Add(b.Gates.ScanTimeout()); deadline.IsZero() || d.Before(deadline) {
				deadline = d
			}
		default:
			stopped = append(stopped, scanNote(c, res, block))
			marks[revision.TagBlocked+c] = p.Digest + " " + res.Status
		}
	}
	switch {
	case len(stopped) > 0:
		e.markBlocked(ctx, b, run, marks)
		return &stop{events.StatusBlocked, "scan: " + strings.Join(stopped, "; ")}, detail, nil
	case len(pending) > 0:
		until := deadline.UTC()
		detail.Until = &until
		return &stop{events.StatusPendingScan, fmt.Sprintf("scan: waiting for the scan of %s (blocks %s); not scanned by %s, it is BLOCKED",
			strings.Join(pending, ", "), strings.Join(block, ", "), until.Format(time.RFC3339))}, detail, nil
	}
	return nil, detail, nil
}

// scanNote says why one image's scan blocks.
func scanNote(c string, r events.ScanResult, block []string) string {
	switch r.Status {
	case events.ScanStateFindings:
		return fmt.Sprintf("%s %s has findings %s (blocks %s)", c, shortDigest(r.Digest), gate.Counts(r.Findings), strings.Join(block, ", "))
	case events.ScanStateTimedOut:
		return fmt.Sprintf("%s %s was never scanned: %s", c, shortDigest(r.Digest), r.Detail)
	}
	return fmt.Sprintf("%s %s: the scan failed (%s)", c, shortDigest(r.Digest), r.Detail)
}

// markBlocked tags the service with the digests the scan gate blocked. It
// is a note for the reconciler, not a rule: a failed write is logged and
// costs at most a repeated BLOCKED on its next pass.
func (e *Engine) markBlocked(ctx context.Context, b *manifest.Service, run *running, marks revision.Tags) {
	marks = marks.Missing(run.serviceTags())
	if len(marks) == 0 || e.Gates == nil {
		return
	}
	err := e.pacer().Retry(ctx, func() error {
		_, err := e.Gates.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: run.service.ServiceArn, Tags: marks.ECS()})
		return err
	})
	if err != nil {
		e.Logger.WarnContext(ctx, "could not mark the blocked digests on the service; the reconciler may send them again",
			"binding", b.Name, "service", aws.ToString(run.service.ServiceName), "error", err)
	}
}

// registryID is the registry of a pushed image: "" for Deckhand's own.
func (e *Engine) registryID(p Push) string {
	if p.Account == "" || p.Account == e.Account {
		return ""
	}
	return p.Account
}

// imageGates are the gates on the images a deploy brings, before the
// revision is rendered: soak for a promotion, then scan. It returns the
// outcome when one stops the deploy (stopped), else the outcome with the
// gates passed in its event's gate detail.
func (e *Engine) imageGates(ctx context.Context, m *manifest.Manifest, b *manifest.Service, deploy map[string]Push, run *running, o Outcome) (Outcome, bool) {
	if b.PromoteFrom() != "" {
		st, detail, err := e.soak(ctx, m, b, deploy)
		if err != nil {
			return failed(o, err), true
		}
		o.Event.Gate = detail
		if st != nil {
			return decided(o, st.status, st.reason), true
		}
	}
	if len(b.Gates.ScanBlocks()) > 0 {
		st, detail, err := e.scan(ctx, b, deploy, run)
		if err != nil {
			return failed(o, err), true
		}
		if o.Event.Gate != nil {
			detail.Source = o.Event.Gate.Source
		}
		o.Event.Gate = detail
		if st != nil {
			return decided(o, st.status, st.reason), true
		}
	}
	return o, false
}
