package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// bus is the sandbox's one event bus. Everything published on it (ECR
// pushes, ECS state changes, PutEvents entries) is logged in order and
// handed to subscribers synchronously, outside the bus lock.
type bus struct {
	clock           *vclock.Clock
	account, region string
	seed            uint64
	ids             *atomic.Uint64 // shared by every account and Region's bus

	mu   sync.Mutex
	log  []events.Raw
	subs []func(events.Raw)
}

func newBus(clock *vclock.Clock, account, region string, seed uint64, ids *atomic.Uint64) *bus {
	return &bus{clock: clock, account: account, region: region, seed: seed, ids: ids}
}

// nextID returns a deterministic, UUID-shaped event id, unique across the
// sandbox's buses (a forwarded event keeps its id).
func (b *bus) nextID() string {
	n := b.ids.Add(1)
	var in [16]byte
	binary.BigEndian.PutUint64(in[:8], b.seed)
	binary.BigEndian.PutUint64(in[8:], n)
	h := sha256.Sum256(in[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// envelope fills an event's envelope: id, virtual time, account, Region and
// version "0". A zero at means now.
func (b *bus) envelope(source, detailType string, resources []string, detail json.RawMessage, at time.Time) events.Raw {
	if at.IsZero() {
		at = b.clock.Now()
	}
	if resources == nil {
		resources = []string{}
	}
	return events.Raw{
		Version: "0", ID: b.nextID(), DetailType: detailType, Source: source,
		Account: b.account, Time: at.UTC(), Region: b.region, Resources: resources, Detail: detail,
	}
}

// publish logs ev and hands it to every subscriber.
func (b *bus) publish(ev events.Raw) {
	b.mu.Lock()
	b.log = append(b.log, ev)
	subs := append([]func(events.Raw){}, b.subs...)
	b.mu.Unlock()
	for _, f := range subs {
		f(ev)
	}
}

// emit marshals detail and publishes it with a fresh envelope.
func (b *bus) emit(source, detailType string, resources []string, detail any) events.Raw {
	raw, err := json.Marshal(detail)
	if err != nil {
		raw = json.RawMessage(fmt.Sprintf(`{"sandboxError":%q}`, err.Error()))
	}
	ev := b.envelope(source, detailType, resources, raw, time.Time{})
	b.publish(ev)
	return ev
}

// Events returns every event published on the sandbox bus, in order.
func (s *Sandbox) Events() []events.Raw {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return append([]events.Raw(nil), s.bus.log...)
}

// Subscribe registers f to receive every event published from now on. f runs
// synchronously in the publishing call, so it must not block or call back
// into the API that published; queue the event instead (Router does).
func (s *Sandbox) Subscribe(f func(events.Raw)) {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	s.bus.subs = append(s.bus.subs, f)
}

// Publish puts an event on the bus with a fresh envelope, as PutEvents would.
func (s *Sandbox) Publish(source, detailType string, resources []string, detail any) events.Raw {
	return s.bus.emit(source, detailType, resources, detail)
}
