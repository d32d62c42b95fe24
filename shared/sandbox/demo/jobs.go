package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// The job scenes. Schedules are delivered as in AWS: EventBridge Scheduler
// sends each invocation into the job FIFO queue (message group = the job),
// and the runner takes a job's invocations one at a time.

// fire delivers one invocation of a job's schedule.
func (p *player) fire(job string, scheduled time.Time) error {
	p.say("%s  schedule %s fires for %s → job queue (group %s)", p.now(), job, scheduled.Format("15:04"), job)
	return p.st.Router.Schedule(job, scheduled)
}

func scheduledJob(ctx context.Context, p *player) error {
	judge := func(exit int32, tag string, want events.JobStatus) error {
		digest := p.st.SB.PushImage("report", tag)
		p.st.SB.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: 45 * time.Second, ExitCode: exit})
		p.say("          report:%s exits %d in this sandbox", tag, exit)
		from, tasks := p.jobEventCount(), p.jobTasks("nightly-report")
		at := p.st.SB.Clock().Now().Truncate(time.Hour)
		if err := p.fire("nightly-report", at); err != nil {
			return err
		}
		p.say("          Scheduler delivers it again (at least once): the queue drops the copy (same content < 5 min)")
		if err := p.st.Router.Schedule("nightly-report", at); err != nil {
			return err
		}
		if err := p.settle(ctx, 10*time.Minute); err != nil {
			return err
		}
		p.say("          a late copy, after the queue's five minutes, reaches the runner")
		if err := p.st.Router.Schedule("nightly-report", at); err != nil {
			return err
		}
		if err := p.settle(ctx, time.Minute); err != nil {
			return err
		}
		var got []events.JobStatus
		var codes map[string]int32
		for _, j := range p.jobEvents(from) {
			got = append(got, j.Status)
			if j.ExitCodes != nil {
				codes = j.ExitCodes
			}
		}
		p.expect(len(got) > 0 && got[len(got)-1] == want && codes["report"] == exit,
			"nightly-report: %s with exit code %d (got %v, codes %v)", want, exit, got, codes)
		started := p.jobTasks("nightly-report") - tasks
		p.expect(started == 1, "three deliveries of one scheduled run started exactly one task (started %d)", started)
		p.st.SB.Clock().Advance(time.Hour)
		return nil
	}
	if err := judge(0, "1.1.0", events.JobSucceeded); err != nil {
		return err
	}
	return judge(3, "1.2.0", events.JobFailed)
}

// overlappingSchedules: a forbid job gets two scheduled times at once (a
// late retry of the previous one arrives with the next), and a replace job
// gets a newer time before an older one.
func overlappingSchedules(ctx context.Context, p *player) error {
	digest := p.st.SB.PushImage("report", "1.3.0")
	p.st.SB.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: 30 * time.Minute})
	p.say("          report:1.3.0 runs for 30 minutes in this sandbox")
	from := p.jobEventCount()
	at := p.st.SB.Clock().Now().Truncate(time.Hour)
	p.say("          Scheduler's late delivery of %s arrives with %s's", at.Format("15:04"), at.Add(30*time.Minute).Format("15:04"))
	for _, s := range []time.Time{at, at.Add(30 * time.Minute)} {
		if err := p.fire("nightly-report", s); err != nil {
			return err
		}
	}
	if err := p.settle(ctx, 2*time.Minute); err != nil {
		return err
	}
	got := p.jobStatuses(p.jobEvents(from))
	p.expect(slices.Equal(got, []string{"STARTED", "SKIPPED_OVERLAP"}),
		"nightly-report (forbid): one run STARTED, the other SKIPPED_OVERLAP (got %v)", got)
	if err := p.settle(ctx, 30*time.Minute); err != nil {
		return err
	}
	runs, err := local.Runs(ctx, p.st.ECS, "prod", "nightly-report")
	if err != nil {
		return err
	}
	overlaps := local.Overlaps(runs, local.Active)
	p.expect(len(overlaps) == 0, "nightly-report: never two runs active at once, over all its %d runs (overlaps %v)", len(runs), overlaps)

	from = p.jobEventCount()
	at = p.st.SB.Clock().Now().Truncate(15 * time.Minute)
	for _, s := range []time.Time{at, at.Add(-15 * time.Minute)} {
		if err := p.fire("cache-warm", s); err != nil {
			return err
		}
	}
	if err := p.settle(ctx, time.Minute); err != nil {
		return err
	}
	evs := p.jobEvents(from)
	got = p.jobStatuses(evs)
	p.expect(len(got) >= 2 && slices.Equal(got[:2], []string{"STARTED", "SKIPPED_OVERLAP"}) && strings.Contains(evs[1].Reason, "never replaces"),
		"cache-warm (replace): the newer run starts, the older one never replaces it (got %v)", got)
	if runs, err = local.Runs(ctx, p.st.ECS, "prod", "cache-warm"); err != nil {
		return err
	}
	overlaps = local.Overlaps(runs, local.Live)
	p.expect(len(overlaps) == 0 && len(runs) == 1, "cache-warm: one run, never two meant to run at once (runs %d, overlaps %v)", len(runs), overlaps)
	return nil
}

func (p *player) jobStatuses(evs []events.JobStateChange) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Status))
	}
	return out
}

// jobEventCount counts Deckhand job events so far.
func (p *player) jobEventCount() int {
	n := 0
	for _, ev := range p.st.SB.Events() {
		if ev.Source == events.SourceDeckhand && ev.DetailType == events.DetailTypeDeckhandJob {
			n++
		}
	}
	return n
}

// jobTasks counts the tasks started for a job.
func (p *player) jobTasks(job string) int {
	n := 0
	for _, t := range p.st.SB.ECS().Tasks() {
		if t.StartedBy == "deckhand/"+job {
			n++
		}
	}
	return n
}

// jobEvents returns Deckhand job events after index from (settle prints
// them).
func (p *player) jobEvents(from int) []events.JobStateChange {
	var out []events.JobStateChange
	n := 0
	for _, ev := range p.st.SB.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandJob {
			continue
		}
		n++
		var j events.JobStateChange
		if n > from && json.Unmarshal(ev.Detail, &j) == nil {
			out = append(out, j)
		}
	}
	return out
}

// printJobEvent prints one Deckhand job event.
func (p *player) printJobEvent(at time.Time, j events.JobStateChange) {
	codes := make([]string, 0, len(j.ExitCodes))
	for _, c := range slices.Sorted(maps.Keys(j.ExitCodes)) {
		codes = append(codes, fmt.Sprintf("%s=%d", c, j.ExitCodes[c]))
	}
	line := fmt.Sprintf("%s  %-14s %-16s %s %s", at.Format("15:04:05"), j.Job, p.color(string(j.Status)), strings.Join(codes, " "), j.Reason)
	p.say("%s", strings.TrimRight(line, " "))
}

// runnerLog prints the runner's decisions ("job run" log lines) as the
// job queue delivers invocations, and passes nothing else on.
type runnerLog struct {
	p *player
}

func (h runnerLog) Enabled(context.Context, slog.Level) bool { return true }

func (h runnerLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "job run" || h.p.st == nil {
		return nil
	}
	var job, scheduled, outcome, reason string
	dup := false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "job":
			job = a.Value.String()
		case "scheduled_time":
			scheduled = a.Value.String()
		case "outcome":
			outcome = a.Value.String()
		case "duplicate":
			dup = a.Value.Bool()
		case "reason":
			reason = a.Value.String()
		}
		return true
	})
	note := ""
	if dup {
		note = " (a duplicate: " + reason + "; nothing new started)"
	}
	h.p.say("          runner: %s %s for %s%s", job, outcome, scheduled, note)
	return nil
}

func (h runnerLog) WithAttrs(as []slog.Attr) slog.Handler {
	return runnerAttrs{runnerLog: h, attrs: as}
}

func (h runnerLog) WithGroup(string) slog.Handler { return h }

// runnerAttrs keeps the attributes a logger was built With, so that the
// record's job and scheduled time reach runnerLog.
type runnerAttrs struct {
	runnerLog
	attrs []slog.Attr
}

func (h runnerAttrs) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	return h.runnerLog.Handle(ctx, r)
}

func (h runnerAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return runnerAttrs{runnerLog: h.runnerLog, attrs: append(slices.Clone(h.attrs), as...)}
}
