// Package emit puts Deckhand's own events ("Deckhand …", source deckhand)
// on an EventBridge bus, in batches of at most ten entries per PutEvents.
package emit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/deckhand-ecs/deckhand/events"
)

type eventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ eventsAPI = (*eventbridge.Client)(nil)

// maxEntries is PutEvents' limit on entries per call.
const maxEntries = 10

// Bus emits events to one EventBridge bus.
type Bus struct {
	Client  eventsAPI
	BusName string // default "default"
	// Resources are added to every event (e.g. the function's ARN).
	Resources []string
	Now       func() time.Time
}

// Event is one event to put.
type Event struct {
	DetailType string
	Detail     any
	Resources  []string
}

// Put emits the events, ten per call. Entries EventBridge rejects are
// reported as an error naming their codes, so the caller can retry.
func (b *Bus) Put(ctx context.Context, evs ...Event) error {
	bus := b.BusName
	if bus == "" {
		bus = "default"
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	for start := 0; start < len(evs); start += maxEntries {
		end := min(start+maxEntries, len(evs))
		in := &eventbridge.PutEventsInput{}
		for _, ev := range evs[start:end] {
			detail, err := json.Marshal(ev.Detail)
			if err != nil {
				return fmt.Errorf("encode %s: %w", ev.DetailType, err)
			}
			in.Entries = append(in.Entries, types.PutEventsRequestEntry{
				EventBusName: aws.String(bus),
				Source:       aws.String(events.SourceDeckhand),
				DetailType:   aws.String(ev.DetailType),
				Detail:       aws.String(string(detail)),
				Resources:    append(append([]string{}, b.Resources...), ev.Resources...),
				Time:         aws.Time(now()),
			})
		}
		out, err := b.Client.PutEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("put %d events: %w", len(in.Entries), err)
		}
		if out.FailedEntryCount > 0 {
			var codes []string
			for _, e := range out.Entries {
				if e.ErrorCode != nil {
					codes = append(codes, aws.ToString(e.ErrorCode)+": "+aws.ToString(e.ErrorMessage))
				}
			}
			return fmt.Errorf("put events: %d of %d rejected: %v", out.FailedEntryCount, len(in.Entries), codes)
		}
	}
	return nil
}

// Deployments is a convenience that wraps Deckhand deployment details.
func Deployments(ds ...events.DeploymentStateChange) []Event {
	out := make([]Event, len(ds))
	for i, d := range ds {
		out[i] = Event{DetailType: events.DetailTypeDeckhandDeployment, Detail: d}
	}
	return out
}
