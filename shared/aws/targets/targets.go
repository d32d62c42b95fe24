// Package targets gives the engines their ECS clients in the manifest's
// targets (DESIGN §12): the accounts and Regions, other than Deckhand's
// own, where services and jobs run. Images, the manifest, the queues and
// the event bus stay in the hub; only ECS calls go to a target.
//
// A binding (service or job) with a target: is deployed through the
// target's role, assumed with the hub's external id and session tags naming
// the binding ([Provider]). The engines scope a binding's context with [In]
// before they touch ECS for it, and take their ECS client from the context
// ([From]): Deckhand's own client when it holds no scope, else the target's.
// A client is never shared between targets, nor between bindings (a
// session's tags name one binding).
package targets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// ECS is the ECS client the engines use in a target; *ecs.Client
// implements it. It holds every method of wire.ECS (wire checks).
type ECS interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	TagResource(ctx context.Context, in *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
	RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
}

var _ ECS = (*ecs.Client)(nil)

// Clients gives a binding's ECS client in a target; *Provider implements
// it, and test fakes do.
type Clients interface {
	ECS(ctx context.Context, name string, t manifest.Target, binding string) (ECS, error)
}

var _ Clients = (*Provider)(nil)

// Scope is where one binding's ECS calls go: its target, and the client
// signed with the binding's session there.
type Scope struct {
	// Target is the target's name in the manifest.
	Target          string
	Account, Region string
	ECS             ECS
}

type scopeKey struct{}

// From returns the target scope of ctx, or nil for Deckhand's own account
// and Region.
func From(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}

// In returns ctx scoped to a binding's target: the binding's ECS calls go
// there, signed with its session (c.ECS). Target "" is Deckhand's own
// account and Region: any scope ctx held is dropped. An error is an
// *Error: the role could not be assumed, or there are no target clients.
func In(ctx context.Context, c Clients, m *manifest.Manifest, target, binding string) (context.Context, error) {
	if target == "" {
		if From(ctx) == nil {
			return ctx, nil
		}
		return context.WithValue(ctx, scopeKey{}, (*Scope)(nil)), nil
	}
	t, ok := m.Targets[target]
	if !ok {
		// Validation refuses a target: naming no target of the manifest.
		return ctx, &Error{Target: target, Binding: binding, Err: fmt.Errorf("%w %q: it is not in the manifest", errUnknownTarget, target)}
	}
	if c == nil {
		return ctx, &Error{Target: target, Role: t.Role, Binding: binding, Err: ErrNoClients}
	}
	client, err := c.ECS(ctx, target, t, binding)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, scopeKey{}, &Scope{Target: target, Account: t.Account, Region: t.Region, ECS: client}), nil
}

// ErrNoClients is a target binding met by an engine built without target
// clients.
var ErrNoClients = errors.New("this engine was built without target clients (shared/wire gives them)")

// Error is a binding's target that could not be reached: its role could
// not be assumed. It says whether retrying may help.
type Error struct {
	Target, Role, Binding string
	Err                   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("assume role %s of target %s for %s: %v", e.Role, e.Target, e.Binding, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again may help: throttling, 5xx,
// transport errors and expired hub credentials may; a refused AssumeRole
// (the role is missing or does not trust the hub with this external id and
// these session tags), another refused request, or an engine without
// target clients never will.
func (e *Error) Retryable() bool {
	switch {
	case errors.Is(e.Err, ErrNoClients), errors.Is(e.Err, errUnknownTarget):
		return false
	case awserr.ExpiredToken(e.Err), awserr.Throttled(e.Err):
		return true
	}
	return !awserr.ClientFault(e.Err) && !awserr.AccessDenied(e.Err)
}

// Reason is the short cause a FAILED event gives.
func (e *Error) Reason() string {
	switch {
	case awserr.AccessDenied(e.Err):
		return "AssumeRoleDenied"
	case awserr.Throttled(e.Err):
		return "AssumeRoleThrottled"
	case errors.Is(e.Err, ErrNoClients):
		return "NoTargetClients"
	}
	return "AssumeRoleFailed"
}

var errUnknownTarget = errors.New("unknown target")
