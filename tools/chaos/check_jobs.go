package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// The job invariants (5, 6, 7) and the job inputs' resolution for
// invariant 4. A job's runs are every task Deckhand started for it, with
// their activity on the virtual clock (local.Runs).

// indexJobs resolves the job inputs of the job-queue route: a send the
// FIFO queue answered with an earlier message's id was dropped as a
// duplicate; otherwise the runner's decision on its message is its result.
func (c *checker) indexJobs() {
	sent := map[string]bool{}
	for _, in := range c.res.Inputs {
		if in.Route != RouteJobQueue || in.MessageID == "" {
			continue
		}
		if sent[in.MessageID] {
			in.Deduped = true
			continue
		}
		sent[in.MessageID] = true
		if d, ok := c.decision(in); ok {
			in.JobResult = d.Outcome
		}
	}
}

// decision returns the runner's final decision on a job input's message.
func (c *checker) decision(in *Input) (jobRun, bool) {
	for _, d := range c.res.JobRuns[in.MessageID] {
		if d.final() {
			return d, true
		}
	}
	return jobRun{}, false
}

// accountJob resolves one job input for invariant 4: decided by the runner
// exactly once, dropped by the queue as a duplicate, dead-lettered with a
// reason, or (direct route) answered or given up after Lambda's retries.
func (c *checker) accountJob(in *Input, resolve func(*Input, string), bad func(string, ...any), rep *Report, dead map[string]int) {
	switch {
	case in.Route == RouteRunner && in.Err != nil:
		resolve(in, ResAsyncFail)
	case in.Route == RouteRunner:
		resolve(in, ResJobStarted)
	case in.Deduped:
		resolve(in, ResDeduped)
	default:
		lines := c.res.JobRuns[in.MessageID]
		finals := 0
		for _, d := range lines {
			if d.final() {
				finals++
			}
		}
		switch {
		case finals == 1 && lines[len(lines)-1].final():
			resolve(in, ResJobStarted)
		case finals > 1:
			bad("job input %d (%s %s): decided %d times", in.N, in.Job, in.Scheduled.Format(time.TimeOnly), finals)
			resolve(in, ResUnresolved)
		case finals == 0 && len(lines) > 0 && c.inJobDLQ(in):
			dead[jobBody(in)]++
			resolve(in, ResDLQ)
			rep.DLQReasons[reasonClass(lines[len(lines)-1].Reason)]++
		default:
			bad("job input %d (%s %s): not decided (%d receive(s))", in.N, in.Job, in.Scheduled.Format(time.TimeOnly), len(lines))
			resolve(in, ResUnresolved)
		}
	}
}

// jobBody is a job input's message body, as Scheduler sends it.
func jobBody(in *Input) string {
	body, _ := json.Marshal(jobs.Invocation{Job: in.Job, ScheduledTime: in.Scheduled.UTC().Format(time.RFC3339)})
	return string(body)
}

func (c *checker) inJobDLQ(in *Input) bool {
	for _, body := range c.res.JobDLQ {
		if body == jobBody(in) {
			return true
		}
	}
	return false
}

// jobDLQ checks that the job queue's DLQ holds exactly the dead-lettered
// job inputs.
func (c *checker) jobDLQ(dead map[string]int, bad func(string, ...any)) {
	in := map[string]int{}
	for _, body := range c.res.JobDLQ {
		in[body]++
	}
	for body, n := range in {
		if dead[body] != n {
			bad("job DLQ holds %d copies of a message the run dead-lettered %d times: %s", n, dead[body], body)
		}
	}
	for body, n := range dead {
		if in[body] == 0 {
			bad("%d dead-lettered job message(s) missing from the job DLQ: %s", n, body)
		}
	}
}

// jobs checks invariants 5, 6 and 7 over every job's runs.
func (c *checker) jobs(ctx context.Context) ([]Row, error) {
	one := Row{Name: InvOneRunTask}
	forbid := Row{Name: InvForbid}
	replace := Row{Name: InvReplace}
	invoked := map[string]bool{} // job|scheduled
	started := map[string]bool{}
	tasks := map[string]int{}
	for _, in := range c.res.Inputs {
		if !in.isJob() {
			continue
		}
		key := in.Job + "|" + in.Scheduled.UTC().Format(time.RFC3339)
		invoked[key] = true
		if in.JobResult == string(events.JobStarted) {
			started[key] = true
		}
	}
	for _, j := range chaosJobs {
		runs, err := local.Runs(ctx, c.res.st.ECS, cluster, j.name)
		if err != nil {
			return nil, err
		}
		perAttempt, perTime := map[string]int{}, map[string]int{}
		for _, r := range runs {
			perAttempt[j.name+"|"+r.Scheduled+"|"+r.Attempt]++
			perTime[j.name+"|"+r.Scheduled]++
		}
		for _, k := range sortedKeys(perAttempt) {
			if n := perAttempt[k]; n > 1 {
				one.Violations = append(one.Violations, fmt.Sprintf("%s (job|scheduled time|attempt) has %d tasks", k, n))
			}
		}
		for _, k := range sortedKeys(perTime) {
			tasks[k] = perTime[k]
			if !invoked[k] {
				one.Violations = append(one.Violations, fmt.Sprintf("%d task(s) for %s, which nobody invoked", perTime[k], k))
			}
		}
		switch j.overlap {
		case "forbid":
			forbid.Checked += len(runs)
			for _, o := range local.Overlaps(runs, local.Active) {
				forbid.Violations = append(forbid.Violations, fmt.Sprintf("%s at %s: %d runs active at once: %s", j.name, o.At.Format(time.TimeOnly), len(o.Tasks), shortTasks(o.Tasks)))
			}
		case "replace":
			replace.Checked += len(runs)
			for _, o := range local.Overlaps(runs, local.Live) {
				replace.Violations = append(replace.Violations, fmt.Sprintf("%s at %s: %d runs live at once: %s", j.name, o.At.Format(time.TimeOnly), len(o.Tasks), shortTasks(o.Tasks)))
			}
			for _, r := range runs {
				if by, ok := strings.CutPrefix(r.StoppedReason, jobs.ReasonReplacedPrefix+" by the run scheduled at "); ok && by <= r.Scheduled {
					replace.Violations = append(replace.Violations, fmt.Sprintf("%s: the run scheduled at %s was replaced by the older or equal %s", j.name, r.Scheduled, by))
				}
			}
		}
	}
	for _, k := range sortedKeys(invoked) {
		one.Checked++
		if started[k] && tasks[k] == 0 {
			one.Violations = append(one.Violations, fmt.Sprintf("%s was reported STARTED but has no task", k))
		}
	}
	return []Row{one, forbid, replace}, nil
}

func shortTasks(arns []string) string {
	out := make([]string, len(arns))
	for i, a := range arns {
		out[i] = a[strings.LastIndex(a, "/")+1:][:8]
	}
	return strings.Join(out, ", ")
}
