package refs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/aws/refs"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// TestResolveAgainstTheSandbox resolves parameters (more than one
// GetParameters call's worth) and secrets through the real SDK clients:
// those that exist map to their ARNs, those that do not are absent, and a
// second resolution within the TTL makes no call.
func TestResolveAgainstTheSandbox(t *testing.T) {
	sb := sandboxtest.Start(t)
	want := taskdef.Refs{}
	var asked []taskdef.Ref
	for i := range 12 {
		name := "/web/p" + string(rune('a'+i))
		arn, err := sb.PutParameter("", "", name, "SecureString", "v")
		if err != nil {
			t.Fatal(err)
		}
		ref := taskdef.Ref{Kind: taskdef.RefSSM, Name: name}
		want[ref], asked = arn, append(asked, ref)
	}
	arn, err := sb.CreateSecret("", "", "prod/web/db", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	secret := taskdef.Ref{Kind: taskdef.RefSecret, Name: "prod/web/db"}
	want[secret] = arn
	asked = append(asked, secret, taskdef.Ref{Kind: taskdef.RefSSM, Name: "/web/missing"}, taskdef.Ref{Kind: taskdef.RefSecret, Name: "prod/missing"})
	now := time.Date(2026, 11, 16, 1, 0, 0, 0, time.UTC)
	r := refs.New(sb.AWSConfig())
	r.Now = func() time.Time { return now }
	got, err := r.Resolve(t.Context(), asked)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resolved (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/web/db-") || len(arn) != len("arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/web/db-")+6 {
		t.Errorf("secret ARN %s: want the name, a dash and six characters", arn)
	}
	if n := sb.CountCalls(sandbox.ServiceSSM, "GetParameters"); n != 2 {
		t.Errorf("GetParameters calls = %d, want 2 (13 names, ten a call)", n)
	}
	sb.ResetCalls()
	now = now.Add(time.Minute)
	if again, err := r.Resolve(t.Context(), asked); err != nil || len(again) != len(want) {
		t.Fatalf("second resolution: %d refs, %v", len(again), err)
	}
	// Found names are cached; the missing ones are asked again (they may
	// have been created since).
	if n := sb.CountCalls(sandbox.ServiceSSM, "GetParameters") + sb.CountCalls(sandbox.ServiceSecretsManager, "DescribeSecret"); n != 2 {
		t.Errorf("calls within the TTL = %d, want 2 (the two missing names)", n)
	}
	now = now.Add(refs.DefaultTTL)
	sb.ResetCalls()
	if _, err := r.Resolve(t.Context(), asked); err != nil {
		t.Fatal(err)
	}
	if n := sb.CountCalls(sandbox.ServiceSecretsManager, "DescribeSecret"); n != 2 {
		t.Errorf("DescribeSecret calls after the TTL = %d, want 2", n)
	}
}

// TestResolveReturnsAWSErrors: a throttled call is an error for the
// caller to classify (retry), not a missing name.
func TestResolveReturnsAWSErrors(t *testing.T) {
	sb := sandboxtest.Start(t)
	sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceSSM, Op: "GetParameters", Kind: sandbox.FaultThrottle, Count: 10})
	r := refs.New(sb.AWSConfig())
	_, err := r.Resolve(t.Context(), []taskdef.Ref{{Kind: taskdef.RefSSM, Name: "/web/db"}})
	if err == nil || !strings.Contains(err.Error(), "get SSM parameters") {
		t.Errorf("throttled resolution: %v; want the error", err)
	}
}
