package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/jobstest"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// These end-to-end tests deliver schedules as the CDK app wires them:
// EventBridge Scheduler sends each invocation into the job FIFO queue
// (message group = the job) and the runner function consumes it.

// queued starts a world whose router hands the job queue to the runner
// function's own handler, logging into rec. The runner's ECS is eventually
// consistent: ListTasks leaves a new task out of its next two answers.
func queued(t *testing.T, rec *runLog) *jobstest.World {
	w := jobstest.Start(t)
	w.Logger = slog.New(rec)
	p := w.Parts()
	p.ECS = &jobstest.Lagging{ECS: p.ECS, Lag: func() int { return 2 }}
	w.Runner = lambda.NewHandler(handler(wire.Jobs(p)))
	return w
}

// TestConcurrentSchedulesRunOneAtATime fires, every ten virtual minutes,
// three schedules of one job with different scheduled times at once and in
// a shuffled order (Scheduler delivers concurrently and retries late),
// with three pollers on the job queue, while ListTasks lags behind
// RunTask. Each run lasts 25 minutes. At every
// moment of the virtual clock a forbid job has at most one active run, and
// a replace job at most one run not told to stop, replaced only by newer
// ones.
func TestConcurrentSchedulesRunOneAtATime(t *testing.T) {
	for _, job := range []string{"report", "warm"} {
		t.Run(job, func(t *testing.T) {
			rec := &runLog{}
			w := queued(t, rec)
			var digest string
			if job == "report" {
				digest = w.SB.PushImage("report", "1.0.0")
			} else {
				digest = w.CreateWebService("1.0.0")
			}
			w.SB.ECS().ScriptImage(digest, ecssim.TaskScript{RunFor: 25 * time.Minute})
			rnd := rand.New(rand.NewPCG(1, 2))
			fired := 0
			for round := range 8 {
				offsets := rnd.Perm(3)
				var wg sync.WaitGroup
				for _, i := range offsets {
					fired++
					wg.Go(func() { w.Schedule(job, tick.Add(time.Duration(round*10+i*3)*time.Minute)) })
				}
				wg.Wait()
				for range 3 {
					wg.Go(func() {
						if _, err := w.Router.PumpJobs(context.Background()); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				w.Settle(10 * time.Minute)
			}
			w.Settle(time.Hour)

			runs, err := local.Runs(context.Background(), w.ECS, "prod", job)
			if err != nil {
				t.Fatal(err)
			}
			until := local.Active
			if job == "warm" {
				until = local.Live
				for _, r := range runs {
					if by, ok := replacedBy(r); ok && by <= r.Scheduled {
						t.Errorf("run %s (scheduled %s) was replaced by the older or equal run scheduled %s", r.TaskARN, r.Scheduled, by)
					}
				}
			}
			for _, o := range local.Overlaps(runs, until) {
				t.Errorf("%s: %d runs of %s at once: %v", o.At.Format(time.TimeOnly), len(o.Tasks), job, o.Tasks)
			}
			outcomes := rec.outcomes()
			if outcomes[string(events.JobStarted)] != len(runs) || len(runs) < 2 || outcomes[string(events.JobSkippedOverlap)] == 0 {
				t.Errorf("runner outcomes %v for %d tasks; want one STARTED per task, at least two, and some SKIPPED_OVERLAP", outcomes, len(runs))
			}
			if got := sum(outcomes); got != fired {
				t.Errorf("runner decided %d invocations, want the %d fired", got, fired)
			}
		})
	}
}

// TestDuplicateScheduleDeliveries: Scheduler delivers one scheduled time
// again. Within five minutes the queue drops it; later it reaches the
// runner, which starts no second task and says so.
func TestDuplicateScheduleDeliveries(t *testing.T) {
	rec := &runLog{}
	w := queued(t, rec)
	w.SB.ECS().ScriptImage(w.SB.PushImage("report", "1.0.0"), ecssim.TaskScript{RunFor: 2 * time.Minute})
	w.Schedule("report", tick)
	w.Settle(time.Minute)
	w.Schedule("report", tick) // within the deduplication window
	w.Settle(10 * time.Minute)
	w.Schedule("report", tick) // after it, and after the run finished
	w.Settle(time.Minute)

	want := []runLine{{Outcome: string(events.JobStarted)}, {Outcome: string(events.JobStarted), Duplicate: true}}
	if diff := cmp.Diff(want, rec.lines()); diff != "" {
		t.Errorf("runner decisions (-want +got):\n%s", diff)
	}
	if n := len(w.Tasks("report")); n != 1 {
		t.Errorf("tasks of report = %d, want 1", n)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobStarted, events.JobSucceeded}, w.Statuses("report")); diff != "" {
		t.Errorf("job events (-want +got):\n%s", diff)
	}
}

// replacedBy reads the scheduled time of the run that replaced r.
func replacedBy(r local.Run) (string, bool) {
	const prefix = jobs.ReasonReplacedPrefix + " by the run scheduled at "
	if len(r.StoppedReason) > len(prefix) && r.StoppedReason[:len(prefix)] == prefix {
		return r.StoppedReason[len(prefix):], true
	}
	return "", false
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// runLine is one "job run" decision the runner logged.
type runLine struct {
	Outcome   string
	Duplicate bool
}

// runLog is a slog handler keeping the runner's "job run" lines.
type runLog struct {
	mu  sync.Mutex
	got []runLine
}

func (l *runLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *runLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "job run" {
		return nil
	}
	var line runLine
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "outcome":
			line.Outcome = a.Value.String()
		case "duplicate":
			line.Duplicate = a.Value.Bool()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, line)
	return nil
}

func (l *runLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *runLog) WithGroup(string) slog.Handler      { return l }

func (l *runLog) lines() []runLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]runLine(nil), l.got...)
}

func (l *runLog) outcomes() map[string]int {
	out := map[string]int{}
	for _, line := range l.lines() {
		out[line.Outcome]++
	}
	return out
}
