package console

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// MetricsSource computes the Delivery view: the four delivery metrics of
// DESIGN §13 (deployment frequency, lead time push → SUCCEEDED, change
// failure rate, time to restore) per binding and for the fleet, over a
// window. DerivedMetrics computes them from what the account keeps; once
// the tracker publishes them as CloudWatch metrics (issue 15), a source that
// reads those (GetMetricData) can take its place without touching the page.
type MetricsSource interface {
	Delivery(ctx context.Context, m *manifest.Manifest, since, until time.Time) (*Delivery, error)
}

// Delivery is the metrics of every binding and of the fleet over a window.
type Delivery struct {
	Since, Until time.Time
	// Days are the starts (UTC) of the days of the window, for charts.
	Days     []time.Time
	Fleet    Metrics
	Bindings []Metrics
	// Basis says what the numbers are computed from.
	Basis string
}

// Metrics are one binding's (or the fleet's) delivery metrics.
type Metrics struct {
	Binding string
	// Deployments counts the deployments Deckhand started in the window (the
	// revisions it registered; a rollback registers none).
	Deployments int
	// PerDay counts them per day of Delivery.Days; FailedPerDay counts
	// those that failed or were rolled back.
	PerDay, FailedPerDay []int
	// Failed and Judged count the deployments that failed or were rolled
	// back, and those whose outcome is known (not in progress, not a
	// revision replaced before its outcome could be read).
	Failed, Judged int
	// LeadTimes are push → SUCCEEDED per deployment where both are known.
	LeadTimes []time.Duration
	// Restores are, per failed deployment, the time from its start to the
	// service serving a good revision again, where known.
	Restores []time.Duration
	// Error says why the binding could not be read.
	Error string
}

// FailureRate is Failed / Judged, and false when nothing was judged.
func (m Metrics) FailureRate() (float64, bool) {
	if m.Judged == 0 {
		return 0, false
	}
	return float64(m.Failed) / float64(m.Judged), true
}

// LeadTime is the median lead time, and false without any.
func (m Metrics) LeadTime() (time.Duration, bool) { return median(m.LeadTimes) }

// TimeToRestore is the median time to restore, and false without any.
func (m Metrics) TimeToRestore() (time.Duration, bool) { return median(m.Restores) }

// LeadTimeText, FailureRateText and TimeToRestoreText are the metrics as
// the page shows them, "—" when there is nothing to show.
func (m Metrics) LeadTimeText() string { return durationText(m.LeadTime()) }

// FailureRateText is FailureRate as a percentage.
func (m Metrics) FailureRateText() string {
	if r, ok := m.FailureRate(); ok {
		return fmt.Sprintf("%.0f%%", r*100)
	}
	return "—"
}

// TimeToRestoreText is TimeToRestore for the page.
func (m Metrics) TimeToRestoreText() string { return durationText(m.TimeToRestore()) }

func durationText(d time.Duration, ok bool) string {
	if !ok {
		return "—"
	}
	return human(d)
}

func median(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2, true
	}
	return s[len(s)/2], true
}

// DerivedMetrics computes delivery metrics from what the account keeps:
//
//   - a deployment is a revision Deckhand registered for the binding
//     (cli.History, its deckhand: tags), at its registration time;
//   - its outcome is the verdict cli.History derives from ECS, or the
//     SUCCEEDED / FAILED / ROLLED_BACK event when Events has it;
//   - lead time runs from the newest push it deployed (the
//     deckhand:pushed-at tag of a container it changed) to its SUCCEEDED
//     event, or, without events, to the completion of the service's
//     PRIMARY deployment of it (ECS forgets older ones);
//   - time to restore runs from a failed deployment's start to the
//     completion of the rollback that followed it (ECS's service events) or
//     the binding's next SUCCEEDED event, whichever is first.
//
// Without an event history, a revision replaced before its outcome could be
// read is not judged, and only the running revision has a lead time.
type DerivedMetrics struct {
	Env    *cli.Env
	Events EventSource
}

// Delivery implements MetricsSource.
func (d *DerivedMetrics) Delivery(ctx context.Context, m *manifest.Manifest, since, until time.Time) (*Delivery, error) {
	out := &Delivery{Since: since, Until: until, Basis: "revision tags and ECS"}
	for day := since.UTC().Truncate(24 * time.Hour); day.Before(until); day = day.Add(24 * time.Hour) {
		out.Days = append(out.Days, day)
	}
	byBinding := map[string][]DeploymentEvent{}
	if d.Events != nil {
		evs, err := d.Events.Deployments(ctx, "", since.Add(-24*time.Hour))
		if err == nil {
			out.Basis = "revision tags, ECS and Deckhand's events"
			for _, ev := range evs {
				byBinding[ev.Binding] = append(byBinding[ev.Binding], ev)
			}
		}
	}
	out.Bindings = make([]Metrics, len(m.Services))
	err := parallel(ctx, len(m.Services), func(ctx context.Context, i int) error {
		name := m.Services[i].Name
		out.Bindings[i] = d.binding(ctx, name, out.Days, since, until, byBinding[name])
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Fleet = Metrics{Binding: "fleet", PerDay: make([]int, len(out.Days)), FailedPerDay: make([]int, len(out.Days))}
	for _, b := range out.Bindings {
		f := &out.Fleet
		f.Deployments += b.Deployments
		f.Failed += b.Failed
		f.Judged += b.Judged
		f.LeadTimes = append(f.LeadTimes, b.LeadTimes...)
		f.Restores = append(f.Restores, b.Restores...)
		for i := range b.PerDay {
			f.PerDay[i] += b.PerDay[i]
			f.FailedPerDay[i] += b.FailedPerDay[i]
		}
	}
	return out, nil
}

// metricsHistory is how many revisions per binding the metrics look at.
const metricsHistory = 100

func (d *DerivedMetrics) binding(ctx context.Context, name string, days []time.Time, since, until time.Time, evs []DeploymentEvent) Metrics {
	mt := Metrics{Binding: name, PerDay: make([]int, len(days)), FailedPerDay: make([]int, len(days))}
	h, err := d.Env.History(ctx, name, metricsHistory)
	if err != nil {
		mt.Error = err.Error()
		return mt
	}
	svc, err := describeService(ctx, d.Env.ECS, h.Cluster, h.Service)
	if err != nil {
		mt.Error = err.Error()
		return mt
	}
	outcome := map[string]DeploymentEvent{} // revision → its verdict event
	var succeeded []time.Time               // the binding's SUCCEEDED events
	for _, ev := range evs {
		switch ev.Status {
		case events.StatusSucceeded:
			succeeded = append(succeeded, ev.Time)
			fallthrough
		case events.StatusFailed, events.StatusRolledBack:
			if ev.Trigger != events.TriggerRollback {
				outcome[ev.NewRevision] = ev
			}
		}
	}
	completed := primaryCompleted(svc)
	restored := rollbackCompletions(svc)
	for _, r := range h.Revisions {
		if r.RegisteredAt.Before(since) || !r.RegisteredAt.Before(until) {
			continue
		}
		day := int(r.RegisteredAt.UTC().Sub(days[0]) / (24 * time.Hour))
		mt.Deployments++
		mt.PerDay[day]++
		verdict := r.Verdict
		var doneAt time.Time
		if ev, ok := outcome[r.ARN]; ok {
			verdict, doneAt = string(ev.Status), ev.Time
		} else if at, ok := completed[r.ARN]; ok && verdict == "SUCCEEDED" {
			doneAt = at
		}
		switch verdict {
		case "SUCCEEDED":
			mt.Judged++
			if push := newestPush(r); !push.IsZero() && !doneAt.IsZero() {
				mt.LeadTimes = append(mt.LeadTimes, doneAt.Sub(push))
			}
		case "FAILED", "ROLLED_BACK":
			mt.Judged++
			mt.Failed++
			mt.FailedPerDay[day]++
			if end, ok := restoredAfter(r.RegisteredAt, restored, succeeded); ok {
				mt.Restores = append(mt.Restores, end.Sub(r.RegisteredAt))
			}
		}
	}
	return mt
}

// newestPush is the newest push time among the containers a revision changed.
func newestPush(r cli.Revision) time.Time {
	var t time.Time
	for _, c := range changedContainers(r) {
		if p := r.Images[c].PushedAt; p.After(t) {
			t = p
		}
	}
	return t
}

// restoredAfter is the first restore (a rollback completing, or a
// SUCCEEDED event) after start.
func restoredAfter(start time.Time, lists ...[]time.Time) (time.Time, bool) {
	var best time.Time
	for _, l := range lists {
		for _, t := range l {
			if t.After(start) && (best.IsZero() || t.Before(best)) {
				best = t
			}
		}
	}
	return best, !best.IsZero()
}

// primaryCompleted is when the service's PRIMARY deployment completed, by
// revision (at most one: ECS keeps no older deployments).
func primaryCompleted(svc *types.Service) map[string]time.Time {
	out := map[string]time.Time{}
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && d.RolloutState == types.DeploymentRolloutStateCompleted {
			out[aws.ToString(d.TaskDefinition)] = aws.ToTime(d.UpdatedAt)
		}
	}
	return out
}

// rollbackCompletions are the times ECS's service events show a rollback
// deployment completing: the first "deployment completed." after each
// "rolling back to deployment".
func rollbackCompletions(svc *types.Service) []time.Time {
	var out []time.Time
	rolling := false
	for i := len(svc.Events) - 1; i >= 0; i-- { // oldest first
		m := deploymentMessage.FindStringSubmatch(aws.ToString(svc.Events[i].Message))
		switch {
		case m == nil:
		case strings.HasPrefix(m[2], "rolling back"):
			rolling = true
		case rolling && strings.HasPrefix(m[2], "deployment completed"):
			out = append(out, aws.ToTime(svc.Events[i].CreatedAt))
			rolling = false
		}
	}
	return out
}

// Bar is one day's bar of a chart, in SVG user units.
type Bar struct {
	X, W          float64
	Y, H          float64 // the day's deployments
	FailY, FailH  float64 // the failed part, drawn over the bottom of the bar
	Count, Failed int
	Day           time.Time
}

// bars lays out per-day counts as bars in a width × height box, the tallest
// day filling the height (1 when there are none).
func bars(days []time.Time, per, failed []int, width, height int) []Bar {
	if len(days) == 0 {
		return nil
	}
	top := max(1, slices.Max(per))
	slot := float64(width) / float64(len(days))
	out := make([]Bar, len(days))
	for i, day := range days {
		h := float64(height) * float64(per[i]) / float64(top)
		fh := float64(height) * float64(failed[i]) / float64(top)
		out[i] = Bar{X: float64(i)*slot + slot*0.15, W: slot * 0.7, Y: float64(height) - h, H: h,
			FailY: float64(height) - fh, FailH: fh, Count: per[i], Failed: failed[i], Day: day}
	}
	return out
}
