package ecssim

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// UpdateRecord is one UpdateService call that changed a service's task
// definition.
type UpdateRecord struct {
	Time           time.Time `json:"time"`
	Cluster        string    `json:"cluster"`        // cluster name
	Service        string    `json:"service"`        // service name
	TaskDefinition string    `json:"taskDefinition"` // the new task definition ARN
	DeploymentID   string    `json:"deploymentId"`   // the deployment it started
	// From is the task definition the service ran when the update came
	// (its PRIMARY deployment's, as DescribeServices said): the previous
	// update's, unless ECS moved the service meanwhile (a rollback).
	From string `json:"from"`
}

func (e *ECS) updateService(body []byte, now time.Time) (any, error) {
	var in struct {
		Cluster                  string                   `json:"cluster"`
		Service                  string                   `json:"service"`
		DesiredCount             *int32                   `json:"desiredCount"`
		TaskDefinition           string                   `json:"taskDefinition"`
		CapacityProviderStrategy []strategyItem           `json:"capacityProviderStrategy"`
		DeploymentConfiguration  *deploymentConfiguration `json:"deploymentConfiguration"`
		NetworkConfiguration     *networkConfiguration    `json:"networkConfiguration"`
		PlatformVersion          string                   `json:"platformVersion"`
		ForceNewDeployment       bool                     `json:"forceNewDeployment"`
		PropagateTags            string                   `json:"propagateTags"`
		EnableECSManagedTags     *bool                    `json:"enableECSManagedTags"`
		EnableExecuteCommand     *bool                    `json:"enableExecuteCommand"`
		LoadBalancers            *[]loadBalancer          `json:"loadBalancers"`
		ServiceConnect           json.RawMessage          `json:"serviceConnectConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s, err := e.activeService(in.Cluster, in.Service, true)
	if err != nil {
		return nil, err
	}
	p := s.primary()
	td := p.td
	if in.TaskDefinition != "" {
		if td, err = e.usableTaskDef(in.TaskDefinition); err != nil {
			return nil, err
		}
	}
	network := s.network
	if in.NetworkConfiguration != nil {
		network = in.NetworkConfiguration
	}
	strategy := s.strategy
	if len(in.CapacityProviderStrategy) > 0 {
		strategy = in.CapacityProviderStrategy
	}
	if err := checkLaunch("", strategy, network, td); err != nil {
		return nil, err
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, awsproto.InvalidParameter("desiredCount must be at least 0.")
	}
	lbs, sc := s.loadBalancers, s.serviceConnect
	if in.LoadBalancers != nil {
		lbs = *in.LoadBalancers
	}
	if in.ServiceConnect != nil {
		sc = in.ServiceConnect
	}
	cfg := mergeConfig(s.config, in.DeploymentConfiguration)
	if err := checkStrategy(cfg, lbs, sc); err != nil {
		return nil, err
	}
	s.loadBalancers, s.serviceConnect = lbs, sc
	if len(in.CapacityProviderStrategy) > 0 {
		s.strategy, s.launchType = in.CapacityProviderStrategy, ""
	}
	s.network = network
	if in.PlatformVersion != "" {
		s.platformVersion = in.PlatformVersion
	}
	if in.PropagateTags != "" {
		s.propagateTags = in.PropagateTags
	}
	if in.EnableECSManagedTags != nil {
		s.managedTags = *in.EnableECSManagedTags
	}
	if in.EnableExecuteCommand != nil {
		s.execCommand = *in.EnableExecuteCommand
	}
	s.config = cfg
	if in.DesiredCount != nil {
		s.desired = *in.DesiredCount
	}
	switch {
	case td != p.td || in.ForceNewDeployment || in.LoadBalancers != nil || in.ServiceConnect != nil:
		d := e.startDeployment(s, td, now)
		if td != p.td {
			e.history = append(e.history, UpdateRecord{Time: now, Cluster: s.cluster.name, Service: s.name, TaskDefinition: td.arn, DeploymentID: d.id, From: p.td.arn})
		}
	case in.DesiredCount != nil:
		e.scale(s, p, now)
	}
	return map[string]any{"service": e.wireService(s, false)}, nil
}

func (e *ECS) describeServices(body []byte, _ time.Time) (any, error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
		Include  []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, awsproto.InvalidParameter("services must contain between 1 and 10 service names or ARNs.")
	}
	withTags := slices.Contains(in.Include, "TAGS")
	out := struct {
		Services []wireService `json:"services"`
		Failures []failure     `json:"failures"`
	}{Services: []wireService{}, Failures: []failure{}}
	for _, ref := range in.Services {
		s := e.findService(c, ref)
		if s == nil {
			out.Failures = append(out.Failures, failure{Arn: e.arn("service/" + c.name + "/" + serviceName(ref)), Reason: "MISSING"})
			continue
		}
		out.Services = append(out.Services, e.wireService(s, withTags))
	}
	return out, nil
}

func (e *ECS) listServices(body []byte, _ time.Time) (any, error) {
	var in struct {
		Cluster            string `json:"cluster"`
		NextToken          string `json:"nextToken"`
		MaxResults         *int32 `json:"maxResults"`
		LaunchType         string `json:"launchType"`
		SchedulingStrategy string `json:"schedulingStrategy"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	arns := []string{}
	for _, s := range e.services {
		if s.cluster != c || s.status == "INACTIVE" {
			continue
		}
		if in.LaunchType != "" && s.launchType != in.LaunchType {
			continue
		}
		if in.SchedulingStrategy != "" && in.SchedulingStrategy != "REPLICA" {
			continue
		}
		arns = append(arns, s.arn)
	}
	pg, next, err := page(arns, in.NextToken, in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		ServiceArns []string `json:"serviceArns"`
		NextToken   *string  `json:"nextToken,omitempty"`
	}{append([]string{}, pg...), next}, nil
}

// deleteService drains the service; it turns INACTIVE after Timing.Deprovision.
func (e *ECS) deleteService(body []byte, now time.Time) (any, error) {
	var in struct {
		Cluster string `json:"cluster"`
		Service string `json:"service"`
		Force   bool   `json:"force"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s, err := e.activeService(in.Cluster, in.Service, false)
	if err != nil {
		return nil, err
	}
	if s.desired > 0 && !in.Force {
		return nil, awsproto.InvalidParameter("The service cannot be stopped while it is scaled above 0.")
	}
	s.status, s.desired = "DRAINING", 0
	s.inactiveAt = now.Add(e.timing.Deprovision)
	for _, sd := range s.sdeps {
		if sd.active() {
			e.finishSD(sd, now, sdStopped, "Service deployment stopped because the service was deleted.")
		}
	}
	for _, d := range s.deployments {
		d.desired, d.next = 0, time.Time{}
		if ids := e.stopDeploymentTasks(d, now, "Service is being deleted"); len(ids) > 0 {
			e.note(s, now, fmt.Sprintf("has stopped %d running tasks: %s.", len(ids), taskList(ids)))
		}
	}
	return map[string]any{"service": e.wireService(s, false)}, nil
}

func (e *ECS) wireService(s *service, withTags bool) wireService {
	running, pending := s.counts()
	cfg := s.config
	cb := *cfg.DeploymentCircuitBreaker
	cfg.DeploymentCircuitBreaker = &cb
	w := wireService{
		ServiceArn:               s.arn,
		ServiceName:              s.name,
		ClusterArn:               s.cluster.arn,
		LoadBalancers:            s.loadBalancers,
		Status:                   s.status,
		DesiredCount:             s.desired,
		RunningCount:             running,
		PendingCount:             pending,
		LaunchType:               s.launchType,
		CapacityProviderStrategy: s.strategy,
		PlatformVersion:          s.platformVersion,
		DeploymentConfiguration:  &cfg,
		Deployments:              []wireDeployment{},
		Events:                   append([]wireServiceEvent{}, s.events...),
		CreatedAt:                toEpoch(s.createdAt),
		NetworkConfiguration:     s.network,
		SchedulingStrategy:       "REPLICA",
		DeploymentController:     &deploymentController{Type: "ECS"},
		CreatedBy:                "arn:aws:iam::" + e.account + ":root",
		EnableECSManagedTags:     s.managedTags,
		PropagateTags:            s.propagateTags,
		EnableExecuteCommand:     s.execCommand,
	}
	if p := s.primary(); p != nil {
		w.TaskDefinition = p.td.arn
	} else if len(s.deployments) > 0 {
		w.TaskDefinition = s.deployments[0].td.arn
	}
	for _, d := range s.deployments {
		if d.status != "INACTIVE" {
			w.Deployments = append(w.Deployments, d.wire())
		}
	}
	if withTags {
		w.Tags = e.tagsOf(s.arn)
	}
	return w
}
