package retention

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// describeBatch is how many services one DescribeServices call takes.
const describeBatch = 10

// Run applies retention to the service bindings named (every one when
// names is empty), at most MaxRemovals revisions in all, reading their
// services ten per DescribeServices call (one call per cluster and batch).
// Results are in manifest order. Errors of one binding are returned joined
// after the others were pruned.
func (p *Pruner) Run(ctx context.Context, m *manifest.Manifest, names ...string) ([]Result, error) {
	var bindings []*manifest.Service
	if len(names) == 0 {
		for i := range m.Services {
			bindings = append(bindings, &m.Services[i])
		}
	}
	for _, n := range names {
		b, ok := m.Service(n)
		if !ok {
			return nil, fmt.Errorf("binding %q: %w", n, ErrUnknownBinding)
		}
		bindings = append(bindings, b)
	}
	svcs, err := p.describe(ctx, bindings)
	if err != nil {
		return nil, err
	}
	budget := p.MaxRemovals
	if budget == 0 {
		budget = DefaultMaxRemovals
	}
	var errs []error
	out := make([]Result, 0, len(bindings))
	for _, b := range bindings {
		res, err := p.Binding(ctx, m, b, svcs[b.Cluster+"/"+b.Service], &budget)
		if err != nil {
			errs = append(errs, fmt.Errorf("binding %s: %w", b.Name, err))
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

// ErrUnknownBinding is a name Run was given that the manifest does not bind.
var ErrUnknownBinding = errors.New("no such service binding in the manifest")

// describe reads the bindings' services, keyed cluster/service.
func (p *Pruner) describe(ctx context.Context, bindings []*manifest.Service) (map[string]*types.Service, error) {
	byCluster := map[string][]string{}
	var clusters []string
	for _, b := range bindings {
		if _, ok := byCluster[b.Cluster]; !ok {
			clusters = append(clusters, b.Cluster)
		}
		byCluster[b.Cluster] = append(byCluster[b.Cluster], b.Service)
	}
	out := map[string]*types.Service{}
	for _, c := range clusters {
		names := byCluster[c]
		for len(names) > 0 {
			batch := names[:min(describeBatch, len(names))]
			names = names[len(batch):]
			var res *ecs.DescribeServicesOutput
			err := p.Pacer.Retry(ctx, func() error {
				var err error
				res, err = p.ecs(ctx).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(c), Services: batch})
				return err
			})
			if awserr.ClusterNotFound(err) {
				break // its bindings are skipped: service not found
			}
			if err != nil {
				return nil, fmt.Errorf("describe services of cluster %s: %w", c, err)
			}
			for i := range res.Services {
				s := &res.Services[i]
				if aws.ToString(s.Status) == "INACTIVE" {
					continue
				}
				out[c+"/"+aws.ToString(s.ServiceName)] = s
			}
		}
	}
	return out, nil
}
