// Package console is `deckhand console`: a local web console over the
// account, read with the caller's own credentials (the CLI's credential
// chain, or the sandbox's endpoint), served on loopback like
// `go tool pprof -http` (issue 18).
//
// It has four views: Fleet (every binding: what runs, the last verdict, a
// deployment in flight, gates), Binding (a timeline of deployments built
// from Deckhand's revision tags, ECS's deployments and service events,
// rolled-back marks, holds and, when there is an event history, Deckhand's
// own events, each revision with its diff against the one before), Jobs
// (schedules in their time zone, the next run, the last runs) and Delivery
// (deployment frequency, lead time, change failure rate and time to restore).
//
// Reads and writes go through shared/cli, the same code as the CLI: writes
// (hold, release, rollback) call Env.Hold, Env.Release and Env.Rollback after
// a confirmation page. Pages are server-rendered with html/template from
// embedded files; one small script of the console's own refreshes a page
// while it is open and filters the fleet as you type, and every page works
// without it. See guard for what the console refuses.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

//go:embed templates static
var assets embed.FS

// Options configure a console.
type Options struct {
	// Env is what the console reads and writes through, built like the
	// CLI's (credentials, Region, manifest source, clock).
	Env *cli.Env
	// Events is where Deckhand's own events are read back from; nil when
	// there is none (against AWS today: EventBridge keeps no history).
	Events EventSource
	// Metrics computes the Delivery view (default: DerivedMetrics over
	// Env, as deckhand report does).
	Metrics MetricsSource
	// Endpoint is shown in the footer (the sandbox's, or empty for AWS).
	Endpoint string
	// Live makes pages refresh themselves every few seconds while open
	// (the script's default; the reader can switch it off).
	Live bool
	// Logger logs failed reads and writes (default: discard).
	Logger *slog.Logger
	// SnapshotEvery is how old the fleet snapshot (counts and filters, see
	// snapshot.go) may get before a page view refreshes it in the
	// background (default SnapshotEvery).
	SnapshotEvery time.Duration
	// SnapshotPace paces the refresh's DescribeServices calls (default
	// SnapshotRate a second, bursts of SnapshotBurst).
	SnapshotPace Pacer
}

// Server is one console: its handler and what it caches.
type Server struct {
	opts   Options
	env    *cli.Env // Env with revisions cached (see revisionCache)
	pages  *pages
	static http.Handler
	token  string
	tags   ecrTags
	snaps  snapshots
	life   context.Context // what background reads run on (Serve's)
}

// New builds a console. Nothing is read from AWS until a page is asked for.
func New(opts Options) (*Server, error) {
	if opts.Env == nil {
		return nil, errors.New("console: no Env")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = SnapshotEvery
	}
	if opts.SnapshotPace == nil {
		opts.SnapshotPace = rate.NewLimiter(SnapshotRate, SnapshotBurst)
	}
	env := *opts.Env
	env.ECS = newRevisionCache(env.ECS)
	s := &Server{opts: opts, env: &env, token: newToken(), life: context.Background()}
	if s.opts.Metrics == nil {
		s.opts.Metrics = &DerivedMetrics{Env: s.env}
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, _ := fs.Sub(assets, "static")
	s.static = http.StripPrefix("/static/", http.FileServerFS(static))
	return s, nil
}

// Handler serves the console for a listener bound to addr (the address
// browsers use: its Host header is checked against it).
func (s *Server) Handler(addr string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.fleetPage)
	mux.HandleFunc("GET /b/{binding}", s.bindingPage)
	mux.HandleFunc("GET /b/{binding}/{action}", s.confirmPage)
	mux.HandleFunc("POST /b/{binding}/{action}", s.act)
	mux.HandleFunc("GET /jobs", s.jobsPage)
	mux.HandleFunc("GET /delivery", s.deliveryPage)
	mux.Handle("GET /static/", s.cacheStatic(s.static))
	return &guard{bound: addr, hosts: allowedHosts(addr), token: s.token, cop: http.NewCrossOriginProtection(), next: mux}
}

func (s *Server) cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// Listen binds addr, which must be a loopback address (CheckAddr), and
// returns the listener and the URL to open.
func Listen(addr string) (net.Listener, string, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, "http://" + ln.Addr().String() + "/", nil
}

// Serve serves the console on ln until ctx is done; background reads
// (the fleet snapshot's refresh) stop with ctx too. Call it once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.life = ctx
	srv := &http.Server{Handler: s.Handler(ln.Addr().String()), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve console: %w", err)
	}
}
