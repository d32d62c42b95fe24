package manifest

import (
	"errors"
	"fmt"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/spec/schedule"
)

// Window is a time span without deploys: one freeze window, or windows
// that overlap or touch, joined.
type Window struct {
	Start, End time.Time
	// Freeze is the manifest's entry the window (its first part) comes from.
	Freeze Freeze
}

// String names the window as a reason does: the schedule, its duration
// and time zone, and when it ends.
func (w Window) String() string {
	return fmt.Sprintf("freeze %s", w.Freeze.String())
}

// String is the freeze entry as the manifest writes it.
func (f Freeze) String() string {
	tz := f.Timezone
	if tz == "" {
		tz = "UTC"
	}
	return fmt.Sprintf("%s for %s (%s)", f.Schedule, f.Duration, tz)
}

// maxFreeze bounds a joined window: windows that start before the previous
// one ended make one, and one longer than this, or joining more than
// maxChained windows, never ends (a daily schedule with a duration of a
// day or more).
const (
	maxFreeze  = 366 * 24 * time.Hour
	maxChained = 1000
)

// errNeverEnds reports a freeze whose windows join without end.
var errNeverEnds = errors.New("the freeze never ends")

// Frozen returns the freeze window the binding is in at now, joined across
// its freeze entries, and whether there is one.
func (s *Service) Frozen(now time.Time) (Window, bool) {
	if s.Gates == nil || len(s.Gates.Freeze) == 0 {
		return Window{}, false
	}
	var w Window
	found := false
	for range maxChained {
		extended := false
		at := now
		if found {
			at = w.End
		}
		for _, f := range s.Gates.Freeze {
			fw, ok := f.windowAt(at)
			if !ok {
				continue
			}
			switch {
			case !found:
				w, found, extended = fw, true, true
			case fw.End.After(w.End):
				w.End, extended = fw.End, true
			}
		}
		if !extended {
			break
		}
	}
	return w, found
}

// windowAt returns f's window that contains t (start ≤ t < end), joined
// with the windows that start before it ends.
func (f Freeze) windowAt(t time.Time) (Window, bool) {
	if f.duration <= 0 {
		return Window{}, false
	}
	start, err := schedule.Next(f.Schedule, f.loc, t.Add(-f.duration))
	if err != nil || start.After(t) {
		return Window{}, false
	}
	// The earliest start in (t-duration, t] contains t; a later one may
	// extend it.
	w := Window{Start: start, End: start.Add(f.duration), Freeze: f}
	end, err := f.join(w.End, start)
	if err != nil {
		end = t.Add(maxFreeze) // validated manifests never get here
	}
	w.End = end
	return w, true
}

// join extends a window ending at end (whose last start was from) by the
// windows of f that start at or before its end.
func (f Freeze) join(end, from time.Time) (time.Time, error) {
	begin := from
	for range maxChained {
		next, err := schedule.Next(f.Schedule, f.loc, from)
		if err != nil || next.After(end) {
			return end, nil
		}
		if e := next.Add(f.duration); e.After(end) {
			end = e
		}
		if end.Sub(begin) > maxFreeze {
			return end, errNeverEnds
		}
		from = next
	}
	return end, errNeverEnds
}

// freeze checks one freeze entry: a cron or at schedule, a positive
// duration, a time zone, and windows that end.
func (c *checker) freeze(f *Freeze, path ...any) {
	at := func(field string) []any { return append(append([]any{}, path...), field) }
	if f.Duration == "" {
		c.add("is required: how long the window lasts, e.g. 62h", at("duration")...)
	} else {
		f.duration = c.duration(f.Duration, at("duration")...)
	}
	loc, err := schedule.LoadLocation(f.Timezone)
	if err != nil {
		c.add(err.Error(), at("timezone")...)
		loc = time.UTC
	}
	f.loc = loc
	if !c.required(f.Schedule, at("schedule")...) {
		return
	}
	sc, err := schedule.Parse(f.Schedule)
	if err != nil {
		c.add(err.Error(), at("schedule")...)
		return
	}
	if sc.Kind == schedule.KindRate {
		c.add("a freeze starts at cron(...) or at(...): a rate(...) counts from when a schedule was created, which the manifest does not say", at("schedule")...)
		return
	}
	if f.duration <= 0 {
		return
	}
	// The first window from now must end: windows that keep starting
	// before the previous one ended never do.
	now := time.Now()
	first, err := schedule.Next(f.Schedule, loc, now)
	if err != nil {
		return // a schedule with no further run never freezes
	}
	if end, err := f.join(first.Add(f.duration), first); err != nil {
		c.add(fmt.Sprintf("%s: each window of %s starts before the one before it ends (the window from %s lasts past %s); shorten duration below the time between two starts",
			errNeverEnds, f.Duration, first.In(loc).Format(time.RFC3339), end.In(loc).Format(time.RFC3339)), at("duration")...)
	}
}
