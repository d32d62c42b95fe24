package targets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

type anyClient struct{}

func (anyClient) ECS(context.Context, string, manifest.Target, string) (targets.ECS, error) {
	return nil, nil
}

// resolver resolves every reference to a fixed ARN and counts its calls.
type resolver struct{ calls int }

func (r *resolver) Resolve(_ context.Context, refs []taskdef.Ref) (taskdef.Refs, error) {
	r.calls++
	out := taskdef.Refs{}
	for _, ref := range refs {
		out[ref] = "arn:aws:ssm:us-west-2:123456789012:parameter" + ref.Name
	}
	return out, nil
}

// TestRefsInATarget: Deckhand's own bindings resolve through the hub's
// resolver; in a target nothing is read from the hub: an SSM parameter's
// ARN is computed in the target's account and Region, a secret given by
// its ARN is taken as it is, and a secret given by name is refused for
// good, with a reason for its FAILED.
func TestRefsInATarget(t *testing.T) {
	m, err := manifest.Parse("deckhand.yaml", []byte(`version: 1
targets:
  eu: { account: "210987654321", region: eu-central-1, role: "arn:aws:iam::210987654321:role/t" }
services:
  - { name: web, target: eu, cluster: prod, service: web, template: web.json, images: { web: { repository: web, tags: "*" } } }
`))
	if err != nil {
		t.Fatal(err)
	}
	ssm := taskdef.Ref{Kind: taskdef.RefSSM, Name: "/web/db"}
	byARN := taskdef.Ref{Kind: taskdef.RefSecret, Name: "arn:aws:secretsmanager:eu-central-1:210987654321:secret:web-AbCdEf"}
	byName := taskdef.Ref{Kind: taskdef.RefSecret, Name: "web"}
	hub := &resolver{}
	if _, err := targets.Refs(t.Context(), hub).Resolve(t.Context(), []taskdef.Ref{ssm}); err != nil || hub.calls != 1 {
		t.Fatalf("own account: err %v, %d resolver calls; want the hub's resolver", err, hub.calls)
	}
	ctx, err := targets.In(t.Context(), anyClient{}, m, "eu", "web")
	if err != nil {
		t.Fatal(err)
	}
	got, err := targets.Refs(ctx, hub).Resolve(ctx, []taskdef.Ref{ssm, byARN})
	if err != nil {
		t.Fatal(err)
	}
	want := taskdef.Refs{ssm: "arn:aws:ssm:eu-central-1:210987654321:parameter/web/db", byARN: byARN.Name}
	if diff := cmp.Diff(want, got); diff != "" || hub.calls != 1 {
		t.Errorf("in target eu, %d hub calls (want none more); refs (-want +got):\n%s", hub.calls-1, diff)
	}
	_, err = targets.Refs(ctx, hub).Resolve(ctx, []taskdef.Ref{byName})
	if !errors.Is(err, targets.ErrUnsupported) {
		t.Fatalf("a secret by name in a target: err %v, want ErrUnsupported", err)
	}
	if revision.Retryable(err) || revision.Reason(err) != "UnsupportedInTarget" {
		t.Errorf("retryable %v, reason %q; want a permanent UnsupportedInTarget", revision.Retryable(err), revision.Reason(err))
	}
}
