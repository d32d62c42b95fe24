package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// Clock is the time source for anything that waits. Against AWS it is real
// time; against the sandbox, waiting advances the sandbox's virtual clock,
// so a 40-second rollout is followed in milliseconds.
type Clock interface {
	// Now is the current time on this clock.
	Now(ctx context.Context) (time.Time, error)
	// Wait lets d pass.
	Wait(ctx context.Context, d time.Duration) error
}

// RealClock is wall time.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now(context.Context) (time.Time, error) { return time.Now(), nil }

// Wait sleeps for d or until ctx is done.
func (RealClock) Wait(ctx context.Context, d time.Duration) error {
	return revision.SleepContext(ctx, d)
}

// SandboxClock drives the sandbox's virtual clock through its control API
// (GET /_sandbox/now, POST /_sandbox/advance).
type SandboxClock struct {
	Endpoint string       // e.g. http://127.0.0.1:4566
	Client   *http.Client // default http.DefaultClient
}

func (c SandboxClock) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return http.DefaultClient
}

// Now asks the sandbox for its time.
func (c SandboxClock) Now(ctx context.Context) (time.Time, error) {
	return c.call(ctx, http.MethodGet, "now", nil)
}

// Wait advances the sandbox clock by d.
func (c SandboxClock) Wait(ctx context.Context, d time.Duration) error {
	body, _ := json.Marshal(map[string]float64{"seconds": d.Seconds()})
	_, err := c.call(ctx, http.MethodPost, "advance", body)
	return err
}

func (c SandboxClock) call(ctx context.Context, method, route string, body []byte) (time.Time, error) {
	url := strings.TrimRight(c.Endpoint, "/") + "/_sandbox/" + route
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock %s: %w", route, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client().Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock %s: %w", route, err)
	}
	defer resp.Body.Close()
	var out struct {
		Now   time.Time `json:"now"`
		Error string    `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock %s: HTTP %d: %w", route, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("sandbox clock %s: HTTP %d: %s", route, resp.StatusCode, out.Error)
	}
	return out.Now, nil
}

// ErrUnreachable is matched by errors.Is when nothing answers at the
// endpoint override.
var ErrUnreachable = errors.New("nothing answers")

// UnreachableError is an endpoint override nothing answers at.
type UnreachableError struct {
	Endpoint string
	// Local is true for an endpoint on this machine, where the sandbox is
	// the likely one missing.
	Local bool
	Err   error
}

func (e *UnreachableError) Error() string {
	hint := "check --endpoint-url (or AWS_ENDPOINT_URL)"
	if e.Local {
		hint = "is `deckhand sandbox` running?"
	}
	return fmt.Sprintf("nothing answers at %s; %s (%v)", e.Endpoint, hint, e.Err)
}
func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// remoteProbeTimeout bounds the probe of an endpoint that is not on this
// machine; one on loopback refuses at once or answers.
const remoteProbeTimeout = 5 * time.Second

// DetectSandbox reports whether endpoint is a Deckhand sandbox: whether it
// answers GET /_sandbox/now with a time. An endpoint that answers anything
// else is not; one that does not answer at all (nothing listens, or the
// host cannot be reached) is an *UnreachableError, so the caller can say
// so instead of failing later on credentials.
func DetectSandbox(ctx context.Context, endpoint string, client *http.Client) (bool, error) {
	if endpoint == "" {
		return false, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return false, usagef("--endpoint-url %q: want a URL such as http://127.0.0.1:4566", endpoint)
	}
	ip := net.ParseIP(u.Hostname())
	local := u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
	if !local {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, remoteProbeTimeout)
		defer cancel()
	}
	t, err := SandboxClock{Endpoint: endpoint, Client: client}.Now(ctx)
	var transport *url.Error
	if errors.As(err, &transport) && !errors.Is(ctx.Err(), context.Canceled) {
		return false, &UnreachableError{Endpoint: strings.TrimRight(endpoint, "/"), Local: local, Err: transport.Err}
	}
	return err == nil && !t.IsZero(), nil
}

// Now is the time on the Env's clock: the sandbox's virtual time against
// the sandbox, else (or when it cannot be read) wall time.
func (e *Env) Now(ctx context.Context) time.Time {
	if t, err := e.clock().Now(ctx); err == nil {
		return t
	}
	return time.Now()
}

// now is Now for the engines' clock fields, which take no context.
func (e *Env) now() time.Time { return e.Now(context.Background()) }
