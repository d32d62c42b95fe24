package console

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

var shots = flag.String("console.shots", "", "save screenshots of every view to this directory (make console-shots)")

// TestScreenshots plays a short story on the sandbox (a shared push, a
// circuit-breaker rollback, a hold, two job runs, a deployment left in
// flight) and saves a screenshot of each view to -console.shots. It is how
// docs/console/ is made (make console-shots), never by hand.
func TestScreenshots(t *testing.T) {
	if *shots == "" {
		t.Skip("pass -console.shots=DIR (make console-shots) to save screenshots of the views")
	}
	r := newRig(t, rigOptions{events: true})
	ctx := context.Background()
	sb := r.st.SB
	sb.PushImage("proxy", "stable-2")
	r.settle(t, 2*time.Minute)
	sb.PushImage("web", "1.2.0")
	r.settle(t, 2*time.Minute)
	bad := sb.PushImage("web", "1.3.0")
	sb.ECS().SetImageHealth(bad, false)
	r.settle(t, 4*time.Minute)
	if _, err := r.env.Hold(ctx, "worker", "release freeze until Monday", false); err != nil {
		t.Fatal(err)
	}
	sb.PushImage("worker", "release-2")
	r.settle(t, time.Minute)
	for i, exit := range []int32{0, 3} {
		digest := sb.PushImage("report", []string{"1.1.0", "1.2.0"}[i])
		sb.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: 45 * time.Second, ExitCode: exit})
		at := sb.Clock().Now().Truncate(time.Hour)
		if _, err := r.st.Jobs.Run(ctx, jobs.Invocation{Job: "nightly-report", ScheduledTime: at.Format(time.RFC3339)}); err != nil {
			t.Fatal(err)
		}
		r.settle(t, 2*time.Minute)
		sb.Clock().Advance(time.Hour)
	}
	sb.PushImage("api", "2.1.0")
	if _, err := r.st.Pump(ctx); err != nil { // api's deployment starts, and stays in flight
		t.Fatal(err)
	}
	sb.Clock().Advance(20 * time.Second)

	if err := os.MkdirAll(*shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		file, path, ready string
		width, height     int
		dark              bool
	}{
		{"fleet.png", "/", "#fleet", 1280, 720, false},
		{"binding.png", "/b/web", "#timeline", 1280, 1400, false},
		{"jobs.png", "/jobs", ".job", 1280, 900, false},
		{"delivery.png", "/delivery", "#delivery", 1280, 1000, false},
		{"rollback.png", "/b/web/rollback", "#confirm", 1280, 900, false},
		{"fleet-narrow-dark.png", "/", "#fleet", 420, 1100, true},
	} {
		tab := browser(t, s.width, s.height, s.dark)
		run(t, tab, chromedp.Navigate(r.url+s.path), chromedp.WaitVisible(chromedp.CSS(s.ready)))
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", s.path, err)
		}
		if err := os.WriteFile(filepath.Join(*shots, s.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s (%s, %d bytes)", filepath.Join(*shots, s.file), s.path, len(png))
	}
}
