package ecssim

import (
	"encoding/json"
	"regexp"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// service is an ECS service. Its live tasks belong to its deployments
// (service_tasks.go).
type service struct {
	name, arn       string
	cluster         *cluster
	status          string // ACTIVE, DRAINING, INACTIVE
	createdAt       time.Time
	desired         int32
	launchType      string
	strategy        []strategyItem
	platformVersion string
	network         *networkConfiguration
	config          deploymentConfiguration // DeploymentCircuitBreaker is never nil
	propagateTags   string
	managedTags     bool
	execCommand     bool
	loadBalancers   []loadBalancer
	serviceConnect  json.RawMessage
	deployments     []*deployment        // newest first, the latest INACTIVE ones included
	sdeps           []*serviceDeployment // oldest first (svcdeploy.go)
	revisions       []*serviceRevision   // the ones still named, oldest first
	stopped         []*task              // stopped tasks still describable, oldest first
	events          []wireServiceEvent   // newest first, at most maxServiceEvents
	lastCompleted   *deployment          // the rollback target
	inactiveAt      time.Time            // DRAINING → INACTIVE
}

const maxServiceEvents = 100

// primary returns the PRIMARY deployment, or nil once the service is deleted.
func (s *service) primary() *deployment {
	for _, d := range s.deployments {
		if d.status == "PRIMARY" {
			return d
		}
	}
	return nil
}

// counts sums running and pending tasks over the deployments.
func (s *service) counts() (running, pending int32) {
	for _, d := range s.deployments {
		r, p := d.counts()
		running += r
		pending += p
	}
	return running, pending
}

// note records a service event message.
func (e *ECS) note(s *service, at time.Time, msg string) {
	ev := wireServiceEvent{ID: e.uuid("event"), CreatedAt: toEpoch(at), Message: "(service " + s.name + ") " + msg}
	s.events = append([]wireServiceEvent{ev}, s.events...)
	if len(s.events) > maxServiceEvents {
		s.events = s.events[:maxServiceEvents]
	}
}

// findService resolves a service name or ARN in cluster c, including
// INACTIVE services (the newest one wins when a name was reused).
func (e *ECS) findService(c *cluster, ref string) *service {
	name := serviceName(ref)
	for i := len(e.services) - 1; i >= 0; i-- {
		if s := e.services[i]; s.cluster == c && s.name == name {
			return s
		}
	}
	return nil
}

// activeService resolves a service that must exist and be ACTIVE. A
// DRAINING service is ServiceNotActiveException; an INACTIVE (deleted) one
// is ServiceNotFoundException, or ServiceNotActiveException when
// inactiveIsNotActive (UpdateService's answer).
func (e *ECS) activeService(clusterRef, ref string, inactiveIsNotActive bool) (*service, error) {
	c, err := e.clusterRef(clusterRef)
	if err != nil {
		return nil, err
	}
	s := e.findService(c, ref)
	if s == nil || s.status == "INACTIVE" && !inactiveIsNotActive {
		return nil, awsproto.Errorf(400, "ServiceNotFoundException", "Service not found.")
	}
	if s.status != "ACTIVE" {
		return nil, awsproto.Errorf(400, "ServiceNotActiveException", "Service was not ACTIVE.")
	}
	return s, nil
}

// usableTaskDef resolves a task definition for a new deployment or task.
func (e *ECS) usableTaskDef(ref string) (*taskDef, error) {
	if ref == "" {
		return nil, awsproto.InvalidParameter("TaskDefinition can not be blank.")
	}
	td, err := e.taskDefRef(ref)
	if err != nil {
		return nil, awsproto.ClientException("TaskDefinition not found.")
	}
	if td.status != "ACTIVE" {
		return nil, awsproto.ClientException("TaskDefinition is inactive")
	}
	return td, nil
}

// checkLaunch validates the launch type / capacity provider / network
// combination of a service or task.
func checkLaunch(launchType string, strategy []strategyItem, network *networkConfiguration, td *taskDef) error {
	if launchType != "" && len(strategy) > 0 {
		return awsproto.InvalidParameter("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	switch launchType {
	case "", "EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES":
	default:
		return awsproto.InvalidParameter("launchType must be one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES.")
	}
	if td != nil && td.networkMode == "awsvpc" && (network == nil || network.AwsvpcConfiguration == nil) {
		return awsproto.InvalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
	}
	return nil
}

var serviceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

type createServiceInput struct {
	Cluster                  string                   `json:"cluster"`
	ServiceName              string                   `json:"serviceName"`
	TaskDefinition           string                   `json:"taskDefinition"`
	DesiredCount             *int32                   `json:"desiredCount"`
	LaunchType               string                   `json:"launchType"`
	CapacityProviderStrategy []strategyItem           `json:"capacityProviderStrategy"`
	PlatformVersion          string                   `json:"platformVersion"`
	DeploymentConfiguration  *deploymentConfiguration `json:"deploymentConfiguration"`
	NetworkConfiguration     *networkConfiguration    `json:"networkConfiguration"`
	LoadBalancers            []loadBalancer           `json:"loadBalancers"`
	ServiceConnect           json.RawMessage          `json:"serviceConnectConfiguration"`
	Tags                     []tag                    `json:"tags"`
	PropagateTags            string                   `json:"propagateTags"`
	EnableECSManagedTags     bool                     `json:"enableECSManagedTags"`
	EnableExecuteCommand     bool                     `json:"enableExecuteCommand"`
}

func (e *ECS) createService(body []byte, now time.Time) (any, error) {
	var in createServiceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	if !serviceNameRE.MatchString(in.ServiceName) {
		return nil, awsproto.InvalidParameter("Service name can have up to 255 characters: letters (uppercase and lowercase), numbers, hyphens and underscores.")
	}
	if s := e.findService(c, in.ServiceName); s != nil && s.status != "INACTIVE" {
		return nil, awsproto.InvalidParameter("Creation of service was not idempotent.")
	}
	td, err := e.usableTaskDef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if err := checkLaunch(in.LaunchType, in.CapacityProviderStrategy, in.NetworkConfiguration, td); err != nil {
		return nil, err
	}
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, awsproto.InvalidParameter("desiredCount must be at least 0.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	cfg := mergeConfig(defaultConfig(), in.DeploymentConfiguration)
	if err := checkStrategy(cfg, in.LoadBalancers, in.ServiceConnect); err != nil {
		return nil, err
	}
	s := &service{
		name:            in.ServiceName,
		arn:             e.arn("service/" + c.name + "/" + in.ServiceName),
		cluster:         c,
		status:          "ACTIVE",
		createdAt:       now,
		launchType:      in.LaunchType,
		strategy:        in.CapacityProviderStrategy,
		platformVersion: in.PlatformVersion,
		network:         in.NetworkConfiguration,
		propagateTags:   in.PropagateTags,
		managedTags:     in.EnableECSManagedTags,
		execCommand:     in.EnableExecuteCommand,
		loadBalancers:   in.LoadBalancers,
		serviceConnect:  in.ServiceConnect,
		config:          cfg,
	}
	if s.launchType == "" && len(s.strategy) == 0 && len(c.strategy) == 0 {
		s.launchType = "EC2"
	}
	if s.launchType == "FARGATE" && s.platformVersion == "" {
		s.platformVersion = "LATEST"
	}
	if in.DesiredCount != nil {
		s.desired = *in.DesiredCount
	}
	delete(e.tags, s.arn) // a recreated service starts untagged
	e.addTags(s.arn, in.Tags)
	e.services = append(e.services, s)
	e.startDeployment(s, td, now)
	return map[string]any{"service": e.wireService(s, true)}, nil
}

func defaultConfig() deploymentConfiguration {
	maxPct, minPct := int32(200), int32(100)
	return deploymentConfiguration{
		DeploymentCircuitBreaker: &circuitBreaker{},
		MaximumPercent:           &maxPct,
		MinimumHealthyPercent:    &minPct,
		Strategy:                 "ROLLING",
	}
}

// mergeConfig overlays the fields set in upd onto cur, as UpdateService does.
func mergeConfig(cur deploymentConfiguration, upd *deploymentConfiguration) deploymentConfiguration {
	if upd == nil {
		return cur
	}
	if upd.DeploymentCircuitBreaker != nil {
		cb := *upd.DeploymentCircuitBreaker
		cur.DeploymentCircuitBreaker = &cb
	}
	if upd.MaximumPercent != nil {
		cur.MaximumPercent = upd.MaximumPercent
	}
	if upd.MinimumHealthyPercent != nil {
		cur.MinimumHealthyPercent = upd.MinimumHealthyPercent
	}
	if upd.Alarms != nil {
		a := *upd.Alarms
		cur.Alarms = &a
	}
	if upd.Strategy != "" && upd.Strategy != cur.Strategy {
		cur.Strategy = upd.Strategy
		cur.LinearConfiguration, cur.CanaryConfiguration = nil, nil
	}
	if upd.BakeTimeInMinutes != nil {
		cur.BakeTimeInMinutes = upd.BakeTimeInMinutes
	}
	if upd.LifecycleHooks != nil {
		cur.LifecycleHooks = upd.LifecycleHooks
	}
	if upd.LinearConfiguration != nil {
		cur.LinearConfiguration = upd.LinearConfiguration
	}
	if upd.CanaryConfiguration != nil {
		cur.CanaryConfiguration = upd.CanaryConfiguration
	}
	return cloneConfig(cur)
}
