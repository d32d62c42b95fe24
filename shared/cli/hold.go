package cli

import (
	"context"
	"errors"
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
	// Replaced is the reason a forced hold replaced.
	Replaced string `json:"replaced,omitempty"`
}

// ErrAlreadyHeld is matched by errors.Is when Hold refuses to replace the
// reason of an existing hold.
var ErrAlreadyHeld = errors.New("already held")

// DefaultHoldReason is the reason of a hold given none.
const DefaultHoldReason = "held with deckhand hold"

// Hold tags the binding's service with deckhand:hold, so the deployer
// skips it with HELD until Release. The first hold's reason stands: holding
// a held service again with the same reason, or with none, changes nothing;
// with another reason it is refused (ErrAlreadyHeld) unless force, which
// replaces the reason.
func (e *Env) Hold(ctx context.Context, binding, reason string, force bool) (*HoldResult, error) {
	b, svc, err := e.bindingService(ctx, binding)
	if err != nil {
		return nil, err
	}
	res := &HoldResult{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Held: true}
	prev, was := revision.TagsOf(svc.Tags)[revision.TagHold]
	want := revision.TagValue(reason)
	switch {
	case was && (reason == "" || want == prev):
		res.Reason = prev
		return res, nil
	case was && !force:
		return nil, fmt.Errorf("%s (%s/%s) is %w: %s; pass --force to replace the reason, or release it first with `deckhand release %s`",
			b.Name, b.Cluster, b.Service, ErrAlreadyHeld, prev, b.Name)
	case was:
		res.Replaced = prev
	}
	if reason == "" {
		reason = DefaultHoldReason
	}
	if err := e.tagHold(ctx, svc, reason); err != nil {
		return nil, err
	}
	res.Reason, res.Changed = revision.TagValue(reason), true
	return res, nil
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
