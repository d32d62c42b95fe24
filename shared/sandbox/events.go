package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

type putEventsInput struct {
	Entries []struct {
		Time         *float64 `json:"Time"`
		Source       string   `json:"Source"`
		Resources    []string `json:"Resources"`
		DetailType   string   `json:"DetailType"`
		Detail       string   `json:"Detail"`
		EventBusName string   `json:"EventBusName"`
	} `json:"Entries"`
}

type putEventsResultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// handleEvents serves the EventBridge operations: PutEvents and
// TestEventPattern (events_pattern.go).
func (s *Sandbox) handleEvents(ctx context.Context, op string, body []byte) (any, error) {
	if op == "TestEventPattern" {
		return testEventPattern(body)
	}
	if op != "PutEvents" {
		return nil, awsproto.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %s is not supported by the sandbox", op)
	}
	var in putEventsInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "SerializationException", "decode PutEvents: %v", err)
	}
	if len(in.Entries) == 0 || len(in.Entries) > 10 {
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	out := struct {
		FailedEntryCount int                    `json:"FailedEntryCount"`
		Entries          []putEventsResultEntry `json:"Entries"`
	}{Entries: []putEventsResultEntry{}}
	for _, e := range in.Entries {
		var res putEventsResultEntry
		switch {
		case e.Source == "":
			res = putEventsResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument."}
		case e.DetailType == "":
			res = putEventsResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter DetailType is not valid. Reason: DetailType is a required argument."}
		case e.Detail == "":
			res = putEventsResultEntry{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Detail is not valid. Reason: Detail is a required argument."}
		case !isJSONObject(e.Detail):
			res = putEventsResultEntry{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."}
		}
		if res.ErrorCode != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, res)
			continue
		}
		var at time.Time
		if e.Time != nil {
			sec := *e.Time
			at = time.Unix(0, int64(sec*float64(time.Second))).UTC()
		}
		b := s.scopeOf(ctx).bus
		ev := b.envelope(e.Source, e.DetailType, e.Resources, json.RawMessage(e.Detail), at)
		b.publish(ev)
		out.Entries = append(out.Entries, putEventsResultEntry{EventID: ev.ID})
	}
	return out, nil
}

// isJSONObject reports whether s is a JSON object, the only detail
// EventBridge accepts.
func isJSONObject(s string) bool {
	var v map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &v) == nil
}
