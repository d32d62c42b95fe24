package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
)

// fakeDLQ records dead-lettered messages; err fails every send.
type fakeDLQ struct {
	sent []deadLettered
	err  error
}

type deadLettered struct{ Group, ID, Body, Reason string }

func (f *fakeDLQ) DeadLetter(_ context.Context, group, id string, body []byte, reason string) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, deadLettered{group, id, string(body), reason})
	return nil
}

const malformedBody = `{"detail-type": "ECR Image Action", "source": "aws.ecr", "detail": {"image-tag": 7}}`

// receive hands the handler one SQS batch as the queue's nth receive of
// every message in it.
func receive(t *testing.T, h *Handler, n string, bodies ...[]byte) []string {
	t.Helper()
	ev := events.WrapSQS("arn:aws:sqs:us-west-2:123456789012:deckhand-deploy.fifo", "web", bodies...)
	for i := range ev.Records {
		ev.Records[i].Attributes["ApproximateReceiveCount"] = n
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return batchFailures(t, out)
}

func failedEvents(w *world) int {
	n := 0
	for _, s := range emitted(w) {
		if s == events.StatusFailed {
			n++
		}
	}
	return n
}

// TestPermanentFailureGoesToTheDLQAtOnce: one bad push, one alert. A
// message that failed for good is put on the DLQ with its reason and
// acknowledged on its first receive, beside a good push that deploys.
func TestPermanentFailureGoesToTheDLQAtOnce(t *testing.T) {
	w := newWorld()
	dlq := &fakeDLQ{}
	h := &Handler{Engine: w.engine, DLQ: dlq}
	failures := receive(t, h, "1", []byte(malformedBody), fixture(t, "ecr-image-action-push.json"))
	if diff := cmp.Diff([]string{}, failures); diff != "" {
		t.Errorf("batch item failures (-want +got):\n%s", diff)
	}
	if len(dlq.sent) != 1 || dlq.sent[0].ID != "msg-1" || dlq.sent[0].Group != "web" || dlq.sent[0].Body != malformedBody ||
		!strings.HasPrefix(dlq.sent[0].Reason, "MalformedEvent") || !strings.Contains(dlq.sent[0].Reason, "$.detail.image-tag") {
		t.Errorf("DLQ got %+v, want the malformed body with its reason", dlq.sent)
	}
	if diff := cmp.Diff([]events.DeploymentStatus{events.StatusFailed, events.StatusStarted}, emitted(w)); diff != "" {
		t.Errorf("emitted (-want +got):\n%s", diff)
	}
}

// TestPermanentFailureIsReportedOnce: when the DLQ send fails the message
// is retried, and its later receives do not report FAILED again; without a
// DLQ the queue's redrive dead-letters it, still with one FAILED.
func TestPermanentFailureIsReportedOnce(t *testing.T) {
	w := newWorld()
	dlq := &fakeDLQ{err: errors.New("sqs: service unavailable")}
	h := &Handler{Engine: w.engine, DLQ: dlq}
	if diff := cmp.Diff([]string{"msg-1"}, receive(t, h, "1", []byte(malformedBody))); diff != "" {
		t.Errorf("first receive, DLQ down: failures (-want +got):\n%s", diff)
	}
	dlq.err = nil
	if diff := cmp.Diff([]string{}, receive(t, h, "2", []byte(malformedBody))); diff != "" {
		t.Errorf("second receive: failures (-want +got):\n%s", diff)
	}
	if len(dlq.sent) != 1 {
		t.Errorf("DLQ got %d messages, want 1", len(dlq.sent))
	}
	noDLQ := &Handler{Engine: newWorld().engine}
	w2 := &world{events: noDLQ.Engine.Events.(*fakeEvents)}
	for _, n := range []string{"1", "2", "3"} {
		if diff := cmp.Diff([]string{"msg-1"}, receive(t, noDLQ, n, []byte(malformedBody))); diff != "" {
			t.Errorf("no DLQ, receive %s: failures (-want +got):\n%s", n, diff)
		}
	}
	if got := []int{failedEvents(w), failedEvents(w2)}; !cmp.Equal(got, []int{1, 1}) {
		t.Errorf("FAILED events with a failing DLQ send and without a DLQ = %v, want one each", got)
	}
}

// TestDirectInvocationRetriesReportOnce: Lambda retries a direct
// invocation that failed; its permanent failure is reported once.
func TestDirectInvocationRetriesReportOnce(t *testing.T) {
	w := newWorld()
	delete(w.ecs.services, "prod/web")
	h := lambda.NewHandler((&Handler{Engine: w.engine}).Handle)
	for range 3 {
		if _, err := h.Invoke(context.Background(), fixture(t, "ecr-image-action-push.json")); err == nil {
			t.Fatal("a push to a missing service succeeded")
		}
	}
	if n := failedEvents(w); n != 1 {
		t.Errorf("FAILED events over three attempts = %d, want 1", n)
	}
}
