package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

const testManifest = `
version: 1
services:
  - name: web
    cluster: prod
    service: web
    template: t.json
    images:
      web:   { repository: web,   tags: "semver:>=1.0.0 <2.0.0" }
      proxy: { repository: proxy, tags: "glob:stable-*" }
  - name: api
    cluster: prod
    service: api
    template: t.json
    images:
      proxy: { repository: proxy, tags: "glob:stable-*" }
`

var now = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

type fakeSource struct{ m *manifest.Manifest }

func (s fakeSource) Manifest(context.Context) (*manifest.Manifest, error) { return s.m, nil }
func (s fakeSource) Template(context.Context, string) (store.Template, error) {
	return store.Template{}, store.ErrNotFound
}

// fakeECS serves services and their revisions from maps.
type fakeECS struct {
	services map[string]ecstypes.Service                  // by service name
	revs     map[string]*ecs.DescribeTaskDefinitionOutput // by task definition (a family: its latest)
	tagged   []ecstypes.Tag
}

func (f *fakeECS) TagResource(_ context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	f.tagged = append(f.tagged, in.Tags...)
	for name, s := range f.services {
		if aws.ToString(s.ServiceArn) == aws.ToString(in.ResourceArn) {
			s.Tags = append(s.Tags, in.Tags...)
			f.services[name] = s
		}
	}
	return &ecs.TagResourceOutput{}, nil
}

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out := &ecs.DescribeServicesOutput{}
	for _, name := range in.Services {
		if s, ok := f.services[name]; ok {
			out.Services = append(out.Services, s)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(name), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return f.revs[aws.ToString(in.TaskDefinition)], nil
}

type fakeECR struct {
	images map[string][]ecrtypes.ImageDetail
}

func (f *fakeECR) DescribeImages(_ context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	return &ecr.DescribeImagesOutput{ImageDetails: f.images[aws.ToString(in.RepositoryName)]}, nil
}

type fakeSQS struct{ sent []*sqs.SendMessageInput }

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String("m")}, nil
}

type fakeJobs struct{ stopped []string }

func (f *fakeJobs) StopOverdue(context.Context, *manifest.Manifest) ([]string, error) {
	return f.stopped, nil
}

func img(repo, tag, digest string, pushed time.Time) ecrtypes.ImageDetail {
	return ecrtypes.ImageDetail{RegistryId: aws.String("123456789012"), RepositoryName: aws.String(repo), ImageTags: []string{tag},
		ImageDigest: aws.String(digest), ImagePushedAt: aws.Time(pushed)}
}

func tags(kv ...string) []ecstypes.Tag {
	var out []ecstypes.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, ecstypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// registered is a Deckhand-registered revision running the given digests.
func registered(containers map[string]string, pushed time.Time) *ecs.DescribeTaskDefinitionOutput {
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{}}
	for _, c := range slices.Sorted(maps.Keys(containers)) {
		out.TaskDefinition.ContainerDefinitions = append(out.TaskDefinition.ContainerDefinitions, ecstypes.ContainerDefinition{
			Name: aws.String(c), Image: aws.String("123456789012.dkr.ecr.us-east-1.amazonaws.com/" + c + "@" + containers[c])})
		out.Tags = append(out.Tags, tags("deckhand:digest:"+c, containers[c], "deckhand:pushed-at:"+c, pushed.Format(time.RFC3339Nano))...)
	}
	return out
}

func service(name, td string, extra ...ecstypes.Tag) ecstypes.Service {
	return ecstypes.Service{ServiceName: aws.String(name), Status: aws.String("ACTIVE"), TaskDefinition: aws.String(td),
		Deployments: []ecstypes.Deployment{{Status: aws.String("PRIMARY"), TaskDefinition: aws.String(td)}}, Tags: extra}
}

func TestRun(t *testing.T) {
	old := now.Add(-48 * time.Hour)
	ecrImages := map[string][]ecrtypes.ImageDetail{
		"web":   {img("web", "1.4.0", dg("web140"), old), img("web", "1.5.0", dg("web150"), now.Add(-time.Hour)), img("web", "2.0.0", dg("web200"), now)},
		"proxy": {img("proxy", "stable-1", dg("proxy1"), old)},
	}
	upToDate := &fakeECS{
		services: map[string]ecstypes.Service{"web": service("web", "web:5"), "api": service("api", "api:2")},
		revs: map[string]*ecs.DescribeTaskDefinitionOutput{
			"web:5": registered(map[string]string{"web": dg("web150"), "proxy": dg("proxy1")}, old),
			"api:2": registered(map[string]string{"proxy": dg("proxy1")}, old),
		},
	}
	webBehind := &fakeECS{
		services: map[string]ecstypes.Service{"web": service("web", "web:4"), "api": service("api", "api:2")},
		revs: map[string]*ecs.DescribeTaskDefinitionOutput{
			"web:4": registered(map[string]string{"web": dg("web140"), "proxy": dg("proxy1")}, old),
			"api:2": registered(map[string]string{"proxy": dg("proxy1")}, old),
		},
	}
	tests := map[string]struct {
		ecs          *fakeECS
		ecr          map[string][]ecrtypes.ImageDetail
		wantEnqueued []string // repository:tag
		wantHeld     []string
		wantSkipped  []string
		wantBehind   map[string][]string
	}{
		"services on the newest eligible images enqueue nothing": {ecs: upToDate, ecr: ecrImages},
		"a service behind ECR gets one synthetic push": {
			ecs: webBehind, ecr: ecrImages,
			wantEnqueued: []string{"web:1.5.0"}, wantBehind: map[string][]string{"web": {"web"}},
		},
		"a held service is left alone": {
			ecs: &fakeECS{
				services: map[string]ecstypes.Service{"web": service("web", "web:4", tags(revision.TagHold, "incident 42")...), "api": service("api", "api:2")},
				revs:     webBehind.revs,
			},
			ecr: ecrImages, wantHeld: []string{"web"},
		},
		"two bindings behind on one repository share one push": {
			ecs: &fakeECS{
				services: map[string]ecstypes.Service{"web": service("web", "web:5"), "api": service("api", "api:2")},
				revs: map[string]*ecs.DescribeTaskDefinitionOutput{
					"web:5": registered(map[string]string{"web": dg("web150"), "proxy": dg("proxy0")}, old.Add(-time.Hour)),
					"api:2": registered(map[string]string{"proxy": dg("proxy0")}, old.Add(-time.Hour)),
				},
			},
			ecr: ecrImages, wantEnqueued: []string{"proxy:stable-1"},
			wantBehind: map[string][]string{"web": {"proxy"}, "api": {"proxy"}},
		},
		"an image pushed before the running high-water mark is not a missed push": {
			ecs: &fakeECS{
				services: map[string]ecstypes.Service{"web": service("web", "web:6"), "api": service("api", "api:2")},
				revs: map[string]*ecs.DescribeTaskDefinitionOutput{
					"web:6": registered(map[string]string{"web": dg("hotfix"), "proxy": dg("proxy1")}, now),
					"api:2": registered(map[string]string{"proxy": dg("proxy1")}, old),
				},
			},
			ecr: ecrImages,
		},
		"a lower version pushed after a higher one is caught up": {
			ecs: &fakeECS{
				services: map[string]ecstypes.Service{"web": service("web", "web:5"), "api": service("api", "api:2")},
				revs: map[string]*ecs.DescribeTaskDefinitionOutput{
					"web:5": registered(map[string]string{"web": dg("web150"), "proxy": dg("proxy1")}, now.Add(-time.Hour)),
					"api:2": registered(map[string]string{"proxy": dg("proxy1")}, old),
				},
			},
			ecr: map[string][]ecrtypes.ImageDetail{
				"web":   append(append([]ecrtypes.ImageDetail{}, ecrImages["web"]...), img("web", "1.4.1", dg("web141"), now.Add(-time.Minute))),
				"proxy": ecrImages["proxy"],
			},
			wantEnqueued: []string{"web:1.4.1"}, wantBehind: map[string][]string{"web": {"web"}},
		},
		"a pushed-at mark in 2099 does not hide a newer image (issue 10.3)": {
			ecs: &fakeECS{
				services: map[string]ecstypes.Service{"web": service("web", "web:9"), "api": service("api", "api:2")},
				revs: map[string]*ecs.DescribeTaskDefinitionOutput{
					"web:9": registered(map[string]string{"web": dg("web140"), "proxy": dg("proxy1")}, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)),
					"api:2": registered(map[string]string{"proxy": dg("proxy1")}, old),
				},
			},
			ecr: ecrImages, wantEnqueued: []string{"web:1.5.0"}, wantBehind: map[string][]string{"web": {"web"}},
		},
		"a missing service is skipped and named": {
			ecs: &fakeECS{services: map[string]ecstypes.Service{"api": service("api", "api:2")}, revs: upToDate.revs},
			ecr: ecrImages, wantSkipped: []string{"web"},
		},
		"a repository without eligible images is skipped": {
			ecs: upToDate, ecr: map[string][]ecrtypes.ImageDetail{"proxy": ecrImages["proxy"]},
			wantSkipped: []string{"web"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := manifest.Parse("m.yaml", []byte(testManifest))
			if err != nil {
				t.Fatal(err)
			}
			q := &fakeSQS{}
			r := &Reconciler{ECS: tc.ecs, ECR: &fakeECR{images: tc.ecr}, Queue: &queue.FIFO{Client: q, URL: "https://sqs/q.fifo"}, Source: fakeSource{m}, Jobs: &fakeJobs{},
				Region: "us-east-1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}
			rep, err := r.Run(context.Background())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			var got []string
			for _, in := range q.sent {
				ev, err := events.DecodeImageAction([]byte(aws.ToString(in.MessageBody)))
				if err != nil {
					t.Fatalf("enqueued body is not an ECR Image Action: %v", err)
				}
				d := ev.Detail
				got = append(got, d.RepositoryName+":"+d.ImageTag)
				group, _ := m.GroupOf(d.RepositoryName)
				if aws.ToString(in.MessageGroupId) != group {
					t.Errorf("group = %q, want %q", aws.ToString(in.MessageGroupId), group)
				}
				if !strings.HasPrefix(ev.ID, IDPrefix) || aws.ToString(in.MessageDeduplicationId) != ev.ID {
					t.Errorf("id %q / dedup id %q: want the same reconcile- id", ev.ID, aws.ToString(in.MessageDeduplicationId))
				}
				if d.ActionType != events.ActionPush || d.Result != events.ResultSuccess || d.ImageDigest == "" || ev.Time.IsZero() {
					t.Errorf("synthetic push %+v at %s is not a successful push with a digest and a time", d, ev.Time)
				}
			}
			if diff := cmp.Diff(tc.wantEnqueued, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("enqueued (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantHeld, rep.Held, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("held (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSkipped, slices.Sorted(maps.Keys(rep.Skipped)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("skipped (-want +got):\n%s (%v)", diff, rep.Skipped)
			}
			if diff := cmp.Diff(tc.wantBehind, rep.Behind, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("behind (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunTwiceUsesTheSameDeduplicationID(t *testing.T) {
	m, _ := manifest.Parse("m.yaml", []byte(testManifest))
	f := &fakeECS{
		services: map[string]ecstypes.Service{"web": service("web", "web:4"), "api": service("api", "api:2")},
		revs: map[string]*ecs.DescribeTaskDefinitionOutput{
			"web:4": registered(map[string]string{"web": dg("a"), "proxy": dg("p")}, now.Add(-time.Hour)),
			"api:2": registered(map[string]string{"proxy": dg("p")}, now.Add(-time.Hour)),
		},
	}
	q := &fakeSQS{}
	r := &Reconciler{ECS: f, ECR: &fakeECR{images: map[string][]ecrtypes.ImageDetail{
		"web": {img("web", "1.1.0", dg("b"), now)}, "proxy": {img("proxy", "stable-1", dg("p"), now.Add(-2*time.Hour))}}},
		Queue: &queue.FIFO{Client: q, URL: "q"}, Source: fakeSource{m}, Region: "us-east-1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for range 2 {
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(q.sent) != 2 || aws.ToString(q.sent[0].MessageDeduplicationId) != aws.ToString(q.sent[1].MessageDeduplicationId) {
		t.Fatalf("two passes sent %d messages; want 2 with one deduplication id", len(q.sent))
	}
}

func TestRunStopsOverdueJobs(t *testing.T) {
	m, _ := manifest.Parse("m.yaml", []byte("version: 1\n"))
	r := &Reconciler{ECS: &fakeECS{}, ECR: &fakeECR{}, Queue: &queue.FIFO{Client: &fakeSQS{}}, Source: fakeSource{m}, Jobs: &fakeJobs{stopped: []string{"arn:task/1"}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"arn:task/1"}, rep.TimedOut); diff != "" {
		t.Errorf("timed out (-want +got):\n%s", diff)
	}
}

// dg is a digest in ECR's form (sha256: and 64 hex digits) named by s, so the
// synthetic pushes decode as real ones.
func dg(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestARollbackWithoutItsMarkIsNotEnqueuedAndTheMarkIsRepaired is issue 10
// item 2 (b): the tracker could not tag the service after a rollback; the
// reconciler sees from ECS that the service was moved back off Deckhand's
// newest revision, does not enqueue its image again, and writes the mark.
func TestARollbackWithoutItsMarkIsNotEnqueuedAndTheMarkIsRepaired(t *testing.T) {
	m, _ := manifest.Parse("m.yaml", []byte(testManifest))
	old := now.Add(-48 * time.Hour)
	bad := registered(map[string]string{"web": dg("web150"), "proxy": dg("proxy1")}, now.Add(-time.Hour))
	bad.TaskDefinition.TaskDefinitionArn = aws.String("web:5")
	bad.TaskDefinition.RegisteredAt = aws.Time(now.Add(-30 * time.Minute))
	bad.Tags = append(bad.Tags, tags(revision.TagBinding, "web", revision.TagChanged, "web")...)
	web := service("web", "web:4")
	web.ServiceArn = aws.String("arn:aws:ecs:us-east-1:123456789012:service/prod/web")
	web.Deployments[0].CreatedAt = aws.Time(now.Add(-20 * time.Minute)) // the rollback, after web:5 was registered
	f := &fakeECS{
		services: map[string]ecstypes.Service{"web": web, "api": service("api", "api:2")},
		revs: map[string]*ecs.DescribeTaskDefinitionOutput{
			"web:4": registered(map[string]string{"web": dg("web140"), "proxy": dg("proxy1")}, old),
			"web:5": bad, "web": bad,
			"api:2": registered(map[string]string{"proxy": dg("proxy1")}, old),
		},
	}
	q := &fakeSQS{}
	r := &Reconciler{ECS: f, ECR: &fakeECR{images: map[string][]ecrtypes.ImageDetail{
		"web": {img("web", "1.4.0", dg("web140"), old), img("web", "1.5.0", dg("web150"), now.Add(-time.Hour))}, "proxy": {img("proxy", "stable-1", dg("proxy1"), old)}}},
		Queue: &queue.FIFO{Client: q, URL: "q"}, Source: fakeSource{m}, Region: "us-east-1", Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	for pass := range 2 {
		rep, err := r.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(q.sent) != 0 || !strings.Contains(rep.Skipped["web"], "was rolled back") {
			t.Errorf("pass %d: enqueued %d, skipped %v; want the rolled-back image skipped", pass, len(q.sent), rep.Skipped)
		}
	}
	want := []ecstypes.Tag{{Key: aws.String(revision.TagRolledBack + "web"), Value: aws.String(dg("web150"))}}
	if diff := cmp.Diff(want, f.tagged, cmpopts.IgnoreUnexported(ecstypes.Tag{})); diff != "" {
		t.Errorf("marks written over two passes (-want +got):\n%s", diff)
	}
}
