package sandbox_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
)

func TestPutEvents(t *testing.T) {
	c := start(t)
	var seen []string
	c.sb.Subscribe(func(ev events.Raw) { seen = append(seen, ev.DetailType) })
	at := time.Date(2026, 11, 16, 3, 0, 0, 0, time.UTC)
	out, err := c.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("deckhand"), DetailType: aws.String("Deckhand Deployment State Change"),
			Detail: aws.String(`{"status":"STARTED"}`), EventBusName: aws.String("default"), Resources: []string{"arn:x"}, Time: &at},
		{Source: aws.String("deckhand"), DetailType: aws.String("Broken"), Detail: aws.String(`{"status":`)},
		{Source: aws.String("deckhand"), DetailType: aws.String("Deckhand Job State Change"), Detail: aws.String(`{"status":"SUCCEEDED"}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[1].ErrorCode) != "MalformedDetail" || out.Entries[0].EventId == nil {
		t.Errorf("PutEvents output = %+v", out)
	}
	evs := c.sb.Events()
	if len(evs) != 2 {
		t.Fatalf("bus has %d events, want 2", len(evs))
	}
	got := evs[0]
	want := events.Raw{Version: "0", ID: aws.ToString(out.Entries[0].EventId), DetailType: "Deckhand Deployment State Change",
		Source: "deckhand", Account: "123456789012", Time: at, Region: "us-west-2", Resources: []string{"arn:x"},
		Detail: []byte(`{"status":"STARTED"}`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if !evs[1].Time.Equal(c.sb.Clock().Now()) {
		t.Errorf("event without Time got %v, want the virtual now %v", evs[1].Time, c.sb.Clock().Now())
	}
	if diff := cmp.Diff([]string{"Deckhand Deployment State Change", "Deckhand Job State Change"}, seen); diff != "" {
		t.Errorf("subscriber saw (-want +got):\n%s", diff)
	}
	if evs[0].ID == evs[1].ID {
		t.Error("event ids repeat")
	}
}
