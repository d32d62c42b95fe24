package sandbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

func messages(evs []logtypes.OutputLogEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, aws.ToString(e.Message))
	}
	return out
}

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
func TestCloudWatchLogsStoresPagesAndFiltersEvents(t *testing.T) {
	sb := sandboxtest.Start(t)
	client := cloudwatchlogs.NewFromConfig(sb.AWSConfig())
	group, stream := aws.String("/app/web"), aws.String("web/1")
	if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: group, LogStreamName: stream}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("CreateLogStream in a missing group: %v, want ResourceNotFoundException", err)
	}
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group}); errorCode(err) != "ResourceAlreadyExistsException" {
		t.Errorf("CreateLogGroup twice: %v, want ResourceAlreadyExistsException", err)
	}
	if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: group, LogStreamName: stream}); err != nil {
		t.Fatal(err)
	}
	now := sb.Clock().Now().UnixMilli()
	ev := func(offset int64, msg string) logtypes.InputLogEvent {
		return logtypes.InputLogEvent{Timestamp: aws.Int64(now + offset), Message: aws.String(msg)}
	}
	_, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: group, LogStreamName: stream,
		LogEvents: []logtypes.InputLogEvent{ev(2, "b"), ev(1, "a")}})
	if errorCode(err) != "InvalidParameterException" {
		t.Errorf("PutLogEvents out of order: %v, want InvalidParameterException", err)
	}
	put, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: group, LogStreamName: stream,
		LogEvents: []logtypes.InputLogEvent{ev(-15*24*3600*1000, "too old"), ev(1, "GET /health 200"), ev(2, "GET /orders 500"),
			ev(3, "GET /health 200"), ev(3*3600*1000, "too new")}})
	if err != nil {
		t.Fatal(err)
	}
	if r := put.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.TooNewLogEventStartIndex) != 4 {
		t.Errorf("RejectedLogEventsInfo = %+v, want tooOld end 1, tooNew start 4", r)
	}
	var pages [][]string
	var token *string
	for range 5 {
		out, err := client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: group, LogStreamName: stream,
			StartFromHead: aws.Bool(true), Limit: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, messages(out.Events))
		if token != nil && aws.ToString(out.NextForwardToken) == aws.ToString(token) {
			break
		}
		token = out.NextForwardToken
	}
	if diff := cmp.Diff([][]string{{"GET /health 200", "GET /orders 500"}, {"GET /health 200"}, nil}, pages); diff != "" {
		t.Errorf("GetLogEvents pages from the head, until the forward token repeats (-want +got):\n%s", diff)
	}
	filtered, err := client.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: group, FilterPattern: aws.String("GET -health")})
	if err != nil {
		t.Fatal(err)
	}
	if len(filtered.Events) != 1 || aws.ToString(filtered.Events[0].Message) != "GET /orders 500" || aws.ToString(filtered.Events[0].LogStreamName) != "web/1" {
		t.Errorf("FilterLogEvents \"GET -health\" = %+v, want the one 500 line of web/1", filtered.Events)
	}
	groups, err := client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].Arn) != "arn:aws:logs:us-west-2:123456789012:log-group:/app/web:*" {
		t.Errorf("DescribeLogGroups = %+v", groups.LogGroups)
	}
}

// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html (stream names prefix/container/task-id)
func TestTaskContainersWriteTheirScriptedOutputThroughAwslogs(t *testing.T) {
	sb := sandboxtest.Start(t)
	ecsClient := ecs.NewFromConfig(sb.AWSConfig())
	if _, err := ecsClient.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	image := "123456789012.dkr.ecr.us-west-2.amazonaws.com/report@sha256:" + strings.Repeat("ab", 32)
	containers := ecsContainers("report", image)
	containers[0].LogConfiguration = &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
		"awslogs-group": "/deckhand/report", "awslogs-region": "us-west-2", "awslogs-stream-prefix": "jobs", "awslogs-create-group": "true"}}
	td, err := ecsClient.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("report"), ContainerDefinitions: containers})
	if err != nil {
		t.Fatal(err)
	}
	sb.ECS().ScriptImage(image, ecssim.TaskScript{RunFor: 20 * time.Second, ExitCode: 1})
	sb.ScriptLogs("sha256:"+strings.Repeat("ab", 32), []sandbox.LogLine{
		{After: time.Second, Message: "starting report"}, {After: 10 * time.Second, Message: "report failed"},
		{After: 25 * time.Second, Message: "never written: the container exited at 20s"}})
	run, err := ecsClient.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	taskARN := aws.ToString(run.Tasks[0].TaskArn)
	stream := "jobs/report/" + taskARN[strings.LastIndex(taskARN, "/")+1:]
	logs := cloudwatchlogs.NewFromConfig(sb.AWSConfig())
	get := func() []logtypes.OutputLogEvent {
		t.Helper()
		out, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/deckhand/report"),
			LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("GetLogEvents %s: %v", stream, err)
		}
		return out.Events
	}
	sb.Clock().Advance(20 * time.Second) // running since 15s: one line due
	if got := messages(get()); !cmp.Equal(got, []string{"starting report"}) {
		t.Errorf("5s into the run the stream holds %q, want the first line only", got)
	}
	sb.Clock().Advance(5 * time.Minute)
	desc, err := ecsClient.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{taskARN}})
	if err != nil {
		t.Fatal(err)
	}
	started := aws.ToTime(desc.Tasks[0].StartedAt).UnixMilli()
	evs := get()
	if got := messages(evs); !cmp.Equal(got, []string{"starting report", "report failed"}) {
		t.Fatalf("after the task stopped the stream holds %q, want the two lines written while it ran", got)
	}
	if got := []int64{aws.ToInt64(evs[0].Timestamp) - started, aws.ToInt64(evs[1].Timestamp) - started}; !cmp.Equal(got, []int64{1000, 10000}) {
		t.Errorf("line timestamps are %v ms after startedAt, want [1000 10000]", got)
	}
}
