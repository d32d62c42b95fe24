package deploy

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
)

// callsDuring counts op calls made by f.
func callsDuring(w *world, op string, f func()) int {
	before := w.ecs.count(op)
	f()
	return w.ecs.count(op) - before
}

func TestWarmDeployUsesTheRevisionItRegistered(t *testing.T) {
	w := newWorld()
	w.deploy(t, push("web", "1.4.0", digestA, 0))
	var out []Outcome
	if n := callsDuring(w, "DescribeTaskDefinition", func() { out = w.deploy(t, push("web", "1.5.0", digestB, time.Minute)) }); n != 0 {
		t.Errorf("warm deploy described %d task definitions, want 0: the service runs the revision this engine registered", n)
	}
	if out[0].Event.Status != events.StatusStarted {
		t.Fatalf("outcome = %+v", out[0])
	}
	if got := w.runningImage(t, "web", "proxy"); got != registry+"/proxy@"+digestP {
		t.Errorf("proxy image = %s, want it kept", got)
	}
	if ch := out[0].Event.Containers["web"]; ch.OldDigest != digestA || ch.OldTag != "1.4.0" {
		t.Errorf("old image in the event = %+v, want the remembered revision's", ch)
	}
	// The order rule still sees the remembered revision's pushed-at tag.
	if out := w.deploy(t, push("web", "1.4.1", digestC, 30*time.Second)); out[0].Event.Status != events.StatusSuperseded {
		t.Errorf("older push after a warm deploy = %s (%s), want SUPERSEDED", out[0].Event.Status, out[0].Event.Reason)
	}
}

func TestMemoryIsIgnoredWhenSomeoneElseDeployed(t *testing.T) {
	w := newWorld()
	w.deploy(t, push("web", "1.4.0", digestA, 0))
	// Someone deploys a revision with another proxy image outside Deckhand.
	const otherProxy = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	w.ecs.mu.Lock()
	td := w.ecs.register(&ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{
		{Name: aws.String("proxy"), Image: aws.String(registry + "/proxy@" + otherProxy)},
		{Name: aws.String("web"), Image: aws.String(registry + "/web@" + digestA)},
	}})
	w.ecs.services["prod/web"].TaskDefinition = td.TaskDefinition.TaskDefinitionArn
	w.ecs.mu.Unlock()

	var out []Outcome
	n := callsDuring(w, "DescribeTaskDefinition", func() { out = w.deploy(t, push("web", "1.5.0", digestB, time.Minute)) })
	if out[0].Event.Status != events.StatusStarted {
		t.Fatalf("outcome = %+v", out[0])
	}
	if n == 0 {
		t.Error("no DescribeTaskDefinition: the engine trusted its memory although the service runs another revision")
	}
	if got := w.runningImage(t, "web", "proxy"); got != registry+"/proxy@"+otherProxy {
		t.Errorf("proxy image = %s, want the one running now (%s), not the remembered one", got, otherProxy)
	}
}

func TestRegisteredButNotDeployedIsReused(t *testing.T) {
	w := newWorld()
	w.deploy(t, push("web", "1.4.0", digestA, 0))
	w.engine.Attempts = 1
	w.ecs.fail = func(op string, n int) error {
		if op == "UpdateService" && n == 2 {
			return apiErr("ServiceUnavailableException")
		}
		return nil
	}
	p := push("web", "1.5.0", digestB, time.Minute)
	if out := w.deploy(t, p); !out[0].Retry {
		t.Fatalf("first attempt = %+v, want a retryable failure after registering", out[0])
	}
	// The same push again, not marked redelivered (a duplicate delivery with
	// a new message id): the memory names 1.5.0's revision, the service
	// still runs 1.4.0's, so the engine reads the family and reuses it.
	p.MessageID += "-dup"
	out := w.deploy(t, p)
	if out[0].Event.Status != events.StatusStarted {
		t.Fatalf("second attempt = %+v", out[0])
	}
	w.uniqueHashes(t, "web")
	if got := len(w.ecs.defs["web"]); got != 3 {
		t.Errorf("family web has %d revisions, want 3 (seed, 1.4.0, 1.5.0)", got)
	}
}

// TestLateDeliveryAfterARollbackReusesItsRevision: B's revision was
// registered and superseded by C's; C was rolled back to A's. B's event
// arrives once more (a late asynchronous retry, not a redelivery the queue
// marks): B is newer than what runs, so it deploys, with the revision it
// has already, not a second one with the same content.
func TestLateDeliveryAfterARollbackReusesItsRevision(t *testing.T) {
	w := newWorld()
	a := push("web", "1.4.0", digestA, 0)
	b := push("web", "1.5.0", digestB, time.Minute)
	c := push("web", "1.6.0", digestC, 2*time.Minute)
	for _, p := range []Push{a, b, c} {
		if out := w.deploy(t, p); out[0].Event.Status != events.StatusStarted {
			t.Fatalf("%s: %+v", p.Tag, out[0])
		}
	}
	revA := aws.ToString(w.ecs.defs["web"][1].TaskDefinition.TaskDefinitionArn)
	revB := aws.ToString(w.ecs.defs["web"][2].TaskDefinition.TaskDefinitionArn)
	w.ecs.mu.Lock()
	w.ecs.services["prod/web"].TaskDefinition = aws.String(revA) // the circuit breaker's rollback
	w.ecs.mu.Unlock()

	out := w.deploy(t, b)
	if out[0].Event.Status != events.StatusStarted || out[0].Event.NewRevision != revB {
		t.Fatalf("late delivery of 1.5.0 = %s %s, want STARTED with %s", out[0].Event.Status, out[0].Event.NewRevision, revB)
	}
	if got := len(w.ecs.defs["web"]); got != 4 {
		t.Errorf("family web has %d revisions, want 4 (seed, 1.4.0, 1.5.0, 1.6.0)", got)
	}
}

// TestLostRegisterAnswerClearsTheMemory: the last register attempt wrote
// the revision but its answer was lost, so the push fails. When the same
// event comes again (not marked redelivered), the engine must not trust
// its memory of the older revision as the family's latest: it reuses the
// revision the lost answer wrote.
func TestLostRegisterAnswerClearsTheMemory(t *testing.T) {
	w := newWorld()
	w.deploy(t, push("web", "1.4.0", digestA, 0))
	w.engine.Attempts = 1
	lose := true
	w.ecs.failAfter = func(op string) error {
		if op == "RegisterTaskDefinition" && lose {
			lose = false
			return apiErr("ServerException")
		}
		return nil
	}
	p := push("web", "1.5.0", digestB, time.Minute)
	if out := w.deploy(t, p); !out[0].Retry {
		t.Fatalf("first attempt = %+v, want a retryable failure", out[0])
	}
	if out := w.deploy(t, p); out[0].Event.Status != events.StatusStarted {
		t.Fatalf("second attempt = %+v", out[0])
	}
	if got := len(w.ecs.defs["web"]); got != 3 {
		t.Errorf("family web has %d revisions, want 3 (seed, 1.4.0, 1.5.0 once)", got)
	}
}

// TestSameSecondPushesOrderByVersion: ECR event times have whole seconds,
// so two pushes can share one. Under a semver policy the lower version is
// older (as coalescing decides), whichever arrives last.
func TestSameSecondPushesOrderByVersion(t *testing.T) {
	w := newWorld()
	if out := w.deploy(t, push("web", "1.5.0", digestB, time.Minute)); out[0].Event.Status != events.StatusStarted {
		t.Fatalf("1.5.0: %+v", out[0])
	}
	if out := w.deploy(t, push("web", "1.4.9", digestA, time.Minute)); out[0].Event.Status != events.StatusSuperseded {
		t.Errorf("1.4.9 in the same second after 1.5.0 = %s (%s), want SUPERSEDED", out[0].Event.Status, out[0].Event.Reason)
	}
	if out := w.deploy(t, push("web", "1.5.1", digestC, time.Minute)); out[0].Event.Status != events.StatusStarted {
		t.Errorf("1.5.1 in the same second after 1.5.0 = %s (%s), want STARTED", out[0].Event.Status, out[0].Event.Reason)
	}
	if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestC {
		t.Errorf("web runs %s, want 1.5.1", got)
	}
}
