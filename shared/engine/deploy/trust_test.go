package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
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

// rollBack moves service api back to revision to as the circuit breaker
// does, without the tracker's rolled-back mark; failedListed keeps the
// failed deployment listed.
func (w *world) rollBack(to string, failedListed bool) {
	w.ecs.mu.Lock()
	defer w.ecs.mu.Unlock()
	s := w.ecs.services["prod/api"]
	failed := s.Deployments[0]
	failed.Status, failed.RolloutState = aws.String("ACTIVE"), types.DeploymentRolloutStateFailed
	s.TaskDefinition = aws.String(to)
	s.Deployments = []types.Deployment{{Id: aws.String("ecs-svc/rollback"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(to),
		RolloutState: types.DeploymentRolloutStateInProgress, CreatedAt: aws.Time(w.ecs.tick())}}
	if failedListed {
		s.Deployments = append(s.Deployments, failed)
	}
}

// TestARolledBackDigestIsNotRedeployedWithoutItsMark is issue 10 item 2
// (b): the tracker could not tag the service, yet a redelivered push of the
// rolled-back image is SKIPPED, from ECS's own state, while the failed
// deployment is listed and after it is gone; a new image deploys.
func TestARolledBackDigestIsNotRedeployedWithoutItsMark(t *testing.T) {
	for _, tc := range []struct{ listed, cold bool }{{true, true}, {false, true}, {true, false}, {false, false}} {
		listed := tc.listed
		t.Run(fmt.Sprintf("failed deployment listed %v, cold deployer %v", tc.listed, tc.cold), func(t *testing.T) {
			w := newWorld()
			w.deploy(t, push("api", "1", digestA, 0))
			good := aws.ToString(w.ecs.services["prod/api"].TaskDefinition)
			w.deploy(t, push("api", "2", digestB, time.Minute))
			w.rollBack(good, listed)
			if tc.cold {
				w.engine = w.freshEngine() // no memory of its registrations
			}
			redelivered := push("api", "2", digestB, time.Minute)
			redelivered.Receive, redelivered.Redelivered = 2, true
			out := w.deploy(t, redelivered)
			if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusSkipped}}, statuses(out)); diff != "" {
				t.Fatalf("the rolled-back push delivered again (-want +got):\n%s", diff)
			}
			if !strings.Contains(out[0].Event.Reason, "was rolled back: Deckhand's newest revision") {
				t.Errorf("reason %q", out[0].Event.Reason)
			}
			if n := w.ecs.count("UpdateService"); n != 2 {
				t.Errorf("UpdateService calls = %d, want 2 (nothing redeployed)", n)
			}
			out = w.deploy(t, push("api", "3", digestC, 2*time.Minute))
			if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusStarted}}, statuses(out)); diff != "" {
				t.Errorf("a new image after the rollback (-want +got):\n%s", diff)
			}
		})
	}
}

// TestARegisterWhoseUpdateFailedIsNoRollback: a revision registered
// whose UpdateService never happened is not evidence of a rollback; the
// push delivered again deploys it (rule 7 reuses the revision).
func TestARegisterWhoseUpdateFailedIsNoRollback(t *testing.T) {
	w := newWorld()
	w.deploy(t, push("api", "1", digestA, 0))
	w.ecs.fail = func(op string, n int) error {
		if op == "UpdateService" {
			return apiErr("ServiceUnavailableException")
		}
		return nil
	}
	first := w.deploy(t, push("api", "2", digestB, time.Minute))
	if !first[0].Retry {
		t.Fatalf("first delivery: %+v, want a retryable failure", first[0])
	}
	w.ecs.fail = nil
	revs := len(w.ecs.defs["api"])
	w.engine = w.freshEngine()
	again := push("api", "2", digestB, time.Minute)
	again.Receive, again.Redelivered = 2, true
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusStarted}}, statuses(w.deploy(t, again))); diff != "" {
		t.Errorf("the push delivered again (-want +got):\n%s", diff)
	}
	if n := len(w.ecs.defs["api"]); n != revs {
		t.Errorf("revisions %d -> %d: the retry registered again instead of reusing", revs, n)
	}
}

// flakySource fails every template read with a transport error.
type flakySource struct{ *fakeSource }

func (s flakySource) Template(context.Context, string) (store.Template, error) {
	return store.Template{}, errors.New("read tcp 127.0.0.1:4566: connection reset by peer")
}

// TestATemplateReadFailureRetriesTheWholePush is issue 17's second rule:
// two bindings share a template; a transport error reading it is retryable
// for both (the message is retried), and no FAILED is reported for either.
func TestATemplateReadFailureRetriesTheWholePush(t *testing.T) {
	w := newWorld()
	w.src.manifest = strings.Replace(testManifest, "template: templates/api.json", "template: templates/web.json", 1) +
		`  - name: api2
    cluster: prod
    service: api2
    template: templates/web.json
    images:
      api: { repository: api, tags: "*" }
`
	w.ecs.addService("prod", "api2", "api2", map[string]string{"api": registry + "/api:1"})
	w.engine.Source = flakySource{w.src}
	out := w.deploy(t, push("api", "7", digestA, 0))
	if len(out) != 2 {
		t.Fatalf("outcomes %+v, want one per binding", out)
	}
	for _, o := range out {
		if !o.Retry || o.Event.Status != events.StatusFailed {
			t.Errorf("%s: retry %v status %s, want a retryable failure", o.Event.Binding, o.Retry, o.Event.Status)
		}
	}
	if len(w.events.evs) != 0 {
		t.Errorf("emitted %d events for a retryable read failure, want none", len(w.events.evs))
	}
}
