package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// quickStart returns the shell blocks of docs/cli.md's "Quick start on the
// sandbox" section, in order.
func quickStart(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Quick start on the sandbox\n")
	if !ok {
		t.Fatal(`docs/cli.md has no "## Quick start on the sandbox" section`)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// invocation is one documented deckhand command as the quick start ran it.
type invocation struct {
	line           string
	code           int
	stdout, stderr string
}

// lineWriter keeps what a background command prints and reports the first
// line that matches a pattern.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	found chan string
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := w.re.FindStringSubmatch(w.buf.String()); m != nil && w.found != nil {
		w.found <- m[1]
		close(w.found)
		w.found = nil
	}
	return len(p), nil
}

// TestQuickStart runs docs/cli.md's quick start as written, against a fresh
// sandbox: the first block (deckhand sandbox) in the background on a free
// port, the second through a shell interpreter whose deckhand is this
// package's CLI, in-process, and whose curl is an HTTP client. Every
// documented deckhand command must have an expectation here, so the docs
// and this test change together.
func TestQuickStart(t *testing.T) {
	blocks := quickStart(t)
	if len(blocks) != 2 {
		t.Fatalf("the quick start has %d shell blocks, want 2: the sandbox, then the commands", len(blocks))
	}
	serve := strings.Fields(strings.TrimSpace(blocks[0]))
	if len(serve) < 2 || serve[0] != "deckhand" || serve[1] != "sandbox" || strings.Contains(strings.TrimSpace(blocks[0]), "\n") {
		t.Fatalf("the first block is %q, want one `deckhand sandbox` command", blocks[0])
	}
	const docAddr = "127.0.0.1:4566"
	for i, a := range serve {
		if a == docAddr {
			serve[i] = "127.0.0.1:0" // another test, or a person, may have 4566
		}
	}
	t.Chdir("../..") // the docs run from the repository's root

	ctx, cancel := context.WithCancel(context.Background())
	serving := make(chan string, 1)
	out := &lineWriter{re: regexp.MustCompile(`sandbox on (http://\S+),`), found: serving}
	done := make(chan int)
	go func() { done <- run(ctx, serve[1:], out, out, func(string) string { return "" }) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("deckhand sandbox exited %d:\n%s", code, out.String())
		}
	})
	var endpoint string
	select {
	case endpoint = <-serving:
	case code := <-done:
		t.Fatalf("deckhand sandbox exited %d before serving:\n%s", code, out.String())
	}
	script := strings.ReplaceAll(blocks[1], "http://"+docAddr, endpoint)

	var ran []invocation
	var pushed string // the digest the documented push made
	handler := func(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
		return func(ctx context.Context, args []string) error {
			hc := interp.HandlerCtx(ctx)
			switch args[0] {
			case "deckhand":
				var stdout, stderr bytes.Buffer
				getenv := func(k string) string { return hc.Env.Get(k).String() }
				code := run(ctx, args[1:], io.MultiWriter(&stdout, hc.Stdout), io.MultiWriter(&stderr, hc.Stderr), getenv)
				ran = append(ran, invocation{line: strings.Join(args, " "), code: code, stdout: stdout.String(), stderr: stderr.String()})
				if code != 0 {
					return interp.ExitStatus(uint8(code))
				}
				return nil
			case "curl":
				body, err := curl(ctx, args[1:])
				if err != nil {
					return err
				}
				var resp struct{ Digest string }
				if json.Unmarshal(body, &resp) == nil && resp.Digest != "" {
					pushed = resp.Digest
				}
				_, err = hc.Stdout.Write(body)
				return err
			}
			return fmt.Errorf("the quick start runs %q, which this test cannot run in-process: teach it, or leave it out of the docs", args[0])
		}
	}
	var shOut bytes.Buffer
	runner, err := interp.New(interp.StdIO(nil, &shOut, &shOut), interp.ExecHandlers(handler),
		interp.Env(expand.ListEnviron("HOME="+t.TempDir(), "PATH=/nonexistent")))
	if err != nil {
		t.Fatal(err)
	}
	file, err := syntax.NewParser().Parse(strings.NewReader(script), "docs/cli.md quick start")
	if err != nil {
		t.Fatalf("the quick start is not valid shell: %v", err)
	}
	if err := runner.Run(context.Background(), file); err != nil {
		t.Errorf("the quick start failed: %v", err)
	}
	t.Logf("the quick start printed:\n%s", shOut.String())

	if pushed == "" {
		t.Fatal("the quick start pushed no image (no digest from /_sandbox/push-image)")
	}
	short := strings.TrimPrefix(pushed, "sha256:")[:12]
	want := map[string]struct {
		code   int
		stdout []string
	}{
		"deckhand status":                              {0, []string{"web:1", "api:1", "worker:1", "nightly-report"}},
		"deckhand diff web --image web:1.1.0":          {0, []string{"web (prod/web): deploy", "1.1.0 (" + short + ")", "would register web:2", "+      \"image\": \"123456789012.dkr.ecr.us-west-2.amazonaws.com/web@" + pushed}},
		"deckhand deploy web --image web:1.1.0 --wait": {0, []string{"web (prod/web): STARTED", "revision web:1 -> web:2", "verdict: SUCCEEDED"}},
		"deckhand history web":                         {0, []string{"manual", "web=1.1.0@" + short, "SUCCEEDED"}},
		"deckhand rollback web --wait":                 {0, []string{"web:2 -> web:1", "web is now held", "verdict: SUCCEEDED"}},
		"deckhand release web":                         {0, []string{"web (prod/web) is released"}},
		"deckhand run nightly-report --wait":           {0, []string{"nightly-report: STARTED task", "verdict: SUCCEEDED"}},
	}
	for _, inv := range ran {
		w, ok := want[inv.line]
		if !ok {
			t.Errorf("the quick start runs `%s`, which this test has no expectation for: add one", inv.line)
			continue
		}
		delete(want, inv.line)
		if inv.code != w.code {
			t.Errorf("`%s` exited %d, want %d; stderr:\n%s", inv.line, inv.code, w.code, inv.stderr)
		}
		for _, s := range w.stdout {
			if !strings.Contains(inv.stdout, s) {
				t.Errorf("`%s` printed no %q:\n%s", inv.line, s, inv.stdout)
			}
		}
	}
	for line := range want {
		t.Errorf("the quick start no longer runs `%s`: update this test", line)
	}
	if !strings.Contains(shOut.String(), "exit 0\n") {
		t.Errorf("the quick start's `echo \"exit $?\"` did not print exit 0")
	}
}

// curl does what the quick start's curl lines do: -s, -X METHOD (or
// -XMETHOD), -d BODY and one URL, on loopback only.
func curl(ctx context.Context, args []string) ([]byte, error) {
	method, body, target := http.MethodGet, "", ""
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-s":
		case a == "-X" && i+1 < len(args):
			i++
			method = args[i]
		case strings.HasPrefix(a, "-X"):
			method = strings.TrimPrefix(a, "-X")
		case a == "-d" && i+1 < len(args):
			i++
			body = args[i]
			if method == http.MethodGet {
				method = http.MethodPost
			}
		case !strings.HasPrefix(a, "-") && target == "":
			target = a
		default:
			return nil, fmt.Errorf("curl %s: this test's curl knows -s, -X, -d and one URL, not %q", strings.Join(args, " "), a)
		}
	}
	if !strings.HasPrefix(target, "http://127.0.0.1:") {
		return nil, fmt.Errorf("curl %s: the quick start may only call the sandbox on 127.0.0.1", target)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("curl %s: HTTP %d: %s", target, resp.StatusCode, b)
	}
	return b, err
}
