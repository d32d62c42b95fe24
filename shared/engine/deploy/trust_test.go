package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// TestAFutureEventTimePoisonsNothing is issue 10 item 3: a push dated 2099
// is refused for good (FAILED, nothing registered), and later genuine
// pushes deploy.
func TestAFutureEventTimePoisonsNothing(t *testing.T) {
	w := newWorld()
	future := push("api", "9", digestA, 0)
	future.PushedAt = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	out := w.deploy(t, future)
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"": {events.StatusFailed}}, statuses(out)); diff != "" {
		t.Fatalf("the 2099 push (-want +got):\n%s", diff)
	}
	if out[0].Retry || !strings.HasPrefix(out[0].Event.Reason, "EventTimeInFuture: $.time") || w.ecs.writes() != 0 {
		t.Errorf("outcome retry %v reason %q, %d writes; want a permanent refusal and no write", out[0].Retry, out[0].Event.Reason, w.ecs.writes())
	}
	genuine := push("api", "10", digestB, time.Hour)
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusStarted}}, statuses(w.deploy(t, genuine))); diff != "" {
		t.Errorf("the genuine push after it (-want +got):\n%s", diff)
	}
}

// TestAPoisonedPushedAtMarkDoesNotBlockGenuinePushes: a revision deployed
// before pushes were checked carries a pushed-at mark in 2099; genuine
// pushes after it deploy (and the new revision's mark is true).
func TestAPoisonedPushedAtMarkDoesNotBlockGenuinePushes(t *testing.T) {
	w := newWorld()
	first := push("api", "1", digestA, 0)
	w.deploy(t, first)
	td := w.ecs.running("prod", "api")
	for i, tag := range td.Tags {
		if *tag.Key == revision.TagPushedAt+"api" {
			v := "2099-01-01T00:00:00Z"
			td.Tags[i].Value = &v
		}
	}
	out := w.deploy(t, push("api", "2", digestB, time.Hour))
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusStarted}}, statuses(out)); diff != "" {
		t.Fatalf("a genuine push after a poisoned mark (-want +got):\n%s\n%s", diff, out[0].Event.Reason)
	}
	if got := revision.TagsOf(w.ecs.running("prod", "api").Tags)[revision.TagPushedAt+"api"]; got != t0.Add(time.Hour).Format(time.RFC3339Nano) {
		t.Errorf("new pushed-at mark %q", got)
	}
}

// TestSameSecondPushesUnderGlobEndOnTheLater is issue 10 item 4: two
// pushes of stable-* tags in one second, delivered newest first in
// separate batches (or in one batch), end on the one ECR pushed last.
func TestSameSecondPushesUnderGlobEndOnTheLater(t *testing.T) {
	for _, batches := range []string{"separate", "one"} {
		t.Run(batches+" batch(es)", func(t *testing.T) {
			w := newWorld()
			w.deploy(t, push("web", "1.4.0", digestA, 0)) // web's own image pinned by digest
			f := &fakeECR{}
			w.engine.ECR = f
			f.add("proxy", "stable-b", digestB, time.Minute+100*time.Millisecond) // pushed first
			f.add("proxy", "stable-a", digestC, time.Minute+800*time.Millisecond) // pushed last
			earlier, later := push("proxy", "stable-b", digestB, time.Minute), push("proxy", "stable-a", digestC, time.Minute)
			if batches == "one" {
				w.deploy(t, later, earlier)
			} else {
				w.deploy(t, later)
				out := w.deploy(t, earlier)
				if diff := cmp.Diff(map[string][]events.DeploymentStatus{"web": {events.StatusSuperseded}}, statuses(out)); diff != "" {
					t.Errorf("the earlier push, delivered last (-want +got):\n%s", diff)
				}
			}
			if got := w.runningImage(t, "web", "proxy"); got != registry+"/proxy@"+digestC {
				t.Errorf("web's proxy runs %s, want the later push %s", got, digestC)
			}
			if f.calls != 1 {
				t.Errorf("DescribeImages calls = %d, want 1 (only for the tie)", f.calls)
			}
		})
	}
}
