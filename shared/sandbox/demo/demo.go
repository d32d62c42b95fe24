// Package demo plays Deckhand end to end on the sandbox, the way `make demo`
// shows it to a newcomer: pushes deploy every bound service, duplicates and
// late pushes are skipped with their reasons, a broken image is rolled back
// by the circuit breaker (and reported ROLLED_BACK, never success), a held
// service is left alone, a missed push is caught by the reconciler, and a
// scheduled job is judged by its exit code, a canary whose alarm fires is
// rolled back and a linear deploy completes step by step. Every scene
// checks its expected outcomes; any miss makes Run fail.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// Options configure the demo.
type Options struct {
	// Dir is the example directory (deckhand.yaml and templates/).
	Dir string
	// Break flips one expectation, to show that the demo checks its
	// outcomes: with it, Run must fail.
	Break bool
	// Color enables ANSI colour (only on a terminal).
	Color bool
}

// InitialTags are the first images of examples/deckhand.yaml's repositories
// (local.ExampleTags).
var InitialTags = local.ExampleTags

// player runs the scenes and keeps the score.
type player struct {
	w      io.Writer
	opts   Options
	st     *local.Stack
	seen   int // deployment events already printed
	jobs   int // job events already printed
	passed int
	failed []string
}

// Run plays the demo against an in-process sandbox served over real HTTP on
// loopback, printing a timeline to w.
func Run(ctx context.Context, w io.Writer, opts Options) error {
	if opts.Dir == "" {
		opts.Dir = "examples"
	}
	sb := sandbox.New(sandbox.Options{})
	endpoint, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	defer sb.Close()
	p := &player{w: w, opts: opts}
	p.say("Deckhand demo: local AWS sandbox on %s (virtual clock starts %s)", endpoint, sb.Clock().Now().Format(time.RFC3339))
	st, err := local.New(ctx, sb, local.Options{Dir: opts.Dir, InitialTags: InitialTags, Logger: slog.New(runnerLog{p})})
	if err != nil {
		return fmt.Errorf("seed sandbox from %s: %w", opts.Dir, err)
	}
	p.st = st
	p.say("seeded from %s/deckhand.yaml: %d services, %d jobs, groups %s", opts.Dir, len(st.Manifest.Services), len(st.Manifest.Jobs), groups(st))
	for _, scene := range scenes(opts) {
		p.heading(scene.title)
		if err := scene.play(ctx, p); err != nil {
			return fmt.Errorf("scene %q: %w", scene.title, err)
		}
	}
	p.heading("result")
	total := p.passed + len(p.failed)
	if len(p.failed) > 0 {
		p.say("%d of %d expectations met; missed:", p.passed, total)
		for _, f := range p.failed {
			p.say("  ✗ %s", f)
		}
		return fmt.Errorf("demo: %d of %d expectations missed", len(p.failed), total)
	}
	p.say("all %d expectations met", total)
	return nil
}

func groups(st *local.Stack) string {
	var parts []string
	for _, g := range st.Manifest.Groups() {
		parts = append(parts, fmt.Sprintf("%s{%s}", g.ID, strings.Join(g.Repositories, ",")))
	}
	return strings.Join(parts, " ")
}

func (p *player) now() string { return p.st.SB.Clock().Now().Format("15:04:05") }

func (p *player) say(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *player) heading(title string) {
	if p.opts.Color {
		fmt.Fprintf(p.w, "\n\033[1m== %s\033[0m\n", title)
		return
	}
	fmt.Fprintf(p.w, "\n== %s\n", title)
}

// settle lets rollouts progress and prints the new Deckhand events.
func (p *player) settle(ctx context.Context, d time.Duration) error {
	if err := p.st.Settle(ctx, d, 10*time.Second); err != nil {
		return err
	}
	p.printEvents()
	return nil
}

// printEvents prints Deckhand events not printed yet.
func (p *player) printEvents() {
	ds := p.st.Deployments()
	for _, d := range ds[p.seen:] {
		var change []string
		for _, c := range slices.Sorted(maps.Keys(d.Containers)) {
			ch := d.Containers[c]
			switch {
			case ch.NewDigest == "":
			case ch.OldTag != "":
				change = append(change, fmt.Sprintf("%s %s→%s (%s)", c, ch.OldTag, ch.NewTag, short(ch.NewDigest)))
			case ch.OldDigest != "":
				change = append(change, fmt.Sprintf("%s %s→%s (%s)", c, short(ch.OldDigest), ch.NewTag, short(ch.NewDigest)))
			default:
				change = append(change, fmt.Sprintf("%s=%s (%s)", c, ch.NewTag, short(ch.NewDigest)))
			}
		}
		line := fmt.Sprintf("%s  %-12s %-16s %-14s %s", d.Time.Format("15:04:05"), orDash(d.Binding), p.color(string(d.Status)), revisionName(d.NewRevision), strings.Join(change, ", "))
		if d.DeploymentID != "" {
			line += "  " + d.DeploymentID
		}
		p.say("%s", strings.TrimRight(line, " "))
		if d.Reason != "" && d.Status != events.StatusStarted {
			if d.Cause != "" {
				p.say("          ↳ cause %s: %s", d.Cause, d.Reason)
			} else {
				p.say("          ↳ %s", d.Reason)
			}
		}
	}
	p.seen = len(ds)
	n := 0
	for _, ev := range p.st.SB.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandJob {
			continue
		}
		if n++; n <= p.jobs {
			continue
		}
		var j events.JobStateChange
		if json.Unmarshal(ev.Detail, &j) == nil {
			p.printJobEvent(ev.Time, j)
		}
	}
	p.jobs = n
}

func (p *player) color(status string) string {
	if !p.opts.Color {
		return status
	}
	switch status {
	case "SUCCEEDED":
		return "\033[32m" + status + "\033[0m"
	case "FAILED", "ROLLED_BACK", "TIMED_OUT":
		return "\033[31m" + status + "\033[0m"
	}
	return "\033[33m" + status + "\033[0m"
}

// expect records one checked expectation.
func (p *player) expect(ok bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if ok {
		p.passed++
		p.say("  ✓ %s", msg)
		return
	}
	p.failed = append(p.failed, msg)
	p.say("  ✗ %s", msg)
}

// statuses returns the statuses emitted for binding since event index from.
func (p *player) statuses(from int, binding string) []events.DeploymentStatus {
	var out []events.DeploymentStatus
	for _, d := range p.st.Deployments()[from:] {
		if d.Binding == binding {
			out = append(out, d.Status)
		}
	}
	return out
}

func revisionName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func short(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
