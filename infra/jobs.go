package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// jobMaxReceiveCount is how often a job invocation is tried before it
// lands in the job DLQ. Requests ECS refuses are FAILED at once; this
// bounds retryable failures, which hold back the job's later invocations
// while they are retried.
const jobMaxReceiveCount = 5

// addJobQueue builds the job FIFO queue: each job's schedule sends its
// invocations into it with MessageGroupId = the job (addSchedules), the
// tracker its re-runs of tasks that failed to start, and the runner
// consumes it with partial batch responses. Lambda hands the runner one
// batch per message group at a time, so a job's invocations are decided
// one after another: overlap: forbid and replace hold whatever the
// delivery timing (README, "Jobs are decided one at a time"). Scheduler
// needs content-based deduplication on a FIFO target; a scheduled time
// delivered twice within five minutes is dropped.
func (s *stack) addJobQueue() {
	dlq := s.newDLQ("JobDLQ", true)
	s.jobQueue = awssqs.NewQueue(s.Stack, jsii.String("JobQueue"), &awssqs.QueueProps{
		Fifo:                      jsii.Bool(true),
		ContentBasedDeduplication: jsii.Bool(true),
		Encryption:                awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:                jsii.Bool(true),
		// Six times the function timeout, as AWS recommends for an SQS
		// event source.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * runnerTimeoutSec)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           dlq,
			MaxReceiveCount: jsii.Number(jobMaxReceiveCount),
		},
	})
	s.fns["runner"].AddEventSource(awslambdaeventsources.NewSqsEventSource(s.jobQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	s.fns["tracker"].AddEnvironment(jsii.String("DECKHAND_JOB_QUEUE_URL"), s.jobQueue.QueueUrl(), nil)
}
