package cli

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// fakeLogs serves one stream in pages of two events; tokens are offsets.
type fakeLogs struct {
	events []string // nil: the stream does not exist yet
	tokens []string // the NextToken of each call
}

func (f *fakeLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	f.tokens = append(f.tokens, aws.ToString(in.NextToken))
	if f.events == nil {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "The specified log stream does not exist."}
	}
	from := 0
	if in.NextToken != nil {
		fmt.Sscanf(*in.NextToken, "f/%d", &from)
	}
	to := min(from+2, len(f.events))
	out := &cloudwatchlogs.GetLogEventsOutput{NextForwardToken: aws.String(fmt.Sprintf("f/%d", to))}
	for i := from; i < to; i++ {
		out.Events = append(out.Events, types.OutputLogEvent{Message: aws.String(f.events[i]), Timestamp: aws.Int64(int64(i) * 1000)})
	}
	return out, nil
}

func TestTaskLogsPoll(t *testing.T) {
	f := &fakeLogs{}
	tl := &TaskLogs{logs: f, streams: []*logStream{{container: "app", group: "/ecs/app", stream: "app/app/1"}}}
	poll := func() []string {
		lines, err := tl.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range lines {
			out = append(out, l.Container+": "+l.Message)
		}
		return out
	}
	if got := poll(); len(got) != 0 {
		t.Errorf("before the stream exists: %q, want nothing", got)
	}
	f.events = []string{"a", "b", "c"}
	if diff := cmp.Diff([]string{"app: a", "app: b", "app: c"}, poll()); diff != "" {
		t.Errorf("every page of the first poll (-want +got):\n%s", diff)
	}
	f.events = append(f.events, "d")
	if diff := cmp.Diff([]string{"app: d"}, poll()); diff != "" {
		t.Errorf("the next poll reads on from the token (-want +got):\n%s", diff)
	}
	if got := poll(); len(got) != 0 {
		t.Errorf("nothing new: %q", got)
	}
	if diff := cmp.Diff([]string{"", "", "f/2", "f/3", "f/3", "f/4", "f/4"}, f.tokens); diff != "" {
		t.Errorf("tokens sent (-want +got):\n%s", diff)
	}
}
