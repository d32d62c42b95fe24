package ecssim

import (
	"encoding/json"
	"strings"
)

// Wire shapes of the service deployment APIs, as the SDK's types
// (ServiceDeployment, ServiceDeploymentBrief, ServiceRevision, …).

type wireRevisionSummary struct {
	Arn                              string   `json:"arn"`
	RequestedTaskCount               int32    `json:"requestedTaskCount"`
	RunningTaskCount                 int32    `json:"runningTaskCount"`
	PendingTaskCount                 int32    `json:"pendingTaskCount"`
	RequestedProductionTrafficWeight *float64 `json:"requestedProductionTrafficWeight,omitempty"`
	RequestedTestTrafficWeight       *float64 `json:"requestedTestTrafficWeight,omitempty"`
}

type wireRollback struct {
	Reason             string `json:"reason,omitempty"`
	StartedAt          *epoch `json:"startedAt,omitempty"`
	ServiceRevisionArn string `json:"serviceRevisionArn,omitempty"`
}

type wireSDBreaker struct {
	Status       string `json:"status"`
	FailureCount int32  `json:"failureCount"`
	Threshold    int32  `json:"threshold"`
}

type wireSDAlarms struct {
	Status              string   `json:"status"`
	AlarmNames          []string `json:"alarmNames,omitempty"`
	TriggeredAlarmNames []string `json:"triggeredAlarmNames,omitempty"`
}

type wireHookDetail struct {
	HookID        string `json:"hookId"`
	Status        string `json:"status"`
	TargetType    string `json:"targetType"`
	TargetArn     string `json:"targetArn,omitempty"`
	ExpiresAt     *epoch `json:"expiresAt,omitempty"`
	TimeoutAction string `json:"timeoutAction,omitempty"`
}

type wireServiceDeployment struct {
	ServiceDeploymentArn     string                   `json:"serviceDeploymentArn"`
	ServiceArn               string                   `json:"serviceArn"`
	ClusterArn               string                   `json:"clusterArn"`
	CreatedAt                *epoch                   `json:"createdAt,omitempty"`
	StartedAt                *epoch                   `json:"startedAt,omitempty"`
	FinishedAt               *epoch                   `json:"finishedAt,omitempty"`
	StoppedAt                *epoch                   `json:"stoppedAt,omitempty"`
	UpdatedAt                *epoch                   `json:"updatedAt,omitempty"`
	SourceServiceRevisions   []wireRevisionSummary    `json:"sourceServiceRevisions"`
	TargetServiceRevision    *wireRevisionSummary     `json:"targetServiceRevision,omitempty"`
	Status                   string                   `json:"status"`
	StatusReason             string                   `json:"statusReason,omitempty"`
	LifecycleStage           string                   `json:"lifecycleStage,omitempty"`
	DeploymentConfiguration  *deploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	Rollback                 *wireRollback            `json:"rollback,omitempty"`
	DeploymentCircuitBreaker *wireSDBreaker           `json:"deploymentCircuitBreaker,omitempty"`
	Alarms                   *wireSDAlarms            `json:"alarms,omitempty"`
	LifecycleHookDetails     []wireHookDetail         `json:"lifecycleHookDetails,omitempty"`
}

type wireSDBrief struct {
	ServiceDeploymentArn     string `json:"serviceDeploymentArn"`
	ServiceArn               string `json:"serviceArn"`
	ClusterArn               string `json:"clusterArn"`
	StartedAt                *epoch `json:"startedAt,omitempty"`
	CreatedAt                *epoch `json:"createdAt,omitempty"`
	FinishedAt               *epoch `json:"finishedAt,omitempty"`
	TargetServiceRevisionArn string `json:"targetServiceRevisionArn,omitempty"`
	Status                   string `json:"status"`
	StatusReason             string `json:"statusReason,omitempty"`
}

type wireContainerImage struct {
	ContainerName string `json:"containerName"`
	Image         string `json:"image"`
	ImageDigest   string `json:"imageDigest,omitempty"`
}

type wireRevisionLB struct {
	TargetGroupArn         string `json:"targetGroupArn,omitempty"`
	ProductionListenerRule string `json:"productionListenerRule,omitempty"`
}

type wireServiceRevision struct {
	ServiceRevisionArn          string                `json:"serviceRevisionArn"`
	ServiceArn                  string                `json:"serviceArn"`
	ClusterArn                  string                `json:"clusterArn"`
	TaskDefinition              string                `json:"taskDefinition"`
	CapacityProviderStrategy    []strategyItem        `json:"capacityProviderStrategy,omitempty"`
	LaunchType                  string                `json:"launchType,omitempty"`
	PlatformVersion             string                `json:"platformVersion,omitempty"`
	NetworkConfiguration        *networkConfiguration `json:"networkConfiguration,omitempty"`
	LoadBalancers               []loadBalancer        `json:"loadBalancers,omitempty"`
	ServiceConnectConfiguration json.RawMessage       `json:"serviceConnectConfiguration,omitempty"`
	ContainerImages             []wireContainerImage  `json:"containerImages"`
	GuardDutyEnabled            bool                  `json:"guardDutyEnabled"`
	CreatedAt                   *epoch                `json:"createdAt,omitempty"`
	ResolvedConfiguration       *struct {
		LoadBalancers []wireRevisionLB `json:"loadBalancers"`
	} `json:"resolvedConfiguration,omitempty"`
}

func pct(v float64) *float64 { return &v }

// revSummary is the revision summary of deployment d in sd; weight is its
// production traffic weight (nil when sd shifts no traffic).
func revSummary(d *deployment, weight, test *float64) wireRevisionSummary {
	running, pending := d.counts()
	return wireRevisionSummary{
		Arn: d.rev.arn, RequestedTaskCount: d.desired, RunningTaskCount: running, PendingTaskCount: pending,
		RequestedProductionTrafficWeight: weight, RequestedTestTrafficWeight: test,
	}
}

func (sd *serviceDeployment) wire() wireServiceDeployment {
	s := sd.service
	cfg := cloneConfig(sd.config)
	w := wireServiceDeployment{
		ServiceDeploymentArn: sd.arn, ServiceArn: s.arn, ClusterArn: s.cluster.arn,
		CreatedAt: toEpoch(sd.createdAt), StartedAt: toEpoch(sd.startedAt), FinishedAt: toEpoch(sd.finishedAt),
		StoppedAt: toEpoch(sd.stoppedAt), UpdatedAt: toEpoch(sd.updatedAt),
		SourceServiceRevisions: []wireRevisionSummary{},
		Status:                 sd.status, StatusReason: sd.statusReason, LifecycleStage: sd.stage,
		DeploymentConfiguration: &cfg, Rollback: sd.rollback,
	}
	var weight, test, srcWeight *float64
	if sd.shiftsTraffic() {
		weight, test, srcWeight = pct(sd.weight), pct(sd.testWeight), pct(100-sd.weight)
	}
	target := revSummary(sd.dep, weight, test)
	w.TargetServiceRevision = &target
	for i, src := range sd.sources {
		sw := srcWeight
		if i > 0 && sw != nil {
			sw = pct(0)
		}
		var st *float64
		if test != nil {
			st = pct(100 - *test)
		}
		w.SourceServiceRevisions = append(w.SourceServiceRevisions, revSummary(src, sw, st))
	}
	w.DeploymentCircuitBreaker = sd.breakerWire()
	w.Alarms = sd.alarmsWire()
	for _, h := range sd.hooks {
		w.LifecycleHookDetails = append(w.LifecycleHookDetails, h.wire())
	}
	return w
}

func (sd *serviceDeployment) monitorStatus(fired bool) string {
	switch {
	case fired:
		return "TRIGGERED"
	case sd.monitoring:
		return "MONITORING"
	}
	return "MONITORING_COMPLETE"
}

func (sd *serviceDeployment) breakerWire() *wireSDBreaker {
	cb := sd.config.DeploymentCircuitBreaker
	if cb == nil || !cb.Enable {
		return &wireSDBreaker{Status: "DISABLED"}
	}
	return &wireSDBreaker{Status: sd.monitorStatus(sd.breakerFired), FailureCount: sd.dep.failed, Threshold: breakerThreshold(sd.dep.desired)}
}

func (sd *serviceDeployment) alarmsWire() *wireSDAlarms {
	if !sd.alarmsEnabled() {
		return &wireSDAlarms{Status: "DISABLED"}
	}
	return &wireSDAlarms{
		Status: sd.monitorStatus(len(sd.triggered) > 0), AlarmNames: sd.config.Alarms.AlarmNames,
		TriggeredAlarmNames: sd.triggered,
	}
}

func (sd *serviceDeployment) brief() wireSDBrief {
	return wireSDBrief{
		ServiceDeploymentArn: sd.arn, ServiceArn: sd.service.arn, ClusterArn: sd.service.cluster.arn,
		StartedAt: toEpoch(sd.startedAt), CreatedAt: toEpoch(sd.createdAt), FinishedAt: toEpoch(sd.finishedAt),
		TargetServiceRevisionArn: sd.target.arn, Status: sd.status, StatusReason: sd.statusReason,
	}
}

func (r *serviceRevision) wire() wireServiceRevision {
	s := r.service
	w := wireServiceRevision{
		ServiceRevisionArn: r.arn, ServiceArn: s.arn, ClusterArn: s.cluster.arn, TaskDefinition: r.td.arn,
		CapacityProviderStrategy: r.strategy, LaunchType: r.launchType, PlatformVersion: r.platformVersion,
		NetworkConfiguration: r.network, LoadBalancers: r.loadBalancers, ContainerImages: []wireContainerImage{},
		CreatedAt: toEpoch(r.createdAt),
	}
	if len(r.serviceConnect) > 0 {
		w.ServiceConnectConfiguration = r.serviceConnect
	}
	for _, c := range r.td.containers {
		img := wireContainerImage{ContainerName: c.name, Image: c.image}
		if _, digest, ok := strings.Cut(c.image, "@"); ok {
			img.ImageDigest = digest
		}
		w.ContainerImages = append(w.ContainerImages, img)
	}
	var resolved []wireRevisionLB
	for _, lb := range r.loadBalancers {
		if a := lb.AdvancedConfiguration; a != nil {
			tg := lb.TargetGroupArn
			if r.alternate {
				tg = a.AlternateTargetGroupArn
			}
			resolved = append(resolved, wireRevisionLB{TargetGroupArn: tg, ProductionListenerRule: a.ProductionListenerRule})
		}
	}
	if len(resolved) > 0 {
		w.ResolvedConfiguration = &struct {
			LoadBalancers []wireRevisionLB `json:"loadBalancers"`
		}{resolved}
	}
	return w
}
