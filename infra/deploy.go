package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// deployMaxReceiveCount is how often a push is tried before it lands in the
// deploy DLQ. A permanent error emits FAILED and the deployer puts the push
// on the DLQ itself at once (DECKHAND_DLQ_URL); this bounds retryable ones
// and a DLQ send that failed (DESIGN §5 rule 9).
const deployMaxReceiveCount = 5

// Retry policy of the EventBridge targets: EventBridge retries delivery
// with backoff for up to maxEventAge before it gives up to the target DLQ.
const (
	targetRetryAttempts  = 185
	targetMaxEventAgeSec = 24 * 60 * 60
)

// newDLQ creates a dead-letter queue and registers it for the depth alarm.
// Messages are kept for the SQS maximum of 14 days.
func (s *stack) newDLQ(id string, fifo bool) awssqs.Queue {
	props := &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	}
	if fifo {
		props.Fifo = jsii.Bool(true)
	}
	q := awssqs.NewQueue(s.Stack, jsii.String(id), props)
	s.dlqs = append(s.dlqs, q)
	return q
}

// addDeployPath builds ECR push → rule per repository group → FIFO queue
// (MessageGroupId = group) → deployer (DESIGN §1).
func (s *stack) addDeployPath() {
	dlq := s.newDLQ("DeployDLQ", true)
	s.deployDLQ = dlq
	s.deployQueue = awssqs.NewQueue(s.Stack, jsii.String("DeployQueue"), &awssqs.QueueProps{
		Fifo:                      jsii.Bool(true),
		ContentBasedDeduplication: jsii.Bool(true),
		Encryption:                awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:                jsii.Bool(true),
		// AWS recommends six times the function timeout, so a batch that
		// is retried after throttling is not handed to a second invocation.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * deployerTimeoutSec)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           dlq,
			MaxReceiveCount: jsii.Number(deployMaxReceiveCount),
		},
	})

	// Pushes that EventBridge could not deliver to the FIFO queue. A FIFO
	// target's DLQ must be a standard queue.
	pushDLQ := s.newDLQ("PushRuleDLQ", false)
	for i, g := range s.m.Groups() {
		id := fmt.Sprintf("Push%d%s", i, constructID(g.ID))
		rule := awsevents.NewRule(s.Stack, jsii.String(id), &awsevents.RuleProps{
			Description: jsii.String(fmt.Sprintf("Deckhand: ECR pushes to %v (group %s) into the deploy queue", g.Repositories, g.ID)),
			EventPattern: &awsevents.EventPattern{
				Source:     strs([]string{"aws.ecr"}),
				DetailType: strs([]string{"ECR Image Action"}),
				Detail: &map[string]any{
					"action-type":     []string{"PUSH"},
					"result":          []string{"SUCCESS"},
					"repository-name": g.Repositories,
					"image-tag":       []map[string]bool{{"exists": true}},
				},
			},
		})
		rule.AddTarget(awseventstargets.NewSqsQueue(s.deployQueue, &awseventstargets.SqsQueueProps{
			MessageGroupId:  jsii.String(g.ID),
			DeadLetterQueue: pushDLQ,
			RetryAttempts:   jsii.Number(targetRetryAttempts),
			MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(targetMaxEventAgeSec)),
		}))
	}

	s.fns["deployer"].AddEventSource(awslambdaeventsources.NewSqsEventSource(s.deployQueue, &awslambdaeventsources.SqsEventSourceProps{
		// FIFO batches are at most 10; the deployer coalesces within a
		// batch (DESIGN §5 rule 2) and reports failures per message.
		BatchSize:               jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	s.fns["reconciler"].AddEnvironment(jsii.String("DECKHAND_QUEUE_URL"), s.deployQueue.QueueUrl(), nil)
	// One bad push, one alert: the deployer dead-letters a push that failed
	// for good at once (issue 10 item 7).
	s.fns["deployer"].AddEnvironment(jsii.String("DECKHAND_DLQ_URL"), dlq.QueueUrl(), nil)
}
