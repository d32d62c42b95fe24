package targets_test

import (
	"context"
	"errors"
	"testing"

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

// TestRefsInATargetAreRefusedForGood: Deckhand's own bindings resolve
// through the hub's resolver; a binding in a target is refused for good
// (never resolved in the hub's account), with a reason for its FAILED.
func TestRefsInATargetAreRefusedForGood(t *testing.T) {
	m, err := manifest.Parse("deckhand.yaml", []byte(`version: 1
targets:
  eu: { account: "210987654321", region: eu-central-1, role: "arn:aws:iam::210987654321:role/t" }
services:
  - { name: web, target: eu, cluster: prod, service: web, template: web.json, images: { web: { repository: web, tags: "*" } } }
`))
	if err != nil {
		t.Fatal(err)
	}
	refs := []taskdef.Ref{{Kind: taskdef.RefSSM, Name: "/web/db"}}
	hub := &resolver{}
	if _, err := targets.Refs(t.Context(), hub).Resolve(t.Context(), refs); err != nil || hub.calls != 1 {
		t.Fatalf("own account: err %v, %d resolver calls; want the hub's resolver", err, hub.calls)
	}
	ctx, err := targets.In(t.Context(), anyClient{}, m, "eu", "web")
	if err != nil {
		t.Fatal(err)
	}
	_, err = targets.Refs(ctx, hub).Resolve(ctx, refs)
	if !errors.Is(err, targets.ErrUnsupported) || hub.calls != 1 {
		t.Fatalf("in target eu: err %v, %d resolver calls; want ErrUnsupported and no call", err, hub.calls)
	}
	if revision.Retryable(err) || revision.Reason(err) != "UnsupportedInTarget" {
		t.Errorf("retryable %v, reason %q; want a permanent UnsupportedInTarget", revision.Retryable(err), revision.Reason(err))
	}
}
