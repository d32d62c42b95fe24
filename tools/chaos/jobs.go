package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/jobstest"
)

// The job half of a run. Scheduled invocations of the three jobs (allow,
// forbid, replace) go into the stack's job FIFO queue as EventBridge
// Scheduler sends them, sent concurrently when several are due at once;
// the queue is pumped by two pollers at a time, as Lambda's are; the
// runner's ECS client lags (ListTasks leaves a new task out of its next
// 0-2 answers, as ECS's eventually consistent API may); and the forbid and
// replace jobs' images now and then fail to start, so the tracker's
// re-runs go through the queue too. With Config.JobsDirect the
// invocations instead go to the runner directly, as the CDK app wired
// Scheduler before the job queue: those due at once run concurrently.

// jobPollers is how many goroutines pump the job queue at once.
const jobPollers = 2

// jobStartFailure is the start failure a failing job image has: transient,
// so the job's retry re-runs it.
const jobStartFailure = "CannotPullContainerError: pull image manifest has been retried 5 time(s): chaos"

// setupJobs scripts the job images, makes the runner's ECS lag and builds
// the direct runner handler. It runs before faults are injected.
func (r *runner) setupJobs(ctx context.Context) error {
	client := ecr.NewFromConfig(r.sb.AWSConfig())
	r.jobDigests = map[string]string{}
	for _, j := range chaosJobs {
		out, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(j.repo)})
		if err != nil || len(out.ImageDetails) != 1 {
			return fmt.Errorf("the image of job %s: %d images, %v", j.name, len(out.ImageDetails), err)
		}
		r.jobDigests[j.name] = aws.ToString(out.ImageDetails[0].ImageDigest)
		r.scriptJob(j)
	}
	lag := rand.New(rand.NewPCG(r.cfg.Seed, r.cfg.Seed^0x1a9))
	r.st.Jobs.ECS = &jobstest.Lagging{ECS: r.st.ECS, Lag: func() int { return lag.IntN(3) }}
	r.jobs = lambda.NewHandler(r.st.Runner.Handle)
	return nil
}

func (r *runner) scriptJob(j chaosJob) {
	script := ecssim.TaskScript{RunFor: j.runFor}
	if r.failing[j.name] {
		script = ecssim.TaskScript{StartFailure: jobStartFailure}
	}
	r.sb.ECS().ScriptImage(r.jobDigests[j.name], script)
}

// toggleJobFailure makes a forbid or replace job's image fail to start, or
// start again.
func (r *runner) toggleJobFailure() {
	j := chaosJobs[1+r.rnd.IntN(len(chaosJobs)-1)]
	r.failing[j.name] = !r.failing[j.name]
	r.scriptJob(j)
}

// job is a scheduled invocation of a job: a new scheduled time or, with
// dup, one invoked before.
func (r *runner) job(dup bool) *Input {
	j := chaosJobs[r.rnd.IntN(len(chaosJobs))]
	in := &Input{Kind: KindJob, Route: RouteJobQueue, Job: j.name}
	if r.cfg.JobsDirect {
		in.Route = RouteRunner
	}
	if times := r.sched[j.name]; dup && len(times) > 0 {
		in.Kind = KindJobDup
		in.Scheduled = times[r.rnd.IntN(len(times))]
	} else {
		in.Scheduled = r.sb.Clock().Now().Truncate(time.Second)
		r.sched[j.name] = append(times, in.Scheduled)
	}
	return r.add(in)
}

// lateJobs delivers again a fifth of the job inputs invoked so far (each
// scheduled time at most once), as Scheduler's retries long after the
// first delivery.
func (r *runner) lateJobs() {
	for _, j := range chaosJobs {
		for _, at := range r.sched[j.name] {
			if r.rnd.Float64() < 0.2 {
				in := r.add(&Input{Kind: KindJobLate, Route: RouteJobQueue, Job: j.name, Scheduled: at})
				if r.cfg.JobsDirect {
					in.Route = RouteRunner
				}
				r.dueJobs = append(r.dueJobs, in)
			}
		}
	}
}

// flushJobs delivers the job inputs due since the last pump, all at once.
func (r *runner) flushJobs(ctx context.Context) {
	due := r.dueJobs
	r.dueJobs = nil
	var wg sync.WaitGroup
	for _, in := range due {
		wg.Go(func() {
			if in.Route == RouteRunner {
				r.invokeJob(ctx, in)
			} else {
				r.sendJob(ctx, in)
			}
		})
	}
	wg.Wait()
	for _, in := range due {
		if in.sendErr != nil {
			r.res.HarnessErrors = append(r.res.HarnessErrors, in.sendErr)
		}
	}
}

// sendJob sends a job input into the job queue as Scheduler's FIFO target
// does: the schedule's input with the scheduled time, into the job's
// message group, deduplicated by content. The queue answers a duplicate
// within five minutes with the original's message id.
func (r *runner) sendJob(ctx context.Context, in *Input) {
	body, _ := json.Marshal(jobs.Invocation{Job: in.Job, ScheduledTime: in.Scheduled.UTC().Format(time.RFC3339)})
	out, err := r.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.st.Router.JobQueueURL()),
		MessageBody: aws.String(string(body)), MessageGroupId: aws.String(jobs.MessageGroup(in.Job))})
	if err != nil {
		in.sendErr = fmt.Errorf("send job input %d: %w", in.N, err)
		return
	}
	in.MessageID = aws.ToString(out.MessageId)
}

// invokeJob invokes the runner directly, as Scheduler's Lambda target
// does, retrying on error.
func (r *runner) invokeJob(ctx context.Context, in *Input) {
	payload, _ := json.Marshal(jobs.Invocation{Job: in.Job, ScheduledTime: in.Scheduled.UTC().Format(time.RFC3339)})
	for range jobAttempts {
		in.Attempts++
		out, err := r.jobs.Invoke(r.lambdaCtx(ctx, "deckhand-runner"), payload)
		in.Err = err
		if err != nil {
			continue
		}
		var res jobs.Result
		if err := json.Unmarshal(out, &res); err != nil {
			in.Err = fmt.Errorf("decode runner result: %w", err)
			return
		}
		in.JobResult = string(res.Status)
		return
	}
}

// pumpJobs delivers the job inputs due, then pumps the job queue with
// jobPollers pollers at once.
func (r *runner) pumpJobs(ctx context.Context) {
	r.flushJobs(ctx)
	var wg sync.WaitGroup
	errs := make([]error, jobPollers)
	for i := range jobPollers {
		wg.Go(func() { _, errs[i] = r.st.Router.PumpJobs(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("pump job queue: %w", err))
		}
	}
}
