package track

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

func noSleep(context.Context, time.Duration) error { return nil }

// TestARollbackSticksWhenTaggingIsThrottled is issue 10 item 2 (a): a
// throttled TagResource is retried with backoff, and ROLLED_BACK goes out
// once, after the mark is written.
func TestARollbackSticksWhenTaggingIsThrottled(t *testing.T) {
	f := &fakeECS{ours: true, latest: rev7, rollback: true, tagFails: 2}
	rec := &recorder{}
	var slept []time.Duration
	d := &Deployments{ECS: f, Events: rec, Pacer: revision.Pacer{Sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}}}
	if _, err := lambda.NewHandler((&Handler{Deployments: d}).Handle).Invoke(context.Background(), fixture(t, "ecs-deployment-state-change-failed.json")); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if f.tagCalls != 3 || len(f.tagged) != 1 || len(slept) != 2 || slept[1] <= slept[0] {
		t.Errorf("TagResource calls %d, marks %v, backoff %v; want 3 calls, one mark, growing waits", f.tagCalls, f.tagged, slept)
	}
	if len(rec.evs) != 1 || rec.evs[0].Status != events.StatusRolledBack {
		t.Errorf("verdicts %+v, want one ROLLED_BACK", rec.evs)
	}
}

// TestAFailureToRecordARollbackAsksForTheEventAgain: when TagResource
// still fails after the retries, the event is an error (Lambda retries it,
// then its DLQ keeps it) and no ROLLED_BACK is emitted; the retry records
// and reports it, once.
func TestAFailureToRecordARollbackAsksForTheEventAgain(t *testing.T) {
	f := &fakeECS{ours: true, latest: rev7, rollback: true, tagFails: 3}
	rec := &recorder{}
	h := lambda.NewHandler((&Handler{Deployments: &Deployments{ECS: f, Events: rec, Pacer: revision.Pacer{Sleep: noSleep}}}).Handle)
	var errs []bool
	for range 3 {
		_, err := h.Invoke(context.Background(), fixture(t, "ecs-deployment-state-change-failed.json"))
		errs = append(errs, err != nil)
	}
	if diff := cmp.Diff([]bool{true, false, false}, errs); diff != "" {
		t.Errorf("errors per delivery (-want +got):\n%s", diff)
	}
	var got []events.DeploymentStatus
	for _, e := range rec.evs {
		got = append(got, e.Status)
	}
	if diff := cmp.Diff([]events.DeploymentStatus{events.StatusRolledBack}, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if len(f.tagged) != 1 {
		t.Errorf("marks written %v, want one", f.tagged)
	}
}

// TestASecondRollbackKeepsTheFirstDigestMarked: the service's mark names
// the digests of earlier rollbacks; the tracker puts this rollback's digest
// first and keeps the others (at most revision.MaxRolledBack), so a
// redelivered push of an image rolled back before the last one is not
// deployed again either (the chaos suite found it: two broken images in a
// row, then the first delivered again after FIFO's deduplication window).
func TestASecondRollbackKeepsTheFirstDigestMarked(t *testing.T) {
	const (
		earlier = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		oldest  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		evicted = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	)
	tests := map[string]struct {
		before, want string
	}{
		"one earlier rollback":                         {before: earlier, want: digestWb + " " + earlier},
		"the oldest of too many is forgotten":          {before: earlier + " " + oldest + " " + evicted, want: digestWb + " " + earlier + " " + oldest},
		"a digest marked already is not written again": {before: earlier + " " + digestWb},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeECS{ours: true, latest: rev7, rollback: true, markedBefore: tc.before}
			h := lambda.NewHandler((&Handler{Deployments: &Deployments{ECS: f, Events: &recorder{}, Pacer: revision.Pacer{Sleep: noSleep}}}).Handle)
			if _, err := h.Invoke(context.Background(), fixture(t, "ecs-deployment-state-change-failed.json")); err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			got := map[string]string{}
			for _, tg := range f.tagged {
				got[*tg.Key] = *tg.Value
			}
			want := map[string]string{}
			if tc.want != "" {
				want[revision.TagRolledBack+"web"] = tc.want
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("marks written (-want +got):\n%s", diff)
			}
		})
	}
}
