package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// TestRunWaitStreamsLogs: run --wait prints what the job's awslogs
// container writes to CloudWatch Logs while it runs, in order, nothing it
// would have written after it stopped, and still exits with its code; with
// -o json the lines go to stderr and stdout stays JSON; --logs=false
// shows none.
func TestRunWaitStreamsLogs(t *testing.T) {
	w := seed(t)
	if err := w.sb.CreateLogGroup("", "", "/ecs/report"); err != nil {
		t.Fatal(err)
	}
	digest := w.digests["report:1.0.0"]
	w.sb.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: 20 * time.Second, ExitCode: 3})
	w.sb.ScriptLogs(digest, []sandbox.LogLine{
		{After: 1 * time.Second, Message: "report: starting"},
		{After: 6 * time.Second, Message: "report: 42 rows"},
		{After: 19 * time.Second, Message: "report: upload failed"},
		{After: 90 * time.Second, Message: "never written: the container stopped"},
	})

	r := deckhand(t, w.args("run", "nightly-report", "--wait")...)
	if r.code != 3 {
		t.Errorf("run --wait: exit %d, want the task's 3", r.code)
	}
	var got []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if _, msg, ok := strings.Cut(l, " report | "); ok {
			got = append(got, msg)
		}
	}
	if want := []string{"report: starting", "report: 42 rows", "report: upload failed"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("streamed lines = %q, want %q", got, want)
	}
	if i, j := strings.Index(r.stdout, "report: starting"), strings.Index(r.stdout, "verdict: FAILED"); i < 0 || j < i {
		t.Errorf("the lines come before the verdict:\n%s", r.stdout)
	}

	w.sb.Clock().Advance(2 * time.Second) // a run is keyed by its second
	r = deckhand(t, w.args("run", "nightly-report", "--wait", "-o", "json")...)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 3 {
		t.Errorf("run --wait -o json: exit %d, stdout not JSON (%v)", r.code, err)
	}
	if !strings.Contains(r.stderr, " report | report: 42 rows") {
		t.Errorf("with -o json the lines go to stderr:\n%s", r.stderr)
	}

	w.sb.Clock().Advance(2 * time.Second)
	r = deckhand(t, w.args("run", "nightly-report", "--wait", "--logs=false")...)
	if r.code != 3 || strings.Contains(r.stdout+r.stderr, "report | ") {
		t.Errorf("run --wait --logs=false: exit %d, lines shown:\n%s", r.code, r.stdout)
	}
}

// TestRunWaitLogsUnreadable: when CloudWatch Logs cannot be read, run
// --wait says so once, shows no lines, and still waits for the task and
// exits with its code.
func TestRunWaitLogsUnreadable(t *testing.T) {
	w := seed(t)
	if err := w.sb.CreateLogGroup("", "", "/ecs/report"); err != nil {
		t.Fatal(err)
	}
	digest := w.digests["report:1.0.0"]
	w.sb.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: 20 * time.Second, ExitCode: 4})
	w.sb.ScriptLogs(digest, []sandbox.LogLine{{After: 1 * time.Second, Message: "report: starting"}})
	w.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceLogs, Op: "GetLogEvents", Kind: sandbox.Fault500})

	r := deckhand(t, w.args("run", "nightly-report", "--wait")...)
	if r.code != 4 {
		t.Errorf("run --wait: exit %d, want the task's 4", r.code)
	}
	if n := strings.Count(r.stderr, "note: stopped showing the task's logs: get log events /ecs/report "); n != 1 {
		t.Errorf("the failed read is said %d times, want once:\n%s", n, r.stderr)
	}
	if strings.Contains(r.stdout, "report: starting") || !strings.Contains(r.stdout, "verdict: FAILED") {
		t.Errorf("want no lines and the verdict:\n%s", r.stdout)
	}
}
