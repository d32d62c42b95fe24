package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
)

// TestEveryFailedDeploymentListedIsEvidence is what the chaos suite found
// with progressive delivery (issue 12): an alarm in ALARM rolls back every
// deployment that starts while it fires, so a service collects several
// FAILED deployments before the tracker has written a single rolled-back
// mark. The newest image (C) is rolled back, an older one (B) deploys on
// the revision the service was moved back to and is rolled back too;
// then C is delivered again. ECS still lists C's deployment FAILED, so C
// is SKIPPED: it is not deployed again, and its content is not registered
// a second time (the family's latest revision is B's, so rule 7 alone
// would register a duplicate of C's).
func TestEveryFailedDeploymentListedIsEvidence(t *testing.T) {
	w := newWorld()
	w.deploy(t, push("api", "1", digestA, 0))
	good := aws.ToString(w.ecs.services["prod/api"].TaskDefinition)
	w.deploy(t, push("api", "3", digestC, 2*time.Minute))
	w.rollBack(good, true)
	failedC := w.ecs.services["prod/api"].Deployments[1]
	out := w.deploy(t, push("api", "2", digestB, time.Minute))
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusStarted}}, statuses(out)); diff != "" {
		t.Fatalf("B on the revision the service was moved back to (-want +got):\n%s", diff)
	}
	w.rollBack(good, true)
	s := w.ecs.services["prod/api"]
	s.Deployments = append(s.Deployments, failedC) // as ECS lists it while the rollbacks run
	revs := len(w.ecs.defs["api"])

	again := push("api", "3", digestC, 2*time.Minute)
	again.Receive, again.Redelivered = 2, true
	out = w.deploy(t, again)
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusSkipped}}, statuses(out)); diff != "" {
		t.Fatalf("C, rolled back before B, delivered again (-want +got):\n%s", diff)
	}
	if r := out[0].Event.Reason; !strings.Contains(r, "was rolled back") || !strings.Contains(r, aws.ToString(failedC.TaskDefinition)) {
		t.Errorf("reason %q does not name C's revision %s", r, aws.ToString(failedC.TaskDefinition))
	}
	if n := len(w.ecs.defs["api"]); n != revs {
		t.Errorf("revisions %d -> %d: C's content was registered again", revs, n)
	}
	w.uniqueHashes(t, "api")
	if n := w.ecs.count("UpdateService"); n != 3 {
		t.Errorf("UpdateService calls = %d, want 3 (C not deployed again)", n)
	}
}

// TestAFailedDeploymentListedBesideTheServingLatestIsEvidence: the newest
// image (C) is rolled back and an older one (B) deploys and is in flight
// (it is the family's latest and what the service runs) while ECS still
// lists C's deployment FAILED; C delivered again before the tracker wrote
// its mark is SKIPPED, though it is newer than what runs.
func TestAFailedDeploymentListedBesideTheServingLatestIsEvidence(t *testing.T) {
	w := newWorld()
	w.deploy(t, push("api", "1", digestA, 0))
	good := aws.ToString(w.ecs.services["prod/api"].TaskDefinition)
	w.deploy(t, push("api", "3", digestC, 2*time.Minute))
	w.rollBack(good, true)
	failedC := w.ecs.services["prod/api"].Deployments[1]
	w.deploy(t, push("api", "2", digestB, time.Minute))
	s := w.ecs.services["prod/api"]
	s.Deployments = append(s.Deployments, failedC)

	again := push("api", "3", digestC, 2*time.Minute)
	again.Receive, again.Redelivered = 2, true
	out := w.deploy(t, again)
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"api": {events.StatusSkipped}}, statuses(out)); diff != "" {
		t.Fatalf("C delivered again while B is in flight (-want +got):\n%s", diff)
	}
	w.uniqueHashes(t, "api")
}
