package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Each rule of DESIGN §5 that lives in this package has a table test named
// after its function (rules.go, binding.go); TestRules plays them together.

func binding(t *testing.T, name string) *manifest.Service {
	t.Helper()
	m, err := manifest.Parse("deckhand.yaml", []byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	b, ok := m.Service(name)
	if !ok {
		t.Fatalf("no binding %s", name)
	}
	return b
}

// runningWeb is what service web runs: web 1.4.0 (digestA, pushed at t0,
// template v1) and proxy digestP, with the service's tags.
func runningWeb(serviceTags ...types.Tag) *running {
	return &running{
		service: &types.Service{Tags: serviceTags},
		def: &types.TaskDefinition{ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("proxy"), Image: aws.String(registry + "/proxy@" + digestP)},
			{Name: aws.String("web"), Image: aws.String(registry + "/web@" + digestA)},
		}},
		tags: revision.Tags{
			revision.TagDigest + "web": digestA, revision.TagImageTag + "web": "1.4.0",
			revision.TagPushedAt + "web": t0.Format(time.RFC3339Nano), revision.TagTemplate: "templates/web.json@v1",
		},
	}
}

func TestAccept(t *testing.T) {
	tests := map[string]struct {
		binding string
		push    Push
		want    []string
	}{
		"a tag the policy accepts reaches its container":  {"web", push("web", "1.4.0", digestA, 0), []string{"web"}},
		"a tag outside the policy reaches no container":   {"web", push("web", "2.0.0", digestA, 0), nil},
		"another repository reaches no container":         {"web", push("api", "1.4.0", digestA, 0), nil},
		"the other repository of the binding reaches its": {"web", push("proxy", "stable-3", digestB, 0), []string{"proxy"}},
		"the * policy accepts any tag":                    {"api", push("api", "nightly", digestA, 0), []string{"api"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, accept(binding(t, tc.binding), tc.push)); diff != "" {
				t.Errorf("accept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCoalesce(t *testing.T) {
	later := func(p Push, d time.Duration) Push { p.EventID += "-later"; p.PushedAt = p.PushedAt.Add(d); return p }
	tests := map[string]struct {
		first, second Push
		wantWinner    string
	}{
		"the later push wins":                             {push("web", "1.4.0", digestA, 0), push("web", "1.5.0", digestB, time.Minute), "1.5.0"},
		"an earlier push arriving second loses":           {push("web", "1.5.0", digestB, time.Minute), push("web", "1.4.0", digestA, 0), "1.5.0"},
		"in one instant the higher version wins":          {push("web", "1.5.0", digestB, 0), push("web", "1.4.0", digestA, 0), "1.5.0"},
		"in one instant and one version, the second wins": {push("web", "1.5.0", digestB, 0), later(push("web", "1.5.0", digestC, 0), 0), "1.5.0/" + digestC},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pl := &plan{binding: binding(t, "web"), pushes: map[string]Push{}, times: &pushTimes{at: map[string]time.Time{}}}
			if _, lost := pl.coalesce("web", tc.first); lost {
				t.Fatal("the first push lost to nothing")
			}
			o, lost := pl.coalesce("web", tc.second)
			if !lost || o.Event.Status != events.StatusSuperseded {
				t.Fatalf("second push: lost %v, outcome %+v; want a SUPERSEDED loser", lost, o)
			}
			got := pl.pushes["web"].Tag
			if strings.Contains(tc.wantWinner, "/") {
				got += "/" + pl.pushes["web"].Digest
			}
			if got != tc.wantWinner {
				t.Errorf("winner = %s, want %s", got, tc.wantWinner)
			}
		})
	}
}

func TestHold(t *testing.T) {
	held := types.Tag{Key: aws.String(revision.TagHold), Value: aws.String("incident 42")}
	forced := push("web", "1.5.0", digestB, 0)
	forced.Force = true
	tests := map[string]struct {
		tags       []types.Tag
		lead       Push
		wantHeld   bool
		wantReason string
	}{
		"a service without the tag is not held":     {nil, push("web", "1.5.0", digestB, 0), false, ""},
		"a held service is HELD with the reason":    {[]types.Tag{held}, push("web", "1.5.0", digestB, 0), true, "service is held (deckhand:hold): incident 42"},
		"a hold without a reason still holds":       {[]types.Tag{{Key: aws.String(revision.TagHold), Value: aws.String("")}}, push("web", "1.5.0", digestB, 0), true, "service is held (deckhand:hold)"},
		"a forced deploy goes past the hold":        {[]types.Tag{held}, forced, false, ""},
		"other deckhand tags on a service are none": {[]types.Tag{{Key: aws.String(revision.TagRolledBack + "web"), Value: aws.String(digestB)}}, push("web", "1.5.0", digestB, 0), false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			reason, got := hold(revision.TagsOf(tc.tags), tc.lead)
			if got != tc.wantHeld || reason != tc.wantReason {
				t.Errorf("hold = %v %q, want %v %q", got, reason, tc.wantHeld, tc.wantReason)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	tests := map[string]struct {
		push     Push
		template string
		want     bool
	}{
		"the running digest with the same template is deployed already": {push("web", "1.4.0", digestA, 0), "templates/web.json@v1", true},
		"another digest is not":                     {push("web", "1.5.0", digestB, time.Minute), "templates/web.json@v1", false},
		"the running digest with a new template is": {push("web", "1.4.0", digestA, 0), "templates/web.json@v2", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := dedupe(runningWeb(), "web", tc.push, tc.template); got != tc.want {
				t.Errorf("dedupe = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	manual := func(p Push, force bool) Push { p.Trigger, p.Force = events.TriggerManual, force; return p }
	at := func(p Push, d time.Duration) Push { p.PushedAt = t0.Add(d); return p }
	poisoned := runningWeb()
	poisoned.tags[revision.TagPushedAt+"web"] = "2099-01-01T00:00:00Z"
	glob := runningWeb()
	glob.tags[revision.TagImageTag+"proxy"] = "stable-7"
	glob.tags[revision.TagDigest+"proxy"] = digestP
	glob.tags[revision.TagPushedAt+"proxy"] = t0.Add(400 * time.Millisecond).Format(time.RFC3339Nano)
	tests := map[string]struct {
		run       *running
		push      Push
		ecr       map[string]time.Duration // digest → ECR's precise push time after t0
		wantOlder bool
		wantCalls int // DescribeImages
	}{
		"a push before the running image's is older":             {push: push("web", "1.5.0", digestB, -time.Minute), wantOlder: true},
		"a push after it is not":                                 {push: push("web", "1.3.0", digestB, time.Minute)},
		"in the same instant a lower version is older":           {push: push("web", "1.3.9", digestB, 0), wantOlder: true},
		"in the same instant a higher version is not":            {push: push("web", "1.4.1", digestB, 0)},
		"in the same second a lower version is older":            {push: at(push("web", "1.3.9", digestB, 0), 900*time.Millisecond), wantOlder: true},
		"a manual deploy without force is held to the order":     {push: manual(push("web", "1.3.0", digestB, -time.Minute), false), wantOlder: true},
		"a forced manual deploy may go to an older image":        {push: manual(push("web", "1.3.0", digestB, -time.Minute), true)},
		"a container without a pushed-at mark has nothing older": {push: push("proxy", "stable-1", digestB, -time.Hour)},
		"a pushed-at mark far in the future is not trusted (issue 10.3)": {
			run: poisoned, push: push("web", "1.3.0", digestB, time.Minute)},
		"in one second under glob, ECR's earlier push is older (issue 10.4)": {
			run: glob, push: push("proxy", "stable-6", digestB, 0), ecr: map[string]time.Duration{digestB: 100 * time.Millisecond, digestP: 400 * time.Millisecond},
			wantOlder: true, wantCalls: 1},
		"in one second under glob, ECR's later push is not": {
			run: glob, push: push("proxy", "stable-6", digestB, 0), ecr: map[string]time.Duration{digestB: 700 * time.Millisecond, digestP: 400 * time.Millisecond},
			wantCalls: 1},
		"the running image pushed again is no tie to resolve": {
			run: glob, push: push("proxy", "stable-7", digestP, 0)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			f := &fakeECR{}
			for d, after := range tc.ecr {
				f.add("proxy", "x", d, after)
			}
			w.engine.ECR = f
			w.engine.init()
			run := tc.run
			if run == nil {
				run = runningWeb()
			}
			c := tc.push.Repository
			why, older, err := w.engine.order(context.Background(), run, c, tc.push, binding(t, "web").Images[c], w.engine.newPushTimes())
			if err != nil || older != tc.wantOlder {
				t.Errorf("order = %v (%s, %v), want older %v", older, why, err, tc.wantOlder)
			}
			if older && !strings.Contains(why, "running image pushed 2026-11-16T01:00:00Z") {
				t.Errorf("reason %q does not name the running image's push time", why)
			}
			if f.calls != tc.wantCalls {
				t.Errorf("DescribeImages calls = %d, want %d", f.calls, tc.wantCalls)
			}
		})
	}
}

func TestTimely(t *testing.T) {
	tests := map[string]struct {
		after time.Duration // push time after the engine's clock
		ok    bool
	}{
		"a push in the past is taken":               {-time.Hour, true},
		"a few seconds of clock skew are taken":     {5 * time.Second, true},
		"up to MaxClockSkew ahead is taken":         {revision.MaxClockSkew, true},
		"further ahead is refused":                  {revision.MaxClockSkew + time.Second, false},
		"a time in 2099 is refused with the reason": {time.Until(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			w.engine.init()
			p := push("web", "1.5.0", digestB, 0)
			p.PushedAt = w.engine.Now().Add(tc.after)
			err := w.engine.timely(p)
			if (err == nil) != tc.ok {
				t.Fatalf("timely = %v, want ok %v", err, tc.ok)
			}
			if err != nil && (revision.Retryable(err) || revision.Reason(err) != "EventTimeInFuture" || !strings.Contains(err.Error(), "$.time")) {
				t.Errorf("err = %v (retryable %v), want a permanent EventTimeInFuture naming $.time", err, revision.Retryable(err))
			}
		})
	}
}

func TestRolledBack(t *testing.T) {
	marked := revision.Tags{revision.TagRolledBack + "web": digestB}
	twice := revision.Tags{revision.TagRolledBack + "web": digestC + " " + digestB}
	forced := push("web", "1.5.0", digestB, 0)
	forced.Force = true
	tests := map[string]struct {
		tags revision.Tags
		c    string
		push Push
		want bool
	}{
		"the rolled-back digest is not deployed again":        {marked, "web", push("web", "1.5.0", digestB, 0), true},
		"another digest is":                                   {marked, "web", push("web", "1.5.1", digestC, 0), false},
		"the digest rolled back from another container is":    {marked, "proxy", push("proxy", "stable-1", digestB, 0), false},
		"a forced deploy may deploy the rolled-back digest":   {marked, "web", forced, false},
		"a service with no rolled-back mark deploys anything": {revision.Tags{}, "web", push("web", "1.5.0", digestB, 0), false},
		// Two rollbacks in a row: the mark keeps both digests, newest first
		// (revision.AddRolledBack); the first is not deployed again either.
		"a digest rolled back before the last one is not deployed again": {twice, "web", push("web", "1.5.0", digestB, 0), true},
		"nor is the last one":                {twice, "web", push("web", "1.5.1", digestC, 0), true},
		"a digest neither rollback named is": {twice, "web", push("web", "1.5.2", digestA, 0), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := rolledBack(tc.tags, tc.c, tc.push); got != tc.want {
				t.Errorf("rolledBack = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeepOther(t *testing.T) {
	tests := map[string]struct {
		run      *running
		c        string
		wantImg  taskdef.Image
		wantTags revision.Tags
		wantErr  string
	}{
		"a Deckhand revision's container keeps its image and tags": {
			run: runningWeb(), c: "web",
			wantImg: taskdef.Image{Registry: registry, Repository: "web", Tag: "1.4.0", Digest: digestA, PushedAt: t0},
			wantTags: revision.Tags{revision.TagDigest + "web": digestA, revision.TagImageTag + "web": "1.4.0",
				revision.TagPushedAt + "web": t0.Format(time.RFC3339Nano)},
		},
		"a container Deckhand never deployed keeps its pinned digest": {
			run: runningWeb(), c: "proxy",
			wantImg:  taskdef.Image{Registry: registry, Repository: "proxy", Digest: digestP},
			wantTags: revision.Tags{revision.TagDigest + "proxy": digestP},
		},
		"a container missing from the running revision is a permanent error": {
			run: &running{service: &types.Service{}, def: &types.TaskDefinition{}, tags: revision.Tags{}}, c: "proxy",
			wantErr: "NoRunningImage",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			img, tags, err := keepOther(binding(t, "web"), tc.c, tc.run, t0.Add(time.Hour))
			if tc.wantErr != "" {
				var perm *revision.PermanentError
				if !errors.As(err, &perm) || perm.Reason != tc.wantErr {
					t.Fatalf("err = %v, want a permanent %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantImg, img); diff != "" {
				t.Errorf("image (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantTags, tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegisterThenUpdate(t *testing.T) {
	tests := map[string]struct {
		fail       func(op string, n int) error
		wantCalls  []string
		wantErr    bool
		wantRev    bool
		wantDeploy bool
	}{
		"it registers, then updates the service": {
			wantCalls: []string{"DescribeTaskDefinition", "RegisterTaskDefinition", "UpdateService"}, wantRev: true, wantDeploy: true,
		},
		"a failed register updates nothing": {
			fail:      func(op string, _ int) error { return failOn(op, "RegisterTaskDefinition", "ClientException") },
			wantCalls: []string{"DescribeTaskDefinition", "RegisterTaskDefinition"}, wantErr: true,
		},
		"a failed update still names the revision": {
			fail:      func(op string, _ int) error { return failOn(op, "UpdateService", "ServiceNotFoundException") },
			wantCalls: []string{"DescribeTaskDefinition", "RegisterTaskDefinition", "UpdateService"}, wantErr: true, wantRev: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			w.engine.init()
			w.ecs.fail = tc.fail
			b := binding(t, "api")
			r, err := taskdef.Render([]byte(apiTemplate), taskdef.Data{Account: account, Region: region, Cluster: "prod", Service: "api",
				Images: map[string]taskdef.Image{"api": {Registry: registry, Repository: "api", Tag: "7", Digest: digestA}}, Primary: "api"},
				taskdef.Options{Key: "templates/api.json"})
			if err != nil {
				t.Fatal(err)
			}
			run := &running{tags: revision.Tags{}}
			arn, id, err := w.engine.registerThenUpdate(context.Background(), b, r, revision.Tags{revision.TagContentHash: r.Hash}, run, false, false)
			if (err != nil) != tc.wantErr || (arn != "") != tc.wantRev || (id != "") != tc.wantDeploy {
				t.Errorf("registerThenUpdate = %q %q %v; want revision %v, deployment %v, error %v", arn, id, err, tc.wantRev, tc.wantDeploy, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantCalls, w.ecs.calls); diff != "" {
				t.Errorf("ECS calls (-want +got):\n%s", diff)
			}
		})
	}
}

func failOn(op, want, code string) error {
	if op == want {
		return apiErr(code)
	}
	return nil
}
