package sandbox_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// fifo creates name.fifo with a DLQ and the given maxReceiveCount.
func fifo(t *testing.T, c clients, name string, maxReceive int) (url, dlqURL string) {
	t.Helper()
	dlq, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + ".fifo"),
		Attributes: map[string]string{
			"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30",
			"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, attrs.Attributes["QueueArn"], maxReceive),
		}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl)
}

func send(t *testing.T, c clients, url, group, body string) string {
	t.Helper()
	out, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url),
		MessageBody: aws.String(body), MessageGroupId: aws.String(group)})
	if err != nil {
		t.Fatalf("send %s: %v", body, err)
	}
	return aws.ToString(out.MessageId)
}

func receive(t *testing.T, c clients, url string, max int32) []sqstypes.Message {
	t.Helper()
	out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MaxNumberOfMessages: max, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func bodies(ms []sqstypes.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, aws.ToString(m.Body))
	}
	return out
}

func TestFIFOOrderAndGroupLocking(t *testing.T) {
	c := start(t)
	url, _ := fifo(t, c, "deploy", 3)
	if want := c.sb.Endpoint() + "/123456789012/deploy.fifo"; url != want {
		t.Errorf("queue URL = %s, want %s", url, want)
	}
	for _, m := range []struct{ group, body string }{{"g1", "a1"}, {"g2", "b1"}, {"g1", "a2"}, {"g1", "a3"}} {
		send(t, c, url, m.group, m.body)
	}
	first := receive(t, c, url, 2)
	if diff := cmp.Diff([]string{"a1", "b1"}, bodies(first)); diff != "" {
		t.Errorf("first receive (-want +got):\n%s", diff)
	}
	if got := receive(t, c, url, 10); len(got) != 0 {
		t.Errorf("groups with messages in flight were delivered again: %v", bodies(got))
	}
	attrs := first[0].Attributes
	if attrs["MessageGroupId"] != "g1" || attrs["ApproximateReceiveCount"] != "1" || attrs["SentTimestamp"] == "" {
		t.Errorf("attributes = %v", attrs)
	}
	// Deleting g1's head unlocks g1; a2 and a3 follow in order. g2 stays locked.
	if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a2", "a3"}, bodies(receive(t, c, url, 10))); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	// Visibility times out only on the virtual clock.
	c.sb.Clock().Advance(29 * time.Second)
	if got := receive(t, c, url, 10); len(got) != 0 {
		t.Errorf("delivered before the visibility timeout: %v", bodies(got))
	}
	c.sb.Clock().Advance(time.Second)
	again := receive(t, c, url, 10)
	if diff := cmp.Diff([]string{"b1", "a2", "a3"}, bodies(again)); diff != "" {
		t.Errorf("after visibility timeout (-want +got):\n%s", diff)
	}
	if got := again[0].Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("b1 receive count = %s, want 2", got)
	}
	// The superseded receipt handle of b1 has expired.
	if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first[1].ReceiptHandle}, noRetry.sqs); err == nil {
		t.Error("delete with an expired FIFO receipt handle succeeded")
	}
	del, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url),
		Entries: []sqstypes.DeleteMessageBatchRequestEntry{
			{Id: aws.String("0"), ReceiptHandle: again[0].ReceiptHandle},
			{Id: aws.String("1"), ReceiptHandle: again[1].ReceiptHandle},
			{Id: aws.String("2"), ReceiptHandle: again[2].ReceiptHandle},
		}})
	if err != nil || len(del.Successful) != 3 {
		t.Fatalf("DeleteMessageBatch = %+v, %v", del, err)
	}
	if n := approx(t, c, url); n != 0 {
		t.Errorf("ApproximateNumberOfMessages = %d, want 0", n)
	}
}

func approx(t *testing.T, c clients, url string) int {
	t.Helper()
	out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	return n
}

func TestFIFORedriveToDLQ(t *testing.T) {
	c := start(t)
	url, dlqURL := fifo(t, c, "deploy", 2)
	send(t, c, url, "g", "poison")
	send(t, c, url, "g", "next")
	for i := range 2 {
		got := receive(t, c, url, 10)
		if diff := cmp.Diff([]string{"poison", "next"}, bodies(got)); diff != "" {
			t.Fatalf("receive %d (-want +got):\n%s", i+1, diff)
		}
		c.sb.Clock().Advance(31 * time.Second)
	}
	// Both exceeded maxReceiveCount 2: the next receive moves them to the DLQ.
	if got := receive(t, c, url, 10); len(got) != 0 {
		t.Errorf("delivered past maxReceiveCount: %v", bodies(got))
	}
	dead := receive(t, c, dlqURL, 10)
	if diff := cmp.Diff([]string{"poison", "next"}, bodies(dead)); diff != "" {
		t.Errorf("DLQ (-want +got):\n%s", diff)
	}
	if dead[0].Attributes["MessageGroupId"] != "g" {
		t.Errorf("DLQ message lost its group: %v", dead[0].Attributes)
	}
}

func TestFIFODeduplication(t *testing.T) {
	c := start(t)
	url, _ := fifo(t, c, "dedup", 3)
	// Steps run in order: each depends on the clock the previous ones moved.
	steps := []struct {
		name     string
		advance  time.Duration
		dedupID  string
		wantSame bool
	}{
		{name: "same body within the window is dropped", advance: 4 * time.Minute, wantSame: true},
		{name: "explicit id is used instead of the body", dedupID: "other"},
		{name: "same body after five minutes is accepted", advance: 5 * time.Minute},
	}
	first := send(t, c, url, "g", "body")
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			c.sb.Clock().Advance(tc.advance)
			in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("body"), MessageGroupId: aws.String("g")}
			if tc.dedupID != "" {
				in.MessageDeduplicationId = aws.String(tc.dedupID)
			}
			out, err := c.sqs.SendMessage(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if same := aws.ToString(out.MessageId) == first; same != tc.wantSame {
				t.Errorf("same message id = %v, want %v", same, tc.wantSame)
			}
		})
	}
	if n := approx(t, c, url); n != 3 {
		t.Errorf("ApproximateNumberOfMessages = %d, want 3", n)
	}
}

func TestSQSErrors(t *testing.T) {
	c := start(t)
	url, _ := fifo(t, c, "errs", 3)
	_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")}, noRetry.sqs)
	if err == nil {
		t.Error("FIFO send without MessageGroupId succeeded")
	}
	var nq *sqstypes.QueueDoesNotExist
	_, err = c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")}, noRetry.sqs)
	if !errors.As(err, &nq) {
		t.Errorf("GetQueueUrl missing: err = %v, want QueueDoesNotExist", err)
	}
	if _, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11}, noRetry.sqs); err == nil {
		t.Error("MaxNumberOfMessages 11 accepted")
	}
}

func TestStandardQueueBatchVisibilityAndPurge(t *testing.T) {
	c := start(t)
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl,
		Entries: []sqstypes.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("one")},
			{Id: aws.String("b"), MessageBody: aws.String("two")},
		}})
	if err != nil || len(out.Successful) != 2 {
		t.Fatalf("SendMessageBatch = %+v, %v", out, err)
	}
	got := receive(t, c, aws.ToString(q.QueueUrl), 1)
	if _, err := c.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: q.QueueUrl,
		ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if n := len(receive(t, c, aws.ToString(q.QueueUrl), 10)); n != 2 {
		t.Errorf("after visibility 0 received %d, want 2", n)
	}
	if _, err := c.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: q.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	c.sb.Clock().Advance(time.Minute)
	if n := len(receive(t, c, aws.ToString(q.QueueUrl), 10)); n != 0 {
		t.Errorf("after purge received %d, want 0", n)
	}
}
