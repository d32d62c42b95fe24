package ecssim

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

type cluster struct {
	name, arn string
	status    string
	providers []string
	strategy  []strategyItem
}

var clusterNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

func (e *ECS) createCluster(body []byte, _ time.Time) (any, error) {
	var in struct {
		ClusterName                     string         `json:"clusterName"`
		Tags                            []tag          `json:"tags"`
		CapacityProviders               []string       `json:"capacityProviders"`
		DefaultCapacityProviderStrategy []strategyItem `json:"defaultCapacityProviderStrategy"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ClusterName == "" {
		in.ClusterName = "default"
	}
	if !clusterNameRE.MatchString(in.ClusterName) {
		return nil, awsproto.InvalidParameter("Cluster name can have up to 255 characters: letters (uppercase and lowercase), numbers, hyphens and underscores.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	c, ok := e.clusters[in.ClusterName]
	if !ok || c.status != "ACTIVE" {
		c = &cluster{name: in.ClusterName, arn: e.arn("cluster/" + in.ClusterName), status: "ACTIVE"}
		if !ok {
			e.order = append(e.order, c)
		}
		e.clusters[c.name] = c
	}
	if len(in.CapacityProviders) > 0 {
		c.providers = in.CapacityProviders
	}
	if len(in.DefaultCapacityProviderStrategy) > 0 {
		c.strategy = in.DefaultCapacityProviderStrategy
	}
	e.addTags(c.arn, in.Tags)
	return map[string]any{"cluster": e.wireCluster(c, true)}, nil
}

// CreateCluster creates (or returns) an ACTIVE cluster named name. It is the
// programmatic equivalent of the CreateCluster operation, for seeding.
func (e *ECS) CreateCluster(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.clusters[name]
	if !ok {
		c = &cluster{name: name, arn: e.arn("cluster/" + name), status: "ACTIVE"}
		e.clusters[name] = c
		e.order = append(e.order, c)
	}
	c.status = "ACTIVE"
	return c.arn
}

func (e *ECS) wireCluster(c *cluster, withTags bool) wireCluster {
	w := wireCluster{
		ClusterArn:                      c.arn,
		ClusterName:                     c.name,
		Status:                          c.status,
		CapacityProviders:               append([]string{}, c.providers...),
		DefaultCapacityProviderStrategy: append([]strategyItem{}, c.strategy...),
	}
	for _, t := range e.live {
		if t.cluster != c || t.service != nil { // service tasks are counted by their service
			continue
		}
		switch t.lastStatus {
		case "RUNNING":
			w.RunningTasksCount++
		case "PROVISIONING", "PENDING":
			w.PendingTasksCount++
		}
	}
	for _, s := range e.services {
		if s.cluster == c && s.status != "INACTIVE" {
			if s.status == "ACTIVE" {
				w.ActiveServicesCount++
			}
			r, p := s.counts()
			w.RunningTasksCount += r
			w.PendingTasksCount += p
		}
	}
	if withTags {
		w.Tags = e.tagsOf(c.arn)
	}
	return w
}

func (e *ECS) describeClusters(body []byte, _ time.Time) (any, error) {
	var in struct {
		Clusters []string `json:"clusters"`
		Include  []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	if len(in.Clusters) > 100 {
		return nil, awsproto.InvalidParameter("A maximum of 100 clusters can be described.")
	}
	withTags := slices.Contains(in.Include, "TAGS")
	out := struct {
		Clusters []wireCluster `json:"clusters"`
		Failures []failure     `json:"failures"`
	}{Clusters: []wireCluster{}, Failures: []failure{}}
	for _, ref := range in.Clusters {
		name := ref
		if p, ok := resourcePath(ref); ok {
			name = strings.TrimPrefix(p, "cluster/")
		}
		c, ok := e.clusters[name]
		if !ok {
			arn := ref
			if _, isARN := resourcePath(ref); !isARN {
				arn = e.arn("cluster/" + ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.Clusters = append(out.Clusters, e.wireCluster(c, withTags))
	}
	return out, nil
}

func (e *ECS) listClusters(body []byte, _ time.Time) (any, error) {
	var in struct {
		NextToken  string `json:"nextToken"`
		MaxResults *int32 `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var arns []string
	for _, c := range e.order {
		if c.status == "ACTIVE" {
			arns = append(arns, c.arn)
		}
	}
	pg, next, err := page(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		ClusterArns []string `json:"clusterArns"`
		NextToken   *string  `json:"nextToken,omitempty"`
	}{append([]string{}, pg...), next}, nil
}
