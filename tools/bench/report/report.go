// Package report runs every measurement of make bench and prints the
// tables BENCHMARKS.md quotes. Each number comes with the baseline measured
// in the same run.
package report

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/tools/bench/burst"
	"github.com/deckhand-ecs/deckhand/tools/bench/clicompare"
	"github.com/deckhand-ecs/deckhand/tools/bench/coldstart"
	"github.com/deckhand-ecs/deckhand/tools/bench/economy"
	"github.com/deckhand-ecs/deckhand/tools/bench/inittrace"
	"github.com/deckhand-ecs/deckhand/tools/bench/scale"
	"github.com/deckhand-ecs/deckhand/tools/bench/size"
)

// Options say where make bench put the binaries.
type Options struct {
	// Dir holds deployer/bootstrap (+ .syms), hello/bootstrap, deckhand
	// and arm64/<fn>/bootstrap.
	Dir       string
	Functions []string
	Launches  int // cold starts per binary (default 15)
	Deploys   int // CLI vs script deploys per tool (default 10)
	// Before, when set, is a deployer binary built from an earlier commit:
	// the push-to-UpdateService table measures it too, in the same run.
	Before string
}

// Goals (issues 7 and 16).
const (
	goalInitRatio = 1.5
	goalSizeMiB   = 15
	goalRSSMiB    = 40
	goalCalls     = 6
	goalColdCalls = 8 // issue 16: no more than before
	goalDepth     = 4
	goalPushRatio = 1.2
	goalBurst     = 1.15
	goalCPU       = 10
)

// Run measures and writes the report.
func Run(ctx context.Context, opts Options, w io.Writer) error {
	if opts.Launches <= 0 {
		opts.Launches = 15
	}
	if opts.Deploys <= 0 {
		opts.Deploys = 10
	}
	fmt.Fprintf(w, "# make bench — %s, %s %s/%s, %d CPUs\n\n", time.Now().UTC().Format("2006-01-02 15:04:05 UTC"),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	steps := []struct {
		name string
		f    func(context.Context, Options, io.Writer) error
	}{
		{"cold start and memory", coldStart}, {"manifest scale", manifestScale}, {"size", sizes}, {"API economy", apiEconomy}, {"push to UpdateService", pushToUpdate},
		{"burst convergence", burstConvergence}, {"CLI vs script", cliVsScript},
	}
	for _, s := range steps {
		if err := s.f(ctx, opts, w); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

func sandboxFixture(ctx context.Context) (*sandbox.Sandbox, *coldstart.Fixture, func(), error) {
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.Listen("127.0.0.1:0"); err != nil {
		return nil, nil, nil, err
	}
	dir, err := os.MkdirTemp("", "deckhand-bench")
	if err != nil {
		return nil, nil, nil, err
	}
	cleanup := func() { _ = sb.Close(); _ = os.RemoveAll(dir) }
	f, err := coldstart.Setup(ctx, sb, dir)
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	return sb, f, cleanup, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func verdict(ok bool, format string, a ...any) string {
	if ok {
		return "met"
	}
	return "NOT MET: " + fmt.Sprintf(format, a...)
}

// launchBound bounds one measured launch of a binary built beforehand (no
// build is inside it), so a binary that never reaches the Runtime API fails
// the report instead of hanging it.
const launchBound = 2 * time.Minute

func measure(ctx context.Context, f *coldstart.Fixture, bin string, payload []byte) (coldstart.Start, error) {
	ctx, cancel := context.WithTimeout(ctx, launchBound)
	defer cancel()
	return coldstart.Measure(ctx, f, bin, payload)
}

func coldStart(ctx context.Context, opts Options, w io.Writer) error {
	_, f, cleanup, err := sandboxFixture(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	bins := map[string]string{
		"hello-world (baseline)": filepath.Join(opts.Dir, "hello", "bootstrap"),
		"deployer":               filepath.Join(opts.Dir, "deployer", "bootstrap"),
	}
	init, first := map[string][]time.Duration{}, map[string][]time.Duration{}
	hwm := map[string]int{}
	callsAtInit := 0
	for range opts.Launches {
		for _, name := range []string{"hello-world (baseline)", "deployer"} {
			payload := []byte(`{}`)
			if name == "deployer" {
				payload = f.Batch(1)
			}
			s, err := measure(ctx, f, bins[name], payload)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			init[name] = append(init[name], s.Init)
			first[name] = append(first[name], s.FirstResponse)
			hwm[name] = max(hwm[name], s.HWMKiB)
			callsAtInit = max(callsAtInit, s.CallsAtInit)
		}
	}
	var batchHWM int
	for range 3 {
		s, err := measure(ctx, f, bins["deployer"], f.Batch(10))
		if err != nil {
			return fmt.Errorf("deployer, 10-message batch: %w", err)
		}
		batchHWM = max(batchHWM, s.HWMKiB)
	}
	hi, di := median(init["hello-world (baseline)"]), median(init["deployer"])
	hf, df := median(first["hello-world (baseline)"]), median(first["deployer"])
	ratio := di.Seconds() / hi.Seconds()
	fmt.Fprintf(w, "## 1. Cold start (median of %d launches each, alternating; linux/amd64 host build, -s -w)\n\n", opts.Launches)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "binary\texec → first next\texec → first response\tpeak RSS (1 message)")
	fmt.Fprintf(tw, "hello-world (baseline)\t%v\t%v\t%.1f MiB\n", hi.Round(10*time.Microsecond), hf.Round(10*time.Microsecond), float64(hwm["hello-world (baseline)"])/1024)
	fmt.Fprintf(tw, "deployer\t%v\t%v\t%.1f MiB\n", di.Round(10*time.Microsecond), df.Round(10*time.Microsecond), float64(hwm["deployer"])/1024)
	tw.Flush()
	fmt.Fprintf(w, "\ninit ratio deployer/hello-world: %.2f (goal ≤ %.1f: %s)\n", ratio, goalInitRatio, verdict(ratio <= goalInitRatio, "%.0f%% over", (ratio/goalInitRatio-1)*100))
	fmt.Fprintf(w, "first-response ratio deployer/hello-world: %.2f (the deployer's first answer includes its AWS calls: S3 GETs, 4 ECS calls, PutEvents)\n", df.Seconds()/hf.Seconds())
	fmt.Fprintf(w, "AWS calls before the first invocation (max over launches): %d (goal 0: %s)\n", callsAtInit, verdict(callsAtInit == 0, "%d calls", callsAtInit))
	if err := initAccount(ctx, bins["hello-world (baseline)"], bins["deployer"], hi, di, w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n## 2b. Peak RSS handling a 10-message batch (VmHWM, max of 3 launches)\n\n")
	fmt.Fprintf(w, "deployer: %.1f MiB; hello-world baseline: %.1f MiB; ratio %.2f (goal ≤ %d MiB: %s)\n\n",
		float64(batchHWM)/1024, float64(hwm["hello-world (baseline)"])/1024, float64(batchHWM)/float64(hwm["hello-world (baseline)"]),
		goalRSSMiB, verdict(batchHWM <= goalRSSMiB*1024, "%.1f MiB over", float64(batchHWM)/1024-goalRSSMiB))
	return nil
}

func sizes(ctx context.Context, opts Options, w io.Writer) error {
	fmt.Fprintf(w, "## 2a. Binary size (stripped: -s -w -trimpath, CGO_ENABLED=0, -tags lambda.norpc)\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "function\tlinux/arm64 (deployed)\tgoal ≤ 15 MiB")
	for _, fn := range opts.Functions {
		st, err := os.Stat(filepath.Join(opts.Dir, "arm64", fn, "bootstrap"))
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%.2f MiB\t%s\n", fn, mib(st.Size()), verdict(mib(st.Size()) <= goalSizeMiB, "%.2f MiB over", mib(st.Size())-goalSizeMiB))
	}
	for _, b := range []struct{ name, path string }{{"deployer (linux/amd64)", "deployer/bootstrap"}, {"hello-world baseline (linux/amd64)", "hello/bootstrap"}} {
		st, err := os.Stat(filepath.Join(opts.Dir, b.path))
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%.2f MiB\t\n", b.name, mib(st.Size()))
	}
	tw.Flush()
	shares, total, err := size.ByModule(ctx, filepath.Join(opts.Dir, "deployer", "bootstrap.syms"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nWhat the deployer's bytes are (`go tool nm -size -sort size` of the unstripped amd64 build, code + rodata + data symbols by module; %.2f MiB attributed):\n\n", mib(total))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "module\tMiB\tshare")
	for _, s := range shares[:min(12, len(shares))] {
		fmt.Fprintf(tw, "%s\t%.2f\t%.0f%%\n", s.Module, mib(s.Bytes), float64(s.Bytes)/float64(total)*100)
	}
	tw.Flush()
	fmt.Fprintln(w)
	return nil
}

func apiEconomy(ctx context.Context, _ Options, w io.Writer) error {
	_, f, cleanup, err := sandboxFixture(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	res, err := economy.Measure(ctx, f, 25*time.Millisecond)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## 4. API economy (one new image for one binding; every sandbox call held %v so overlap is visible)\n\n", res.Latency)
	for _, d := range []struct {
		name string
		dep  economy.Deployment
	}{
		{"cold caches (first invocation, with the deployment's snapshot)", res.Cold},
		{"warm path", res.Warm},
		{"cold caches without a snapshot (the CLI; a bucket changed outside cdk deploy)", res.ColdNoSnapshot},
	} {
		var ops []string
		for _, c := range d.dep.Calls {
			ops = append(ops, fmt.Sprintf("%s→%d", c.Op, c.Status))
		}
		fmt.Fprintf(w, "%s: %d calls, critical path %d sequential calls (%d before the PutEvents that reports the decision), %v wall (%.1f× the held latency)\n  %s\n",
			d.name, len(d.dep.Calls), d.dep.Depth, d.dep.DepthBeforeEvents, d.dep.Wall.Round(time.Millisecond), d.dep.Wall.Seconds()/res.Latency.Seconds(), strings.Join(ops, ", "))
	}
	fmt.Fprintf(w, "\ncold path against the goals: %d calls (goal ≤ %d: %s); critical path %d (goal ≤ %d: %s)\n",
		len(res.Cold.Calls), goalColdCalls, verdict(len(res.Cold.Calls) <= goalColdCalls, "%d over", len(res.Cold.Calls)-goalColdCalls),
		res.Cold.Depth, goalDepth, verdict(res.Cold.Depth <= goalDepth, "%d over", res.Cold.Depth-goalDepth))
	fmt.Fprintf(w, "warm path against the goals: %d calls (goal ≤ %d: %s); critical path %d (goal ≤ %d: %s)\n",
		len(res.Warm.Calls), goalCalls, verdict(len(res.Warm.Calls) <= goalCalls, "%d over", len(res.Warm.Calls)-goalCalls),
		res.Warm.Depth, goalDepth, verdict(res.Warm.Depth <= goalDepth, "%d over", res.Warm.Depth-goalDepth))
	fmt.Fprintf(w, "seed-style script baseline: 2 calls (RegisterTaskDefinition, UpdateService), critical path 2, with no hold, dedupe, order, reuse or event\n\n")
	return nil
}

// pushLatencies are the per-call latencies pushToUpdate holds every
// sandbox call for (issue 16).
var pushLatencies = []time.Duration{30 * time.Millisecond, 80 * time.Millisecond}

// pushToUpdate measures, in launched deployer processes (the real binary,
// cold, under the Runtime API), the time from a push event being handed to
// the handler to its UpdateService request reaching the sandbox, which
// holds every call (sandbox.Options.Latency); against the sequential round
// trips that had to end before it times the latency.
func pushToUpdate(ctx context.Context, opts Options, w io.Writer) error {
	launches := min(opts.Launches, 9)
	bins := []struct{ name, path string }{{"", filepath.Join(opts.Dir, "deployer", "bootstrap")}}
	if opts.Before != "" {
		bins = append(bins, struct{ name, path string }{"before: ", opts.Before})
	}
	fmt.Fprintf(w, "## 4b. Push to UpdateService (the deployer binary, %d launches per latency, medians; every sandbox call held by sandbox.Options.Latency; one new image for one binding, first invocation cold, second warm)\n\n", launches)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "latency\tinvocation\tevent handed → UpdateService arrives\t× latency\tround trips before it\tcalls\t÷ (round trips × latency)\tgoal ≤ 1.2")
	for _, l := range pushLatencies {
		sb := sandbox.New(sandbox.Options{Latency: l})
		if _, err := sb.Listen("127.0.0.1:0"); err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "deckhand-latency")
		if err != nil {
			_ = sb.Close()
			return err
		}
		cold, warm := map[string][]economy.Deployment{}, map[string][]economy.Deployment{}
		f, err := coldstart.Setup(ctx, sb, dir)
		for i := 0; err == nil && i < launches; i++ {
			for _, b := range bins { // alternating
				lctx, cancel := context.WithTimeout(ctx, launchBound)
				var la economy.Launch
				la, err = economy.MeasureLaunch(lctx, f, b.path)
				cancel()
				if err != nil {
					err = fmt.Errorf("%s%s: %w", b.name, b.path, err)
					break
				}
				cold[b.name], warm[b.name] = append(cold[b.name], la.Cold), append(warm[b.name], la.Warm)
			}
		}
		_ = sb.Close()
		_ = os.RemoveAll(dir)
		if err != nil {
			return err
		}
		type row struct {
			name string
			deps []economy.Deployment
		}
		var rows []row
		for _, b := range bins {
			rows = append(rows, row{b.name + "cold (first)", cold[b.name]}, row{b.name + "warm (second)", warm[b.name]})
		}
		for _, d := range rows {
			var to []time.Duration
			trips, calls := map[int]bool{}, map[int]bool{}
			for _, dep := range d.deps {
				to = append(to, dep.ToUpdate)
				trips[dep.DepthToUpdate], calls[len(dep.Calls)] = true, true
			}
			rt := slices.Min(slices.Collect(maps.Keys(trips)))
			mt := median(to)
			ratio := mt.Seconds() / (float64(rt) * l.Seconds())
			fmt.Fprintf(tw, "%v\t%s\t%v\t%.2f\t%s\t%s\t%.2f\t%s\n", l, d.name, mt.Round(100*time.Microsecond), mt.Seconds()/l.Seconds(), keys(trips), keys(calls), ratio,
				verdict(ratio <= goalPushRatio, "%.0f%% over", (ratio/goalPushRatio-1)*100))
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	return nil
}

// keys lists a set of counts, such as "2" or "2, 3".
func keys(set map[int]bool) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(set)) {
		out = append(out, fmt.Sprint(k))
	}
	return strings.Join(out, ", ")
}

func burstConvergence(ctx context.Context, _ Options, w io.Writer) error {
	sb := sandbox.New(sandbox.Options{Seed: 7})
	if _, err := sb.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	defer sb.Close()
	dir, err := os.MkdirTemp("", "deckhand-burst")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := burst.Config{Pushes: 200, Repositories: 50, Services: 100, Duplicates: 0.2, Seed: 7}
	r, err := burst.Run(ctx, sb, dir, cfg)
	if err != nil {
		return err
	}
	// The baseline in the same run: the same burst on a fresh sandbox,
	// the deployer without its ECR client (coalescing within a batch only).
	base, err := burstWithout(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## 5. Burst convergence (%d pushes + %d duplicate deliveries, %d repositories, %d services; sandbox throttling on; virtual clock)\n\n",
		cfg.Pushes, r.Deliveries-cfg.Pushes, cfg.Repositories, cfg.Services)
	fmt.Fprintf(w, "converged (last UpdateService) after %v virtual; every rollout completed after %v\n", r.Converged.Round(time.Millisecond), r.Settled.Round(time.Second))
	fmt.Fprintf(w, "lower bound: (%d registers needed − burst %d) / 1 per s = %v\n", r.Needed, 20, r.Bound)
	fmt.Fprintf(w, "ratio %.3f (goal ≤ %.2f: %s)\n", r.Ratio(), goalBurst, verdict(r.Ratio() <= goalBurst, "%.0f%% over", (r.Ratio()/goalBurst-1)*100))
	fmt.Fprintf(w, "registers: %d actual vs %d naive (one per delivery per bound service): %d saved (%d SUPERSEDED by coalescing, %d ALREADY_DEPLOYED by dedupe)\n",
		r.Registers, r.Naive, r.Naive-r.Registers, r.Superseded, r.Already)
	fmt.Fprintf(w, "catch-up: %d deployments caught up to a newer image through ECR, for %d DescribeImages calls\n", r.CaughtUp, r.DescribeImages)
	fmt.Fprintf(w, "failed deployments: %d; ThrottlingException answers: %d; services behind: %d\n", r.Failed, r.Throttled, len(r.Behind))
	fmt.Fprintf(w, "baseline, same burst without catch-up (coalescing within a batch only): converged after %v, ratio %.3f, %d registers, %d failed, %d behind\n\n",
		base.Converged.Round(time.Millisecond), base.Ratio(), base.Registers, base.Failed, len(base.Behind))
	return nil
}

// burstWithout runs cfg with catch-up off on a sandbox of its own.
func burstWithout(ctx context.Context, cfg burst.Config) (burst.Result, error) {
	sb := sandbox.New(sandbox.Options{Seed: 7})
	if _, err := sb.Listen("127.0.0.1:0"); err != nil {
		return burst.Result{}, err
	}
	defer sb.Close()
	dir, err := os.MkdirTemp("", "deckhand-burst-base")
	if err != nil {
		return burst.Result{}, err
	}
	defer os.RemoveAll(dir)
	cfg.NoCatchUp = true
	return burst.Run(ctx, sb, dir, cfg)
}

func cliVsScript(ctx context.Context, opts Options, w io.Writer) error {
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	defer sb.Close()
	dir, err := os.MkdirTemp("", "deckhand-cli")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r, err := clicompare.Measure(ctx, sb, dir, filepath.Join(opts.Dir, "deckhand"), opts.Deploys)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## 6. `deckhand deploy` vs the seed-style shell deploy (%d deploys each, alternating, one sandbox server)\n\n", opts.Deploys)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tool\tCPU per deploy\twall per deploy")
	for _, run := range []clicompare.Run{r.Script, r.Deckhand} {
		fmt.Fprintf(tw, "%s\t%v\t%v\n", run.Tool, (run.CPU / time.Duration(run.Deploys)).Round(100*time.Microsecond), (run.Wall / time.Duration(run.Deploys)).Round(100*time.Microsecond))
	}
	tw.Flush()
	cpu := r.Script.CPU.Seconds() / r.Deckhand.CPU.Seconds()
	fmt.Fprintf(w, "\nCPU ratio script/deckhand: %.1f× (goal ≥ %d×: %s); wall ratio %.1f×\n\n", cpu, goalCPU,
		verdict(cpu >= goalCPU, "%.1f×", cpu), r.Script.Wall.Seconds()/r.Deckhand.Wall.Seconds())
	return nil
}

// scaleSizes are the manifest sizes manifestScale measures (issue 17).
var scaleSizes = []int{10, 1000, 5000}

// manifestScale is one cold deployer invocation (one push reaching five
// bindings that share a template) against manifests of 10, 1,000 and
// 5,000 bindings: its time and the process's peak RSS, against the
// 10-binding figures measured in the same run; the deployer reads the
// whole manifest, then only the pushed group's part of it (manifest
// parts, as the CDK app uploads them).
func manifestScale(ctx context.Context, opts Options, w io.Writer) error {
	launches := min(opts.Launches, 7)
	bin := filepath.Join(opts.Dir, "deployer", "bootstrap")
	fmt.Fprintf(w, "## 1b. Manifest scale: one cold invocation, one push to a repository bound to %d of N bindings sharing one template (median of %d launches; peak RSS max)\n\n", scale.Pushed, launches)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "bindings in the manifest\tthe deployer reads\tinvocation (first response − init)\texec → first response\tpeak RSS\tvs 10 bindings, whole (time, RSS)")
	var base time.Duration
	var baseRSS int
	var worst [2]float64
	// One launch first, not counted: the binary's pages and the loopback
	// are cold for the first, whichever row it would belong to.
	if _, _, _, err := scaleLaunches(ctx, bin, scaleSizes[0], false, 1); err != nil {
		return err
	}
	for _, parts := range []bool{false, true} {
		for _, n := range scaleSizes {
			inv, first, hwm, err := scaleLaunches(ctx, bin, n, parts, launches)
			if err != nil {
				return err
			}
			if n == scaleSizes[0] && !parts {
				base, baseRSS = inv, hwm
			}
			reads := "the whole manifest"
			if parts {
				reads = "its group's part"
			}
			ratio := [2]float64{inv.Seconds() / base.Seconds(), float64(hwm) / float64(baseRSS)}
			if parts {
				worst = [2]float64{max(worst[0], ratio[0]), max(worst[1], ratio[1])}
			}
			fmt.Fprintf(tw, "%d\t%s\t%v\t%v\t%.1f MiB\t%.2f×, %.2f×\n", n, reads, inv.Round(100*time.Microsecond), first.Round(100*time.Microsecond),
				float64(hwm)/1024, ratio[0], ratio[1])
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nwith parts, at most %.2f× the 10-binding time and %.2f× its peak RSS (goal of the fleet issue: within 2×: %s; RSS goal ≤ %d MiB)\n\n",
		worst[0], worst[1], verdict(worst[0] <= 2 && worst[1] <= 2, "%.2f×", max(worst[0], worst[1])), goalRSSMiB)
	return nil
}

// scaleLaunches measures launches cold invocations against an n-binding
// manifest: the median invocation and first response, the highest peak RSS.
func scaleLaunches(ctx context.Context, bin string, n int, parts bool, launches int) (inv, first time.Duration, hwm int, err error) {
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.Listen("127.0.0.1:0"); err != nil {
		return 0, 0, 0, err
	}
	defer sb.Close()
	f, err := scale.Setup(ctx, sb, n)
	if err != nil {
		return 0, 0, 0, err
	}
	if parts {
		if err := f.UseParts(ctx); err != nil {
			return 0, 0, 0, err
		}
	}
	var invs, firsts []time.Duration
	for range launches {
		lctx, cancel := context.WithTimeout(ctx, launchBound)
		l, err := scale.Measure(lctx, f, bin)
		cancel()
		if err != nil {
			return 0, 0, 0, err
		}
		invs, firsts = append(invs, l.Invocation), append(firsts, l.FirstResponse)
		hwm = max(hwm, l.HWMKiB)
	}
	return median(invs), median(firsts), hwm, nil
}

// initLaunches is how many inittrace launches each binary gets.
const initLaunches = 21

// initAccount says what the init pays for (issue 16: "what hello-world
// itself pays, and what each remaining millisecond is for"): the package
// initializers of each binary as the Go runtime times them
// (GODEBUG=inittrace=1, tools/bench/inittrace), and the rest of exec →
// first next (loading and faulting in the binary, the runtime's start, main
// until its first Runtime API call) as the difference from section 1's
// medians.
func initAccount(ctx context.Context, hello, deployer string, hi, di time.Duration, w io.Writer) error {
	hs, err := inittrace.Measure(ctx, hello, nil, nil, initLaunches)
	if err != nil {
		return err
	}
	ds, err := inittrace.Measure(ctx, deployer, nil, nil, initLaunches)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n## 1c. What the init pays for (package initializers timed by GODEBUG=inittrace=1, median of %d launches each; the rest is section 1's exec → first next minus them)\n\n", initLaunches)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "binary	exec → first next	package initializers	the rest (exec, runtime start, main)	initializers")
	fmt.Fprintf(tw, "hello-world (baseline)\t%v\t%v\t%v\t%d\n", hi.Round(10*time.Microsecond), hs.Total.Round(10*time.Microsecond), (hi - hs.Total).Round(10*time.Microsecond), len(hs.Packages))
	fmt.Fprintf(tw, "deployer\t%v\t%v\t%v\t%d\n", di.Round(10*time.Microsecond), ds.Total.Round(10*time.Microsecond), (di - ds.Total).Round(10*time.Microsecond), len(ds.Packages))
	tw.Flush()
	extra := di - hi
	fmt.Fprintf(w, "\nthe deployer's %v over hello-world: %v in package initializers beyond hello-world's, %v in the rest\n",
		extra.Round(10*time.Microsecond), (ds.Total - hs.Total).Round(10*time.Microsecond), (extra - (ds.Total - hs.Total)).Round(10*time.Microsecond))
	fmt.Fprintf(w, "\nthe deployer's slowest initializers (median clock):\n\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tclock")
	for _, p := range ds.Packages[:min(10, len(ds.Packages))] {
		fmt.Fprintf(tw, "%s\t%v\n", p.Package, p.Clock.Round(time.Microsecond))
	}
	return tw.Flush()
}
