package revision

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

var t0 = time.Date(2026, 11, 16, 1, 0, 0, 0, time.UTC)

// pushedTags are a revision's tags deploying digest to web, pushed at.
func pushedTags(hash, digest string, at time.Time) Tags {
	return Tags{TagContentHash: hash, TagDigest + "web": digest, TagPushedAt + "web": at.Format(time.RFC3339Nano)}
}

func TestReuse(t *testing.T) {
	ours := pushedTags("h-ours", "sha256:ours", t0)
	tests := map[string]struct {
		setup     func(f *fakeECS)
		known     bool // pass the family's latest as read already
		deep      bool
		wantFound int // revision number of web found, 0 for none
		wantCalls []string
	}{
		"a new family has nothing to reuse": {
			wantCalls: []string{"DescribeTaskDefinition"},
		},
		"the family's latest with this content is reused": {
			setup:     func(f *fakeECS) { f.add("web", pushedTags("h-ours", "sha256:ours", t0)) },
			wantFound: 1, wantCalls: []string{"DescribeTaskDefinition"},
		},
		"a latest read already saves the describe": {
			setup: func(f *fakeECS) { f.add("web", pushedTags("h-ours", "sha256:ours", t0)) },
			known: true, wantFound: 1,
		},
		"a latest with other, older content is not reused and no further look is taken": {
			setup: func(f *fakeECS) {
				f.add("web", pushedTags("h-ours", "sha256:ours", t0))
				f.add("web", pushedTags("h-old", "sha256:old", t0.Add(-time.Hour)))
			},
			wantCalls: []string{"DescribeTaskDefinition"},
		},
		"a deep look finds the content behind a newer revision": {
			setup: func(f *fakeECS) {
				f.add("web", pushedTags("h-ours", "sha256:ours", t0))
				f.add("web", pushedTags("h-old", "sha256:old", t0.Add(-time.Hour)))
			},
			deep: true, wantFound: 1,
			wantCalls: []string{"DescribeTaskDefinition", "ListTaskDefinitions", "DescribeTaskDefinition"},
		},
		"a latest deploying an image pushed after ours makes it look back (Behind)": {
			setup: func(f *fakeECS) {
				f.add("web", pushedTags("h-ours", "sha256:ours", t0))
				f.add("web", pushedTags("h-new", "sha256:new", t0.Add(time.Hour)))
			},
			wantFound: 1,
			wantCalls: []string{"DescribeTaskDefinition", "ListTaskDefinitions", "DescribeTaskDefinition"},
		},
		"a family sharing the prefix is never reused": {
			setup: func(f *fakeECS) {
				f.add("web-staging", pushedTags("h-ours", "sha256:ours", t0))
				f.add("web", pushedTags("h-new", "sha256:new", t0.Add(time.Hour)))
			},
			deep:      true,
			wantCalls: []string{"DescribeTaskDefinition", "ListTaskDefinitions"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			var latest *ecs.DescribeTaskDefinitionOutput
			if tc.known {
				latest = f.defs["web"][len(f.defs["web"])-1]
			}
			f.calls = nil
			r := Registrar{ECS: f}
			arn, found, err := r.Reuse(context.Background(), "web", "h-ours", ours, latest, tc.deep)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tc.wantFound > 0 {
				want = aws.ToString(f.defs["web"][tc.wantFound-1].TaskDefinition.TaskDefinitionArn)
			}
			if found != (tc.wantFound > 0) || arn != want {
				t.Errorf("Reuse = %q %v, want %q", arn, found, want)
			}
			if diff := cmp.Diff(tc.wantCalls, f.calls); diff != "" {
				t.Errorf("ECS calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBehind(t *testing.T) {
	ours := pushedTags("h", "sha256:ours", t0)
	tests := map[string]struct {
		latest Tags
		want   bool
	}{
		"a latest with an image pushed after ours is ahead":      {pushedTags("x", "sha256:new", t0.Add(time.Second)), true},
		"one pushed in the same instant with another digest too": {pushedTags("x", "sha256:new", t0), true},
		"one pushed before ours is not":                          {pushedTags("x", "sha256:old", t0.Add(-time.Second)), false},
		"one with our digest is not":                             {pushedTags("x", "sha256:ours", t0.Add(time.Hour)), false},
		"one that records no push time is not":                   {Tags{TagContentHash: "x"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Behind(ours, tc.latest); got != tc.want {
				t.Errorf("Behind = %v, want %v", got, tc.want)
			}
		})
	}
}

func rendered(t *testing.T) *taskdef.Rendered {
	t.Helper()
	r, err := taskdef.Render([]byte(`{"family":"web","tags":[{"key":"team","value":"payments"},{"key":"deckhand:binding","value":"template"}],
		"containerDefinitions":[{"name":"web","image":"{{ .Image }}"}]}`),
		taskdef.Data{Account: "123456789012", Region: "us-west-2", Cluster: "prod", Service: "web", Primary: "web",
			Images: map[string]taskdef.Image{"web": {Registry: "123456789012.dkr.ecr.us-west-2.amazonaws.com", Repository: "web", Digest: "sha256:ours"}}},
		taskdef.Options{Key: "web.json"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEnsure is register-or-reuse as a whole (rules 7 and 8's register):
// RegisterTaskDefinition is never retried blindly.
func TestEnsure(t *testing.T) {
	tests := map[string]struct {
		fail, failAfter func(op string, n int) error
		wantRegisters   int
		wantRevisions   int
		wantSleeps      []time.Duration
		wantErr         bool
	}{
		"a new revision is registered once": {wantRegisters: 1, wantRevisions: 1},
		"a 5xx after the write reuses the written revision": {
			failAfter:     func(op string, n int) error { return whenNth(n, 1, apiErr("ServerException", "boom")) },
			wantRegisters: 1, wantRevisions: 1, wantSleeps: []time.Duration{200 * time.Millisecond},
		},
		"throttled registers back off and succeed": {
			fail: func(op string, n int) error {
				return whenOp(op, "RegisterTaskDefinition", whenNth(n, 1, apiErr("ThrottlingException", "slow down")))
			},
			wantRegisters: 2, wantRevisions: 1, wantSleeps: []time.Duration{200 * time.Millisecond},
		},
		"persistent throttling gives up after the attempts": {
			fail: func(op string, n int) error {
				return whenOp(op, "RegisterTaskDefinition", apiErr("ThrottlingException", "slow down"))
			},
			wantRegisters: 3, wantSleeps: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}, wantErr: true,
		},
		"a permanent error is not retried": {
			fail: func(op string, n int) error {
				return whenOp(op, "RegisterTaskDefinition", apiErr("ClientException", "Invalid family"))
			},
			wantRegisters: 1, wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.fail, f.failAfter = tc.fail, tc.failAfter
			s := &sleeps{}
			mem := &Memory{}
			r := Registrar{ECS: f, Pacer: Pacer{Sleep: s.sleep, Now: func() time.Time { return t0 }}, Limit: rate.NewLimiter(rate.Inf, 1), Memory: mem}
			rd := rendered(t)
			arn, err := r.Ensure(context.Background(), Want{Rendered: rd, Tags: Tags{TagBinding: "web", TagContentHash: rd.Hash}})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Ensure = %q, %v; want error %v", arn, err, tc.wantErr)
			}
			if got := f.count("RegisterTaskDefinition"); got != tc.wantRegisters {
				t.Errorf("RegisterTaskDefinition called %d times, want %d", got, tc.wantRegisters)
			}
			if got := len(f.defs["web"]); got != tc.wantRevisions && !tc.wantErr {
				t.Errorf("family web has %d revisions, want %d", got, tc.wantRevisions)
			}
			if diff := cmp.Diff(tc.wantSleeps, s.waited); diff != "" {
				t.Errorf("backoff (-want +got):\n%s", diff)
			}
			if tc.wantErr {
				if mem.Last("web") != nil {
					t.Error("a failed register is still remembered as the family's latest")
				}
				return
			}
			if arn != aws.ToString(f.defs["web"][0].TaskDefinition.TaskDefinitionArn) {
				t.Errorf("Ensure = %s, want the one revision", arn)
			}
			got := TagsOf(f.defs["web"][0].Tags)
			if got["team"] != "payments" || got[TagBinding] != "web" || got[TagContentHash] != rd.Hash {
				t.Errorf("revision tags %v: want the template's own, with Deckhand's winning", got)
			}
		})
	}
}

func TestEnsureRemembersWhatItRegistered(t *testing.T) {
	f := newFake()
	mem := &Memory{}
	r := Registrar{ECS: f, Memory: mem}
	rd := rendered(t)
	arn, err := r.Ensure(context.Background(), Want{Rendered: rd, Tags: Tags{TagContentHash: rd.Hash}})
	if err != nil {
		t.Fatal(err)
	}
	last := mem.Last("web")
	if last == nil || aws.ToString(last.TaskDefinition.TaskDefinitionArn) != arn || TagsOf(last.Tags)[TagContentHash] != rd.Hash {
		t.Fatalf("memory = %+v, want the registered revision %s with its tags", last, arn)
	}
	// Another process registers other content; reusing it forgets ours.
	other := f.add("web", Tags{TagContentHash: "h-other"})
	mem.forgetUnlessLatest("web", other)
	if mem.Last("web") != nil {
		t.Error("the memory still names a revision that is no longer the family's latest")
	}
}

func TestEnsureWaitsForARegisterToken(t *testing.T) {
	f := newFake()
	s := &sleeps{}
	lim := rate.NewLimiter(1, 1)
	lim.AllowN(t0, 1) // the bucket is empty
	r := Registrar{ECS: f, Pacer: Pacer{Sleep: s.sleep, Now: func() time.Time { return t0 }}, Limit: lim}
	rd := rendered(t)
	if _, err := r.Ensure(context.Background(), Want{Rendered: rd, Tags: Tags{TagContentHash: rd.Hash}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, s.waited); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	s.waited = nil
	rd.Hash = "another"
	if _, err := r.Ensure(context.Background(), Want{Rendered: rd, Tags: Tags{TagContentHash: "another"}, Paced: true}); err != nil {
		t.Fatal(err)
	}
	if len(s.waited) != 0 {
		t.Errorf("a caller holding the token waited %v again", s.waited)
	}
}

func whenNth(n, want int, err error) error {
	if n == want {
		return err
	}
	return nil
}

func whenOp(op, want string, err error) error {
	if op == want {
		return err
	}
	return nil
}
