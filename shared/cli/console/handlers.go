package console

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// fleetPageSize is how many rows one fleet page shows.
const fleetPageSize = 200

// FleetView is the fleet page's data.
type FleetView struct {
	Query, State string
	// States are the filter's choices with their counts over every row.
	States []StateCount
	Total  int
	// Rows are this page's rows of the filtered fleet.
	Rows    []Row
	Matched int
	// Counted is true when States' counts (and a filter's choice of rows)
	// come from a fleet snapshot, as of AsOf; Refreshing when a newer one
	// is being read. The rows shown are read fresh for the page.
	Counted          bool
	AsOf             time.Time
	Refreshing       bool
	Page, Pages      int
	PrevURL, NextURL string
}

// baseStates are the states every fleet filter offers; gates' states go
// between failing and missing.
var baseStates = []string{StateInFlight, StateFailing, StateMissing, StateSteady}

// StateCount is one state and how many bindings are in it.
type StateCount struct {
	State string
	Count int
}

func (s *Server) fleetPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.fleetView(r)
	if err != nil {
		s.fail(w, r, statusOf(err), err)
		return
	}
	s.render(w, http.StatusOK, "fleet", s.view(r, "Fleet", "fleet", v))
}

func (s *Server) fleetView(r *http.Request) (*FleetView, error) {
	ctx := r.Context()
	m, err := s.env.Source.Manifest(ctx)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	v := &FleetView{Query: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Total: len(m.Services)}
	fp, now := fingerprint(m), s.env.Now(ctx)
	filtered := v.Query != "" || v.State != ""
	// A fleet of one page is read whole by every page (which makes its
	// snapshot) and filtered as read; a larger one needs the snapshot to
	// count and, when filtered, to choose the page's rows.
	small := len(m.Services) <= fleetPageSize
	var snap *snapshot
	if !small {
		if snap, err = s.snapshot(ctx, m, fp, now, filtered); err != nil {
			return nil, err
		}
	}
	var chosen []*manifest.Service
	for i := range m.Services {
		if !filtered || small || snap != nil && snap.rows[i].Matches(v.Query, v.State) {
			chosen = append(chosen, &m.Services[i])
		}
	}
	v.Pages = max(1, (len(chosen)+fleetPageSize-1)/fleetPageSize)
	v.Page, _ = strconv.Atoi(q.Get("page"))
	v.Page = min(max(v.Page, 1), v.Pages)
	lo := (v.Page - 1) * fleetPageSize
	rows, err := s.readFresh(ctx, m, fp, chosen[lo:min(lo+fleetPageSize, len(chosen))])
	if err != nil {
		return nil, err
	}
	if small && filtered {
		rows = slices.DeleteFunc(rows, func(row Row) bool { return !row.Matches(v.Query, v.State) })
	}
	v.Rows = rows
	v.Matched = len(chosen)
	if small {
		v.Matched = len(rows)
	}
	if snap = s.snaps.current(); snap != nil && snap.fingerprint == fp {
		v.Counted, v.AsOf, v.Refreshing = true, snap.at, now.Sub(snap.at) >= s.opts.SnapshotEvery
	} else {
		snap = nil
	}
	counts := map[string]int{}
	if snap != nil {
		for _, row := range snap.rows {
			for _, st := range row.States() {
				counts[st]++
			}
		}
	}
	var gates []string // gate states in force, and the one asked for
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(baseStates, st) {
			gates = append(gates, st)
		}
	}
	if v.State != "" && !slices.Contains(baseStates, v.State) && !slices.Contains(gates, v.State) {
		gates = append(gates, v.State)
	}
	for _, st := range slices.Concat(baseStates[:2], gates, baseStates[2:]) {
		v.States = append(v.States, StateCount{State: st, Count: counts[st]})
	}
	link := func(page int) string {
		u := *r.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(page))
		u.RawQuery = qq.Encode()
		return u.RequestURI()
	}
	if v.Page > 1 {
		v.PrevURL = link(v.Page - 1)
	}
	if v.Page < v.Pages {
		v.NextURL = link(v.Page + 1)
	}
	return v, nil
}

// BindingView is the binding page's data.
type BindingView struct {
	*Timeline
	// Done is the write just made ("hold", "release", "rollback"), from the
	// redirect after it.
	Done string
}

func (s *Server) bindingPage(w http.ResponseWriter, r *http.Request) {
	t, err := s.timeline(r.Context(), r.PathValue("binding"))
	if err != nil {
		s.fail(w, r, statusOf(err), err)
		return
	}
	done := r.URL.Query().Get("done")
	if !slices.Contains(actions, done) {
		done = ""
	}
	s.render(w, http.StatusOK, "binding", s.view(r, t.Binding, "fleet", BindingView{Timeline: t, Done: done}))
}

// JobsView is the jobs page's data.
type JobsView struct {
	Jobs []cli.JobStatus
}

// jobRuns is how many runs per job the jobs page shows.
const jobRuns = 10

func (s *Server) jobsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, err := s.env.Source.Manifest(ctx)
	if err != nil {
		s.fail(w, r, statusOf(err), err)
		return
	}
	v := JobsView{}
	if len(m.Jobs) > 0 {
		names := make([]string, len(m.Jobs))
		for i, j := range m.Jobs {
			names[i] = j.Name
		}
		st, err := s.env.Status(ctx, names, jobRuns)
		if st == nil {
			s.fail(w, r, statusOf(err), err)
			return
		}
		v.Jobs = st.Jobs
	}
	s.render(w, http.StatusOK, "jobs", s.view(r, "Jobs", "jobs", v))
}

// DeliveryView is the delivery page's data.
type DeliveryView struct {
	*Delivery
	Window  int   // days
	Windows []int // the choices
}

func (s *Server) deliveryPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, err := s.env.Source.Manifest(ctx)
	if err != nil {
		s.fail(w, r, statusOf(err), err)
		return
	}
	v := DeliveryView{Window: 14, Windows: []int{7, 14, 30}}
	if n, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && slices.Contains(v.Windows, n) {
		v.Window = n
	}
	now := s.env.Now(ctx)
	until := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	d, err := s.opts.Metrics.Delivery(ctx, m, until.Add(-time.Duration(v.Window)*24*time.Hour), until)
	if err != nil {
		s.fail(w, r, statusOf(err), err)
		return
	}
	v.Delivery = d
	s.render(w, http.StatusOK, "delivery", s.view(r, "Delivery", "delivery", v))
}

// statusOf is the HTTP status for an error from shared/cli.
func statusOf(err error) int {
	switch {
	case errors.Is(err, cli.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, cli.ErrUsage):
		return http.StatusBadRequest
	case errors.Is(err, cli.ErrAlreadyHeld), errors.Is(err, cli.ErrNothingPending), errors.Is(err, cli.ErrGateClosed):
		return http.StatusConflict
	}
	return http.StatusBadGateway
}
