package sandbox

import (
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// Rate is a token bucket: Burst tokens at most, refilled at PerSecond tokens
// per second of virtual time.
type Rate struct {
	PerSecond float64 `json:"perSecond"`
	Burst     float64 `json:"burst"`
}

// DefaultRates are the token buckets EnableThrottling applies, keyed by
// "service:Op". They follow the sustained/burst quotas of the ECS
// request-throttling page (per account and Region); change them with SetRate.
func DefaultRates() map[string]Rate {
	r := map[string]Rate{}
	set := func(perSecond, burst float64, ops ...string) {
		for _, op := range ops {
			r[ServiceECS+":"+op] = Rate{perSecond, burst}
		}
	}
	set(1, 20, "RegisterTaskDefinition", "DeregisterTaskDefinition")
	set(20, 50, "DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies")
	set(5, 50, "UpdateService", "CreateService", "DeleteService")
	set(20, 100, "DescribeServices", "ListServices")
	set(20, 100, "RunTask", "StopTask")
	set(20, 100, "DescribeTasks", "ListTasks")
	set(20, 50, "DescribeClusters", "ListClusters")
	set(1, 5, "CreateCluster", "DeleteCluster")
	set(10, 50, "TagResource", "UntagResource", "ListTagsForResource")
	return r
}

type bucket struct {
	tokens float64
	last   time.Time
}

type throttler struct {
	mu      sync.Mutex
	clock   *vclock.Clock
	on      bool
	rates   map[string]Rate
	buckets map[string]*bucket
}

func newThrottler(clock *vclock.Clock) *throttler {
	return &throttler{clock: clock, rates: DefaultRates(), buckets: map[string]*bucket{}}
}

// EnableThrottling switches the token buckets on or off. Switching resets
// every bucket to full.
func (s *Sandbox) EnableThrottling(on bool) {
	t := s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on = on
	t.buckets = map[string]*bucket{}
}

// SetRate sets (or, with perSecond <= 0, removes) the token bucket for one
// operation. The bucket starts full.
func (s *Sandbox) SetRate(service, op string, perSecond, burst float64) {
	t := s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	key := service + ":" + op
	for k := range t.buckets {
		if strings.HasSuffix(k, "/"+key) {
			delete(t.buckets, k)
		}
	}
	if perSecond <= 0 {
		delete(t.rates, key)
		return
	}
	t.rates[key] = Rate{PerSecond: perSecond, Burst: burst}
}

// take spends one token for the call, or answers ThrottlingException when the
// bucket is empty. Buckets refill only as the virtual clock advances. Every
// account and Region (place, "account/region") has its own buckets, as
// AWS's quotas are per account and Region.
func (t *throttler) take(place, service, op string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on {
		return nil
	}
	key := service + ":" + op
	rate, ok := t.rates[key]
	if !ok {
		return nil
	}
	now := t.clock.Now()
	b := t.buckets[place+"/"+key]
	if b == nil {
		b = &bucket{tokens: rate.Burst, last: now}
		t.buckets[place+"/"+key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(rate.Burst, b.tokens+elapsed*rate.PerSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return awsproto.Throttling(op)
	}
	b.tokens--
	return nil
}
