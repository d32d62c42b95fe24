package local

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// TestScanGate drives shop-staging's scan gate (examples/gates.yaml:
// CRITICAL blocks, 30m to scan) through the real deployer (the router's
// SQS batches through lambda.NewHandler) and the real reconciler, with the
// ECR Image Scan events the sandbox publishes: every transition out of
// PENDING_SCAN.
func TestScanGate(t *testing.T) {
	tests := map[string]struct {
		script sandbox.ScanScript
		// missed loses the scan event (it never reaches the deploy queue);
		// then the reconciler's passes, at +5m and after the timeout,
		// decide.
		missed bool
		want   []events.DeploymentStatus
		// runs: the service runs the pushed image in the end.
		runs     bool
		findings map[string]int
		scan     string
	}{
		"pending, then clean: deployed when the scan event arrives": {
			want: []events.DeploymentStatus{events.StatusPendingScan, events.StatusStarted, events.StatusSucceeded}, runs: true,
			scan: events.ScanStateClean,
		},
		"pending, then a CRITICAL finding: BLOCKED with the counts": {
			script: sandbox.ScanScript{Severities: map[string]int{"CRITICAL": 1, "HIGH": 2}},
			want:   []events.DeploymentStatus{events.StatusPendingScan, events.StatusBlocked},
			scan:   events.ScanStateFindings, findings: map[string]int{"CRITICAL": 1, "HIGH": 2},
		},
		"a finding below the blocking severity deploys": {
			script: sandbox.ScanScript{Severities: map[string]int{"HIGH": 3}},
			want:   []events.DeploymentStatus{events.StatusPendingScan, events.StatusStarted, events.StatusSucceeded}, runs: true,
			scan: events.ScanStateClean, findings: map[string]int{"HIGH": 3},
		},
		"a scan that fails: BLOCKED, never deployed silently": {
			script: sandbox.ScanScript{Status: "FAILED"},
			want:   []events.DeploymentStatus{events.StatusPendingScan, events.StatusBlocked},
			scan:   events.ScanStateFailed,
		},
		"never scanned: BLOCKED once the timeout passed, by the reconciler": {
			script: sandbox.ScanScript{Status: "NEVER"},
			want:   []events.DeploymentStatus{events.StatusPendingScan, events.StatusBlocked},
			scan:   events.ScanStateTimedOut,
		},
		"the scan event is missed: the reconciler finds the clean scan": {
			missed: true,
			want:   []events.DeploymentStatus{events.StatusPendingScan, events.StatusStarted, events.StatusSucceeded}, runs: true,
			scan: events.ScanStateClean,
		},
		"the scan event is missed: the reconciler finds the finding and it is BLOCKED once": {
			missed: true, script: sandbox.ScanScript{Severities: map[string]int{"CRITICAL": 2}},
			want: []events.DeploymentStatus{events.StatusPendingScan, events.StatusBlocked},
			scan: events.ScanStateFindings, findings: map[string]int{"CRITICAL": 2},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := gatesStack(t, "")
			n := len(st.Deployments())
			before := st.image(t, "shop-staging", "shop")
			digest := st.SB.PushImage("shop", "1.1.0")
			if tc.script.Severities != nil || tc.script.Status != "" {
				st.scan(t, "shop", digest, tc.script)
			}
			st.advance(t, 0) // the push: PENDING_SCAN
			if got := st.decisions(n, "shop-staging"); !slices.Equal(got, []events.DeploymentStatus{events.StatusPendingScan}) {
				t.Fatalf("after the push: %v, want [PENDING_SCAN]", got)
			}
			if tc.missed {
				st.SB.Clock().Advance(time.Minute) // the scan completes; its event is queued
				st.dropQueued(t)
			}
			st.advance(t, 2*time.Minute)
			st.SB.Clock().Advance(5 * time.Minute)
			st.reconcile(t)
			st.SB.Clock().Advance(30 * time.Minute) // past the scan timeout
			st.reconcile(t)
			st.advance(t, 2*time.Minute)
			st.reconcile(t) // a BLOCKED image is not sent again
			st.advance(t, time.Minute)
			if diff := cmp.Diff(tc.want, st.decisions(n, "shop-staging")); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
			if got := st.runs(t, "shop-staging", digest); got != tc.runs {
				t.Errorf("runs the pushed image = %v, want %v (runs %s, ran %s)", got, tc.runs, st.image(t, "shop-staging", "shop"), before)
			}
			last := st.last(t, n, "shop-staging", tc.want[len(tc.want)-1])
			if last.Status == events.StatusSucceeded {
				last = st.last(t, n, "shop-staging", events.StatusStarted)
			}
			res := last.Gate.Scans["shop"]
			if last.Gate == nil || last.Gate.Name != events.GateScan || res.Status != tc.scan || res.Digest != digest || !cmp.Equal(tc.findings, res.Findings, cmpEmpty) {
				t.Errorf("%s gate = %+v, want scan %s of %s with findings %v", last.Status, last.Gate, tc.scan, digest, tc.findings)
			}
			if last.Status == events.StatusBlocked {
				svc, _ := st.SB.ECS().Service("staging", "shop")
				if mark := svc.Tags[revision.TagBlocked+"shop"]; mark != digest+" "+tc.scan {
					t.Errorf("service mark %s = %q, want the digest and %s", revision.TagBlocked+"shop", mark, tc.scan)
				}
			}
		})
	}
}

// cmpEmpty treats a nil and an empty map alike.
var cmpEmpty = cmp.Comparer(func(a, b map[string]int) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })

// TestScanEventsDuplicatedAndLate: a scan event delivered again decides
// nothing new, and one that arrives after a newer image deployed is
// SUPERSEDED; the gate reads ECR, not the event.
func TestScanEventsDuplicatedAndLate(t *testing.T) {
	st := gatesStack(t, "")
	n := len(st.Deployments())
	first := st.SB.PushImage("shop", "1.1.0")
	st.advance(t, 2*time.Minute)
	var scanEvents []events.Raw
	for _, ev := range st.SB.Events() {
		if ev.DetailType == events.DetailTypeImageScan {
			scanEvents = append(scanEvents, ev)
		}
	}
	if len(scanEvents) != 1 {
		t.Fatalf("%d scan events, want 1", len(scanEvents))
	}
	again := scanEvents[0]
	again.ID += "-again" // EventBridge delivers it a second time
	raw, _ := json.Marshal(again)
	m := len(st.Deployments())
	if err := st.Router.Deliver(raw); err != nil {
		t.Fatal(err)
	}
	st.advance(t, 0)
	if got := st.decisions(m, "shop-staging"); !slices.Equal(got, []events.DeploymentStatus{events.StatusAlreadyDeployed}) {
		t.Errorf("the scan event again: %v, want ALREADY_DEPLOYED", got)
	}
	newer := st.SB.PushImage("shop", "1.2.0")
	st.advance(t, 2*time.Minute)
	late := scanEvents[0]
	late.ID += "-late"
	raw, _ = json.Marshal(late)
	m = len(st.Deployments())
	if err := st.Router.Deliver(raw); err != nil {
		t.Fatal(err)
	}
	st.advance(t, 0)
	if got := st.decisions(m, "shop-staging"); !slices.Equal(got, []events.DeploymentStatus{events.StatusSuperseded}) {
		t.Errorf("%s's scan event after %s deployed: %v, want SUPERSEDED", first, newer, got)
	}
	if !st.runs(t, "shop-staging", newer) {
		t.Error("a late scan event moved the service back")
	}
	if got := st.decisions(n, "shop-staging"); len(got) != 8 {
		t.Errorf("decisions %v, want PENDING_SCAN, STARTED, SUCCEEDED for each push and the two above", got)
	}
}
