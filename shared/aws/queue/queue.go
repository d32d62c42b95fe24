// Package queue sends to an SQS FIFO queue: the deploy queue the
// reconciler's synthetic pushes go into (DESIGN §1, §7), the job queue the
// tracker's re-runs go into, and the deploy queue's DLQ, where the deployer
// puts a push that failed for good at once (issue 10 item 7). The engines
// see a queue as one method only, so only the binaries that send link the
// SQS client.
package queue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

type sqsAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ sqsAPI = (*sqs.Client)(nil)

// FIFO is one SQS FIFO queue.
type FIFO struct {
	Client sqsAPI
	URL    string
}

// New returns the FIFO queue at url, with an SQS client over awsCfg.
func New(awsCfg aws.Config, url string) *FIFO {
	return &FIFO{Client: sqs.NewFromConfig(awsCfg), URL: url}
}

// Send sends body into message group group, deduplicated by id: the queue
// drops another message with the same id sent within five minutes.
func (q *FIFO) Send(ctx context.Context, group, id string, body []byte) error {
	_, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body)),
		MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(id),
	})
	if err != nil {
		return fmt.Errorf("send message %s to %s: %w", id, q.URL, err)
	}
	return nil
}

// ReasonAttribute is the message attribute DeadLetter sets: why the message
// was dead-lettered.
const ReasonAttribute = "DeckhandReason"

// maxReason bounds the reason attribute.
const maxReason = 1024

// DeadLetter sends body, a message that failed for good, into message
// group group (FIFO DLQs need one), deduplicated by id (the failed
// message's id, so a retried send within five minutes adds no copy), with
// reason as the ReasonAttribute message attribute.
func (q *FIFO) DeadLetter(ctx context.Context, group, id string, body []byte, reason string) error {
	if group == "" {
		group = "dead-letter"
	}
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	if reason == "" {
		reason = "unknown"
	}
	_, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body)),
		MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(id),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			ReasonAttribute: {DataType: aws.String("String"), StringValue: aws.String(reason)},
		},
	})
	if err != nil {
		return fmt.Errorf("dead-letter message %s to %s: %w", id, q.URL, err)
	}
	return nil
}
