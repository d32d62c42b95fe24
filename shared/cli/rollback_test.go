package cli

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// sdkAttempts is how often the sandbox client's SDK retryer tries a call.
const sdkAttempts = 3

// TestRollbackRetriesAThrottledUpdate: the rollback updates the service
// through the deploy engine's paced and retried UpdateService
// (revision.Updater), so throttling that outlasts the SDK's own attempts
// does not fail it.
func TestRollbackRetriesAThrottledUpdate(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.Start(t)
	st, err := local.New(ctx, sb, local.Options{Dir: "../../examples", InitialTags: local.ExampleTags})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"1.1.0", "1.2.0"} {
		sb.PushImage("web", tag)
		if err := st.Settle(ctx, time.Minute, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	e := &Env{ECS: st.ECS, ECR: ecr.NewFromConfig(sb.AWSConfig()), Source: store.NewS3(st.S3, local.Bucket, "deckhand.yaml"),
		Account: sb.Account(), Region: sb.Region(), Clock: SandboxClock{Endpoint: sb.Endpoint()}}
	sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "UpdateService", Kind: sandbox.FaultThrottle, Count: sdkAttempts})
	before := sb.CountCalls(sandbox.ServiceECS, "UpdateService")

	res, err := e.Rollback(ctx, "web", "")
	if err != nil {
		t.Fatalf("rollback under throttling: %v", err)
	}
	if res.Event.Status != events.StatusStarted || res.Event.DeploymentID == "" {
		t.Errorf("rollback event = %+v, want STARTED with a deployment", res.Event)
	}
	if got := sb.CountCalls(sandbox.ServiceECS, "UpdateService") - before; got != sdkAttempts+1 {
		t.Errorf("UpdateService calls = %d, want %d: the SDK's throttled attempts, then one more", got, sdkAttempts+1)
	}
}
