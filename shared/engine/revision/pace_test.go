package revision

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"
)

// TestWait is rule 10's pacing: a write waits for its rate token on the
// pacer's clock.
func TestWait(t *testing.T) {
	tests := map[string]struct {
		lim      func() *rate.Limiter
		taken    int // tokens taken before
		want     []time.Duration
		wantFail bool
	}{
		"a token in the bucket is taken at once":      {lim: func() *rate.Limiter { return rate.NewLimiter(1, 20) }, taken: 19},
		"an empty bucket waits for the next token":    {lim: func() *rate.Limiter { return rate.NewLimiter(1, 20) }, taken: 20, want: []time.Duration{time.Second}},
		"UpdateService's rate refills five a second":  {lim: func() *rate.Limiter { return rate.NewLimiter(UpdateRate, UpdateBurst) }, taken: UpdateBurst, want: []time.Duration{200 * time.Millisecond}},
		"no limiter does not wait":                    {lim: func() *rate.Limiter { return nil }},
		"an unlimited limiter does not wait":          {lim: Unlimited, taken: 1000},
		"a limiter that can never grant one is error": {lim: func() *rate.Limiter { return rate.NewLimiter(1, 0) }, wantFail: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := &sleeps{}
			p := Pacer{Sleep: s.sleep, Now: func() time.Time { return t0 }}
			lim := tc.lim()
			if lim != nil && tc.taken > 0 {
				lim.AllowN(t0, tc.taken)
			}
			err := p.Wait(context.Background(), lim)
			if (err != nil) != tc.wantFail {
				t.Fatalf("Wait: %v, want failure %v", err, tc.wantFail)
			}
			if diff := cmp.Diff(tc.want, s.waited); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	throttled := httpErr(400, "ThrottlingException")
	tests := map[string]struct {
		errs      []error // f's answers in turn; nil ends
		attempts  int
		wantCalls int
		wantWaits []time.Duration
		wantErr   bool
	}{
		"success needs one call":                   {errs: []error{nil}, wantCalls: 1},
		"a throttled call is retried with backoff": {errs: []error{throttled, throttled, nil}, wantCalls: 3, wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}},
		"the attempts bound the retries":           {errs: []error{throttled, throttled, throttled, nil}, wantCalls: 3, wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}, wantErr: true},
		"more attempts go on doubling":             {errs: []error{throttled, throttled, throttled, nil}, attempts: 5, wantCalls: 4, wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		"a permanent error is not retried":         {errs: []error{httpErr(400, "ServiceNotFoundException")}, wantCalls: 1, wantErr: true},
		"a cancelled call is not retried":          {errs: []error{fmt.Errorf("call: %w", context.Canceled)}, wantCalls: 1, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := &sleeps{}
			calls := 0
			err := Pacer{Attempts: tc.attempts, Sleep: s.sleep}.Retry(context.Background(), func() error {
				calls++
				return tc.errs[calls-1]
			})
			if (err != nil) != tc.wantErr || calls != tc.wantCalls {
				t.Errorf("Retry = %v after %d calls, want error %v after %d", err, calls, tc.wantErr, tc.wantCalls)
			}
			if diff := cmp.Diff(tc.wantWaits, s.waited); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSleepContextStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("SleepContext on a cancelled context = %v", err)
	}
}
