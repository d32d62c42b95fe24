package console

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// describeBatch is DescribeServices' limit of services per call.
const describeBatch = 10

// readers bounds the console's concurrent ECS reads.
const readers = 8

// readRows describes the given bindings' services (ten per
// DescribeServices call, per cluster) and each running revision (once per
// process, see revisionCache), and returns one row per binding in the
// order given. With a pace, every DescribeServices call waits for it
// first (the fleet snapshot's refresh, see snapshot.go); without one the
// calls go out as fast as readers allow (a page's own rows).
func (s *Server) readRows(ctx context.Context, bindings []*manifest.Service, pace Pacer) ([]Row, error) {
	type key struct{ cluster, service string }
	byCluster := map[string][]string{}
	seen := map[key]bool{}
	for _, b := range bindings {
		k := key{b.Cluster, b.Service}
		if !seen[k] {
			seen[k] = true
			byCluster[b.Cluster] = append(byCluster[b.Cluster], b.Service)
		}
	}
	type batch struct {
		cluster  string
		services []string
	}
	var batches []batch
	for _, c := range slices.Sorted(maps.Keys(byCluster)) {
		for names := range slices.Chunk(byCluster[c], describeBatch) {
			batches = append(batches, batch{c, names})
		}
	}
	var mu sync.Mutex
	services := map[key]*types.Service{}
	missing := map[key]string{}
	err := parallel(ctx, len(batches), func(ctx context.Context, i int) error {
		bt := batches[i]
		if pace != nil {
			if err := pace.Wait(ctx); err != nil {
				return fmt.Errorf("pace describe services in %s: %w", bt.cluster, err)
			}
		}
		out, err := s.env.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(bt.cluster), Services: bt.services,
			Include: []types.ServiceField{types.ServiceFieldTags}})
		mu.Lock()
		defer mu.Unlock()
		if isCode(err, "ClusterNotFoundException") {
			for _, n := range bt.services {
				missing[key{bt.cluster, n}] = fmt.Sprintf("cluster %q not found", bt.cluster)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("describe services %v in %s: %w", bt.services, bt.cluster, err)
		}
		for j := range out.Services {
			svc := &out.Services[j]
			k := key{bt.cluster, aws.ToString(svc.ServiceName)}
			if aws.ToString(svc.Status) == "INACTIVE" {
				missing[k] = fmt.Sprintf("service %s/%s is INACTIVE", bt.cluster, k.service)
				continue
			}
			services[k] = svc
		}
		for _, n := range bt.services {
			k := key{bt.cluster, n}
			if services[k] == nil && missing[k] == "" {
				missing[k] = fmt.Sprintf("service %s/%s not found", bt.cluster, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var arns []string
	index := map[string]int{}
	for _, svc := range services {
		if a := aws.ToString(svc.TaskDefinition); a != "" {
			if _, ok := index[a]; !ok {
				index[a] = len(arns)
				arns = append(arns, a)
			}
		}
	}
	revs := make([]*ecs.DescribeTaskDefinitionOutput, len(arns))
	err = parallel(ctx, len(arns), func(ctx context.Context, i int) error {
		out, err := s.env.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arns[i]),
			Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		if err != nil {
			return fmt.Errorf("describe task definition %s: %w", arns[i], err)
		}
		revs[i] = out
		return nil
	})
	if err != nil {
		return nil, err
	}
	defs := make(map[string]*types.TaskDefinition, len(revs))
	for i, out := range revs {
		defs[arns[i]] = out.TaskDefinition
	}
	rows := make([]Row, 0, len(bindings))
	rowSvcs := make([]*types.Service, 0, len(bindings))
	for _, b := range bindings {
		k := key{b.Cluster, b.Service}
		svc := services[k]
		rowSvcs = append(rowSvcs, svc)
		if svc == nil {
			rows = append(rows, missingRow(b, missing[k]))
			continue
		}
		td := revs[index[aws.ToString(svc.TaskDefinition)]]
		row := rowOf(b, svc, td.TaskDefinition, td.Tags)
		s.readGates(ctx, b, svc, &row)
		rows = append(rows, row)
	}
	s.fillTags(ctx, rows, defs)
	s.fillProgress(ctx, rows, rowSvcs)
	if s.opts.Events != nil {
		evs, err := s.opts.Events.Deployments(ctx, "", time.Time{})
		if err != nil {
			s.opts.Logger.WarnContext(ctx, "read deckhand events", "err", err)
		} else {
			lastVerdicts(rows, evs)
		}
	}
	return rows, nil
}

// parallel runs fn for 0..n-1 on at most readers goroutines and returns the
// first error; the others are cancelled.
func parallel(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, readers) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// isCode reports whether err is an AWS API error with code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

// describeService describes one service with its tags.
func describeService(ctx context.Context, api cli.ECSAPI, cluster, service string) (*types.Service, error) {
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service},
		Include: []types.ServiceField{types.ServiceFieldTags}})
	if err != nil {
		return nil, fmt.Errorf("describe service %s/%s: %w", cluster, service, err)
	}
	if len(out.Services) == 0 {
		return nil, &cli.NotFoundError{Kind: "service", Name: cluster + "/" + service, Hint: "check the manifest's cluster: and service:"}
	}
	return &out.Services[0], nil
}
