package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
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
	s.addPushRules(pushDLQ)
	s.addScanRules(pushDLQ)

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

// pushPattern is a push rule's event pattern for repositories.
func pushPattern(repositories []string) map[string]any {
	return map[string]any{
		"source":      []string{"aws.ecr"},
		"detail-type": []string{"ECR Image Action"},
		"detail": map[string]any{
			"action-type":     []string{"PUSH"},
			"result":          []string{"SUCCESS"},
			"repository-name": repositories,
			"image-tag":       []map[string]bool{{"exists": true}},
		},
	}
}

// pushRuleName is the physical name of push rule i. Names share the
// stack's prefix so the deploy queue's policy can admit exactly these
// rules with one ArnLike condition: one statement per rule would pass
// SQS's 20 statements and 8,192 bytes per queue policy at fleet scale.
func (s *stack) pushRuleName(i int) string {
	return fmt.Sprintf("%s%03d", s.pushRulePrefix(), i)
}

func (s *stack) pushRulePrefix() string {
	name := *s.StackName()
	if len(name) > 48 {
		name = name[:48]
	}
	return name + "-push-"
}

// addPushRules makes one rule per FIFO message group (DESIGN §1; packed
// beyond manifest.MaxMessageGroups, see docs/quotas.md), split further
// where its repositories would not fit one event pattern. Every rule sends
// to the deploy queue with its message group's id.
func (s *stack) addPushRules(dlq awssqs.Queue) {
	n := 0
	for _, mg := range s.m.MessageGroups() {
		for _, repos := range packPatterns(mg.Repositories, pushPattern) {
			name := s.pushRuleName(n)
			awsevents.NewCfnRule(s.Stack, jsii.String(fmt.Sprintf("Push%d%s", n, constructID(mg.ID))), &awsevents.CfnRuleProps{
				Name:         jsii.String(name),
				Description:  jsii.String(fmt.Sprintf("Deckhand: ECR pushes to %d repositories of message group %s into the deploy queue", len(repos), mg.ID)),
				EventPattern: pushPattern(repos),
				State:        jsii.String("ENABLED"),
				Targets: &[]*awsevents.CfnRule_TargetProperty{{
					Id:               jsii.String("DeployQueue"),
					Arn:              s.deployQueue.QueueArn(),
					SqsParameters:    &awsevents.CfnRule_SqsParametersProperty{MessageGroupId: jsii.String(mg.ID)},
					DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
					RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
						MaximumRetryAttempts:     jsii.Number(targetRetryAttempts),
						MaximumEventAgeInSeconds: jsii.Number(targetMaxEventAgeSec),
					},
				}},
			})
			n++
		}
	}
	if n == 0 {
		return
	}
	// One statement per queue for all push rules: EventBridge may send
	// from rules of this stack's push prefix, in this account and Region.
	rules := s.FormatArn(&awscdk.ArnComponents{Service: jsii.String("events"), Resource: jsii.String("rule"), ResourceName: jsii.String(s.pushRulePrefix() + "*")})
	for _, q := range []awssqs.Queue{s.deployQueue, dlq} {
		q.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
			Actions:    strs([]string{"sqs:SendMessage"}),
			Resources:  &[]*string{q.QueueArn()},
			Conditions: &map[string]any{"ArnLike": map[string]any{"aws:SourceArn": rules}},
		}))
	}
}
