package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

const jobQueueARN = "arn:aws:sqs:us-east-1:123456789012:deckhand-jobs.fifo"

// message is an SQS record of the job queue.
type message struct {
	group, body string
}

func invocation(job, scheduled string) message {
	return message{group: job, body: fmt.Sprintf(`{"job":%q,"scheduledTime":%q}`, job, scheduled)}
}

func batch(msgs ...message) events.SQSEvent {
	var ev events.SQSEvent
	for i, m := range msgs {
		rec := events.WrapSQS(jobQueueARN, m.group, []byte(m.body)).Records[0]
		rec.MessageId = fmt.Sprintf("msg-%d", i+1)
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

func TestHandleSQS(t *testing.T) {
	throttled := func(f *fakeECS) {
		f.runTask = func(in *ecs.RunTaskInput) (*ecs.RunTaskOutput, error) {
			if aws.ToString(in.StartedBy) == StartedBy("report") {
				return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
			}
			return &ecs.RunTaskOutput{}, nil
		}
	}
	tests := map[string]struct {
		msgs       []message
		setup      func(*fakeECS)
		wantFailed []string
		wantEvents []events.JobStatus
	}{
		"a group's invocations are decided in order, one seeing the other": {
			msgs:       []message{invocation("report", "2026-07-01T03:00:00Z"), invocation("report", "2026-07-01T03:15:00Z")},
			wantEvents: []events.JobStatus{events.JobStarted, events.JobSkippedOverlap},
		},
		"a failure holds back the rest of its group, not other groups": {
			msgs: []message{invocation("report", "2026-07-01T03:00:00Z"), invocation("nope", "2026-07-01T03:00:00Z"),
				invocation("report", "2026-07-01T03:15:00Z")},
			setup:      throttled,
			wantFailed: []string{"msg-1", "msg-3"},
			wantEvents: []events.JobStatus{events.JobFailed}, // nope: not in the manifest
		},
		"a body that is not an invocation fails, for the DLQ": {
			msgs:       []message{{group: "report", body: `{"job":"report"}`}, {group: "report", body: `not json`}},
			wantFailed: []string{"msg-1", "msg-2"},
		},
		"a job's invocation in another group is refused": {
			msgs:       []message{{group: "warm", body: `{"job":"report","scheduledTime":"2026-07-01T03:00:00Z"}`}},
			wantFailed: []string{"msg-1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, fe, ev, _ := clusterEngine(t, manifest.OverlapForbid, 0)
			if tc.setup != nil {
				tc.setup(fe)
			}
			resp := (&Handler{Engine: e}).HandleSQS(context.Background(), batch(tc.msgs...))
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if diff := cmp.Diff(tc.wantFailed, failed, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("batch item failures (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEvents, ev.statuses(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandleDirectInvocation(t *testing.T) {
	e, _, _, c := clusterEngine(t, manifest.OverlapForbid, 0)
	h := &Handler{Engine: e}
	out, err := h.Handle(context.Background(), json.RawMessage(`{"job":"report","scheduledTime":"`+tick+`"}`))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	res, ok := out.(Result)
	if !ok || res.Status != events.JobStarted || len(c.tasks) != 1 {
		t.Errorf("direct invocation = %#v, want a STARTED Result and one task", out)
	}
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"job":"report"}`)); err == nil {
		t.Error("a direct invocation without scheduledTime succeeded")
	}
}
