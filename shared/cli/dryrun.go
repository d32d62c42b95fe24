package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ErrDryRun is returned by the read-only ECS client for any write other
// than the two it simulates.
var ErrDryRun = errors.New("dry run: write refused")

// DryRunPrefix starts the deployment id and, after the family, the revision
// of what a dry run would create.
const DryRunPrefix = "(dry-run)"

// readOnlyECS passes reads through and simulates the deploy engine's two
// writes: RegisterTaskDefinition is recorded and answered with a would-be
// revision, UpdateService is answered with a would-be deployment. Nothing
// is written to ECS.
type readOnlyECS struct {
	ECSAPI

	mu         sync.Mutex
	registered []*ecs.RegisterTaskDefinitionInput
	updated    []*ecs.UpdateServiceInput
	account    string
	region     string
}

func (r *readOnlyECS) RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	r.mu.Lock()
	r.registered = append(r.registered, in)
	r.mu.Unlock()
	family := aws.ToString(in.Family)
	next := int32(1)
	if out, err := r.ECSAPI.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: in.Family}); err == nil && out.TaskDefinition != nil {
		next = out.TaskDefinition.Revision + 1
	}
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", r.region, r.account, family, next)
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &types.TaskDefinition{
		TaskDefinitionArn: aws.String(arn), Family: in.Family, Revision: next,
		ContainerDefinitions: in.ContainerDefinitions,
	}, Tags: in.Tags}, nil
}

func (r *readOnlyECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	r.mu.Lock()
	r.updated = append(r.updated, in)
	r.mu.Unlock()
	return &ecs.UpdateServiceOutput{Service: &types.Service{
		ServiceName: in.Service, TaskDefinition: in.TaskDefinition,
		Deployments: []types.Deployment{{Id: aws.String(DryRunPrefix), Status: aws.String("PRIMARY"), TaskDefinition: in.TaskDefinition}},
	}}, nil
}

func (r *readOnlyECS) TagResource(context.Context, *ecs.TagResourceInput, ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	return nil, fmt.Errorf("tag resource: %w", ErrDryRun)
}

func (r *readOnlyECS) UntagResource(context.Context, *ecs.UntagResourceInput, ...func(*ecs.Options)) (*ecs.UntagResourceOutput, error) {
	return nil, fmt.Errorf("untag resource: %w", ErrDryRun)
}

func (r *readOnlyECS) RunTask(context.Context, *ecs.RunTaskInput, ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	return nil, fmt.Errorf("run task: %w", ErrDryRun)
}

func (r *readOnlyECS) StopTask(context.Context, *ecs.StopTaskInput, ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	return nil, fmt.Errorf("stop task: %w", ErrDryRun)
}

// lastRegistered is the input of the last simulated registration, if any.
func (r *readOnlyECS) lastRegistered() *ecs.RegisterTaskDefinitionInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.registered) == 0 {
		return nil
	}
	return r.registered[len(r.registered)-1]
}
