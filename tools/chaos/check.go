package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// Invariant names, in table order.
const (
	InvConverged  = "1 every service on its newest eligible healthy image (or rolled back to the last good one)"
	InvNoBackward = "2 no service ever moved to an older image"
	InvUniqueHash = "3 no two revisions with one content hash in a family"
	InvAccounted  = "4 every input accounted for exactly once (events or DLQ, with a reason)"
	InvOneRunTask = "5 at most one RunTask per scheduled time and attempt"
	InvForbid     = "6 at most one active run of a forbid job at any moment"
	InvReplace    = "7 at most one live run of a replace job at any moment, never replaced by an older one"
	InvHarness    = "0 the run itself completed (routing, pumping)"
)

// Row is one invariant's result.
type Row struct {
	Name       string
	Checked    int
	Violations []string
	// Known are violations of a known, reported engine gap (KnownGaps).
	// They fail a strict run only.
	Known []string
}

// KnownGaps are engine gaps this suite found and reported, by id. A
// violation is classified as known only when it matches the gap's precise
// signature; anything else fails every run.
var KnownGaps = map[string]string{
	// None open. G1 (a register repeated after a 5xx that followed the
	// write), G2 (a whole batch failed with no reason logged) and G3
	// (ROLLED_BACK naming a newer revision as the rollback target) were
	// fixed in shared/engine/deploy and shared/engine/track; their signatures now fail
	// every run like any other violation.
}

// Report is what Check found.
type Report struct {
	// RepeatedEvents are identical Deckhand events put again by a PutEvents
	// retry (at-least-once delivery; consumers dedupe on the detail).
	RepeatedEvents int
	Config         Config
	Rows           []Row
	Inputs         map[string]map[string]int // kind → resolution → count
	Outcomes       map[string]int            // Deckhand deployment event status → count
	// AlarmFlips counts alarms set to ALARM; Causes the ROLLED_BACK
	// verdicts by cause (circuitBreaker, alarm, hook, manual).
	AlarmFlips int
	Causes     map[string]int
	Calls      int
	Failed     map[string]int // AWS calls answered with a failure, by status
	DLQ        int
	// DLQReasons counts dead-lettered inputs by the reason of their last
	// failed receive.
	DLQReasons map[string]int
	Virtual    time.Duration
	Registers  int
	// CaughtUp counts STARTED deployments that caught up to a newer image
	// through ECR (shared/engine/deploy/catchup.go).
	CaughtUp int
	// JobOutcomes counts the runner's decisions on job-queue messages
	// (scheduled invocations and the tracker's re-runs), by outcome.
	JobOutcomes map[string]int
	// JobEvents counts Deckhand Job State Change events by status.
	JobEvents map[string]int
	// TrackerDLQ counts tracker events dead-lettered after Lambda's
	// retries; TagOutages the TagResource outages injected.
	TrackerDLQ, TagOutages int
	// PruneRounds, Pruned and PruneErrors are retention's rounds, the
	// revisions they removed and their failed calls (Result).
	PruneRounds, Pruned, PruneErrors int
	// Redelivered counts rolled-back pushes delivered again at the end;
	// ReconcileEnqueued the final reconcile pass's synthetic pushes.
	Redelivered, ReconcileEnqueued int
	// Targets sums up the targets' sessions (targets.go).
	Targets TargetStats
	// Gates is what the gated world did (nil without Config.Gates).
	Gates *GateStats
}

// OK reports whether every invariant held, apart from known gaps.
func (r *Report) OK() bool {
	for _, row := range r.Rows {
		if len(row.Violations) > 0 {
			return false
		}
	}
	return true
}

// Strict reports whether every invariant held, known gaps included.
func (r *Report) Strict() bool {
	for _, row := range r.Rows {
		if len(row.Known) > 0 {
			return false
		}
	}
	return r.OK()
}

// Row returns the row named name.
func (r *Report) Row(name string) Row {
	for _, row := range r.Rows {
		if row.Name == name {
			return row
		}
	}
	return Row{}
}

// Check evaluates every invariant over a finished run.
func Check(ctx context.Context, res *Result) (*Report, error) {
	rep := &Report{Config: res.Config, Inputs: map[string]map[string]int{}, Outcomes: map[string]int{}, DLQReasons: map[string]int{},
		Failed: map[string]int{}, DLQ: len(res.DLQ), Virtual: res.Virtual}
	for _, c := range res.Calls {
		if c.Service == sandbox.ServiceSQS {
			continue // the harness's own sends; never faulted
		}
		rep.Calls++
		if c.Status == 0 || c.Status >= 400 && !(c.Service == sandbox.ServiceS3 && c.Status == 404) {
			rep.Failed[fmt.Sprint(c.Status)]++
		}
		if c.Service == "ecs" && c.Op == "RegisterTaskDefinition" && c.Status == 200 {
			rep.Registers++
		}
	}
	rep.AlarmFlips, rep.Causes = res.AlarmFlips, map[string]int{}
	for _, d := range res.Deployments {
		rep.Outcomes[string(d.Status)]++
		if d.Status == events.StatusRolledBack {
			rep.Causes[events.CauseKind(d.Cause)]++
		}
		if d.Status == events.StatusStarted && strings.Contains(d.Reason, "caught up from") {
			rep.CaughtUp++
		}
	}
	c := &checker{res: res, w: res.world}
	c.index()
	harness := Row{Name: InvHarness, Checked: 1}
	for _, err := range res.HarnessErrors {
		harness.Violations = append(harness.Violations, err.Error())
	}
	jobRows, err := c.jobs(ctx)
	if err != nil {
		return nil, err
	}
	tmpl, err := c.templates(ctx)
	if err != nil {
		return nil, err
	}
	truth := c.truth()
	rep.Rows = append([]Row{harness, c.converged(), c.noBackward(), c.uniqueHash(), c.accounted(rep)}, jobRows...)
	alarmRow, err := c.alarmNeverSucceeded(ctx)
	if err != nil {
		return nil, err
	}
	rep.Rows = append(rep.Rows, c.staysRolledBack(truth), c.verdictsAgree(truth), tmpl, c.eventTimes(), alarmRow, c.isolated(), c.noDeletedTarget())
	rep.PruneRounds, rep.Pruned, rep.PruneErrors = res.PruneRounds, res.Pruned, res.PruneErrors
	rep.Rows = append(rep.Rows, c.gates()...)
	rep.Gates = res.Gates
	rep.TrackerDLQ, rep.TagOutages = len(res.TrackerDLQ), res.TagOutages
	rep.Redelivered, rep.ReconcileEnqueued = res.Redelivered, res.ReconcileEnqueued
	rep.RepeatedEvents = c.repeats
	rep.Targets = c.targetStats()
	rep.JobEvents = map[string]int{}
	for _, ev := range res.sb.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandJob {
			continue
		}
		var d events.JobStateChange
		if json.Unmarshal(ev.Detail, &d) == nil {
			rep.JobEvents[string(d.Status)]++
		}
	}
	rep.JobOutcomes = map[string]int{}
	for _, lines := range res.JobRuns {
		for _, d := range lines {
			switch {
			case d.Duplicate:
				rep.JobOutcomes[d.Outcome+" (duplicate)"]++
			default:
				rep.JobOutcomes[d.Outcome]++
			}
		}
	}
	return rep, nil
}

type checker struct {
	res *Result
	w   *world
	// resolved marks pushes Deckhand got to decide: some delivery was
	// deleted from the queue or a direct invocation succeeded.
	resolved map[*Input]bool
	// repeats counts identical events emitted again by PutEvents retries.
	repeats int
	// deployed caches deployedDigests.
	deployed map[string]bool
}

// deletingReceive is the receive after which the message was deleted.
func deletingReceive(m *Message) (*Invocation, int) {
	for i, inv := range m.Receives {
		if inv.Err == nil && !inv.Failed[m.ID] {
			return inv, i
		}
	}
	return nil, -1
}

// deadLettered reports whether the deployer put the message on the DLQ
// itself in inv (and acknowledged it).
func deadLettered(inv *Invocation, id string) bool {
	_, ok := inv.DeadLettered[id]
	return ok
}

func (c *checker) index() {
	c.indexJobs()
	c.resolved = map[*Input]bool{}
	for _, m := range c.res.Messages {
		if inv, _ := deletingReceive(m); inv != nil && !deadLettered(inv, m.ID) {
			c.resolved[m.Input.push()] = true
		}
	}
	for _, in := range c.res.Inputs {
		if in.Route == RouteDirect && in.Attempts > 0 && in.Err == nil {
			c.resolved[in.push()] = true
		}
	}
}

// running returns the digest each container of a service runs now, and
// the revision's ARN.
func (c *checker) running(name string) (string, map[string]string) {
	e := ecsOf(c.res.sb, c.w, name)
	snap, ok := e.Service(cluster, name)
	if !ok {
		return "", nil
	}
	out := map[string]string{}
	for _, td := range e.TaskDefinitions(name) {
		if td.ARN == snap.TaskDefinition {
			for cn, img := range td.Images {
				_, d, _ := strings.Cut(img, "@")
				out[cn] = d
			}
		}
	}
	return snap.TaskDefinition, out
}

// newest is the last push Deckhand got to decide for a repository: by
// push time, then by tag number.
func (c *checker) newest(repo string) *Input {
	var best *Input
	for _, in := range c.res.Inputs {
		if in.Of != nil || in.Repo != repo {
			continue
		}
		switch {
		case in.Kind == KindFuture && c.deployedDigests()[in.Digest]:
			// Its event was refused, but catch-up found the image in ECR
			// and deployed it with ECR's own push time.
		case !c.resolved[in]:
			continue
		case in.Kind == KindPush, in.Kind == KindBroken, in.Kind == KindRelease, in.Kind == KindTie, in.Kind == KindSkew:
		default:
			continue
		}
		if best == nil || in.PushedAt.After(best.PushedAt) || in.PushedAt.Equal(best.PushedAt) && in.N > best.N {
			best = in
		}
	}
	return best
}

func (c *checker) converged() Row {
	row := Row{Name: InvConverged}
	for _, s := range c.w.services {
		arn, imgs := c.running(s.name)
		for _, cn := range sortedKeys(s.images) {
			row.Checked++
			want := c.newest(s.images[cn])
			if want == nil {
				continue // still on the seeded image: nothing newer was decided
			}
			got := imgs[cn]
			if want.Kind != KindBroken {
				if got != want.Digest && !(c.rolledBackByAlarm(s.name, cn, want.Digest) && !c.revisionHasDigest(s.name, arn, cn, want.Digest)) {
					row.Violations = append(row.Violations, fmt.Sprintf("%s/%s runs %s, want the newest eligible %s (%s:%s, input %d)",
						s.name, cn, short(got), short(want.Digest), want.Repo, want.Tag, want.N))
				}
				continue
			}
			// The newest is broken: the circuit breaker rolled it back.
			rb := c.rolledBack(s.name, cn, want.Digest)
			switch {
			case got == want.Digest:
				row.Violations = append(row.Violations, fmt.Sprintf("%s/%s still runs the broken image %s", s.name, cn, short(want.Digest)))
			case rb == nil && !c.trackerDeadLettered(s.name):
				row.Violations = append(row.Violations, fmt.Sprintf("%s/%s: no ROLLED_BACK event for the broken image %s (and no failed verdict in the tracker's DLQ)", s.name, cn, short(want.Digest)))
			case c.revisionHasDigest(s.name, arn, cn, want.Digest):
				row.Violations = append(row.Violations, fmt.Sprintf("%s/%s runs %s, a revision with the broken image", s.name, cn, arn))
			}
		}
	}
	c.rollbackEvents(&row)
	return row
}

// rollbackTargets maps every deployment the circuit breaker rolled back
// to the task definition ECS rolled back to: the first deployment created
// after it that no UpdateService created.
func (c *checker) rollbackTargets() map[string]string {
	updated := map[string]bool{}
	for _, u := range updates(c.res.sb, c.w) {
		updated[u.DeploymentID] = true
	}
	out := map[string]string{}
	for _, sv := range c.w.services {
		snap, _ := ecsOf(c.res.sb, c.w, sv.name).Service(cluster, sv.name)
		for _, d := range snap.Deployments {
			if d.RolloutState != "FAILED" || !d.CircuitBreakerRoll {
				continue
			}
			var best *ecssim.DeploymentSnapshot
			for i, r := range snap.Deployments {
				if r.ID != d.ID && !updated[r.ID] && !r.CreatedAt.Before(d.CreatedAt) && (best == nil || r.CreatedAt.Before(best.CreatedAt)) {
					best = &snap.Deployments[i]
				}
			}
			if best != nil {
				out[d.ID] = best.TaskDefinition
			}
		}
	}
	return out
}

// rollbackEvents checks that each ROLLED_BACK event names the revision ECS
// rolled back to.
func (c *checker) rollbackEvents(row *Row) {
	targets := c.rollbackTargets()
	later := map[string]bool{} // revisions some UpdateService deployed
	for _, u := range updates(c.res.sb, c.w) {
		later[u.TaskDefinition] = true
	}
	for _, d := range c.res.Deployments {
		if d.Status != events.StatusRolledBack || d.OldRevision == "" {
			continue
		}
		to, ok := targets[d.DeploymentID]
		if !ok || to == d.OldRevision {
			continue
		}
		v := fmt.Sprintf("ROLLED_BACK for deployment %s says it rolled back to %s; ECS rolled back to %s", d.DeploymentID, d.OldRevision, to)
		if later[d.OldRevision] {
			row.Known = append(row.Known, "G3: "+v)
		} else {
			row.Violations = append(row.Violations, v)
		}
	}
}

func (c *checker) revisionHasDigest(family, arn, container, digest string) bool {
	for _, td := range ecsOf(c.res.sb, c.w, family).TaskDefinitions(family) {
		if td.ARN == arn {
			return strings.HasSuffix(td.Images[container], "@"+digest)
		}
	}
	return false
}

func (c *checker) rolledBack(svc, container, digest string) *events.DeploymentStateChange {
	for i := len(c.res.Deployments) - 1; i >= 0; i-- {
		d := c.res.Deployments[i]
		if d.Status == events.StatusRolledBack && d.Service == svc && d.Containers[container].NewDigest == digest {
			return &d.DeploymentStateChange
		}
	}
	return nil
}

func (c *checker) uniqueHash() Row {
	row := Row{Name: InvUniqueHash}
	var families []string
	for _, j := range chaosJobs {
		families = append(families, j.name)
	}
	for _, s := range c.w.services {
		families = append(families, s.name)
	}
	for _, f := range families {
		seen := map[string]ecssim.TaskDefinitionSnapshot{}
		for _, td := range ecsOf(c.res.sb, c.w, f).TaskDefinitions(f) {
			row.Checked++
			h := td.Tags[revision.TagContentHash]
			if h != "" {
				if prev, dup := seen[h]; dup {
					v := fmt.Sprintf("family %s: %s and %s share content hash %s", f, prev.ARN, td.ARN, short(h))
					if prev.Tags[revision.TagEventID] != "" && prev.Tags[revision.TagEventID] == td.Tags[revision.TagEventID] {
						row.Known = append(row.Known, "G1: "+v)
					} else {
						row.Violations = append(row.Violations, v)
					}
				}
				seen[h] = td
			}
		}
	}
	return row
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
