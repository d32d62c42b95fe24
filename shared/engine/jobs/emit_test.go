package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
)

type entries struct {
	in []ebtypes.PutEventsRequestEntry
}

func (e *entries) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	e.in = append(e.in, in.Entries...)
	return &eventbridge.PutEventsOutput{}, nil
}

// TestJobEventEntry pins the PutEvents entry of a job state change: source
// deckhand, detail type, the detail as JSON, the bus, the task ARNs as
// resources and the engine's clock as the event time.
func TestJobEventEntry(t *testing.T) {
	rec := &entries{}
	at := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)
	e := &Engine{Events: &emit.Bus{Client: rec, BusName: "deckhand", Now: func() time.Time { return at }}}
	d := events.JobStateChange{Status: events.JobStarted, Job: "report", Cluster: "prod", TaskARNs: []string{"arn:task/1"}, ScheduledTime: &at, Attempt: 1}
	if err := e.emit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	detail, _ := json.Marshal(d)
	want := []ebtypes.PutEventsRequestEntry{{
		Source: aws.String(events.SourceDeckhand), DetailType: aws.String(events.DetailTypeDeckhandJob), Detail: aws.String(string(detail)),
		EventBusName: aws.String("deckhand"), Resources: []string{"arn:task/1"}, Time: aws.Time(at),
	}}
	if diff := cmp.Diff(want, rec.in, cmpopts.IgnoreUnexported(ebtypes.PutEventsRequestEntry{})); diff != "" {
		t.Errorf("PutEvents entries (-want +got):\n%s", diff)
	}
}
