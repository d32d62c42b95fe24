package main

import (
	"strings"
	"testing"
	"time"

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
