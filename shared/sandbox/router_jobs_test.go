package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// stubRunner records the invocations it is handed, per message group,
// fails those whose job is "flaky" on their first receive, and notes when
// two batches of one group were in its hands at once.
type stubRunner struct {
	mu         sync.Mutex
	seen       []string // job@scheduledTime#receiveCount
	busy       map[string]bool
	concurrent []string
}

func (s *stubRunner) handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	groups := map[string]bool{}
	for _, rec := range ev.Records {
		groups[rec.Attributes["MessageGroupId"]] = true
	}
	s.mu.Lock()
	for g := range groups {
		if s.busy[g] {
			s.concurrent = append(s.concurrent, g)
		}
		s.busy[g] = true
	}
	s.mu.Unlock()
	runtime.Gosched() // let another poller run while this batch is held
	var resp events.SQSEventResponse
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range ev.Records {
		var inv struct{ Job, ScheduledTime string }
		if err := json.Unmarshal([]byte(rec.Body), &inv); err != nil {
			return resp, err
		}
		n := rec.Attributes["ApproximateReceiveCount"]
		s.seen = append(s.seen, fmt.Sprintf("%s@%s#%s", inv.Job, inv.ScheduledTime[11:16], n))
		if inv.Job == "flaky" && n == "1" {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	for g := range groups {
		s.busy[g] = false
	}
	return resp, nil
}

// TestRouterDeliversSchedulesThroughTheJobQueue: Schedule sends as
// Scheduler's FIFO target does (same content within five minutes is
// dropped), the runner gets each job's invocations in order, and a failed
// message is redelivered after the visibility timeout.
func TestRouterDeliversSchedulesThroughTheJobQueue(t *testing.T) {
	c := start(t)
	s := &stubRunner{busy: map[string]bool{}}
	r, err := sandbox.NewRouter(c.sb, sandbox.RouterConfig{Runner: lambda.NewHandler(s.handle)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	for _, sch := range []struct {
		job string
		at  time.Time
	}{{"report", at}, {"report", at}, {"flaky", at}, {"report", at.Add(15 * time.Minute)}} {
		if err := r.Schedule(sch.job, sch.at); err != nil {
			t.Fatal(err)
		}
	}
	st, err := r.PumpJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"report@03:00#1", "flaky@03:00#1", "report@03:15#1"}
	if diff := cmp.Diff(want, s.seen); diff != "" {
		t.Errorf("runner saw (-want +got):\n%s", diff)
	}
	if st.RunnerItemFailures != 1 {
		t.Errorf("item failures = %d, want 1", st.RunnerItemFailures)
	}
	c.sb.Clock().Advance(31 * time.Second)
	if _, err := r.Pump(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(want, "flaky@03:00#2"), s.seen); diff != "" {
		t.Errorf("after the visibility timeout the runner saw (-want +got):\n%s", diff)
	}
	if n := len(r.JobDLQ()); n != 0 {
		t.Errorf("job DLQ holds %d messages, want none", n)
	}
}

// TestConcurrentPollersNeverShareAGroup pumps the job queue from several
// goroutines, as Lambda's pollers do: one job's batches never overlap.
func TestConcurrentPollersNeverShareAGroup(t *testing.T) {
	c := start(t)
	s := &stubRunner{busy: map[string]bool{}}
	r, err := sandbox.NewRouter(c.sb, sandbox.RouterConfig{Runner: lambda.NewHandler(s.handle), BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if err := r.Schedule([]string{"a", "b", "c"}[i%3], at.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for range 4 {
		wg.Go(func() {
			if _, err := r.PumpJobs(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(s.seen) != 40 || len(s.concurrent) > 0 {
		t.Errorf("runner saw %d invocations (want 40); groups in two batches at once: %v", len(s.seen), s.concurrent)
	}
}
