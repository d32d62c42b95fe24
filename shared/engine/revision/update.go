package revision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// updateAPI is the part of the ECS client the update uses.
type updateAPI interface {
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

var _ updateAPI = (*ecs.Client)(nil)

// Updater points services at revisions: the update half of DESIGN §5 rule
// 8, for the deploy engine and the CLI's rollback alike.
type Updater struct {
	ECS   updateAPI
	Pacer Pacer
	// Limit paces UpdateService (nil: unpaced).
	Limit *rate.Limiter
}

// Update points b's service at the revision arn with the binding's
// deployment configuration (DeploymentConfiguration: its circuit breaker
// and, with a deployment: block, its strategy, bake, steps and alarms),
// paced and retried, and returns the id of the deployment it started (""
// when ECS does not list it).
func (u Updater) Update(ctx context.Context, b *manifest.Service, arn string) (string, error) {
	if err := u.Pacer.Wait(ctx, u.Limit); err != nil {
		return "", fmt.Errorf("wait for update rate: %w", err)
	}
	var out *ecs.UpdateServiceOutput
	err := u.Pacer.Retry(ctx, func() error {
		var err error
		out, err = u.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String(b.Cluster), Service: aws.String(b.Service), TaskDefinition: aws.String(arn),
			DeploymentConfiguration: DeploymentConfiguration(b),
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("update service %s/%s: %w", b.Cluster, b.Service, err)
	}
	for _, d := range out.Service.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && aws.ToString(d.TaskDefinition) == arn {
			return aws.ToString(d.Id), nil
		}
	}
	return "", nil
}

// CircuitBreaker is the deployment circuit breaker the manifest asks for:
// off, on, or rollback (the default).
func CircuitBreaker(b *manifest.Service) *types.DeploymentCircuitBreaker {
	return &types.DeploymentCircuitBreaker{
		Enable:   b.CircuitBreaker != manifest.CircuitBreakerOff,
		Rollback: b.CircuitBreaker == manifest.CircuitBreakerRollback || b.CircuitBreaker == "",
	}
}
