package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStatusShowsServiceEvents: status shows each service's recent ECS
// events, newest first, as many as --events asks (none with 0), in the
// table and in JSON.
func TestStatusShowsServiceEvents(t *testing.T) {
	w := seed(t)
	w.push("web", "1.1.0")
	mustRun(t, w, "deploy", "web", "--image", "web:1.1.0", "--wait")

	r := deckhand(t, w.args("status", "web", "--events", "3", "-o", "json")...)
	var st struct {
		Services []struct {
			Events []struct{ At, Message, ID string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 || len(st.Services) != 1 {
		t.Fatalf("status -o json: exit %d, %v", r.code, err)
	}
	evs := st.Services[0].Events
	var msgs []string
	for _, e := range evs {
		msgs = append(msgs, e.Message)
	}
	if len(evs) != 3 || msgs[0] != "has reached a steady state." || !strings.HasSuffix(msgs[1], "deployment completed.") ||
		!strings.HasPrefix(msgs[2], "has stopped 2 running tasks") {
		t.Errorf("events = %q, want the rollout's last three, newest first, without the (service web) prefix", msgs)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].At > evs[i-1].At || evs[i].ID == "" {
			t.Errorf("event %d %+v: want an id, and newest first", i, evs[i])
		}
	}

	text := deckhand(t, w.args("status", "web")...).stdout
	if !strings.Contains(text, "ECS SERVICE EVENT (newest first)") || strings.Count(text, "\nweb  ") != 6 {
		t.Errorf("status web: want the services row and 5 events (the default)\n%s", text)
	}
	if text := deckhand(t, w.args("status", "web", "--events", "0")...).stdout; strings.Contains(text, "EVENT") {
		t.Errorf("status --events 0 shows events:\n%s", text)
	}
}

// TestStatusEventsOutOfRange: --events outside 0..RecentEvents is a usage
// error naming the flag and its range, before anything is read.
func TestStatusEventsOutOfRange(t *testing.T) {
	w := seed(t)
	for _, n := range []string{"-1", "11"} {
		r := deckhand(t, w.args("status", "web", "--events", n)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--events "+n+": want 0 to 10") {
			t.Errorf("status --events %s: exit %d, stderr %q; want 2 naming --events and its range", n, r.code, r.stderr)
		}
	}
}
