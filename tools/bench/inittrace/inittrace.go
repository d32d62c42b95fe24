// Package inittrace accounts for a Go binary's start: it runs the binary
// with GODEBUG=inittrace=1, which makes the runtime print one line per
// package initializer (its start, wall-clock time, bytes and allocations),
// and sums them. make bench uses it to say what the deployer's init pays
// for beyond hello-world's (BENCHMARKS §1c): the package initializers are
// measured; the rest of exec → first `next` (loading and faulting in a
// larger binary, the runtime's own start, main until the Runtime API call)
// is the difference.
package inittrace

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Init is one package initializer as the runtime reported it.
type Init struct {
	Package string
	Clock   time.Duration
	Bytes   int64
	Allocs  int64
}

// line is the runtime's format (runtime/proc.go, doInit):
// "init internal/bytealg @0.008 ms, 0.001 ms clock, 0 bytes, 0 allocs".
var line = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs$`)

// Parse reads the inittrace lines of stderr; other lines are skipped.
func Parse(stderr []byte) ([]Init, error) {
	var out []Init
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ms, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("inittrace %q: %w", sc.Text(), err)
		}
		b, _ := strconv.ParseInt(m[3], 10, 64)
		a, _ := strconv.ParseInt(m[4], 10, 64)
		out = append(out, Init{Package: m[1], Clock: time.Duration(ms * float64(time.Millisecond)), Bytes: b, Allocs: a})
	}
	return out, sc.Err()
}

// Launch runs bin once with args, GODEBUG=inittrace=1 and env (nothing
// else: no Runtime API, so a Lambda main gives up right after its
// initializers) and returns its initializers. The exit status is not an
// error.
func Launch(ctx context.Context, bin string, args, env []string) ([]Init, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(slices.Clone(env), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run() // a Lambda main exits non-zero outside Lambda
	inits, err := Parse(stderr.Bytes())
	if err == nil && len(inits) == 0 {
		err = fmt.Errorf("%s printed no inittrace lines: %.200s", bin, stderr.String())
	}
	return inits, err
}

// Summary is n launches of one binary.
type Summary struct {
	// Total is the median over launches of the sum of every initializer's
	// clock.
	Total time.Duration
	// Packages is each package's median clock, largest first.
	Packages []Init
	Launches int
}

// Measure launches bin n times (with args and env) and summarizes.
func Measure(ctx context.Context, bin string, args, env []string, n int) (Summary, error) {
	var totals []time.Duration
	per := map[string][]time.Duration{}
	for range n {
		inits, err := Launch(ctx, bin, args, env)
		if err != nil {
			return Summary{}, err
		}
		var sum time.Duration
		for _, in := range inits {
			sum += in.Clock
			per[in.Package] = append(per[in.Package], in.Clock)
		}
		totals = append(totals, sum)
	}
	s := Summary{Total: median(totals), Launches: n}
	for pkg, ds := range per {
		s.Packages = append(s.Packages, Init{Package: pkg, Clock: median(ds)})
	}
	slices.SortFunc(s.Packages, func(a, b Init) int {
		if a.Clock != b.Clock {
			return int(b.Clock - a.Clock)
		}
		return compare(a.Package, b.Package)
	})
	return s, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
