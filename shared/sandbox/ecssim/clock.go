package ecssim

import "time"

// advance runs, in time order, every transition due at or before now. Each
// transition is stamped with its scheduled time, so one large clock step
// produces the same history as many small ones. Ties go to services (in
// creation order) before tasks (in creation order).
func (e *ECS) advance(now time.Time) {
	e.mu.Lock()
	e.catchUp(now)
	e.reapDeleted()
	e.mu.Unlock()
	e.flush()
}

// catchUp runs every transition due at or before now. Callers hold e.mu.
func (e *ECS) catchUp(now time.Time) {
	for e.stepOnce(now) {
	}
}

// stepOnce runs the earliest transition due at or before now and reports
// whether there was one.
func (e *ECS) stepOnce(now time.Time) bool {
	var (
		at  time.Time
		run func()
	)
	consider := func(t time.Time, f func()) {
		if !t.IsZero() && !t.After(now) && (run == nil || t.Before(at)) {
			at, run = t, f
		}
	}
	for _, s := range e.services {
		consider(s.inactiveAt, func() { e.stepService(s, at) })
		if s.status != "ACTIVE" {
			continue
		}
		if d := s.primary(); d != nil {
			consider(d.next, func() { e.stepDeployment(s, d, at) })
		}
	}
	for _, t := range e.live {
		consider(t.next, func() { e.stepTask(t, at) })
	}
	if run == nil {
		return false
	}
	run()
	e.live = pruneStopped(e.live)
	return true
}

func pruneStopped(ts []*task) []*task {
	kept := ts[:0]
	for _, t := range ts {
		if t.lastStatus != "STOPPED" {
			kept = append(kept, t)
		}
	}
	clear(ts[len(kept):])
	return kept
}
