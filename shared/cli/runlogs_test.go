package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
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

// describeOnly answers DescribeTaskDefinition with one revision, or err.
type describeOnly struct {
	ECSAPI
	td  *ecstypes.TaskDefinition
	err error
}

func (f describeOnly) DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: f.td}, f.err
}

// TestTaskLogsStreams: the streams followed are the awslogs containers'
// prefix/container/task-id in their group; a container whose stream cannot
// be named, or that logs to another Region, is a note; one without awslogs
// is left out; a revision that cannot be read is a note, not an error (the
// run's exit code still matters more than its logs).
func TestTaskLogsStreams(t *testing.T) {
	awslogs := func(opts map[string]string) *ecstypes.LogConfiguration {
		return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: opts}
	}
	td := &ecstypes.TaskDefinition{ContainerDefinitions: []ecstypes.ContainerDefinition{
		{Name: aws.String("report"), LogConfiguration: awslogs(map[string]string{"awslogs-group": "/ecs/report", "awslogs-stream-prefix": "jobs", "awslogs-region": "us-west-2"})},
		{Name: aws.String("nameless"), LogConfiguration: awslogs(map[string]string{"awslogs-group": "/ecs/report"})},
		{Name: aws.String("abroad"), LogConfiguration: awslogs(map[string]string{"awslogs-group": "/ecs/report", "awslogs-stream-prefix": "jobs", "awslogs-region": "eu-west-1"})},
		{Name: aws.String("router"), LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwsfirelens}},
		{Name: aws.String("quiet")},
	}}
	task := "arn:aws:ecs:us-west-2:123456789012:task/prod/0123456789abcdef0123456789abcdef"
	type stream struct{ Container, Group, Stream string }
	cases := map[string]struct {
		ecs     describeOnly
		streams []stream
		notes   []string
	}{
		"awslogs containers with a prefix in this Region are followed; the others are said": {
			ecs:     describeOnly{td: td},
			streams: []stream{{"report", "/ecs/report", "jobs/report/0123456789abcdef0123456789abcdef"}},
			notes: []string{"container nameless: awslogs without awslogs-stream-prefix names its stream by the Docker container id; its logs are not shown",
				"container abroad logs to eu-west-1, another Region than us-west-2; its logs are not shown"},
		},
		"a revision that cannot be read is a note": {
			ecs:   describeOnly{err: errors.New("AccessDeniedException: not authorized")},
			notes: []string{"the task's logs are not shown: describe task definition report:3: AccessDeniedException: not authorized"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := &Env{ECS: tc.ecs, Region: "us-west-2"}
			tl := e.TaskLogs(context.Background(), &fakeLogs{}, "report:3", task)
			var got []stream
			for _, s := range tl.streams {
				got = append(got, stream{s.container, s.group, s.stream})
			}
			if diff := cmp.Diff(tc.streams, got); diff != "" {
				t.Errorf("streams (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.notes, tl.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

// streamsLogs serves whole streams by name: the first read has every event,
// the next ones none.
type streamsLogs map[string][]types.OutputLogEvent

func (f streamsLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	out := &cloudwatchlogs.GetLogEventsOutput{NextForwardToken: aws.String("f/end")}
	if in.NextToken == nil {
		out.Events = f[aws.ToString(in.LogStreamName)]
	}
	return out, nil
}

// TestTaskLogsPollInterleaves: the lines of several containers come oldest
// first, as they were written, not container by container.
func TestTaskLogsPollInterleaves(t *testing.T) {
	ev := func(sec int64, msg string) types.OutputLogEvent {
		return types.OutputLogEvent{Timestamp: aws.Int64(sec * 1000), Message: aws.String(msg)}
	}
	logs := streamsLogs{
		"p/app/1":   {ev(1, "app starting"), ev(4, "app ready"), ev(9, "app done")},
		"p/envoy/1": {ev(2, "envoy listening"), ev(4, "envoy healthy")},
	}
	tl := &TaskLogs{logs: logs, streams: []*logStream{{container: "app", group: "g", stream: "p/app/1"}, {container: "envoy", group: "g", stream: "p/envoy/1"}}}
	lines, err := tl.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Container+": "+l.Message)
	}
	want := []string{"app: app starting", "envoy: envoy listening", "app: app ready", "envoy: envoy healthy", "app: app done"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
