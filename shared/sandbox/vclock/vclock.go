// Package vclock is the sandbox's virtual clock. Nothing in the sandbox reads
// wall time: rollouts, task lifecycles and throttle buckets advance only when
// a test or the demo moves this clock, so no test ever sleeps.
package vclock

import (
	"sync"
	"time"
)

// Clock is a manually advanced clock. It is safe for concurrent use.
type Clock struct {
	mu        sync.Mutex
	now       time.Time
	listeners []func(now time.Time)
}

// New returns a clock that reads start until advanced.
func New(start time.Time) *Clock { return &Clock{now: start.UTC()} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// OnAdvance registers f to run, outside the clock's lock, after every Advance.
func (c *Clock) OnAdvance(f func(now time.Time)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners = append(c.listeners, f)
}

// Advance moves the clock forward by d and then runs the listeners in the
// order they were registered.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	ls := append([]func(time.Time){}, c.listeners...)
	c.mu.Unlock()
	for _, f := range ls {
		f(now)
	}
	return now
}
