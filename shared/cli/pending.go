package cli

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// PendingApproval is one revision that waits for `deckhand approve`.
type PendingApproval struct {
	Binding  string    `json:"binding"`
	Cluster  string    `json:"cluster"`
	Service  string    `json:"service"`
	Revision string    `json:"revision"`
	Since    time.Time `json:"since"`
	Expires  time.Time `json:"expires"`
	// Expired is true once the expiry has passed; the reconciler then
	// reports it EXPIRED on its next pass.
	Expired bool   `json:"expired,omitempty"`
	Trigger string `json:"trigger,omitempty"`
	// PromotedFrom is the binding a promotion comes from.
	PromotedFrom string `json:"promotedFrom,omitempty"`
	// Running is the revision the service runs now.
	Running string `json:"running"`
	// Images are the images the revision brings, per container.
	Images map[string]events.ContainerChange `json:"images"`
}

// Pending lists what waits for approval across bindings: the pending
// revision of each named binding (of every binding whose manifest entry
// requires approval when names is empty), by binding. A binding's service
// that does not exist is an error.
func (e *Env) Pending(ctx context.Context, names []string) ([]PendingApproval, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	var bindings []*manifest.Service
	for _, n := range names {
		b, err := Binding(m, n)
		if err != nil {
			return nil, err
		}
		bindings = append(bindings, b)
	}
	if len(names) == 0 {
		for i := range m.Services {
			if m.Services[i].Gates.ApprovalRequired() {
				bindings = append(bindings, &m.Services[i])
			}
		}
	}
	now := e.Now(ctx)
	out := []PendingApproval{}
	for _, b := range bindings {
		svc, err := e.describeService(ctx, b.Cluster, b.Service)
		if err != nil {
			return nil, err
		}
		p, err := e.PendingOf(ctx, b, svc, now)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

// PendingOf is the revision of binding b that waits for approval, given
// its service as DescribeServices answered, or nil.
func (e *Env) PendingOf(ctx context.Context, b *manifest.Service, svc *types.Service, now time.Time) (*PendingApproval, error) {
	serving := revision.OfService(*svc)
	g, err := gate.Reader{ECS: e.ECS}.GatedRevision(ctx, b, serving, nil)
	if err != nil || !g.Pending() {
		return nil, err
	}
	return &PendingApproval{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Revision: g.ARN,
		Since: aws.ToTime(g.Def.RegisteredAt), Expires: g.Expires(), Expired: g.Expired(now), Trigger: g.Tags[revision.TagTrigger],
		PromotedFrom: g.Tags[revision.TagPromotedFrom], Running: serving, Images: gate.Containers(g.Tags)}, nil
}
