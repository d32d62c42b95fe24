package local

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// chainManifest promotes dev → staging → prod and staging → prod-eu, each
// after a 5m soak, with no other gate.
const chainManifest = `version: 1
roles: [arn:aws:iam::123456789012:role/ecs-execution]
services:
  - { name: dev, cluster: dev, service: shop, template: templates/shop.json, images: { shop: { repository: shop, tags: "semver:^1" } }, vars: { STAGE: dev } }
  - { name: staging, cluster: staging, service: shop, template: templates/shop.json, images: { shop: { promoteFrom: dev } }, vars: { STAGE: staging }, gates: { soak: 5m } }
  - { name: prod, cluster: prod, service: shop, template: templates/shop.json, images: { shop: { promoteFrom: staging } }, vars: { STAGE: prod }, gates: { soak: 5m } }
  - { name: prod-eu, cluster: prod-eu, service: shop, template: templates/shop.json, images: { shop: { promoteFrom: staging } }, vars: { STAGE: prod }, gates: { soak: 5m } }
`

// TestPromotionChainAndFanOut: one push travels dev → staging → prod and
// prod-eu, each step the exact digest the one before reached SUCCEEDED
// with, after its soak; a promotion delivered twice deploys once.
func TestPromotionChainAndFanOut(t *testing.T) {
	st := gatesStack(t, chainManifest)
	sent := &recordingSender{inner: st.Reconciler.Queue}
	st.Reconciler.Queue = sent
	n := len(st.Deployments())
	digest := st.SB.PushImage("shop", "1.1.0")
	st.advance(t, time.Minute)
	for _, step := range []struct {
		bindings []string
	}{{[]string{"staging"}}, {[]string{"prod", "prod-eu"}}} {
		st.SB.Clock().Advance(4 * time.Minute)
		st.reconcile(t) // inside the soak: nothing
		for _, b := range step.bindings {
			if got := st.decisions(n, b); len(got) != 0 {
				t.Fatalf("%s before the soak ended: %v", b, got)
			}
		}
		st.SB.Clock().Advance(2 * time.Minute)
		st.reconcile(t)
		st.advance(t, time.Minute)
	}
	want := map[string][]events.DeploymentStatus{}
	for _, b := range []string{"dev", "staging", "prod", "prod-eu"} {
		want[b] = []events.DeploymentStatus{events.StatusStarted, events.StatusSucceeded}
	}
	got := map[string][]events.DeploymentStatus{}
	for _, b := range []string{"dev", "staging", "prod", "prod-eu"} {
		got[b] = st.decisions(n, b)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("decisions (-want +got):\n%s", diff)
	}
	from := map[string]string{"staging": "dev", "prod": "staging", "prod-eu": "staging"}
	for b, src := range from {
		if !st.runs(t, b, digest) {
			t.Errorf("%s runs %s, want the promoted %s", b, st.image(t, b, "shop"), digest)
		}
		started := st.last(t, n, b, events.StatusStarted)
		tags := st.revisionTags(t, started.NewRevision)
		if tags[revision.TagTrigger] != "promote" || tags[revision.TagPromotedFrom] != src || started.Gate == nil || started.Gate.Source == nil || started.Gate.Source.Binding != src {
			t.Errorf("%s: trigger %q, promoted-from %q, gate %+v; want promote from %s", b, tags[revision.TagTrigger], tags[revision.TagPromotedFrom], started.Gate, src)
		}
	}
	// The promotion to prod delivered again (a new delivery id): nothing
	// new is deployed.
	if len(sent.bodies) != 3 {
		t.Fatalf("the reconciler sent %d messages, want the 3 promotions", len(sent.bodies))
	}
	ev, err := events.DecodePromotion(sent.bodies[len(sent.bodies)-1])
	if err != nil {
		t.Fatal(err)
	}
	ev.ID += "-again"
	raw, _ := json.Marshal(ev)
	m := len(st.Deployments())
	if _, err := lambda.NewHandler(st.Handler.Handle).Invoke(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if got := st.decisions(m, ev.Detail.Binding); !cmp.Equal(got, []events.DeploymentStatus{events.StatusAlreadyDeployed}) {
		t.Errorf("the promotion to %s again: %v, want ALREADY_DEPLOYED", ev.Detail.Binding, got)
	}
}

// recordingSender keeps what the reconciler sends to the deploy queue.
type recordingSender struct {
	inner interface {
		Send(ctx context.Context, group, id string, body []byte) error
	}
	bodies [][]byte
}

func (r *recordingSender) Send(ctx context.Context, group, id string, body []byte) error {
	r.bodies = append(r.bodies, body)
	return r.inner.Send(ctx, group, id, body)
}
