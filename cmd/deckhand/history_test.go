package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// historyVerdicts runs history -o json and returns revision → verdict, with
// the running revision's verdict starred.
func historyVerdicts(t *testing.T, w *world) map[int32]string {
	t.Helper()
	r := deckhand(t, w.args("history", "web", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("history: exit %d", r.code)
	}
	var h struct {
		Revisions []struct {
			Revision int32  `json:"revision"`
			Running  bool   `json:"running"`
			Verdict  string `json:"verdict"`
		} `json:"revisions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatal(err)
	}
	out := map[int32]string{}
	for _, rev := range h.Revisions {
		out[rev.Revision] = rev.Verdict
		if rev.Running {
			out[rev.Revision] += "*"
		}
	}
	return out
}

// TestHistoryVerdictsComeFromECS walks web through deploys, a
// circuit-breaker rollback and a manual rollback, and checks the verdict
// history derives for each revision from what ECS keeps: the service's
// deployments, its deckhand:rolled-back marks and the serving revision.
func TestHistoryVerdictsComeFromECS(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.1.0", "--wait") // web:2
	w.push("web", "1.2.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.2.0", "--wait") // web:3
	steps := []struct {
		name string
		do   func()
		want map[int32]string
	}{
		{"after two deploys the serving one SUCCEEDED and the one before was REPLACED", func() {},
			map[int32]string{3: "SUCCEEDED*", 2: "REPLACED"}},
		{"a deploy the circuit breaker rolls back is ROLLED_BACK", func() {
			w.sb.ECS().SetImageHealth(w.push("web", "1.3.0"), false)
			if r := deckhand(t, w.args("deploy", "web", "--image", "web:1.3.0", "--wait")...); r.code != 1 {
				t.Fatalf("deploy of a broken image: exit %d, want 1", r.code)
			}
			w.sb.Clock().Advance(120e9)
		}, map[int32]string{4: "ROLLED_BACK", 3: "SUCCEEDED*", 2: "REPLACED"}},
		{"a manual rollback marks the revision it leaves ROLLED_BACK", func() {
			mustRun(t, w, "rollback", "web", "--wait")
			w.sb.Clock().Advance(120e9)
		}, map[int32]string{4: "ROLLED_BACK", 3: "ROLLED_BACK", 2: "SUCCEEDED*"}},
		// web:4 was rolled back by the circuit breaker, but without the
		// tracker (which marks it) nothing in ECS remembers that once a
		// newer revision serves.
		{"the mark keeps a manually rolled-back revision ROLLED_BACK after the next deploy", func() {
			mustRun(t, w, "release", "web")
			w.push("web", "1.4.0")
			mustRun(t, w, "deploy", "web", "--image", "web:1.4.0", "--wait")
		}, map[int32]string{5: "SUCCEEDED*", 4: "REPLACED", 3: "ROLLED_BACK", 2: "REPLACED"}},
	}
	for _, s := range steps {
		s.do()
		if diff := cmp.Diff(s.want, historyVerdicts(t, w)); diff != "" {
			t.Errorf("%s: verdicts (-want +got):\n%s", s.name, diff)
		}
	}
}
