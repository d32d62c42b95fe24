package sandbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// TestSQSRefusesMessagesOverTheSizeLimit pins SQS's message size quota:
// 1 MiB (1,048,576 bytes) since August 2025, the default and the largest
// MaximumMessageSize of a queue; a queue's smaller MaximumMessageSize
// applies; a batch may not exceed 1 MiB in total.
//
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
func TestSQSRefusesMessagesOverTheSizeLimit(t *testing.T) {
	c := start(t)
	big, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	small, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("small"),
		Attributes: map[string]string{"MaximumMessageSize": "1024"}})
	if err != nil {
		t.Fatal(err)
	}
	code := func(err error) string {
		var api smithy.APIError
		if errors.As(err, &api) {
			return api.ErrorCode()
		}
		if err != nil {
			return err.Error()
		}
		return "ok"
	}
	sendCode := func(url *string, n int) string {
		_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String(strings.Repeat("x", n))}, noRetry.sqs)
		return code(err)
	}
	got := map[string]string{
		"exactly 1 MiB":                sendCode(big.QueueUrl, 1<<20),
		"1 MiB and a byte":             sendCode(big.QueueUrl, 1<<20+1),
		"1 KiB on a 1 KiB queue":       sendCode(small.QueueUrl, 1024),
		"1 KiB and a byte on it":       sendCode(small.QueueUrl, 1025),
		"MaximumMessageSize too big":   code(createWith(c, "too-big", "1048577")),
		"MaximumMessageSize too small": code(createWith(c, "too-small", "1023")),
	}
	_, err = c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: big.QueueUrl, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String(strings.Repeat("a", 600<<10))},
		{Id: aws.String("b"), MessageBody: aws.String(strings.Repeat("b", 600<<10))},
	}}, noRetry.sqs)
	var tooLong *sqstypes.BatchRequestTooLong
	got["a 1.2 MiB batch"] = code(err)
	if errors.As(err, &tooLong) {
		got["a 1.2 MiB batch"] = "BatchRequestTooLong" // the SDK's type; its code is the awsQuery one
	}
	batch, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: small.QueueUrl, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("fits"), MessageBody: aws.String("ok")},
		{Id: aws.String("over"), MessageBody: aws.String(strings.Repeat("o", 2048))},
	}}, noRetry.sqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Successful) != 1 || len(batch.Failed) != 1 || aws.ToString(batch.Failed[0].Id) != "over" {
		t.Errorf("batch on the 1 KiB queue: %d successful, failed %+v; want the 2 KiB entry failed alone", len(batch.Successful), batch.Failed)
	} else {
		got["an entry over the queue's limit in a batch"] = aws.ToString(batch.Failed[0].Code)
	}
	want := map[string]string{
		"exactly 1 MiB": "ok", "1 MiB and a byte": "InvalidParameterValue",
		"1 KiB on a 1 KiB queue": "ok", "1 KiB and a byte on it": "InvalidParameterValue",
		"MaximumMessageSize too big": "InvalidAttributeValue", "MaximumMessageSize too small": "InvalidAttributeValue",
		"a 1.2 MiB batch": "BatchRequestTooLong",
		"an entry over the queue's limit in a batch": "InvalidParameterValue",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	attrs, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: big.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{"MaximumMessageSize"}})
	if err != nil || attrs.Attributes["MaximumMessageSize"] != "1048576" {
		t.Errorf("default MaximumMessageSize = %v, %v; want 1048576", attrs, err)
	}
}

func createWith(c clients, name, maxSize string) error {
	_, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
		Attributes: map[string]string{"MaximumMessageSize": maxSize}}, noRetry.sqs)
	return err
}
