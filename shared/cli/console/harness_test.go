package console

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/chromedp"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/demo"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

const examples = "../../../examples"

// rig is a sandbox seeded from examples/ with Deckhand running against it
// (shared/sandbox/local) and a console serving it on loopback.
type rig struct {
	st  *local.Stack
	env *cli.Env
	srv *Server
	url string // the console, e.g. http://127.0.0.1:41051
}

// rigOptions tune a rig.
type rigOptions struct {
	// events makes the console read Deckhand's events from the sandbox.
	events bool
	// gates seeds examples/gates.yaml (shop, promoted from staging to
	// production through its gates) instead of examples/deckhand.yaml.
	gates bool
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	ctx := context.Background()
	sb := sandboxtest.Start(t, sandbox.Options{})
	lo := local.Options{Dir: examples, InitialTags: demo.InitialTags}
	if o.gates {
		raw, err := os.ReadFile(examples + "/gates.yaml")
		if err != nil {
			t.Fatal(err)
		}
		lo.Manifest, lo.InitialTags = raw, map[string]string{"shop": "1.0.0"}
	}
	st, err := local.New(ctx, sb, lo)
	if err != nil {
		t.Fatalf("seed sandbox: %v", err)
	}
	cfg := sb.AWSConfig()
	env := &cli.Env{ECS: ecs.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		Source: store.NewS3(st.S3, local.Bucket, "deckhand.yaml"), Account: sb.Account(), Region: sb.Region(),
		Clock: cli.SandboxClock{Endpoint: sb.Endpoint()}}
	opts := Options{Env: env, Endpoint: sb.Endpoint()}
	if o.events {
		opts.Events = SandboxEvents{Endpoint: sb.Endpoint()}
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, url, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve console: %v", err)
		}
	})
	return &rig{st: st, env: env, srv: srv, url: strings.TrimSuffix(url, "/")}
}

// settle lets rollouts finish and delivers their events.
func (r *rig) settle(t testing.TB, d time.Duration) {
	t.Helper()
	if err := r.st.Settle(context.Background(), d, 10*time.Second); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

// service describes a binding's service with its tags.
func (r *rig) service(t testing.TB, binding string) ecstypes.Service {
	t.Helper()
	b, _ := r.st.Manifest.Service(binding)
	out, err := r.st.ECS.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(b.Cluster),
		Services: []string{b.Service}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe service %s: %v", binding, err)
	}
	return out.Services[0]
}

// hold returns the service's deckhand:hold tag.
func (r *rig) hold(t testing.TB, binding string) (string, bool) {
	v, ok := revision.TagsOf(r.service(t, binding).Tags)[revision.TagHold]
	return v, ok
}

// chromiumPath finds a Chromium binary, or skips the test.
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium binary found (chromium, chromium-browser or google-chrome on PATH): browser tests skipped; install it with `apt-get install chromium` (.ci/run does)")
	return ""
}

// browser starts a headless Chromium with a fresh profile and no network
// chatter (the machine is offline) and returns a tab's context.
func browser(t testing.TB, width, height int, dark bool) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(width, height),
	}
	if dark {
		opts = append(opts, chromedp.Flag("force-dark-mode", true), chromedp.Flag("blink-settings", "preferredColorScheme=0"))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// until waits, with no deadline of its own, until the JavaScript
// expression is truthy on the page (checked on every DOM change). A
// navigation under way (a form posted, a redirect followed) destroys the
// page the check runs in; it then checks again on the new page.
//
// A page that is not HTML (the console's plain-text refusals) ends the wait
// too, and fails it unless the expression holds there.
func until(expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[chromedp.Void]("("+expr+`) || document.contentType !== "text/html"`,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0))
	check := chromedp.Evaluate[bool]("!!(" + expr + ")")
	text := chromedp.Evaluate[string](`location.href + ": " + document.body.innerText`)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for tries := 0; ; tries++ {
			_, err := poll(ctx, t)
			if err != nil && tries < 100 && navigated(err) {
				continue
			}
			if err != nil {
				return err
			}
			if ok, err := check(ctx, t); err != nil || ok {
				return err
			}
			page, _ := text(ctx, t)
			return fmt.Errorf("waiting for %s, the page became %q", expr, page)
		}
	})
}

// navigated reports whether err says the page went away under a script.
func navigated(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context") || strings.Contains(msg, "context was destroyed") ||
		strings.Contains(msg, "not survive") || strings.Contains(msg, "navigat")
}

// eval evaluates a JavaScript expression on the page into T.
func eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// run runs chromedp actions, failing the test on error.
func run(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}
