package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
)

// Plan is what a deploy would do, found by running the deploy engine
// against a read-only ECS client.
type Plan struct {
	Binding string `json:"binding"`
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	// Decision is the engine's: STARTED (it would deploy), ALREADY_DEPLOYED,
	// SUPERSEDED, HELD, SKIPPED or FAILED.
	Decision events.DeploymentStatus `json:"decision"`
	Reason   string                  `json:"reason,omitempty"`
	// Running is the service's revision now; Target what it would run
	// (an existing revision reused, or Register's would-be revision).
	Running  string `json:"running,omitempty"`
	Target   string `json:"target,omitempty"`
	Register bool   `json:"register"`
	// Containers are the image changes per container.
	Containers map[string]events.ContainerChange `json:"containers,omitempty"`
	// Diff is a unified diff from the running definition to the target,
	// empty when they are equal or nothing would change. When the engine
	// would not deploy (held, older image), it shows what --force would
	// deploy.
	Diff string `json:"diff"`
	// Forced is true when Diff shows what --force would deploy.
	Forced bool `json:"forced,omitempty"`
}

// Diff computes the plan of a manual deploy without writing anything.
func (e *Env) Diff(ctx context.Context, req DeployRequest) (*Plan, error) {
	ro := &readOnlyECS{ECSAPI: e.ECS, account: e.Account, region: e.Region}
	out, err := e.deploy(ctx, e.engine(ro, false), req)
	if err != nil {
		return nil, err
	}
	ev := out.Event
	p := &Plan{Binding: ev.Binding, Cluster: ev.Cluster, Service: ev.Service, Decision: ev.Status, Reason: ev.Reason,
		Running: ev.OldRevision, Containers: ev.Containers}
	if ev.Status != events.StatusStarted && !req.Force {
		// Show what forcing would deploy.
		req.Force = true
		ro = &readOnlyECS{ECSAPI: e.ECS, account: e.Account, region: e.Region}
		forced, err := e.deploy(ctx, e.engine(ro, false), req)
		if err != nil || forced.Event.Status != events.StatusStarted {
			return p, nil
		}
		ev, p.Forced = forced.Event, true
	}
	if ev.Status != events.StatusStarted {
		return p, nil
	}
	p.Target = ev.NewRevision
	target := ro.lastRegistered()
	p.Register = target != nil
	if target == nil {
		td, err := e.describeTaskDefinition(ctx, ev.NewRevision)
		if err != nil {
			return nil, err
		}
		target = registerInput(td.TaskDefinition)
	}
	running, err := e.describeTaskDefinition(ctx, ev.OldRevision)
	if err != nil {
		return nil, err
	}
	a, err := DefinitionText(running.TaskDefinition)
	if err != nil {
		return nil, err
	}
	noTags := *target
	noTags.Tags = nil
	noTags.ContainerDefinitions = withRegisteredPorts(noTags.NetworkMode, noTags.ContainerDefinitions)
	b, err := definitionJSON(&noTags)
	if err != nil {
		return nil, err
	}
	p.Diff = UnifiedDiff(ev.OldRevision, p.Target, a, b, 3)
	return p, nil
}

func (e *Env) describeTaskDefinition(ctx context.Context, arn string) (*ecs.DescribeTaskDefinitionOutput, error) {
	out, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(arn), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		if awserr.TaskDefinitionNotFound(err) {
			return nil, &NotFoundError{Kind: "revision", Name: arn, Hint: "list revisions with `deckhand history <binding>`"}
		}
		return nil, fmt.Errorf("describe task definition %s: %w", arn, err)
	}
	return out, nil
}

// DefinitionText is a described revision as diff shows it: the
// RegisterTaskDefinition input it was registered with, without tags, as
// indented JSON with sorted keys and empty values left out. Two revisions'
// texts compare field by field with UnifiedDiff.
func DefinitionText(td *types.TaskDefinition) (string, error) {
	return definitionJSON(registerInput(td))
}

// registerInput is the RegisterTaskDefinition input a described revision
// was registered with (without tags).
func registerInput(td *types.TaskDefinition) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family: td.Family, ContainerDefinitions: td.ContainerDefinitions, Cpu: td.Cpu, Memory: td.Memory,
		NetworkMode: td.NetworkMode, ExecutionRoleArn: td.ExecutionRoleArn, TaskRoleArn: td.TaskRoleArn,
		RequiresCompatibilities: td.RequiresCompatibilities, Volumes: td.Volumes, PlacementConstraints: td.PlacementConstraints,
		ProxyConfiguration: td.ProxyConfiguration,
		IpcMode:            td.IpcMode, PidMode: td.PidMode, RuntimePlatform: td.RuntimePlatform, EphemeralStorage: td.EphemeralStorage,
		EnableFaultInjection: td.EnableFaultInjection,
	}
}

// withRegisteredPorts returns containers with the port mappings ECS stores
// at registration: for awsvpc and host networking the host port is the
// container port, filled in when absent. A would-be revision then compares
// with a registered one without that noise.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
func withRegisteredPorts(mode types.NetworkMode, containers []types.ContainerDefinition) []types.ContainerDefinition {
	if mode != types.NetworkModeAwsvpc && mode != types.NetworkModeHost {
		return containers
	}
	out := make([]types.ContainerDefinition, len(containers))
	for i, c := range containers {
		pms := make([]types.PortMapping, len(c.PortMappings))
		for j, pm := range c.PortMappings {
			if pm.ContainerPort != nil && aws.ToInt32(pm.HostPort) == 0 {
				pm.HostPort = pm.ContainerPort
			}
			pms[j] = pm
		}
		c.PortMappings = pms
		out[i] = c
	}
	return out
}
