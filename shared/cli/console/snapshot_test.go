package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

// countingECS records the services every DescribeServices call asks for.
type countingECS struct {
	cli.ECSAPI
	mu        sync.Mutex
	calls     int
	described []string
}

func (c *countingECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	c.mu.Lock()
	c.calls++
	c.described = append(c.described, in.Services...)
	c.mu.Unlock()
	return c.ECSAPI.DescribeServices(ctx, in, optFns...)
}

// take returns the calls and the services asked for (sorted) since the last
// take.
func (c *countingECS) take() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls, described := c.calls, slices.Sorted(slices.Values(c.described))
	c.calls, c.described = 0, nil
	return calls, described
}

// gatePacer counts its waits and, while blocked, holds every caller until
// released, so a test decides when a refresh may proceed.
type gatePacer struct {
	mu    sync.Mutex
	waits int
	hold  chan struct{}
}

func newGatePacer() *gatePacer { return &gatePacer{} }

func (p *gatePacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	p.waits++
	hold := p.hold
	p.mu.Unlock()
	if hold == nil {
		return nil
	}
	select {
	case <-hold:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *gatePacer) block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = make(chan struct{})
}

func (p *gatePacer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.hold)
	p.hold = nil
}

func (p *gatePacer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waits
}

var rowBinding = regexp.MustCompile(`<tr data-states="[^"]*" data-binding="([^"]+)"`)

// shown are the bindings of a fleet page's rows, in order.
func shown(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("fleet page: HTTP %d:\n%.2000s", rec.Code, rec.Body.String())
	}
	var out []string
	for _, m := range rowBinding.FindAllStringSubmatch(rec.Body.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

// servicesOf are the services of bindings, sorted (what DescribeServices
// should have been asked for).
func (f *fleet) servicesOf(bindings []string) []string {
	var out []string
	for _, b := range bindings {
		out = append(out, f.services[b])
	}
	slices.Sort(out)
	return out
}

// TestFleetPageDescribesOnlyItsRows: with 450 bindings (25 services, 425
// missing), a page describes only the rows it shows, unpaced, while the
// counts and a filter's choice of rows come from the snapshot, read once in
// the background with every call paced.
func TestFleetPageDescribesOnlyItsRows(t *testing.T) {
	f := newFleet(t, 450, 25)
	counter := &countingECS{ECSAPI: f.env.ECS}
	env := *f.env
	env.ECS = counter
	pace := newGatePacer()
	pace.block()
	srv, err := New(Options{Env: &env, SnapshotPace: pace})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler("127.0.0.1:8080")

	// No snapshot yet: the first page shows its rows and says it is counting.
	rec := get(h, "/")
	if diff := cmp.Diff(f.bindings[:fleetPageSize], shown(t, rec)); diff != "" {
		t.Errorf("first page's rows (-want +got):\n%s", diff)
	}
	if !strings.Contains(rec.Body.String(), "counting the fleet") {
		t.Error("with no snapshot yet the page does not say it is counting")
	}
	if _, got := counter.take(); !cmp.Equal(f.servicesOf(f.bindings[:fleetPageSize]), got) {
		t.Errorf("the first page described %d services, want its %d rows' only", len(got), fleetPageSize)
	}
	// The page started the snapshot's refresh (it waits for its pace): a
	// refresh asked for now joins it.
	m, err := f.env.Source.Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	joined := srv.refresh(m, fingerprint(m))
	pace.release()
	if r := <-joined; r.Err != nil || !r.Shared {
		t.Fatalf("the refresh: %v; joined the page's %v, want true", r.Err, r.Shared)
	}
	calls, described := counter.take()
	if diff := cmp.Diff(f.servicesOf(f.bindings), described); diff != "" {
		t.Errorf("the refresh described (-want +got):\n%s", diff)
	}
	if pace.count() != calls || calls < len(f.bindings)/describeBatch {
		t.Errorf("the refresh made %d DescribeServices calls and waited for its pace %d times; want one wait per call, at least %d calls",
			calls, pace.count(), len(f.bindings)/describeBatch)
	}

	missing := f.bindings[25:]
	tests := map[string]struct {
		target string
		want   []string
		body   string
	}{
		"the first page describes its 200 rows and counts all 450":   {target: "/", want: f.bindings[:200], body: "missing <b>425</b>"},
		"the last page describes its 50 rows":                        {target: "/?page=3", want: f.bindings[400:]},
		"a state filter chooses from the snapshot, reads its page":   {target: "/?state=missing", want: missing[:200], body: "425 match"},
		"the filter's second page":                                   {target: "/?state=missing&page=2", want: missing[200:400]},
		"a text filter chooses from the snapshot, reads its one row": {target: "/?q=svc-0007", want: []string{"svc-0007"}, body: "1 match"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			waits := pace.count()
			rec := get(h, tc.target)
			if diff := cmp.Diff(tc.want, shown(t, rec)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if _, got := counter.take(); !cmp.Equal(f.servicesOf(tc.want), got) {
				t.Errorf("the page described %d services, want its %d rows' only", len(got), len(tc.want))
			}
			if pace.count() != waits {
				t.Errorf("the page waited for the snapshot's pace %d times (a refresh ran)", pace.count()-waits)
			}
			if body := rec.Body.String(); !strings.Contains(body, "counts as of") || !strings.Contains(body, tc.body) {
				t.Errorf("the page does not say %q and when its counts are from:\n%.3000s", tc.body, body)
			}
		})
	}
}

// TestFleetSnapshotAgesRefreshesAndTakesWrites: a state filter chooses rows
// from the snapshot (so a hold made elsewhere shows once a page has read
// the binding, or after the next refresh); a page view of a stale snapshot
// starts one refresh in the background (however many pages ask) and does
// not wait for it; a write through the console shows at once.
func TestFleetSnapshotAgesRefreshesAndTakesWrites(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, 450, 25)
	pace := newGatePacer()
	srv, err := New(Options{Env: f.env, SnapshotPace: pace, SnapshotEvery: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler("127.0.0.1:8080")
	held := func() []string { return shown(t, get(h, "/?state=held")) }
	if got := held(); len(got) != 0 {
		t.Fatalf("held before any hold: %v", got)
	}
	if _, err := f.env.Hold(ctx, "svc-0003", "held elsewhere", false); err != nil {
		t.Fatal(err)
	}
	if got := held(); len(got) != 0 {
		t.Errorf("held right after a hold made elsewhere: %v, want none until the binding is read again", got)
	}
	if rec := get(h, "/?q=svc-0003"); !strings.Contains(rec.Body.String(), "gate-held") {
		t.Errorf("a page showing svc-0003 does not read it fresh: no hold on its row")
	}
	if diff := cmp.Diff([]string{"svc-0003"}, held()); diff != "" {
		t.Errorf("held after a page read svc-0003 (-want +got):\n%s", diff)
	}

	// Another hold elsewhere, and the snapshot grows old.
	if _, err := f.env.Hold(ctx, "svc-0004", "held elsewhere", false); err != nil {
		t.Fatal(err)
	}
	f.settle(t, 2*time.Minute)
	m, err := f.env.Source.Manifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waits := pace.count()
	pace.block()
	for range 2 {
		if rec := get(h, "/"); !strings.Contains(rec.Body.String(), "refreshing") {
			t.Errorf("a page of a stale snapshot does not say it is refreshing:\n%.3000s", rec.Body.String())
		}
	}
	joined := srv.refresh(m, fingerprint(m))
	pace.release()
	if r := <-joined; r.Err != nil || !r.Shared {
		t.Fatalf("the refresh: %v; joined the pages' %v, want true", r.Err, r.Shared)
	}
	if got, want := pace.count()-waits, batches(t, f); got != want {
		t.Errorf("two stale pages and a join made %d paced calls, want one refresh's %d", got, want)
	}
	if diff := cmp.Diff([]string{"svc-0003", "svc-0004"}, held()); diff != "" {
		t.Errorf("held after the refresh (-want +got):\n%s", diff)
	}

	// A write through the console: its binding is read again at once.
	waits = pace.count()
	form := url.Values{csrfField: {srv.token}, "reason": {"from the console"}}
	req := httptest.NewRequest(http.MethodPost, "/b/svc-0005/hold", strings.NewReader(form.Encode()))
	req.Host = "127.0.0.1:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("hold from the console: HTTP %d:\n%.2000s", rec.Code, rec.Body.String())
	}
	if diff := cmp.Diff([]string{"svc-0003", "svc-0004", "svc-0005"}, held()); diff != "" {
		t.Errorf("held right after a hold from the console (-want +got):\n%s", diff)
	}
	if pace.count() != waits {
		t.Errorf("the write's reread went through a refresh (%d paced calls)", pace.count()-waits)
	}
}

// batches is how many DescribeServices calls a read of the whole fleet
// makes: ten services a call, per cluster.
func batches(t *testing.T, f *fleet) int {
	t.Helper()
	m, err := f.env.Source.Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]map[string]bool{}
	for _, b := range m.Services {
		if per[b.Cluster] == nil {
			per[b.Cluster] = map[string]bool{}
		}
		per[b.Cluster][b.Service] = true
	}
	n := 0
	for _, svcs := range per {
		n += (len(svcs) + describeBatch - 1) / describeBatch
	}
	if n == 0 {
		t.Fatalf("no services in %d bindings", len(m.Services))
	}
	return n
}
