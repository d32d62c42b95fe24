package console

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Timeline is a binding's story, newest first: the revisions Deckhand
// registered (from their tags, with the verdicts cli.History derives from
// ECS and each one's diff against the revision before), what ECS's
// deployments and service events say happened to them, the rolled-back
// marks and the hold on the service, and, when the console has an event
// history, Deckhand's own decisions.
type Timeline struct {
	Binding, Cluster, Service, Family string
	// Running is the revision the service runs.
	Running  string
	Hold     string
	Held     bool
	InFlight *InFlight
	// Marks are the service's deckhand:rolled-back marks: container → its
	// rolled-back digests, newest first, separated by spaces.
	Marks   map[string]string
	Entries []Entry
	// WithEvents is true when Deckhand's events were read (EventSource).
	WithEvents bool
	// Gates are the binding's gate states (DESIGN §11), if it has gates.
	Gates *cli.GateStatus
}

// Entry is one thing that happened to a binding.
type Entry struct {
	Time time.Time
	// Kind is "revision" (a revision Deckhand registered), "decision" (a
	// Deckhand event with no revision of its own: HELD, SUPERSEDED, ...) or
	// "rollback" (a rollback to an existing revision).
	Kind   string
	Status string // verdict or decision: SUCCEEDED, ROLLED_BACK, HELD, ...
	Title  string
	// Revision is the revision of a "revision" entry.
	Revision *cli.Revision
	// Cause names why a rolled-back or failed revision went back (DESIGN
	// §10's words: circuit breaker, alarm, manual, lifecycle hook), and
	// CauseDetail says it in ECS's or Deckhand's words.
	Cause, CauseDetail string
	// Notes are what happened during the entry, oldest first.
	Notes []Note
	// Diff is the revision's diff against DiffFrom.
	Diff     []DiffLine
	DiffFrom string
}

// Note is one line under an entry.
type Note struct {
	Time   time.Time
	Status string
	Text   string
}

// DiffLine is one line of a unified diff, with its kind for colouring.
type DiffLine struct {
	Kind string // "file", "hunk", "add", "del", "ctx"
	Text string
}

// historyLimit is how many revisions the timeline shows.
const historyLimit = 20

// timeline reads a binding's timeline.
func (s *Server) timeline(ctx context.Context, binding string) (*Timeline, error) {
	h, err := s.env.History(ctx, binding, historyLimit)
	if err != nil {
		return nil, err
	}
	svc, err := describeService(ctx, s.env.ECS, h.Cluster, h.Service)
	if err != nil {
		return nil, err
	}
	tags := revision.TagsOf(svc.Tags)
	t := &Timeline{Binding: h.Binding, Cluster: h.Cluster, Service: h.Service, Family: h.Family, Running: h.Running, Marks: map[string]string{}}
	t.Hold, t.Held = tags[revision.TagHold]
	for k, v := range tags {
		if c, ok := strings.CutPrefix(k, revision.TagRolledBack); ok {
			t.Marks[c] = v
		}
	}
	t.InFlight, _ = inFlightOf(svc)
	if m, err := s.env.Source.Manifest(ctx); err == nil {
		if b, ok := m.Service(binding); ok {
			var row Row
			s.readGates(ctx, b, svc, &row)
			t.Gates = row.ServiceStatus.Gates
		}
	}
	revEntries := map[string]*Entry{}
	entries := make([]*Entry, 0, len(h.Revisions))
	for i := range h.Revisions {
		r := &h.Revisions[i]
		e := &Entry{Time: r.RegisteredAt, Kind: "revision", Status: r.Verdict, Revision: r,
			Title: fmt.Sprintf("%s · %s", shortRevision(r.ARN), dashIfEmpty(r.Trigger))}
		for _, c := range changedContainers(*r) {
			if img := r.Images[c]; !img.PushedAt.IsZero() {
				e.Notes = append(e.Notes, Note{Time: img.PushedAt, Status: "PUSHED", Text: fmt.Sprintf("%s:%s pushed (%s)", c, dashIfEmpty(img.Tag), shortDigest(img.Digest))})
			}
		}
		before := ""
		if i+1 < len(h.Revisions) {
			before = h.Revisions[i+1].ARN
		} else if fam, n := taskdef.SplitARN(r.ARN); n > 1 {
			before = fmt.Sprintf("%s:%d", fam, n-1)
		}
		if before != "" {
			e.DiffFrom, e.Diff = s.revisionDiff(ctx, before, r.ARN)
		}
		revEntries[r.ARN] = e
		entries = append(entries, e)
	}
	depRevision := map[string]string{} // ECS deployment id → revision
	for _, d := range svc.Deployments {
		depRevision[aws.ToString(d.Id)] = aws.ToString(d.TaskDefinition)
		if e := revEntries[aws.ToString(d.TaskDefinition)]; e != nil {
			e.Notes = append(e.Notes, Note{Time: aws.ToTime(d.UpdatedAt), Status: string(d.RolloutState),
				Text: fmt.Sprintf("deployment %s %s: %d/%d running, %d pending, %d failed; %s", aws.ToString(d.Id), aws.ToString(d.Status),
					d.RunningCount, d.DesiredCount, d.PendingCount, d.FailedTasks, aws.ToString(d.RolloutStateReason))})
		}
	}
	var decisions []*Entry
	if s.opts.Events != nil {
		since := time.Time{}
		if n := len(h.Revisions); n > 0 {
			since = h.Revisions[n-1].RegisteredAt.Add(-time.Hour)
		}
		evs, err := s.opts.Events.Deployments(ctx, binding, since)
		if err != nil {
			s.opts.Logger.WarnContext(ctx, "read deckhand events", "binding", binding, "err", err)
		} else {
			t.WithEvents = true
			decisions = attachEvents(evs, revEntries, depRevision)
		}
	}
	attachServiceEvents(svc.Events, entries, depRevision)
	for _, e := range entries {
		if e.Cause == "" && (e.Status == "ROLLED_BACK" || e.Status == "FAILED") {
			e.Cause, e.CauseDetail = markCause(*e.Revision, t.Marks, t.Hold)
		}
		slices.SortStableFunc(e.Notes, func(a, b Note) int { return a.Time.Compare(b.Time) })
	}
	entries = append(entries, decisions...)
	slices.SortStableFunc(entries, func(a, b *Entry) int { return b.Time.Compare(a.Time) })
	for _, e := range entries {
		t.Entries = append(t.Entries, *e)
	}
	return t, nil
}

// attachEvents puts Deckhand's events under the revision they are about and
// returns the others (decisions with no revision of their own, rollbacks to
// an existing revision) as entries.
func attachEvents(evs []DeploymentEvent, revs map[string]*Entry, depRevision map[string]string) []*Entry {
	var out []*Entry
	for _, ev := range evs {
		if ev.DeploymentID != "" && ev.NewRevision != "" {
			depRevision[ev.DeploymentID] = ev.NewRevision
		}
		e := revs[ev.NewRevision]
		if e == nil || ev.Trigger == events.TriggerRollback && ev.Status == events.StatusStarted {
			kind, title := "decision", string(ev.Status)
			if ev.Trigger == events.TriggerRollback {
				kind, title = "rollback", "rollback to "+shortRevision(ev.NewRevision)
			}
			out = append(out, &Entry{Time: ev.Time, Kind: kind, Status: string(ev.Status), Title: title,
				Notes: []Note{{Time: ev.Time, Status: string(ev.Status), Text: eventText(ev)}}})
			continue
		}
		e.Notes = append(e.Notes, Note{Time: ev.Time, Status: string(ev.Status), Text: eventText(ev)})
		if ev.Status == events.StatusRolledBack || ev.Status == events.StatusFailed {
			e.Cause, e.CauseDetail = causeOf(ev.Reason)
			if ev.Cause != "" {
				e.Cause = causeName(ev.Cause)
			}
		}
	}
	return out
}

func eventText(ev DeploymentEvent) string {
	parts := []string{"Deckhand " + string(ev.Status)}
	if ev.Trigger != "" {
		parts = append(parts, "trigger "+string(ev.Trigger))
	}
	for _, c := range slices.Sorted(maps.Keys(ev.Containers)) {
		ch := ev.Containers[c]
		if ch.NewDigest != "" {
			if ch.OldTag == "" {
				parts = append(parts, fmt.Sprintf("%s → %s", c, dashIfEmpty(ch.NewTag)))
			} else {
				parts = append(parts, fmt.Sprintf("%s %s → %s", c, ch.OldTag, dashIfEmpty(ch.NewTag)))
			}
		}
	}
	if ev.Reason != "" {
		parts = append(parts, shortARNs(ev.Reason))
	}
	return strings.Join(parts, "; ")
}

// deploymentMessage matches the service events about a deployment's course.
var deploymentMessage = regexp.MustCompile(`\(deployment (ecs-svc/\S+)\) (deployment failed: .*|deployment completed\.|rolling back to deployment (\S+?)\.?)$`)

// attachServiceEvents puts ECS's service events about deployments (failed,
// rolled back, completed) under the revision they are about: the one whose
// deployment they name when that is known, else the newest revision
// registered before them. A failure gives a rolled-back revision its cause.
func attachServiceEvents(evs []types.ServiceEvent, entries []*Entry, depRevision map[string]string) {
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		m := deploymentMessage.FindStringSubmatch(aws.ToString(ev.Message))
		if m == nil {
			continue
		}
		at := aws.ToTime(ev.CreatedAt)
		var e *Entry
		if rev, ok := depRevision[m[1]]; ok {
			for _, x := range entries {
				if x.Revision.ARN == rev {
					e = x
				}
			}
		} else {
			for _, x := range entries {
				if !x.Time.After(at) && (e == nil || x.Time.After(e.Time)) {
					e = x
				}
			}
		}
		if e == nil {
			continue
		}
		status := "ECS"
		switch {
		case strings.HasPrefix(m[2], "deployment failed"):
			status = "FAILED"
			if e.Cause == "" {
				e.Cause, e.CauseDetail = causeOf(m[2])
				if back, ok := rolledBackTo(evs[:i], depRevision); ok {
					e.CauseDetail += " ECS rolled back to " + shortRevision(back) + "."
				}
			}
		case strings.HasPrefix(m[2], "rolling back"):
			status = "ROLLING_BACK"
		case strings.HasPrefix(m[2], "deployment completed"):
			status = "COMPLETED"
		}
		e.Notes = append(e.Notes, Note{Time: at, Status: status, Text: "ECS: deployment " + m[1] + " " + shortARNs(m[2])})
	}
}

// causeOf names what rolled a deployment back, from an ECS reason or a
// Deckhand ROLLED_BACK event's reason (DESIGN §10: circuitBreaker,
// alarm:<name>, manual, hook:<name>).
func causeOf(reason string) (cause, detail string) {
	detail = shortARNs(reason)
	l := strings.ToLower(reason)
	switch {
	case strings.Contains(l, "alarm"):
		return "alarm", detail
	case strings.Contains(l, "circuit breaker"), strings.Contains(l, "failed to start"):
		return "circuit breaker", detail
	case strings.Contains(l, "hook"):
		return "lifecycle hook", detail
	}
	return "failed", detail
}

// causeName says a verdict's cause (events.Cause*) in the timeline's
// words: circuit breaker, alarm web-5xx, lifecycle hook web-smoke, manual.
func causeName(cause string) string {
	kind, name, _ := strings.Cut(cause, ":")
	switch kind {
	case events.CauseCircuitBreaker:
		return "circuit breaker"
	case "alarm":
		return strings.TrimSpace("alarm " + name)
	case "hook":
		return strings.TrimSpace("lifecycle hook " + name)
	}
	return kind
}

// rolledBackTo finds, among the service events after a failure (newer ones,
// newest first), the revision ECS rolled back to.
func rolledBackTo(newer []types.ServiceEvent, depRevision map[string]string) (string, bool) {
	for i := len(newer) - 1; i >= 0; i-- {
		m := deploymentMessage.FindStringSubmatch(aws.ToString(newer[i].Message))
		if m != nil && strings.HasPrefix(m[2], "rolling back") {
			rev, ok := depRevision[strings.TrimSuffix(m[3], ".")]
			return rev, ok
		}
	}
	return "", false
}

// taskDefARN matches a task-definition ARN, to shorten it to family:revision.
var taskDefARN = regexp.MustCompile(`arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/([A-Za-z0-9_-]+:\d+)`)

// shortARNs writes task-definition ARNs in text as family:revision.
func shortARNs(text string) string { return taskDefARN.ReplaceAllString(text, "$1") }

// markCause explains a rolled-back verdict from what the service carries
// when nothing else does: a deckhand:rolled-back mark (written by the
// tracker after a circuit-breaker rollback, or by deckhand rollback) and a
// hold written by deckhand rollback.
func markCause(r cli.Revision, marks map[string]string, hold string) (cause, detail string) {
	if strings.HasPrefix(hold, "rollback to ") {
		return "manual", "deckhand rollback: " + hold
	}
	for _, c := range changedContainers(r) {
		if d := r.Images[c].Digest; d != "" && slices.Contains(strings.Fields(marks[c]), d) {
			return "marked", fmt.Sprintf("%s %s is marked rolled back (%s%s) by the tracker or deckhand rollback.", c, shortDigest(d), revision.TagRolledBack, c)
		}
	}
	return "unknown", "the service went back past this revision; ECS no longer says why."
}

func changedContainers(r cli.Revision) []string {
	if len(r.Changed) > 0 {
		return r.Changed
	}
	return slices.Sorted(maps.Keys(r.Images))
}

// revisionDiff is the unified diff from one revision to another, as `deckhand
// diff` shows it (cli.DefinitionText, cli.UnifiedDiff); empty when either
// cannot be read.
func (s *Server) revisionDiff(ctx context.Context, from, to string) (string, []DiffLine) {
	texts := make([]string, 2)
	names := make([]string, 2)
	for i, ref := range []string{from, to} {
		out, err := s.env.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref),
			Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		if err != nil {
			return "", nil
		}
		if texts[i], err = cli.DefinitionText(out.TaskDefinition); err != nil {
			return "", nil
		}
		names[i] = shortRevision(aws.ToString(out.TaskDefinition.TaskDefinitionArn))
	}
	return names[0], diffLines(cli.UnifiedDiff(names[0], names[1], texts[0], texts[1], 3))
}

func diffLines(diff string) []DiffLine {
	var out []DiffLine
	for _, l := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		kind := "ctx"
		switch {
		case l == "":
			continue
		case strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "+++ "):
			kind = "file"
		case strings.HasPrefix(l, "@@"):
			kind = "hunk"
		case l[0] == '+':
			kind = "add"
		case l[0] == '-':
			kind = "del"
		}
		out = append(out, DiffLine{Kind: kind, Text: l})
	}
	return out
}
