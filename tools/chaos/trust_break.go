package chaos

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// Breakage breaks one trust promise on purpose, from outside the engine,
// so a test proves the invariant that holds it can fail (chaos_test.go).
type Breakage int

// Breakages.
const (
	BreakNothing Breakage = iota
	// BreakTrustingTracker: the tracker's ECS says every deployment
	// failed, as if the tracker believed its input (invariant 9).
	BreakTrustingTracker
	// BreakLostRollbackMarks: the deployer sees neither the rolled-back
	// marks nor the deployments' state, as if recording failed and nothing
	// else told it (invariant 8).
	BreakLostRollbackMarks
	// BreakTieOrder: the deployer cannot ask ECR for precise push times
	// (invariants 1 and 2).
	BreakTieOrder
	// BreakStaleTemplates: the deployer keeps a template's first body
	// under every later version (invariant 10).
	BreakStaleTemplates
	// BreakTrustedEventTimes: the deployer's clock runs a century ahead, so
	// no event time looks far ahead (invariant 11).
	BreakTrustedEventTimes
	// BreakTargetIsolation: every engine gets Deckhand's own ECS client
	// for a binding's target, as if it forgot to assume the target's role
	// (invariant 16; targets.go).
	BreakTargetIsolation
)

// breakStack applies the run's breakage to the stack.
func (r *runner) breakStack() {
	st := r.st
	switch r.cfg.Break {
	case BreakTrustingTracker:
		st.Tracker.Deployments.ECS = failingTracker{st.ECS}
	case BreakLostRollbackMarks:
		st.Deployer.ECS = blindToRollbacks{st.Deployer.ECS.(ECSAPI)}
	case BreakTieOrder:
		st.Deployer.ECR = nil
	case BreakStaleTemplates:
		st.Deployer.Source = &firstBody{Source: st.Deployer.Source, bodies: map[string][]byte{}}
	case BreakTrustedEventTimes:
		now := st.Deployer.Now
		st.Deployer.Now = func() time.Time { return now().AddDate(100, 0, 0) }
	case BreakTargetIsolation:
		home := homeClients{st.ECS}
		st.Deployer.Targets, st.Jobs.Targets, st.Tracker.Deployments.Targets, st.Reconciler.Targets = home, home, home, home
	}
}

// failingTracker reports every deployment of a service as FAILED, and
// every service-deployment record of the sandbox as STOPPED.
type failingTracker struct{ *ecs.Client }

func (f failingTracker) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out, err := f.Client.DescribeServices(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	for i := range out.Services {
		for j := range out.Services[i].Deployments {
			out.Services[i].Deployments[j].RolloutState = ecstypes.DeploymentRolloutStateFailed
		}
	}
	return out, nil
}

// DescribeServiceDeployments says every recorded deployment was stopped
// (failed), for the deployments the service no longer lists.
func (f failingTracker) DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, opts ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error) {
	out, err := f.Client.DescribeServiceDeployments(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	for i := range out.ServiceDeployments {
		out.ServiceDeployments[i].Status = ecstypes.ServiceDeploymentStatusStopped
	}
	return out, nil
}

// blindToRollbacks hides the rolled-back marks and the deployments' state
// and times from the deployer.
type blindToRollbacks struct{ ECSAPI }

func (b blindToRollbacks) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out, err := b.ECSAPI.DescribeServices(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	for i := range out.Services {
		s := &out.Services[i]
		var kept []ecstypes.Tag
		for _, t := range s.Tags {
			if !strings.HasPrefix(*t.Key, revision.TagRolledBack) {
				kept = append(kept, t)
			}
		}
		s.Tags = kept
		for j := range s.Deployments {
			s.Deployments[j].RolloutState, s.Deployments[j].CreatedAt = "", nil
		}
	}
	return out, nil
}

// firstBody serves each template's first body under its current version.
type firstBody struct {
	store.Source
	mu     sync.Mutex
	bodies map[string][]byte
}

func (f *firstBody) Template(ctx context.Context, key string) (store.Template, error) {
	t, err := f.Source.Template(ctx, key)
	if err != nil {
		return t, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.bodies[key]; ok {
		t.Body = b
	} else {
		f.bodies[key] = t.Body
	}
	return t, nil
}
