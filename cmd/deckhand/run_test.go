package main

import (
	"strings"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

func TestRunWaitPropagatesExitCode(t *testing.T) {
	tests := map[string]struct {
		exitCode int32
		wantCode int
		verdict  string
	}{
		"a run that exits 0 exits 0":               {exitCode: 0, wantCode: 0, verdict: "SUCCEEDED"},
		"a run that exits 3 makes deckhand exit 3": {exitCode: 3, wantCode: 3, verdict: "FAILED"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := seed(t)
			w.sb.ECS().ScriptImage(w.digests["report:1.0.0"], ecssim.TaskScript{RunFor: 20 * time.Second, ExitCode: tc.exitCode})
			r := deckhand(t, w.args("run", "nightly-report", "--wait", "--env", "DRY_RUN=1")...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d", r.code, tc.wantCode)
			}
			if !strings.Contains(r.stdout, "verdict: "+tc.verdict) {
				t.Errorf("stdout lacks verdict %s:\n%s", tc.verdict, r.stdout)
			}
			if !strings.Contains(r.stderr, "RUNNING") || !strings.Contains(r.stderr, "STOPPED") {
				t.Errorf("stderr does not stream the task's states:\n%s", r.stderr)
			}
		})
	}
}

// TestRunTwiceAtTheSameTimeSaysAlreadyStarted checks that a second run for
// the same run time (the sandbox clock has not moved) starts nothing and
// says that the run was already started.
func TestRunTwiceAtTheSameTimeSaysAlreadyStarted(t *testing.T) {
	w := seed(t)
	first := deckhand(t, w.args("run", "nightly-report")...)
	if first.code != 0 || !strings.Contains(first.stdout, "nightly-report: STARTED task ") {
		t.Fatalf("first run: exit %d, want 0 and STARTED", first.code)
	}
	task := strings.Fields(strings.SplitAfter(first.stdout, "STARTED task ")[1])[0]
	second := deckhand(t, w.args("run", "nightly-report")...)
	if second.code != 0 {
		t.Errorf("second run: exit %d, want 0 (the run exists)", second.code)
	}
	if strings.Contains(second.stdout, "STARTED") {
		t.Errorf("second run says STARTED again:\n%s", second.stdout)
	}
	for _, want := range []string{"nightly-report: already started: task " + task, "nothing new was started"} {
		if !strings.Contains(second.stdout, want) {
			t.Errorf("second run's output lacks %q", want)
		}
	}
	if n := w.sb.CountCalls(sandbox.ServiceECS, "RunTask"); n != 1 {
		t.Errorf("RunTask called %d times, want 1", n)
	}
}
