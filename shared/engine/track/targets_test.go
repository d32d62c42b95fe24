package track

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

const targetsManifest = `version: 1
targets:
  prod-eu: { account: "210987654321", region: eu-central-1, role: "arn:aws:iam::210987654321:role/deckhand-target" }
services:
  - { name: web, cluster: prod, service: web, template: t.json, images: { web: { repository: web, tags: "*" } } }
  - { name: web-eu, target: prod-eu, cluster: prod, service: web, template: t.json, images: { web: { repository: web, tags: "*" } } }
`

// manifestSource serves a manifest; templates are never read here.
type manifestSource struct{ m *manifest.Manifest }

func (s manifestSource) Manifest(context.Context) (*manifest.Manifest, error) { return s.m, nil }
func (s manifestSource) Template(context.Context, string) (store.Template, error) {
	return store.Template{}, store.ErrNotFound
}

// countingECS is a fake ECS that counts DescribeServices calls; the rest
// of targets.ECS is never called.
type countingECS struct {
	*fakeECS
	unused
	describes int
}

type unused struct{ targets.ECS }

func (c *countingECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	c.describes++
	return c.fakeECS.DescribeServices(ctx, in, o...)
}

// oneTarget gives every binding of prod-eu the same client.
type oneTarget struct {
	ecs      *countingECS
	bindings []string
}

func (o *oneTarget) ECS(_ context.Context, name string, _ manifest.Target, binding string) (targets.ECS, error) {
	o.bindings = append(o.bindings, name+"/"+binding)
	return o.ecs, nil
}

// inAccount moves an ECS event of the fixtures' account and Region to
// another, as a target stack forwards it.
func inAccount(raw []byte, account, region string) []byte {
	r := strings.NewReplacer(`"account": "123456789012"`, `"account": "`+account+`"`, ":123456789012:", ":"+account+":", "us-west-2", region)
	return []byte(r.Replace(string(raw)))
}

// TestForwardedEventsAreJudgedInTheirTarget: an event forwarded from a
// target is confirmed with that target's ECS, through the session of the
// binding whose service it names; the same deployment id in two accounts
// is two deployments (each is judged: the dedupe is per account and
// Region); an event of an account no binding runs in is ignored without an
// ECS call.
func TestForwardedEventsAreJudgedInTheirTarget(t *testing.T) {
	m, err := manifest.Parse("deckhand.yaml", []byte(targetsManifest))
	if err != nil {
		t.Fatal(err)
	}
	home := &countingECS{fakeECS: &fakeECS{ours: true, latest: rev7}}
	eu := &oneTarget{ecs: &countingECS{fakeECS: &fakeECS{ours: true, latest: rev7}}}
	rec := &recorder{}
	d := &Deployments{ECS: home, Events: rec, Source: manifestSource{m}, Targets: eu,
		Home: func() (string, string) { return "123456789012", "us-west-2" }}
	h := lambda.NewHandler((&Handler{Deployments: d}).Handle)
	completed := fixture(t, "ecs-deployment-state-change-completed.json")
	for _, raw := range [][]byte{completed, inAccount(completed, "210987654321", "eu-central-1"), inAccount(completed, "999999999999", "eu-west-1")} {
		if _, err := h.Invoke(context.Background(), raw); err != nil {
			t.Fatalf("Invoke: %v", err)
		}
	}
	if len(rec.evs) != 2 || rec.evs[0].Status != events.StatusSucceeded || rec.evs[1].Status != events.StatusSucceeded {
		t.Errorf("verdicts %+v, want two SUCCEEDED: the hub's and the target's", rec.evs)
	}
	if home.describes != 1 || eu.ecs.describes != 1 {
		t.Errorf("DescribeServices: %d in the hub, %d in the target; want one each", home.describes, eu.ecs.describes)
	}
	if len(eu.bindings) != 1 || eu.bindings[0] != "prod-eu/web-eu" {
		t.Errorf("target sessions asked for %v, want prod-eu/web-eu", eu.bindings)
	}
}
