package jobs

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// fakeCluster is a small stateful model of one ECS cluster's standalone
// tasks behind a fakeECS: RunTask with client-token idempotency (the
// original result is returned), ListTasks by startedBy and desiredStatus,
// DescribeTasks with tags and StopTask. lag models ECS's eventual
// consistency: a task RunTask created stays out of ListTasks answers for
// the next lag ListTasks calls.
type fakeCluster struct {
	mu     sync.Mutex
	now    func() time.Time
	lag    int
	tasks  []*fakeTask
	tokens map[string]*fakeTask
}

type fakeTask struct {
	task   ecstypes.Task
	hidden int // ListTasks calls this task is still left out of
}

// install makes f answer the task calls from the model.
func (c *fakeCluster) install(f *fakeECS) {
	if c.tokens == nil {
		c.tokens = map[string]*fakeTask{}
	}
	f.runTask = c.runTask
	f.listTasks = c.listTasks
	f.describeTasks = c.describeTasks
	f.stopTask = c.stopTask
}

func (c *fakeCluster) runTask(in *ecs.RunTaskInput) (*ecs.RunTaskOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[aws.ToString(in.ClientToken)]; ok {
		return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{t.task}}, nil
	}
	created := c.now()
	t := &fakeTask{hidden: c.lag, task: ecstypes.Task{
		TaskArn:           aws.String(fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task/prod/t%d", len(c.tasks)+1)),
		TaskDefinitionArn: in.TaskDefinition, StartedBy: in.StartedBy, Group: in.Group,
		LastStatus: aws.String("PROVISIONING"), DesiredStatus: aws.String("RUNNING"), CreatedAt: &created,
		Tags: slices.Clone(in.Tags),
	}}
	c.tasks = append(c.tasks, t)
	c.tokens[aws.ToString(in.ClientToken)] = t
	return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{t.task}}, nil
}

func (c *fakeCluster) listTasks(in *ecs.ListTasksInput) (*ecs.ListTasksOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	want := in.DesiredStatus
	if want == "" {
		want = ecstypes.DesiredStatusRunning
	}
	out := &ecs.ListTasksOutput{}
	for _, t := range c.tasks {
		if t.hidden > 0 {
			t.hidden--
			continue
		}
		if aws.ToString(t.task.StartedBy) == aws.ToString(in.StartedBy) && aws.ToString(t.task.DesiredStatus) == string(want) {
			out.TaskArns = append(out.TaskArns, aws.ToString(t.task.TaskArn))
		}
	}
	return out, nil
}

func (c *fakeCluster) describeTasks(in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &ecs.DescribeTasksOutput{}
	for _, arn := range in.Tasks {
		if t := c.find(arn); t != nil {
			out.Tasks = append(out.Tasks, t.task)
		}
	}
	return out, nil
}

func (c *fakeCluster) stopTask(in *ecs.StopTaskInput) (*ecs.StopTaskOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.find(aws.ToString(in.Task))
	if t == nil {
		return nil, fmt.Errorf("no task %s", aws.ToString(in.Task))
	}
	t.task.DesiredStatus, t.task.StoppedReason = aws.String("STOPPED"), in.Reason
	return &ecs.StopTaskOutput{Task: &t.task}, nil
}

func (c *fakeCluster) find(arn string) *fakeTask {
	for _, t := range c.tasks {
		if aws.ToString(t.task.TaskArn) == arn {
			return t
		}
	}
	return nil
}

// finish moves every task to STOPPED, as if each had run to its end.
func (c *fakeCluster) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.tasks {
		t.task.DesiredStatus, t.task.LastStatus = aws.String("STOPPED"), aws.String("STOPPED")
	}
}

// running returns the ARNs of the tasks not told to stop.
func (c *fakeCluster) running() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, t := range c.tasks {
		if aws.ToString(t.task.DesiredStatus) == "RUNNING" {
			out = append(out, aws.ToString(t.task.TaskArn))
		}
	}
	return out
}
