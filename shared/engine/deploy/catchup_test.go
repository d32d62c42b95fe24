package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// fakeECR serves DescribeImages from memory.
type fakeECR struct {
	mu     sync.Mutex
	images map[string][]ecrtypes.ImageDetail
	calls  int
	err    error
}

func (f *fakeECR) DescribeImages(_ context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	all := f.images[aws.ToString(in.RepositoryName)]
	if len(in.ImageIds) == 0 {
		return &ecr.DescribeImagesOutput{ImageDetails: all}, nil
	}
	out := &ecr.DescribeImagesOutput{}
	for _, id := range in.ImageIds {
		i := slices.IndexFunc(all, func(d ecrtypes.ImageDetail) bool { return aws.ToString(d.ImageDigest) == aws.ToString(id.ImageDigest) })
		if i < 0 {
			return nil, apiErr("ImageNotFoundException")
		}
		out.ImageDetails = append(out.ImageDetails, all[i])
	}
	return out, nil
}

func (f *fakeECR) add(repo, tag, digest string, at time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.images == nil {
		f.images = map[string][]ecrtypes.ImageDetail{}
	}
	f.images[repo] = append(f.images[repo], ecrtypes.ImageDetail{
		RepositoryName: aws.String(repo), ImageDigest: aws.String(digest), ImageTags: []string{tag}, ImagePushedAt: aws.Time(t0.Add(at)),
	})
}

// burstingWorld is a world whose register bucket is nearly spent, as in a
// burst, with ECR holding pushes whose events have not arrived yet.
func burstingWorld(t *testing.T) (*world, *fakeECR) {
	w := newWorld()
	f := &fakeECR{}
	w.engine.ECR = f
	w.engine.RegisterLimit = rate.NewLimiter(revision.RegisterRate, revision.RegisterBurst)
	if !w.engine.RegisterLimit.AllowN(w.engine.Now(), revision.RegisterBurst-2) {
		t.Fatal("could not drain the register bucket")
	}
	f.add("web", "1.4.0", digestA, 0)
	f.add("web", "1.5.0", digestB, time.Minute)
	f.add("web", "3.0.0", digestC, 2*time.Minute) // outside the policy (<2.0.0)
	f.add("web", "nightly", "sha256:dddd", 3*time.Minute)
	return w, f
}

func TestCatchUpDeploysTheNewestEligibleImageDuringABurst(t *testing.T) {
	w, f := burstingWorld(t)
	out := w.deploy(t, push("web", "1.4.0", digestA, 0))
	if out[0].Event.Status != events.StatusStarted {
		t.Fatalf("outcome = %+v", out[0])
	}
	if f.calls == 0 {
		t.Fatal("no DescribeImages call during a burst")
	}
	if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestB {
		t.Errorf("web runs %s, want 1.5.0 (%s): the newest image the policy accepts", got, digestB)
	}
	if ch := out[0].Event.Containers["web"]; ch.NewDigest != digestB || ch.NewTag != "1.5.0" || ch.PushedDigest != digestA || ch.PushedTag != "1.4.0" {
		t.Errorf("event container = %+v, want the image actually deployed", ch)
	}
	if !strings.Contains(out[0].Event.Reason, "caught up from 1.4.0 to 1.5.0") {
		t.Errorf("reason %q does not say it caught up", out[0].Event.Reason)
	}
	tags := revision.TagsOf(w.ecs.running("prod", "web").Tags)
	if tags[revision.TagDigest+"web"] != digestB || tags[revision.TagImageTag+"web"] != "1.5.0" || tags[revision.TagPushedAt+"web"] != "2026-11-16T01:01:00Z" {
		t.Errorf("revision tags describe the push, not the deployed image: %v", tags)
	}
	// The skipped and the deployed image's own events arrive later.
	got := map[events.DeploymentStatus]bool{}
	for _, p := range []Push{push("web", "1.5.0", digestB, time.Minute), push("web", "1.4.1", "sha256:eeee", 30*time.Second)} {
		got[w.deploy(t, p)[0].Event.Status] = true
	}
	if !got[events.StatusAlreadyDeployed] || !got[events.StatusSuperseded] {
		t.Errorf("later events = %v, want ALREADY_DEPLOYED and SUPERSEDED", got)
	}
	if n := w.ecs.count("RegisterTaskDefinition"); n != 1 {
		t.Errorf("%d registers, want 1", n)
	}
}

func TestCatchUpLeavesThePushAlone(t *testing.T) {
	tests := map[string]func(t *testing.T, w *world, f *fakeECR){
		"when no register came before (no burst)": func(t *testing.T, w *world, f *fakeECR) {
			w.engine.RegisterLimit = rate.NewLimiter(revision.RegisterRate, revision.RegisterBurst)
		},
		"when ECR fails": func(t *testing.T, w *world, f *fakeECR) { f.err = errors.New("AccessDeniedException") },
		"when the newer image was rolled back by the circuit breaker": func(t *testing.T, w *world, f *fakeECR) {
			w.ecs.services["prod/web"].Tags = []types.Tag{{Key: aws.String(revision.TagRolledBack + "web"), Value: aws.String(digestB)}}
		},
		"for a forced manual deploy": func(t *testing.T, w *world, f *fakeECR) {},
	}
	for name, setup := range tests {
		t.Run(name, func(t *testing.T) {
			w, f := burstingWorld(t)
			setup(t, w, f)
			p := push("web", "1.4.0", digestA, 0)
			if strings.Contains(name, "forced") {
				p.Force, p.Trigger = true, events.TriggerManual
			}
			out := w.deploy(t, p)
			if out[0].Event.Status != events.StatusStarted {
				t.Fatalf("outcome = %+v", out[0])
			}
			if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestA {
				t.Errorf("web runs %s, want the pushed 1.4.0", got)
			}
			if strings.Contains(name, "no burst") && f.calls != 0 {
				t.Errorf("%d DescribeImages calls outside a burst", f.calls)
			}
		})
	}
}
