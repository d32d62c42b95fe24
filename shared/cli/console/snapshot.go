package console

import (
	"context"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// The fleet page's cost does not grow with the fleet. A page describes only
// the rows it shows (at most fleetPageSize bindings: 20 DescribeServices
// calls). What needs every binding, the per-state counts and the choice of
// rows for a text or state filter, comes from a snapshot of the whole
// fleet, read in the background at a pace within ECS's request quotas and
// shown with its time ("as of"). A filtered page chooses its rows from the
// snapshot and then describes those rows fresh. Every row the console reads
// fresh (a page's rows, a binding a write just touched) goes into the
// snapshot too, so the counts and filters catch up with what was shown and
// done; a fleet of at most one page is read whole by every page, so its
// snapshot is always as fresh as the page.
//
// Against AWS, ECS allows an account 20 DescribeServices calls a second
// sustained and 100 in a burst (the ECS request-throttling page; the
// sandbox's DefaultRates), shared with the deployer and everything else in
// the account and Region. At SnapshotRate the refresh of 5,000 services
// (500 calls) takes 100 s and uses a quarter of the sustained rate.

// Default snapshot pacing: DescribeServices calls per second and burst
// (a quarter of ECS's sustained 20/s, a tenth of its burst of 100), and how
// old a snapshot may get before a page view starts a refresh.
const (
	SnapshotRate  = 5
	SnapshotBurst = 10
	SnapshotEvery = time.Minute
)

// Pacer paces the snapshot's DescribeServices calls (*rate.Limiter fits).
type Pacer interface {
	Wait(ctx context.Context) error
}

var _ Pacer = (*rate.Limiter)(nil)

// snapshot is the whole fleet as last read, for one manifest's bindings.
type snapshot struct {
	fingerprint uint64    // of the manifest's bindings (name, cluster, service)
	at          time.Time // when the oldest read in it began
	rows        []Row     // one per binding, in manifest order
	seqs        []uint64  // the read each row comes from (newer reads win)
	ats         []time.Time
	index       map[string]int
}

// snapshots holds the current snapshot; a refresh is one at a time
// (singleflight) and a snapshot is replaced, never changed in place.
type snapshots struct {
	mu    sync.Mutex
	cur   *snapshot
	seq   uint64 // reads started
	group singleflight.Group
}

// next numbers a read as it starts.
func (ss *snapshots) next() uint64 {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.seq++
	return ss.seq
}

func (ss *snapshots) current() *snapshot {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.cur
}

// fingerprint identifies a manifest's bindings: a snapshot read for other
// bindings is not used.
func fingerprint(m *manifest.Manifest) uint64 {
	h := fnv.New64a()
	for _, b := range m.Services {
		h.Write([]byte(b.Name + "\x00" + b.Cluster + "\x00" + b.Service + "\x01"))
	}
	return h.Sum64()
}

// merge puts rows read by read seq (for bindings, at at) into the
// snapshot. A row replaces the snapshot's only if its read began later;
// a read of every binding moves the snapshot's time to its oldest row's.
// With no snapshot for these bindings, rows covering every binding become
// the snapshot; fewer are dropped.
func (ss *snapshots) merge(m *manifest.Manifest, fp uint64, bindings []*manifest.Service, rows []Row, seq uint64, at time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	cur := ss.cur
	if cur == nil || cur.fingerprint != fp {
		if len(bindings) != len(m.Services) {
			return
		}
		next := &snapshot{fingerprint: fp, at: at, rows: slices.Clone(rows), seqs: make([]uint64, len(rows)), ats: make([]time.Time, len(rows)),
			index: make(map[string]int, len(rows))}
		for i := range m.Services {
			next.index[m.Services[i].Name] = i
			next.seqs[i], next.ats[i] = seq, at
		}
		ss.cur = next
		return
	}
	next := &snapshot{fingerprint: fp, at: cur.at, rows: slices.Clone(cur.rows), seqs: slices.Clone(cur.seqs), ats: slices.Clone(cur.ats), index: cur.index}
	for j, b := range bindings {
		if i, ok := next.index[b.Name]; ok && seq > next.seqs[i] {
			next.rows[i], next.seqs[i], next.ats[i] = rows[j], seq, at
		}
	}
	if len(bindings) == len(m.Services) {
		next.at = slices.MinFunc(next.ats, time.Time.Compare)
	}
	ss.cur = next
}

// snapshot returns the fleet snapshot for m, starting a refresh in the
// background when there is none or it is older than SnapshotEvery. With
// wait, it waits for a snapshot when there is none yet (a filtered page
// needs one); otherwise it may return nil.
func (s *Server) snapshot(ctx context.Context, m *manifest.Manifest, fp uint64, now time.Time, wait bool) (*snapshot, error) {
	cur := s.snaps.current()
	if cur != nil && cur.fingerprint != fp {
		cur = nil
	}
	if cur != nil && now.Sub(cur.at) < s.opts.SnapshotEvery {
		return cur, nil
	}
	done := s.refresh(m, fp)
	if cur != nil || !wait {
		return cur, nil
	}
	select {
	case r := <-done:
		if r.Err != nil {
			return nil, r.Err
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if cur = s.snaps.current(); cur == nil || cur.fingerprint != fp {
		return nil, nil // the manifest changed meanwhile: no counts this time
	}
	return cur, nil
}

// refresh reads every binding of m, paced, unless a refresh is under way
// already; the read outlives the request that started it (it runs on the
// server's context) and its rows go into the snapshot.
func (s *Server) refresh(m *manifest.Manifest, fp uint64) <-chan singleflight.Result {
	return s.snaps.group.DoChan("fleet", func() (any, error) {
		ctx := s.life
		seq, at := s.snaps.next(), s.env.Now(ctx)
		bindings := make([]*manifest.Service, len(m.Services))
		for i := range m.Services {
			bindings[i] = &m.Services[i]
		}
		rows, err := s.readRows(ctx, bindings, s.opts.SnapshotPace)
		if err != nil {
			s.opts.Logger.WarnContext(ctx, "refresh the fleet snapshot", "err", err)
			return nil, err
		}
		s.snaps.merge(m, fp, bindings, rows, seq, at)
		return nil, nil
	})
}

// readFresh reads bindings now, unpaced, and puts them into the snapshot.
func (s *Server) readFresh(ctx context.Context, m *manifest.Manifest, fp uint64, bindings []*manifest.Service) ([]Row, error) {
	seq, at := s.snaps.next(), s.env.Now(ctx)
	rows, err := s.readRows(ctx, bindings, nil)
	if err != nil {
		return nil, err
	}
	s.snaps.merge(m, fp, bindings, rows, seq, at)
	return rows, nil
}
