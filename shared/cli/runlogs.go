package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
)

// LogsAPI is the part of CloudWatch Logs `run --wait` reads.
type LogsAPI interface {
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

var _ LogsAPI = (*cloudwatchlogs.Client)(nil)

// LogLine is one line a task's container wrote to CloudWatch Logs.
type LogLine struct {
	Container string    `json:"container"`
	At        time.Time `json:"at"`
	Message   string    `json:"message"`
}

// TaskLogs follows the CloudWatch Logs streams of one task's containers
// that use the awslogs driver: awslogs-group, and the stream ECS names
// awslogs-stream-prefix/container/task-id.
type TaskLogs struct {
	logs    LogsAPI
	streams []*logStream
	// Notes say which containers' logs cannot be followed, and why.
	Notes []string
}

type logStream struct {
	container, group, stream string
	token                    *string // the forward token after the last read
}

// TaskLogs reads the task's revision and returns a follower of its awslogs
// containers' streams, read through logs (a client in the CLI's Region).
// A revision that cannot be read is a note and a follower of nothing: the
// wait for the task's exit code matters more than its logs.
func (e *Env) TaskLogs(ctx context.Context, logs LogsAPI, taskDefinition, taskARN string) *TaskLogs {
	t := &TaskLogs{logs: logs}
	td, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(taskDefinition)})
	if err != nil {
		t.Notes = append(t.Notes, fmt.Sprintf("the task's logs are not shown: describe task definition %s: %v", taskDefinition, err))
		return t
	}
	taskID := taskARN[strings.LastIndex(taskARN, "/")+1:]
	for _, c := range td.TaskDefinition.ContainerDefinitions {
		name := aws.ToString(c.Name)
		lc := c.LogConfiguration
		if lc == nil || lc.LogDriver != "awslogs" {
			continue
		}
		o := lc.Options
		switch {
		case o["awslogs-stream-prefix"] == "":
			t.Notes = append(t.Notes, fmt.Sprintf("container %s: awslogs without awslogs-stream-prefix names its stream by the Docker container id; its logs are not shown", name))
		case o["awslogs-region"] != "" && o["awslogs-region"] != e.Region:
			t.Notes = append(t.Notes, fmt.Sprintf("container %s logs to %s, another Region than %s; its logs are not shown", name, o["awslogs-region"], e.Region))
		default:
			t.streams = append(t.streams, &logStream{container: name, group: o["awslogs-group"], stream: o["awslogs-stream-prefix"] + "/" + name + "/" + taskID})
		}
	}
	return t
}

// Poll returns the lines written since the last poll, oldest first across
// the containers (a sidecar's lines between the app's, as they were
// written). A stream not created yet (the container has not started) has
// no lines.
func (t *TaskLogs) Poll(ctx context.Context) ([]LogLine, error) {
	var out []LogLine
	byTime := func(a, b LogLine) int { return a.At.Compare(b.At) }
	for _, s := range t.streams {
		for {
			in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(s.group), LogStreamName: aws.String(s.stream), NextToken: s.token}
			if s.token == nil {
				in.StartFromHead = aws.Bool(true)
			}
			res, err := t.logs.GetLogEvents(ctx, in)
			if awserr.Is(err, "ResourceNotFoundException") {
				break
			}
			if err != nil {
				slices.SortStableFunc(out, byTime)
				return out, fmt.Errorf("get log events %s %s: %w", s.group, s.stream, err)
			}
			for _, ev := range res.Events {
				out = append(out, LogLine{Container: s.container, At: time.UnixMilli(aws.ToInt64(ev.Timestamp)).UTC(), Message: aws.ToString(ev.Message)})
			}
			// At the end of the stream the forward token comes back as it
			// was sent.
			next := res.NextForwardToken
			done := next == nil || s.token != nil && *next == *s.token
			s.token = next
			if done || len(res.Events) == 0 {
				break
			}
		}
	}
	slices.SortStableFunc(out, byTime)
	return out, nil
}
