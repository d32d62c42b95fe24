package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// HoldResult is a service's hold after hold or release.
type HoldResult struct {
	Binding string `json:"binding"`
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Held    bool   `json:"held"`
	Reason  string `json:"reason,omitempty"`
	// Changed is false when the service was already in that state.
	Changed bool `json:"changed"`
}

// Hold tags the binding's service with deckhand:hold, so the deployer
// skips it with HELD until Release.
func (e *Env) Hold(ctx context.Context, binding, reason string) (*HoldResult, error) {
	b, svc, err := e.bindingService(ctx, binding)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "held with deckhand hold"
	}
	prev, was := revision.TagsOf(svc.Tags)[revision.TagHold]
	if err := e.tagHold(ctx, svc, reason); err != nil {
		return nil, err
	}
	return &HoldResult{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Held: true,
		Reason: revision.TagValue(reason), Changed: !was || prev != revision.TagValue(reason)}, nil
}

// Release removes the hold.
func (e *Env) Release(ctx context.Context, binding string) (*HoldResult, error) {
	b, svc, err := e.bindingService(ctx, binding)
	if err != nil {
		return nil, err
	}
	prev, was := revision.TagsOf(svc.Tags)[revision.TagHold]
	if was {
		if _, err := e.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: svc.ServiceArn, TagKeys: []string{revision.TagHold}}); err != nil {
			return nil, fmt.Errorf("untag service %s/%s: %w", b.Cluster, b.Service, err)
		}
	}
	return &HoldResult{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Reason: prev, Changed: was}, nil
}

func (e *Env) bindingService(ctx context.Context, binding string) (*manifest.Service, *types.Service, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, nil, err
	}
	b, err := Binding(m, binding)
	if err != nil {
		return nil, nil, err
	}
	svc, err := e.describeService(ctx, b.Cluster, b.Service)
	return b, svc, err
}

func (e *Env) tagHold(ctx context.Context, svc *types.Service, reason string) error {
	_, err := e.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: svc.ServiceArn,
		Tags: []types.Tag{{Key: aws.String(revision.TagHold), Value: aws.String(revision.TagValue(reason))}}})
	if err != nil {
		return fmt.Errorf("tag service %s with %s: %w", aws.ToString(svc.ServiceName), revision.TagHold, err)
	}
	return nil
}
