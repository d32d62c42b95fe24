package lambdart

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Launch is one measured start of a function binary under the Runtime API.
type Launch struct {
	// Init is exec to the runtime's first `next` request.
	Init time.Duration
	// FirstResponse is exec to the answer to the first invocation.
	FirstResponse time.Duration
	// Results are the answers to the invocations, in order.
	Results []Result
	// HWMKiB is the process's peak resident set (VmHWM) after the
	// invocations, in KiB.
	HWMKiB int
	// AtInit runs when the first `next` arrives, before any invocation
	// (e.g. to count the AWS calls made during init).
	AtInit any
}

// Options configure Run.
type Options struct {
	// Env is added to a minimal environment (PATH, HOME) together with
	// AWS_LAMBDA_RUNTIME_API.
	Env []string
	// Payloads are invoked one after another once the runtime is up.
	Payloads [][]byte
	// OnInit runs when the first `next` arrives; its value lands in
	// Launch.AtInit.
	OnInit func() any
}

// Run starts bin under a fresh Runtime API server, invokes the payloads and
// kills the process. It waits for the runtime as long as ctx allows and sets
// no deadline of its own: a caller that needs a bound (a benchmark run) puts
// it on ctx, and a test leaves it to go test's -timeout.
func Run(ctx context.Context, bin string, opts Options) (Launch, error) {
	s, err := Start()
	if err != nil {
		return Launch{}, err
	}
	defer s.Close()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "AWS_LAMBDA_RUNTIME_API=" + s.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"}, opts.Env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Launch{}, fmt.Errorf("start %s: %w", bin, err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	seen, firstNext := s.FirstNext()
	select {
	case <-seen:
	case <-ctx.Done():
		return Launch{}, fmt.Errorf("%s never asked for an invocation: %w; stderr: %s", bin, ctx.Err(), stderr.String())
	}
	l := Launch{Init: firstNext().Sub(start)}
	if opts.OnInit != nil {
		l.AtInit = opts.OnInit()
	}
	for i, p := range opts.Payloads {
		r, err := s.Invoke(ctx, p)
		if err != nil {
			return l, fmt.Errorf("invoke %d: %w; stderr: %s", i, err, stderr.String())
		}
		if i == 0 {
			l.FirstResponse = r.At.Sub(start)
		}
		l.Results = append(l.Results, r)
	}
	l.HWMKiB, err = hwm(cmd.Process.Pid)
	return l, err
}

// hwm reads VmHWM from /proc/<pid>/status, in KiB.
func hwm(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("read peak RSS: no VmHWM in /proc/%d/status", pid)
}
