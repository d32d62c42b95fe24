package revision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// ECS's per-account, per-Region rates for the writes (DESIGN §5 rule 10).
const (
	RegisterRate  = 1  // RegisterTaskDefinition per second, sustained
	RegisterBurst = 20 //
	UpdateRate    = 5  // UpdateService per second, sustained
	UpdateBurst   = 50 //
)

// Limits are the rate limiters of ECS's writes at ECS's own rates.
func Limits() (register, update *rate.Limiter) {
	return rate.NewLimiter(RegisterRate, RegisterBurst), rate.NewLimiter(UpdateRate, UpdateBurst)
}

// Unlimited is a limiter that never waits: for the sandbox, which paces
// with its own throttle buckets, and for one person's manual work.
func Unlimited() *rate.Limiter { return rate.NewLimiter(rate.Inf, 1) }

// Pacer paces and retries AWS calls on one clock (DESIGN §5 rules 9 and
// 10). The zero value retries 3 times in all and waits in real time; a
// simulation gives it a virtual clock.
type Pacer struct {
	// Attempts is how often a throttled or 5xx call is tried in all, on
	// top of the SDK's own retries (default 3).
	Attempts int
	// Sleep waits between attempts and for rate tokens (default
	// SleepContext).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock rate tokens are counted on (default time.Now).
	Now func() time.Time
}

// firstDelay is the wait before the second attempt; each further wait
// doubles it.
const firstDelay = 200 * time.Millisecond

func (p Pacer) attempts() int {
	if p.Attempts > 0 {
		return p.Attempts
	}
	return 3
}

func (p Pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return SleepContext(ctx, d)
}

func (p Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Wait is rule 10, pacing: it waits for a token of lim on the pacer's clock,
// so a simulation on a virtual clock is paced in virtual time. A nil lim
// does not wait.
func (p Pacer) Wait(ctx context.Context, lim *rate.Limiter) error {
	if lim == nil {
		return nil
	}
	now := p.now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("rate limiter cannot grant a token (burst %d)", lim.Burst())
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			r.CancelAt(p.now())
			return err
		}
	}
	return nil
}

// Retry runs f until it succeeds, fails for good (Retryable) or has been
// tried Attempts times, waiting with exponential backoff between attempts.
func (p Pacer) Retry(ctx context.Context, f func() error) error {
	delay := firstDelay
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt >= p.attempts() || !Retryable(err) || errors.Is(err, context.Canceled) {
			return err
		}
		if err := p.sleep(ctx, delay); err != nil {
			return err
		}
		delay *= 2
	}
}

// SleepContext waits d or until ctx is done: the default Sleep of the
// engines, and the CLI's real clock.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
