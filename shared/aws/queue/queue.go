// Package queue sends to an SQS FIFO queue: the deploy queue the
// reconciler's synthetic pushes go into (DESIGN §1, §7), and the job queue
// the tracker's re-runs go into. The engines see a queue as its Send
// method only, so only the reconciler's and the tracker's binaries link
// the SQS client.
package queue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
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
