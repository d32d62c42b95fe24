package console

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/delivery"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// MetricsSource computes the Delivery view: the four delivery metrics of
// DESIGN §13 (deployment frequency, lead time push → SUCCEEDED, change
// failure rate, time to restore) per binding and for the fleet, over a
// window. DerivedMetrics computes them from what the account keeps, with the
// definitions the tracker publishes them to CloudWatch with (embedded
// metric format, shared/engine/delivery); a source that reads those
// (GetMetricData) could take its place without touching the page.
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
	// Deployments counts the deployments of Deckhand revisions that reached
	// a verdict in the window (shared/engine/delivery).
	Deployments int
	// PerDay counts them per day of Delivery.Days; FailedPerDay counts
	// those that failed or were rolled back.
	PerDay, FailedPerDay []int
	// Failed and Judged count the deployments that failed or were rolled
	// back, and those whose outcome is known (all of Deployments).
	Failed, Judged int
	// LeadTimes are push → SUCCEEDED per deployment where both are known.
	LeadTimes []time.Duration
	// Restores are, per SUCCEEDED deployment that followed a rollback, the
	// time from the rollback to it (delivery.Restore).
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
func (m Metrics) LeadTime() (time.Duration, bool) { return delivery.Median(m.LeadTimes) }

// TimeToRestore is the median time to restore, and false without any.
func (m Metrics) TimeToRestore() (time.Duration, bool) { return delivery.Median(m.Restores) }

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

// DerivedMetrics computes delivery metrics as `deckhand report` does, with
// the tracker's definitions (shared/engine/delivery): from the binding's
// Deckhand revisions (their deckhand:pushed-at tags) and ECS's
// service-deployment records of its service (cli.Env.DeliveryHistory). A
// deployment counts on the day it reached its verdict.
type DerivedMetrics struct {
	Env *cli.Env
}

// derivedBasis is what DerivedMetrics computes from.
const derivedBasis = "revision tags and ECS's service-deployment records, as the tracker computes them"

// Delivery implements MetricsSource.
func (d *DerivedMetrics) Delivery(ctx context.Context, m *manifest.Manifest, since, until time.Time) (*Delivery, error) {
	out := &Delivery{Since: since, Until: until, Basis: derivedBasis}
	for day := since.UTC().Truncate(24 * time.Hour); day.Before(until); day = day.Add(24 * time.Hour) {
		out.Days = append(out.Days, day)
	}
	out.Bindings = make([]Metrics, len(m.Services))
	err := parallel(ctx, len(m.Services), func(ctx context.Context, i int) error {
		out.Bindings[i] = d.binding(ctx, m.Services[i].Name, out.Days, since, until)
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

func (d *DerivedMetrics) binding(ctx context.Context, name string, days []time.Time, since, until time.Time) Metrics {
	mt := Metrics{Binding: name, PerDay: make([]int, len(days)), FailedPerDay: make([]int, len(days))}
	deps, records, err := d.Env.DeliveryHistory(ctx, name)
	if err != nil {
		mt.Error = err.Error()
		return mt
	}
	f := delivery.Compute(name, deps, records, since, until)
	mt.Deployments, mt.Judged, mt.Failed = f.Deployments, f.Deployments, f.Failures
	mt.LeadTimes, mt.Restores = f.LeadTimes, f.Restores
	for _, dep := range deps {
		if dep.Verdict == "" || dep.FinishedAt.Before(since) || dep.FinishedAt.After(until) || len(days) == 0 {
			continue
		}
		day := min(int(dep.FinishedAt.UTC().Sub(days[0])/(24*time.Hour)), len(days)-1)
		mt.PerDay[day]++
		if dep.Verdict != delivery.Succeeded {
			mt.FailedPerDay[day]++
		}
	}
	return mt
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
