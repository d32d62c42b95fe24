package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
)

// TestDeployWaitJSONDurationsAreMilliseconds checks that the durations
// deploy --wait -o json prints are milliseconds on the sandbox's clock: no
// longer than the virtual time that passed while the command ran.
func TestDeployWaitJSONDurationsAreMilliseconds(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	before := w.sb.Clock().Now()
	r := deckhand(t, w.args("deploy", "web", "--image", "web:1.1.0", "--wait", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	passed := w.sb.Clock().Now().Sub(before).Milliseconds()
	var out struct {
		Outcome events.DeploymentStateChange `json:"outcome"`
		Verdict struct {
			Status     string `json:"status"`
			DurationMS int64  `json:"durationMs"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if out.Verdict.Status != "SUCCEEDED" {
		t.Errorf("verdict %q, want SUCCEEDED", out.Verdict.Status)
	}
	if d := out.Verdict.DurationMS; d <= 0 || d > passed {
		t.Errorf("verdict durationMs = %d, want milliseconds in (0, %d] (the virtual time the command let pass)", d, passed)
	}
}

// TestManualDeployEventsUseTheSandboxClock checks that the events a CLI
// deploy and rollback emit carry the sandbox's virtual time, as the pushes
// and rollouts they describe do, not the machine's wall clock.
func TestManualDeployEventsUseTheSandboxClock(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	before := w.sb.Clock().Now()
	mustRun(t, w, "deploy", "web", "--image", "web:1.1.0", "--wait")
	w.push("web", "1.2.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.2.0", "--wait")
	mustRun(t, w, "rollback", "web", "--wait")
	after := w.sb.Clock().Now()
	var seen int
	for _, ev := range w.sb.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandDeployment {
			continue
		}
		seen++
		var d events.DeploymentStateChange
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if ev.Time.Before(before) || ev.Time.After(after) {
			t.Errorf("%s %s event at %s, want on the sandbox clock within [%s, %s]", d.Trigger, d.Status,
				ev.Time.Format(time.RFC3339), before.Format(time.RFC3339), after.Format(time.RFC3339))
		}
		if max := after.Sub(before).Milliseconds(); d.DurationMS < 0 || d.DurationMS > max {
			t.Errorf("%s %s event durationMs = %d, want within [0, %d]", d.Trigger, d.Status, d.DurationMS, max)
		}
	}
	if seen != 3 {
		t.Errorf("%d Deckhand deployment events, want 3 (two deploys and a rollback)", seen)
	}
}
