package chaos

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// Invariants of the gated world (gates.go).
const (
	InvGatesPassed      = "13 no UpdateService of a gated binding to an image its gates did not pass"
	InvPromotedSoaked   = "14 every promoted digest is one its source reached SUCCEEDED with and served for the soak"
	InvGatesNothingLost = "15 every push a gate held back was deployed, superseded, rejected, expired or blocked by its scan"
)

// completion is a source's deployment that ECS completed.
type completion struct {
	at     time.Time
	digest string
}

// gateFacts is what ECS and the harness know about the gated bindings.
type gateFacts struct {
	g *gateRun
	// revs are each gated family's revisions by ARN.
	revs map[string]map[string]ecssim.TaskDefinitionSnapshot
	// updates are the UpdateService calls that changed a gated service.
	updates []ecssim.UpdateRecord
	// completed are each gated binding's deployments ECS completed, in
	// order (SERVICE_DEPLOYMENT_COMPLETED).
	completed map[string][]completion
}

func (c *checker) gateFacts() *gateFacts {
	f := &gateFacts{g: c.res.gates, revs: map[string]map[string]ecssim.TaskDefinitionSnapshot{}, completed: map[string][]completion{}}
	ecs := c.res.sb.ECS()
	deployed := map[string]string{} // deployment id → digest
	for _, b := range gatedBindings {
		f.revs[b.name] = map[string]ecssim.TaskDefinitionSnapshot{}
		for _, td := range ecs.TaskDefinitions(b.name) {
			f.revs[b.name][td.ARN] = td
		}
		snap, _ := ecs.Service(cluster, b.name)
		for _, d := range snap.Deployments {
			deployed[d.ID] = digestOf(f.revs[b.name][d.TaskDefinition])
		}
	}
	// Every UpdateService's deployment (the service's list forgets old
	// ones; it still names the circuit breaker's rollbacks).
	for _, u := range ecs.UpdateHistory() {
		if _, ok := f.revs[u.Service]; ok && u.Cluster == cluster {
			f.updates = append(f.updates, u)
			deployed[u.DeploymentID] = digestOf(f.revs[u.Service][u.TaskDefinition])
		}
	}
	for _, ev := range c.res.sb.Events() {
		if ev.Source != events.SourceECS || ev.DetailType != events.DetailTypeDeploymentStateChange || len(ev.Resources) == 0 {
			continue
		}
		svc := lastPart(ev.Resources[0])
		if _, ok := f.revs[svc]; !ok {
			continue
		}
		d, err := events.Decode[events.ECSDeploymentStateChange](ev.Detail, "ECS deployment")
		if err != nil || d.EventName != "SERVICE_DEPLOYMENT_COMPLETED" {
			continue
		}
		if digest, ok := deployed[d.DeploymentID]; ok {
			f.completed[svc] = append(f.completed[svc], completion{at: ev.Time, digest: digest})
		}
	}
	return f
}

func digestOf(td ecssim.TaskDefinitionSnapshot) string {
	_, d, _ := strings.Cut(td.Images[appC], "@")
	return d
}

func gatedByName(name string) gatedBinding {
	for _, b := range gatedBindings {
		if b.name == name {
			return b
		}
	}
	return gatedBinding{}
}

// gates checks invariants 13 to 15 (none without Config.Gates).
func (c *checker) gates() []Row {
	if c.res.gates == nil {
		return nil
	}
	f := c.gateFacts()
	return []Row{f.passed(), f.soaked(), c.nothingLost(f)}
}

// passed is invariant 13: every UpdateService of a gated service is
// outside its freeze windows, brings an image the harness scripted a
// passing scan for after that scan finished (gate-dev), and a revision the
// approver approved before (gate-prod).
func (f *gateFacts) passed() Row {
	row := Row{Name: InvGatesPassed}
	for _, u := range f.updates {
		row.Checked++
		b := gatedByName(u.Service)
		mb, _ := f.g.m.Service(b.name)
		td := f.revs[b.name][u.TaskDefinition]
		d := digestOf(td)
		bad := func(format string, a ...any) {
			row.Violations = append(row.Violations, fmt.Sprintf("%s: UpdateService at %s to %s (%s): ", b.name, u.Time.UTC().Format(time.TimeOnly), short(d), lastPart(u.TaskDefinition))+fmt.Sprintf(format, a...))
		}
		if w, frozen := mb.Frozen(u.Time); frozen {
			bad("inside the %s until %s", w, w.End.UTC().Format(time.TimeOnly))
		}
		if len(mb.Gates.ScanBlocks()) > 0 && d != f.g.seeded {
			t, ok := f.g.scans[d]
			switch {
			case !ok:
				bad("an image the run never pushed")
			case !t.passes():
				bad("its scan is %s, which blocks it", t.outcome)
			case u.Time.Before(t.pushedAt.Add(sandbox.DefaultScanDelay)):
				bad("before its scan finished (%s)", t.pushedAt.Add(sandbox.DefaultScanDelay).UTC().Format(time.TimeOnly))
			}
		}
		if b.approval {
			at, _ := time.Parse(time.RFC3339, td.Tags[revision.TagDecidedAt])
			if td.Tags[revision.TagApproval] != revision.ApprovalApproved || td.Tags[revision.TagDecidedBy] != approverARN || at.IsZero() || at.After(u.Time.Add(time.Second)) {
				bad("approval %q by %q at %q", td.Tags[revision.TagApproval], td.Tags[revision.TagDecidedBy], td.Tags[revision.TagDecidedAt])
			}
		}
	}
	return row
}

// soaked is invariant 14: every UpdateService of a promoted binding brings
// a revision tagged as promoted from its source, with a digest whose
// deployment at the source ECS completed at least the soak before, and
// which no deployment of another digest replaced during the soak.
func (f *gateFacts) soaked() Row {
	row := Row{Name: InvPromotedSoaked}
	for _, u := range f.updates {
		b := gatedByName(u.Service)
		if b.from == "" {
			continue
		}
		row.Checked++
		td := f.revs[b.name][u.TaskDefinition]
		d := digestOf(td)
		if td.Tags[revision.TagTrigger] != string(events.TriggerPromote) || td.Tags[revision.TagPromotedFrom] != b.from {
			row.Violations = append(row.Violations, fmt.Sprintf("%s: UpdateService at %s to %s, tagged trigger %q promoted-from %q, want promote from %s",
				b.name, u.Time.UTC().Format(time.TimeOnly), lastPart(u.TaskDefinition), td.Tags[revision.TagTrigger], td.Tags[revision.TagPromotedFrom], b.from))
		}
		if !f.servedFor(b.from, d, b.soak, u.Time) {
			row.Violations = append(row.Violations, fmt.Sprintf("%s: UpdateService at %s to %s, which %s had not reached SUCCEEDED with and served for %s by then (its completions: %s)",
				b.name, u.Time.UTC().Format(time.TimeOnly), short(d), b.from, b.soak, f.completions(b.from, d)))
		}
	}
	return row
}

// servedFor reports whether source completed a deployment of digest at
// least soak before t, and no deployment of another digest completed
// there within the soak after it.
func (f *gateFacts) servedFor(source, digest string, soak time.Duration, t time.Time) bool {
	comps := f.completed[source]
	for _, cp := range comps {
		if cp.digest != digest || cp.at.Add(soak).After(t.Add(time.Second)) {
			continue
		}
		served := true
		for _, o := range comps {
			if o.digest != digest && !o.at.Before(cp.at) && o.at.Before(cp.at.Add(soak)) {
				served = false
			}
		}
		if served {
			return true
		}
	}
	return false
}

func (f *gateFacts) completions(source, digest string) string {
	var out []string
	for _, cp := range f.completed[source] {
		if cp.digest == digest {
			out = append(out, cp.at.UTC().Format(time.TimeOnly))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// nothingLost is invariant 15: every PENDING_SCAN, PENDING_APPROVAL and
// BLOCKED by a freeze or a soak ends: the binding runs that image or a
// newer one at the end; or a later event refuses that image there
// (REJECTED, EXPIRED, SUPERSEDED, BLOCKED by its scan); or a newer image
// was refused there for good (BLOCKED by its scan, REJECTED, EXPIRED),
// which supersedes it: only the newest push deploys (DESIGN §5 rule 2),
// also when its own gate then stops it. And the chain settled: every
// promoted binding runs its source's image (or refused it). Promotions the
// harness forged are not pushes: invariants 13 and 14 judge them.
func (c *checker) nothingLost(f *gateFacts) Row {
	row := Row{Name: InvGatesNothingLost}
	final := map[string]string{}
	for _, b := range gatedBindings {
		_, final[b.name] = c.runningOf(b.name)
	}
	deps := c.res.Deployments
	for i, d := range deps {
		if _, ok := final[d.Binding]; !ok || !waiting(d.DeploymentStateChange) || strings.HasPrefix(d.EventID, "chaos-forged-") {
			continue
		}
		row.Checked++
		dig := d.Containers[appC].NewDigest
		now := final[d.Binding]
		if now == dig || f.g.pushedAt(now).After(f.g.pushedAt(dig)) || refusedLater(deps[i+1:], d.Binding, dig) || f.newerRefused(deps, d.Binding, dig) {
			continue
		}
		row.Violations = append(row.Violations, fmt.Sprintf("%s: %s of %s at %s (%s) never ended: the service runs %s",
			d.Binding, d.Status, short(dig), d.Time.UTC().Format(time.TimeOnly), d.Reason, short(now)))
	}
	for _, s := range chainBehind(c.res.sb, f.g) {
		row.Checked++
		row.Violations = append(row.Violations, "the chain did not settle: "+s)
	}
	return row
}

// waiting reports whether a gate held the push back to act on it later.
func waiting(d events.DeploymentStateChange) bool {
	switch d.Status {
	case events.StatusPendingScan, events.StatusPendingApproval:
		return true
	case events.StatusBlocked:
		return d.Gate != nil && (d.Gate.Name == events.GateFreeze || d.Gate.Name == events.GateSoak)
	}
	return false
}

// refusedLater reports whether a later event refuses digest at binding for
// good.
func refusedLater(later []local.Deployment, binding, digest string) bool {
	for _, d := range later {
		if d.Binding != binding || d.Containers[appC].NewDigest != digest {
			continue
		}
		switch d.Status {
		case events.StatusRejected, events.StatusExpired, events.StatusSuperseded:
			return true
		case events.StatusBlocked:
			if d.Gate != nil && d.Gate.Name == events.GateScan {
				return true
			}
		}
	}
	return false
}

// newerRefused reports whether an image pushed after digest was refused
// for good at binding.
func (f *gateFacts) newerRefused(deps []local.Deployment, binding, digest string) bool {
	for _, d := range deps {
		n := d.Containers[appC].NewDigest
		if d.Binding != binding || !f.g.pushedAt(n).After(f.g.pushedAt(digest)) {
			continue
		}
		switch {
		case d.Status == events.StatusRejected, d.Status == events.StatusExpired,
			d.Status == events.StatusBlocked && d.Gate != nil && d.Gate.Name == events.GateScan:
			return true
		}
	}
	return false
}

// runningOf is the revision a gated service runs and its app digest.
func (c *checker) runningOf(name string) (string, string) {
	return runningDigest(c.res.sb, name)
}

// writeGates prints what the gated world did.
func (r *Report) writeGates(w io.Writer) {
	s := r.Gates
	if s == nil {
		return
	}
	fmt.Fprintf(w, "gates: %d pushes to %s, scans scripted %s; scan events %s\n", s.Pushes, gateRepo, counts(s.Scans), counts(s.ScanEvents))
	fmt.Fprintf(w, "gates: approver %s\n", counts(s.Approvals))
	fmt.Fprintf(w, "gates: the gates' clock ran %d passes (%d with AWS errors), sent %d promotions; hostile promotions %s; settled after %d rounds of 30 s (settled: %t)\n\n",
		s.ClockPasses, s.ClockErrors, s.Promotions, counts(s.Hostile), s.SettleRounds, s.SettleReached)
}

func counts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
