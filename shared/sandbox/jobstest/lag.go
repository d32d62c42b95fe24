package jobstest

import (
	"context"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/wire"
)

// Lagging is an ECS client that behaves as ECS's eventually consistent API
// may: the ListTasks answers of the next Lag() calls after a RunTask leave
// its new tasks out (the sandbox itself is strongly consistent). Wrap the
// client of the engine under test with it.
type Lagging struct {
	wire.ECS
	// Lag gives, per RunTask, how many ListTasks calls leave its tasks out.
	Lag func() int

	mu     sync.Mutex
	hidden map[string]int // task ARN → ListTasks calls it is still left out of
}

// RunTask starts the tasks and hides them from the next Lag() ListTasks
// calls. A task RunTask answers again for a client token it has seen
// keeps the visibility it has.
func (l *Lagging) RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	out, err := l.ECS.RunTask(ctx, in, optFns...)
	if err != nil || out == nil {
		return out, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hidden == nil {
		l.hidden = map[string]int{}
	}
	lag := l.Lag()
	for _, t := range out.Tasks {
		if _, seen := l.hidden[aws.ToString(t.TaskArn)]; !seen && lag > 0 {
			l.hidden[aws.ToString(t.TaskArn)] = lag
		}
	}
	return out, nil
}

// ListTasks lists, leaving out the tasks still hidden; each call counts
// against every hidden task.
func (l *Lagging) ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	out, err := l.ECS.ListTasks(ctx, in, optFns...)
	if err != nil || out == nil {
		return out, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cp := *out
	cp.TaskArns = slices.DeleteFunc(slices.Clone(out.TaskArns), func(arn string) bool { return l.hidden[arn] > 0 })
	for arn, n := range l.hidden {
		if n > 0 {
			l.hidden[arn] = n - 1
		}
	}
	return &cp, nil
}
