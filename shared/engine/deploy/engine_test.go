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
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

const (
	account  = "123456789012"
	region   = "us-west-2"
	registry = account + ".dkr.ecr." + region + ".amazonaws.com"
	digestA  = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB  = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	digestC  = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	digestP  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

const testManifest = `version: 1
roles: [arn:aws:iam::123456789012:role/web-task]
services:
  - name: web
    cluster: prod
    service: web
    template: templates/web.json
    images:
      web:   { repository: web,   tags: "semver:>=1.0.0 <2.0.0" }
      proxy: { repository: proxy, tags: "glob:stable-*" }
  - name: api
    cluster: prod
    service: api
    template: templates/api.json
    circuitBreaker: on
    images:
      api: { repository: api, tags: "*" }
`

const webTemplate = `{"family":"web","taskRoleArn":"arn:aws:iam::{{ .Account }}:role/web-task","containerDefinitions":[
 {"name":"web","image":"{{ .Image }}","environment":[{"name":"VERSION","value":"{{ .Tag }}"}]},
 {"name":"proxy","image":"{{ (index .Images \"proxy\").URI }}"}]}`

const apiTemplate = `{"family":"api","containerDefinitions":[{"name":"api","image":"@@IMAGE@@"}]}`

var t0 = time.Date(2026, 11, 16, 1, 0, 0, 0, time.UTC)

type world struct {
	ecs    *fakeECS
	src    *fakeSource
	events *fakeEvents
	engine *Engine
}

func newWorld() *world {
	w := &world{ecs: newFakeECS(), events: &fakeEvents{}}
	w.src = &fakeSource{manifest: testManifest, templates: map[string]string{"templates/web.json": webTemplate, "templates/api.json": apiTemplate}}
	w.ecs.addService("prod", "web", "web", map[string]string{"web": registry + "/web:0.9.0", "proxy": registry + "/proxy@" + digestP})
	w.ecs.addService("prod", "api", "api", map[string]string{"api": registry + "/api:1"})
	w.engine = w.freshEngine()
	return w
}

// freshEngine is a new (cold) engine over the world's fakes.
func (w *world) freshEngine() *Engine {
	return &Engine{
		ECS: w.ecs, Source: w.src, Events: w.events, Account: account, Region: region,
		RegisterLimit: rate.NewLimiter(rate.Inf, 1), UpdateLimit: rate.NewLimiter(rate.Inf, 1),
		Sleep: noSleep, Now: func() time.Time { return t0.Add(2 * time.Hour) },
	}
}

func push(repo, tag, digest string, at time.Duration) Push {
	return Push{EventID: "ev-" + repo + "-" + tag, MessageID: "msg-" + repo + "-" + tag, Account: account, Region: region,
		Repository: repo, Tag: tag, Digest: digest, PushedAt: t0.Add(at), Trigger: events.TriggerPush}
}

func (w *world) deploy(t *testing.T, ps ...Push) []Outcome {
	t.Helper()
	out, err := w.engine.Deploy(context.Background(), ps)
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	return out
}

func statuses(os []Outcome) map[string][]events.DeploymentStatus {
	out := map[string][]events.DeploymentStatus{}
	for _, o := range os {
		out[o.Event.Binding] = append(out[o.Event.Binding], o.Event.Status)
	}
	return out
}

// uniqueHashes fails the test if two revisions of family share a content
// hash (rule 7, and the chaos suite's invariant 3).
func (w *world) uniqueHashes(t *testing.T, family string) {
	t.Helper()
	hashes := map[string]int{}
	for _, d := range w.ecs.defs[family] {
		if h := revision.TagsOf(d.Tags)[revision.TagContentHash]; h != "" {
			if hashes[h]++; hashes[h] > 1 {
				t.Errorf("two revisions of %s with content hash %s", family, h)
			}
		}
	}
}

func (w *world) runningImage(t *testing.T, service, container string) string {
	t.Helper()
	for _, c := range w.ecs.running("prod", service).TaskDefinition.ContainerDefinitions {
		if aws.ToString(c.Name) == container {
			return aws.ToString(c.Image)
		}
	}
	t.Fatalf("container %s not in the running revision of %s", container, service)
	return ""
}

func TestRules(t *testing.T) {
	tests := map[string]struct {
		setup      func(t *testing.T, w *world)
		pushes     []Push
		want       map[string][]events.DeploymentStatus
		wantWrites int
		check      func(t *testing.T, w *world, out []Outcome)
	}{
		"a push deploys the image pinned by digest and records STARTED": {
			pushes:     []Push{push("web", "1.4.0", digestA, 0)},
			want:       map[string][]events.DeploymentStatus{"web": {events.StatusStarted}},
			wantWrites: 2,
			check: func(t *testing.T, w *world, out []Outcome) {
				if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestA {
					t.Errorf("web image = %s", got)
				}
				ev := out[0].Event
				if ev.DeploymentID == "" || ev.NewRevision == "" || !strings.HasSuffix(ev.OldRevision, "web:1") {
					t.Errorf("STARTED event lacks revision or deployment: %+v", ev)
				}
				tags := revision.TagsOf(w.ecs.running("prod", "web").Tags)
				for k, v := range map[string]string{revision.TagBinding: "web", revision.TagTrigger: "push", revision.TagDigest + "web": digestA, revision.TagImageTag + "web": "1.4.0", revision.TagPushedAt + "web": "2026-11-16T01:00:00Z", revision.TagTemplate: "templates/web.json@v1"} {
					if tags[k] != v {
						t.Errorf("tag %s = %q, want %q", k, tags[k], v)
					}
				}
			},
		},
		"a duplicate delivery makes no write call": {
			setup:      func(t *testing.T, w *world) { w.deploy(t, push("web", "1.4.0", digestA, 0)) },
			pushes:     []Push{push("web", "1.4.0", digestA, 0)},
			want:       map[string][]events.DeploymentStatus{"web": {events.StatusAlreadyDeployed}},
			wantWrites: 2, // the setup's register and update only
		},
		"an older push is SUPERSEDED and changes nothing": {
			setup:      func(t *testing.T, w *world) { w.deploy(t, push("web", "1.5.0", digestB, time.Minute)) },
			pushes:     []Push{push("web", "1.4.0", digestA, 0)},
			want:       map[string][]events.DeploymentStatus{"web": {events.StatusSuperseded}},
			wantWrites: 2,
			check: func(t *testing.T, w *world, _ []Outcome) {
				if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestB {
					t.Errorf("web moved to %s", got)
				}
			},
		},
		"a manual forced deploy may go back to an older image": {
			setup: func(t *testing.T, w *world) { w.deploy(t, push("web", "1.5.0", digestB, time.Minute)) },
			pushes: []Push{func() Push {
				p := push("web", "1.4.0", digestA, 0)
				p.Trigger, p.Force = events.TriggerManual, true
				return p
			}()},
			want:       map[string][]events.DeploymentStatus{"web": {events.StatusStarted}},
			wantWrites: 4,
		},
		"a held service is HELD": {
			setup: func(t *testing.T, w *world) {
				w.ecs.services["prod/web"].Tags = []types.Tag{{Key: aws.String(revision.TagHold), Value: aws.String("incident 42")}}
			},
			pushes: []Push{push("web", "1.4.0", digestA, 0)},
			want:   map[string][]events.DeploymentStatus{"web": {events.StatusHeld}},
			check: func(t *testing.T, w *world, out []Outcome) {
				if !strings.Contains(out[0].Event.Reason, "incident 42") {
					t.Errorf("reason %q lacks the hold reason", out[0].Event.Reason)
				}
			},
		},
		"within a batch only the newest push per container deploys": {
			pushes:     []Push{push("web", "1.5.0", digestB, time.Minute), push("web", "1.4.0", digestA, 0), push("web", "1.6.0", digestC, 2*time.Minute)},
			want:       map[string][]events.DeploymentStatus{"web": {events.StatusSuperseded, events.StatusSuperseded, events.StatusStarted}},
			wantWrites: 2,
			check: func(t *testing.T, w *world, _ []Outcome) {
				if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestC {
					t.Errorf("web runs %s, want the newest push", got)
				}
			},
		},
		"a push to one repository keeps the other container's digest": {
			setup:      func(t *testing.T, w *world) { w.deploy(t, push("web", "1.4.0", digestA, 0)) },
			pushes:     []Push{push("proxy", "stable-2", digestB, time.Minute)},
			want:       map[string][]events.DeploymentStatus{"web": {events.StatusStarted}},
			wantWrites: 4,
			check: func(t *testing.T, w *world, _ []Outcome) {
				if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestA {
					t.Errorf("web container changed to %s", got)
				}
				if got := w.runningImage(t, "web", "proxy"); got != registry+"/proxy@"+digestB {
					t.Errorf("proxy = %s", got)
				}
				tags := revision.TagsOf(w.ecs.running("prod", "web").Tags)
				if tags[revision.TagDigest+"web"] != digestA || tags[revision.TagImageTag+"web"] != "1.4.0" {
					t.Errorf("web's tags were not carried forward: %v", tags)
				}
			},
		},
		"a crash between register and update registers no second revision on retry": {
			setup: func(t *testing.T, w *world) {
				w.ecs.fail = func(op string, n int) error {
					if op == "UpdateService" && n == 1 {
						return errors.New("connection reset (simulated crash)")
					}
					return nil
				}
				w.engine.Attempts = 1
				out := w.deploy(t, push("web", "1.4.0", digestA, 0))
				if !out[0].Retry {
					t.Fatalf("crash outcome = %+v, want a retryable failure", out[0])
				}
			},
			pushes:     []Push{push("web", "1.4.0", digestA, 0)},
			want:       map[string][]events.DeploymentStatus{"web": {events.StatusStarted}},
			wantWrites: 3, // one register, the failed update, the retried update
			check: func(t *testing.T, w *world, _ []Outcome) {
				if n := len(w.ecs.defs["web"]); n != 2 {
					t.Errorf("family web has %d revisions, want 2 (the seed and one Deckhand revision)", n)
				}
			},
		},
		"a push whose tag the policy rejects is SKIPPED": {
			pushes: []Push{push("web", "2.0.0", digestA, 0)},
			want:   map[string][]events.DeploymentStatus{"web": {events.StatusSkipped}},
		},
		"a push to an unbound repository is SKIPPED": {
			pushes: []Push{push("other", "1.0.0", digestA, 0)},
			want:   map[string][]events.DeploymentStatus{"": {events.StatusSkipped}},
		},
		"a missing service is a permanent FAILED": {
			setup:  func(t *testing.T, w *world) { delete(w.ecs.services, "prod/api") },
			pushes: []Push{push("api", "7", digestA, 0)},
			want:   map[string][]events.DeploymentStatus{"api": {events.StatusFailed}},
			check: func(t *testing.T, w *world, out []Outcome) {
				if out[0].Retry || !strings.HasPrefix(out[0].Event.Reason, "ServiceNotFound") {
					t.Errorf("outcome = retry %v reason %q", out[0].Retry, out[0].Event.Reason)
				}
			},
		},
		"a push from a foreign account is SKIPPED with no call (rule 1: ignored and logged)": {
			pushes: []Push{func() Push { p := push("web", "1.4.0", digestA, 0); p.Account = "999999999999"; return p }()},
			want:   map[string][]events.DeploymentStatus{"": {events.StatusSkipped}},
			check: func(t *testing.T, w *world, out []Outcome) {
				if w.ecs.count("DescribeServices") != 0 || !strings.Contains(out[0].Event.Reason, "$.account") || out[0].Err != nil {
					t.Errorf("reason %q, err %v, calls %v", out[0].Event.Reason, out[0].Err, w.ecs.calls)
				}
			},
		},
		"a push with an empty account is not taken for our own": {
			pushes: []Push{func() Push { p := push("web", "1.4.0", digestA, 0); p.Account = ""; return p }()},
			want:   map[string][]events.DeploymentStatus{"": {events.StatusSkipped}},
			check: func(t *testing.T, w *world, out []Outcome) {
				if w.ecs.count("DescribeServices") != 0 || !strings.Contains(out[0].Event.Reason, "$.account") || out[0].Err != nil {
					t.Errorf("reason %q, err %v, calls %v", out[0].Event.Reason, out[0].Err, w.ecs.calls)
				}
			},
		},
		"a push with an empty region is not taken for our own": {
			pushes: []Push{func() Push { p := push("web", "1.4.0", digestA, 0); p.Region = ""; return p }()},
			want:   map[string][]events.DeploymentStatus{"": {events.StatusSkipped}},
			check: func(t *testing.T, w *world, out []Outcome) {
				if w.ecs.count("DescribeServices") != 0 || !strings.Contains(out[0].Event.Reason, "$.region") || out[0].Err != nil {
					t.Errorf("reason %q, err %v, calls %v", out[0].Event.Reason, out[0].Err, w.ecs.calls)
				}
			},
		},
		"the circuit breaker follows the manifest": {
			pushes:     []Push{push("api", "7", digestA, 0)},
			want:       map[string][]events.DeploymentStatus{"api": {events.StatusStarted}},
			wantWrites: 2,
			check: func(t *testing.T, w *world, _ []Outcome) {
				cb := w.ecs.services["prod/api"].DeploymentConfiguration.DeploymentCircuitBreaker
				if !cb.Enable || cb.Rollback {
					t.Errorf("api circuit breaker = %+v, want enable without rollback (circuitBreaker: on)", cb)
				}
				if got := w.runningImage(t, "api", "api"); got != registry+"/api@"+digestA {
					t.Errorf("api image = %s (legacy @@IMAGE@@)", got)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			if tc.setup != nil {
				tc.setup(t, w)
			}
			out := w.deploy(t, tc.pushes...)
			if diff := cmp.Diff(tc.want, statuses(out)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if got := w.ecs.writes(); got != tc.wantWrites {
				t.Errorf("write calls = %d, want %d (%v)", got, tc.wantWrites, w.ecs.calls)
			}
			if tc.check != nil {
				tc.check(t, w, out)
			}
		})
	}
}

func TestBadTemplatesChangeNothing(t *testing.T) {
	tests := map[string]struct {
		template string
		wantMsg  string
	}{
		"invalid JSON":           {`{"family": web}`, "invalid JSON at line 1"},
		"an unknown placeholder": {`{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Imag }}"}]}`, "$.containerDefinitions[0].image"},
		"a role outside roles":   {`{"family":"web","taskRoleArn":"arn:aws:iam::123456789012:role/admin","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"proxy","image":"x"}]}`, "$.taskRoleArn"},
		"an oversize definition": {`{"family":"web","cpu":"` + strings.Repeat("1", taskdef.MaxSize) + `","containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"proxy","image":"x"}]}`, "at most 65536"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			w.src.templates["templates/web.json"] = tc.template
			out := w.deploy(t, push("web", "1.4.0", digestA, 0))
			if len(out) != 1 || out[0].Event.Status != events.StatusFailed || out[0].Retry {
				t.Fatalf("outcome = %+v, want one permanent FAILED", out)
			}
			if !strings.Contains(out[0].Event.Reason, "templates/web.json") || !strings.Contains(out[0].Event.Reason, tc.wantMsg) {
				t.Errorf("reason %q does not name the template and %q", out[0].Event.Reason, tc.wantMsg)
			}
			if w.ecs.writes() != 0 {
				t.Errorf("a bad template caused writes: %v", w.ecs.calls)
			}
			if len(w.events.evs) != 1 {
				t.Errorf("emitted %d events, want the FAILED one", len(w.events.evs))
			}
		})
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	tests := map[string]struct {
		throttled  int
		wantStatus events.DeploymentStatus
		wantRetry  bool
	}{
		"a throttled register is retried and succeeds":        {throttled: 2, wantStatus: events.StatusStarted},
		"persistent throttling fails retryably, not for good": {throttled: 99, wantStatus: events.StatusFailed, wantRetry: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			w.ecs.fail = func(op string, n int) error {
				if op == "RegisterTaskDefinition" && n <= tc.throttled {
					return apiErr("ThrottlingException")
				}
				return nil
			}
			out := w.deploy(t, push("web", "1.4.0", digestA, 0))
			if out[0].Event.Status != tc.wantStatus || out[0].Retry != tc.wantRetry {
				t.Errorf("outcome status %s retry %v, want %s %v", out[0].Event.Status, out[0].Retry, tc.wantStatus, tc.wantRetry)
			}
			if got := w.ecs.count("RegisterTaskDefinition"); got != min(tc.throttled+1, 3) {
				t.Errorf("register attempts = %d", got)
			}
			if tc.wantRetry && len(w.events.evs) != 0 {
				t.Errorf("a retryable failure was emitted as an event: %+v", w.events.evs)
			}
		})
	}
}

func TestRegisterIsNeverRepeatedBlindly(t *testing.T) {
	t.Run("a 5xx after a successful register reuses that revision", func(t *testing.T) {
		w := newWorld()
		n := 0
		w.ecs.failAfter = func(op string) error {
			if n++; n == 1 {
				return apiErr("ServerException")
			}
			return nil
		}
		out := w.deploy(t, push("web", "1.4.0", digestA, 0))
		if out[0].Event.Status != events.StatusStarted {
			t.Fatalf("outcome = %+v", out[0])
		}
		if got := len(w.ecs.defs["web"]); got != 2 {
			t.Errorf("family web has %d revisions, want 2: the register was repeated", got)
		}
		if got := w.ecs.count("RegisterTaskDefinition"); got != 1 {
			t.Errorf("RegisterTaskDefinition called %d times", got)
		}
	})
	t.Run("a redelivered push finds its revision behind a newer one", func(t *testing.T) {
		w := newWorld()
		w.engine.Attempts = 1
		w.ecs.fail = func(op string, n int) error {
			if op == "UpdateService" && n == 1 {
				return apiErr("ServiceUnavailableException")
			}
			return nil
		}
		newer := push("web", "1.5.0", digestB, 2*time.Minute)
		if out := w.deploy(t, newer); !out[0].Retry {
			t.Fatalf("first attempt = %+v, want a retryable failure after registering", out[0])
		}
		w.deploy(t, push("web", "1.4.0", digestA, time.Minute)) // registers and deploys meanwhile
		newer.Redelivered = true
		out := w.deploy(t, newer)
		if out[0].Event.Status != events.StatusStarted {
			t.Fatalf("redelivery = %+v", out[0])
		}
		w.uniqueHashes(t, "web")
		if got := len(w.ecs.defs["web"]); got != 3 {
			t.Errorf("family web has %d revisions, want 3 (seed, 1.5.0, 1.4.0)", got)
		}
	})
}
