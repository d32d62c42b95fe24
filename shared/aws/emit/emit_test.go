package emit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/deckhand-ecs/deckhand/events"
)

type fakeBus struct {
	calls  []*eventbridge.PutEventsInput
	reject bool
}

func (f *fakeBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.calls = append(f.calls, in)
	out := &eventbridge.PutEventsOutput{}
	if f.reject {
		out.FailedEntryCount = 1
		out.Entries = []types.PutEventsResultEntry{{ErrorCode: aws.String("MalformedDetail"), ErrorMessage: aws.String("bad")}}
	}
	return out, nil
}

func TestPutBatchesByTen(t *testing.T) {
	f := &fakeBus{}
	var ds []events.DeploymentStateChange
	for range 23 {
		ds = append(ds, events.DeploymentStateChange{Status: events.StatusStarted, Binding: "web"})
	}
	if err := (&Bus{Client: f}).Put(context.Background(), Deployments(ds...)...); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || len(f.calls[0].Entries) != 10 || len(f.calls[2].Entries) != 3 {
		t.Fatalf("calls = %d", len(f.calls))
	}
	e := f.calls[0].Entries[0]
	var d events.DeploymentStateChange
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil || d.Binding != "web" {
		t.Errorf("detail = %s, %v", aws.ToString(e.Detail), err)
	}
	if aws.ToString(e.Source) != "deckhand" || aws.ToString(e.DetailType) != events.DetailTypeDeckhandDeployment || aws.ToString(e.EventBusName) != "default" {
		t.Errorf("entry = %+v", e)
	}
}

func TestRejectedEntriesAreAnError(t *testing.T) {
	err := (&Bus{Client: &fakeBus{reject: true}, BusName: "ops"}).Put(context.Background(), Event{DetailType: "x", Detail: 1})
	if err == nil || !strings.Contains(err.Error(), "MalformedDetail") {
		t.Errorf("err = %v", err)
	}
}
