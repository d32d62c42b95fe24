package console

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/demo"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// fleetJS reads the fleet table as the reader sees it: binding → container
// → "tag digest".
const fleetJS = `Object.fromEntries([...document.querySelectorAll("#fleet tbody tr[data-binding]")].map(tr =>
  [tr.dataset.binding, Object.fromEntries([...tr.querySelectorAll("li[data-container]")].map(li =>
    [li.dataset.container, li.querySelector(".tag").textContent + " " + li.querySelector(".digest").textContent]))]))`

func TestBrowserFleetListsEveryBindingWithItsRunningTag(t *testing.T) {
	ctx := browser(t, 1280, 900, false)
	r := newRig(t, rigOptions{})
	// proxy:stable-2 deploys web and api (Deckhand revisions that record
	// the tag); worker keeps the revision it was created with, which names
	// its image by digest only (the console asks ECR for its tag).
	r.st.SB.PushImage("proxy", "stable-2")
	r.settle(t, 2*time.Minute)
	pushed := map[string]string{"proxy": "stable-2"}

	want := map[string]map[string]string{}
	for _, b := range r.st.Manifest.Services {
		_, images, err := r.st.Running(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		want[b.Name] = map[string]string{}
		for c, img := range b.Images {
			tag := pushed[img.Repository]
			if tag == "" {
				tag = demo.InitialTags[img.Repository]
			}
			want[b.Name][c] = tag + " " + shortDigest(taskdef.ParseImageURI(images[c]).Digest)
		}
	}
	run(t, ctx, chromedp.Navigate(r.url+"/"), chromedp.WaitVisible(chromedp.CSS("#fleet")))
	got := eval[map[string]map[string]string](t, ctx, fleetJS)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fleet (-want +got):\n%s", diff)
	}
	if len(got) != len(r.st.Manifest.Services) {
		t.Errorf("fleet shows %d bindings, the manifest has %d", len(got), len(r.st.Manifest.Services))
	}

	// Filtering by text narrows the rows, on the server and as you type.
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#q"), "worker"), until(`[...document.querySelectorAll("#fleet tbody tr")].filter(tr => !tr.hidden).length === 1`))
	run(t, ctx, chromedp.Click(chromedp.CSS(`.filters button[type=submit]`)), until(`location.search.includes("q=worker") && document.querySelectorAll("#fleet tbody tr").length === 1`))
	if got := eval[string](t, ctx, `document.querySelector("#fleet tbody tr").dataset.binding`); got != "worker" {
		t.Errorf("filtered by worker, the row is %q", got)
	}
}

func TestBrowserHoldThenReleaseFromThePage(t *testing.T) {
	ctx := browser(t, 1280, 900, false)
	r := newRig(t, rigOptions{})
	run(t, ctx, chromedp.Navigate(r.url+"/b/worker"), chromedp.Click(chromedp.CSS(`a[href="/b/worker/hold"]`)),
		chromedp.WaitVisible(chromedp.CSS("#reason")))
	if _, held := r.hold(t, "worker"); held {
		t.Fatal("the confirmation page held the service before it was confirmed")
	}
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#reason"), "incident 4711"), chromedp.Click(chromedp.CSS("#confirm")),
		until(`location.search.includes("done=hold") && document.querySelector("#hold")`))
	if reason, held := r.hold(t, "worker"); !held || reason != "incident 4711" {
		t.Errorf("after hold from the page the service's deckhand:hold is %q (held %v), want incident 4711", reason, held)
	}
	if got := eval[string](t, ctx, `document.querySelector("#hold").textContent`); !strings.Contains(got, "incident 4711") {
		t.Errorf("the page's hold banner says %q, want the reason", got)
	}
	run(t, ctx, chromedp.Navigate(r.url+"/?state=held"), chromedp.WaitVisible(chromedp.CSS("#fleet")))
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll("#fleet tbody tr")].map(tr => tr.dataset.binding)`); !cmp.Equal(got, []string{"worker"}) {
		t.Errorf("fleet filtered by held shows %v, want [worker]", got)
	}

	run(t, ctx, chromedp.Navigate(r.url+"/b/worker"), chromedp.Click(chromedp.CSS(`a[href="/b/worker/release"]`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm")), chromedp.Click(chromedp.CSS("#confirm")),
		until(`location.search.includes("done=release") && !document.querySelector("#hold")`))
	if reason, held := r.hold(t, "worker"); held {
		t.Errorf("after release from the page the service is still held: %q", reason)
	}
}

func TestBrowserRollbackCauseOnTheTimeline(t *testing.T) {
	for name, withEvents := range map[string]bool{"from ECS alone": false, "with Deckhand's events": true} {
		t.Run(name, func(t *testing.T) {
			ctx := browser(t, 1280, 900, false)
			r := newRig(t, rigOptions{events: withEvents})
			// As the demo does: web:1.3.0 crashes on start, the circuit
			// breaker rolls it back and the tracker says ROLLED_BACK.
			mark := len(r.st.Deployments())
			bad := r.st.SB.PushImage("web", "1.3.0")
			r.st.SB.ECS().SetImageHealth(bad, false)
			r.settle(t, 4*time.Minute)
			var rolledBack string
			for _, d := range r.st.Deployments()[mark:] {
				if d.Binding == "web" && d.Status == events.StatusRolledBack {
					rolledBack = d.NewRevision
				}
			}
			if rolledBack == "" {
				t.Fatalf("the sandbox did not roll web back: %v", r.st.Deployments()[mark:])
			}
			entry := fmt.Sprintf(`li[data-revision=%q]`, shortRevision(rolledBack))
			run(t, ctx, chromedp.Navigate(r.url+"/b/web"), chromedp.WaitVisible(chromedp.CSS(entry+" .cause")))
			cause := eval[string](t, ctx, `document.querySelector(`+"`"+entry+" .cause`"+`).textContent`)
			if !strings.Contains(cause, "circuit breaker") || !strings.Contains(cause, "failed to start") {
				t.Errorf("the rolled-back revision's cause is %q, want the circuit breaker and tasks failing to start", cause)
			}
			verdict := eval[string](t, ctx, `document.querySelector(`+"`"+entry+" header .badge`"+`).textContent`)
			if verdict != "ROLLED_BACK" {
				t.Errorf("the rolled-back revision's verdict on the timeline is %q, want ROLLED_BACK", verdict)
			}
		})
	}
}

func TestBrowserCrossOriginPostIsRefused(t *testing.T) {
	ctx := browser(t, 1280, 900, false)
	r := newRig(t, rigOptions{})
	// Another origin on this machine (another port) serves a page whose form
	// posts a hold to the console, with the right token even: the console
	// must refuse it and change nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	evil := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s/b/web/hold"><input name="csrf" value="%s"><input name="reason" value="pwned"><button id="go">go</button></form>`,
			r.url, r.srv.token)
	})}
	go func() { _ = evil.Serve(ln) }()
	t.Cleanup(func() { _ = evil.Close() })
	run(t, ctx, chromedp.Navigate("http://"+ln.Addr().String()+"/"), chromedp.WaitVisible(chromedp.CSS("#go")))
	// RunResponse waits for the navigation the click starts (a cross-origin
	// one: a script polling the old page would never hear back).
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#go")))
	if err != nil {
		t.Fatalf("post from the other origin: %v", err)
	}
	if resp.Status != http.StatusForbidden || !strings.HasPrefix(resp.URL, r.url) {
		t.Errorf("the console answered the cross-origin POST with %d at %s, want 403 from %s", resp.Status, resp.URL, r.url)
	}
	if got := eval[string](t, ctx, `document.body.innerText`); !strings.Contains(got, "cross-") {
		t.Errorf("the refusal says %q, want it to name the cross-origin request", got)
	}
	if reason, held := r.hold(t, "web"); held {
		t.Errorf("a cross-origin POST held web: %q", reason)
	}
	// The same form from the console's own page goes through: the refusal
	// above was for the origin, not the form.
	run(t, ctx, chromedp.Navigate(r.url+"/b/web/hold"), chromedp.WaitVisible(chromedp.CSS("#reason")),
		chromedp.SendKeys(chromedp.CSS("#reason"), "same origin"), chromedp.Click(chromedp.CSS("#confirm")),
		until(`location.search.includes("done=hold") && document.querySelector("#hold")`))
	if reason, _ := r.hold(t, "web"); reason != "same origin" {
		t.Errorf("a same-origin hold left deckhand:hold = %q", reason)
	}
}
