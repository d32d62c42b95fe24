package deploy

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// countingSource counts manifest reads.
type countingSource struct {
	*fakeSource
	reads atomic.Int32
}

func (s *countingSource) Manifest(ctx context.Context) (*manifest.Manifest, error) {
	s.reads.Add(1)
	return s.fakeSource.Manifest(ctx)
}

// partsWorld is the test world whose web binding (message group "proxy":
// web and proxy are one repository group) has a manifest part of its own.
func partsWorld() (*world, *countingSource, *countingSource) {
	w := newWorld()
	whole := &countingSource{fakeSource: w.src}
	webOnly := testManifest[:strings.Index(testManifest, "  - name: api")]
	part := &countingSource{fakeSource: &fakeSource{manifest: webOnly, templates: w.src.templates}}
	w.engine.Source = whole
	w.engine.Parts = func(group string) store.Source {
		if group == "proxy" {
			return part
		}
		return whole // a group without a part reads the whole (store.Parts)
	}
	return w, whole, part
}

func inGroup(p Push, group string) Push {
	p.Group = group
	return p
}

// TestABatchOfOneGroupIsDecidedFromItsPart: the deployer reads its
// group's part of the manifest and never the whole; a push the part does
// not bind (a message sent before an upload regrouped its repository) is
// decided from the whole manifest; a direct invocation, from the whole.
func TestABatchOfOneGroupIsDecidedFromItsPart(t *testing.T) {
	tests := map[string]struct {
		push              Push
		wantWhole, wantPt int32
	}{
		"a push of the part's group":       {push: inGroup(push("web", "1.1.0", digestA, 0), "proxy"), wantPt: 1},
		"a push the part does not bind":    {push: inGroup(push("api", "2", digestB, 0), "proxy"), wantPt: 1, wantWhole: 1},
		"a direct invocation (no group)":   {push: push("web", "1.1.0", digestA, 0), wantWhole: 1},
		"a push of a group without a part": {push: inGroup(push("api", "2", digestB, 0), "api"), wantWhole: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, whole, part := partsWorld()
			out := w.deploy(t, tc.push)
			if len(out) != 1 || out[0].Event.Status != events.StatusStarted {
				t.Fatalf("outcomes %+v, want one STARTED", statuses(out))
			}
			if got := [2]int32{whole.reads.Load(), part.reads.Load()}; got != [2]int32{tc.wantWhole, tc.wantPt} {
				t.Errorf("manifest reads (whole, part) = %v, want %v", got, [2]int32{tc.wantWhole, tc.wantPt})
			}
		})
	}
}

// TestTheHandlerDecidesEachGroupFromItsPart: a batch spanning two message
// groups (Lambda may hand one over) is decided group by group, each from
// its own source.
func TestTheHandlerDecidesEachGroupFromItsPart(t *testing.T) {
	w, whole, part := partsWorld()
	h := &Handler{Engine: w.engine}
	ev := events.SQSEvent{}
	for _, r := range []struct{ repo, tag, digest, group string }{{"web", "1.1.0", digestA, "proxy"}, {"api", "2", digestB, "api"}} {
		raw := imageEvent(t, r.repo, r.tag, r.digest)
		rec := events.WrapSQS("arn:aws:sqs:us-west-2:123456789012:deploy.fifo", r.group, raw).Records[0]
		rec.MessageId = "msg-" + r.repo
		ev.Records = append(ev.Records, rec)
	}
	resp, err := h.HandleSQS(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("HandleSQS: %+v, %v", resp, err)
	}
	want := map[string][]events.DeploymentStatus{"web": {events.StatusStarted}, "api": {events.StatusStarted}}
	if diff := cmp.Diff(want, emittedByBinding(w)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if whole.reads.Load() != 1 || part.reads.Load() != 1 {
		t.Errorf("manifest reads: whole %d, part %d; want one each (api's group has no part)", whole.reads.Load(), part.reads.Load())
	}
}

// imageEvent is the ECR Image Action event of a push to repo.
func imageEvent(t *testing.T, repo, tag, digest string) []byte {
	t.Helper()
	raw, err := json.Marshal(events.ImageActionEvent{
		Version: "0", ID: "ev-" + repo, DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
		Account: account, Region: region, Time: t0, Resources: []string{},
		Detail: events.ECRImageAction{Result: events.ResultSuccess, ActionType: events.ActionPush, RepositoryName: repo, ImageDigest: digest, ImageTag: tag},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// emittedByBinding are the emitted events' statuses by binding.
func emittedByBinding(w *world) map[string][]events.DeploymentStatus {
	out := map[string][]events.DeploymentStatus{}
	for _, e := range w.events.evs {
		d := e.Detail.(events.DeploymentStateChange)
		out[d.Binding] = append(out[d.Binding], d.Status)
	}
	return out
}
