package ecssim

import "encoding/json"

// Wire shapes. Field names follow the ECS API reference and the SDK's
// schemas (service/ecs/schemas); timestamps are epoch seconds.

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type failure struct {
	Arn    string `json:"arn,omitempty"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type keyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type strategyItem struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int32  `json:"weight"`
	Base             int32  `json:"base"`
}

type networkConfiguration struct {
	AwsvpcConfiguration *awsvpcConfiguration `json:"awsvpcConfiguration,omitempty"`
}

type awsvpcConfiguration struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIp string   `json:"assignPublicIp,omitempty"`
}

type circuitBreaker struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

type deploymentConfiguration struct {
	DeploymentCircuitBreaker *circuitBreaker      `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           *int32               `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int32               `json:"minimumHealthyPercent,omitempty"`
	Alarms                   *deploymentAlarms    `json:"alarms,omitempty"`
	Strategy                 string               `json:"strategy,omitempty"`
	BakeTimeInMinutes        *int32               `json:"bakeTimeInMinutes,omitempty"`
	LifecycleHooks           []lifecycleHook      `json:"lifecycleHooks,omitempty"`
	LinearConfiguration      *linearConfiguration `json:"linearConfiguration,omitempty"`
	CanaryConfiguration      *canaryConfiguration `json:"canaryConfiguration,omitempty"`
}

// deploymentAlarms is DeploymentAlarms: CloudWatch alarms that fail (and
// with rollback, roll back) a deployment when one goes to ALARM.
type deploymentAlarms struct {
	AlarmNames []string `json:"alarmNames"`
	Enable     bool     `json:"enable"`
	Rollback   bool     `json:"rollback"`
}

// lifecycleHook is DeploymentLifecycleHook.
type lifecycleHook struct {
	HookTargetArn        string          `json:"hookTargetArn,omitempty"`
	RoleArn              string          `json:"roleArn,omitempty"`
	LifecycleStages      []string        `json:"lifecycleStages,omitempty"`
	TargetType           string          `json:"targetType,omitempty"`
	HookDetails          json.RawMessage `json:"hookDetails,omitempty"`
	TimeoutConfiguration *hookTimeout    `json:"timeoutConfiguration,omitempty"`
}

type hookTimeout struct {
	Action           string `json:"action,omitempty"`
	TimeoutInMinutes *int32 `json:"timeoutInMinutes,omitempty"`
}

type linearConfiguration struct {
	StepPercent           *float64 `json:"stepPercent,omitempty"`
	StepBakeTimeInMinutes *int32   `json:"stepBakeTimeInMinutes,omitempty"`
}

type canaryConfiguration struct {
	CanaryPercent           *float64 `json:"canaryPercent,omitempty"`
	CanaryBakeTimeInMinutes *int32   `json:"canaryBakeTimeInMinutes,omitempty"`
}

// loadBalancer is LoadBalancer, with the advanced configuration native
// blue/green, linear and canary deployments need.
type loadBalancer struct {
	TargetGroupArn        string                 `json:"targetGroupArn,omitempty"`
	LoadBalancerName      string                 `json:"loadBalancerName,omitempty"`
	ContainerName         string                 `json:"containerName,omitempty"`
	ContainerPort         *int32                 `json:"containerPort,omitempty"`
	AdvancedConfiguration *advancedConfiguration `json:"advancedConfiguration,omitempty"`
}

type advancedConfiguration struct {
	AlternateTargetGroupArn string `json:"alternateTargetGroupArn,omitempty"`
	ProductionListenerRule  string `json:"productionListenerRule,omitempty"`
	TestListenerRule        string `json:"testListenerRule,omitempty"`
	RoleArn                 string `json:"roleArn,omitempty"`
}

type wireDeployment struct {
	ID                       string                `json:"id"`
	Status                   string                `json:"status"`
	TaskDefinition           string                `json:"taskDefinition"`
	DesiredCount             int32                 `json:"desiredCount"`
	PendingCount             int32                 `json:"pendingCount"`
	RunningCount             int32                 `json:"runningCount"`
	FailedTasks              int32                 `json:"failedTasks"`
	CreatedAt                *epoch                `json:"createdAt,omitempty"`
	UpdatedAt                *epoch                `json:"updatedAt,omitempty"`
	CapacityProviderStrategy []strategyItem        `json:"capacityProviderStrategy,omitempty"`
	LaunchType               string                `json:"launchType,omitempty"`
	PlatformVersion          string                `json:"platformVersion,omitempty"`
	NetworkConfiguration     *networkConfiguration `json:"networkConfiguration,omitempty"`
	RolloutState             string                `json:"rolloutState,omitempty"`
	RolloutStateReason       string                `json:"rolloutStateReason,omitempty"`
}

type wireServiceEvent struct {
	ID        string `json:"id"`
	CreatedAt *epoch `json:"createdAt"`
	Message   string `json:"message"`
}

type deploymentController struct {
	Type string `json:"type"`
}

type wireService struct {
	ServiceArn               string                   `json:"serviceArn"`
	ServiceName              string                   `json:"serviceName"`
	ClusterArn               string                   `json:"clusterArn"`
	LoadBalancers            []loadBalancer           `json:"loadBalancers,omitempty"`
	Status                   string                   `json:"status"`
	DesiredCount             int32                    `json:"desiredCount"`
	RunningCount             int32                    `json:"runningCount"`
	PendingCount             int32                    `json:"pendingCount"`
	LaunchType               string                   `json:"launchType,omitempty"`
	CapacityProviderStrategy []strategyItem           `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                   `json:"platformVersion,omitempty"`
	TaskDefinition           string                   `json:"taskDefinition"`
	DeploymentConfiguration  *deploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	Deployments              []wireDeployment         `json:"deployments"`
	Events                   []wireServiceEvent       `json:"events"`
	CreatedAt                *epoch                   `json:"createdAt,omitempty"`
	NetworkConfiguration     *networkConfiguration    `json:"networkConfiguration,omitempty"`
	SchedulingStrategy       string                   `json:"schedulingStrategy"`
	DeploymentController     *deploymentController    `json:"deploymentController,omitempty"`
	Tags                     []tag                    `json:"tags,omitempty"`
	CreatedBy                string                   `json:"createdBy,omitempty"`
	EnableECSManagedTags     bool                     `json:"enableECSManagedTags"`
	PropagateTags            string                   `json:"propagateTags,omitempty"`
	EnableExecuteCommand     bool                     `json:"enableExecuteCommand"`
}

type wireCluster struct {
	ClusterArn                        string         `json:"clusterArn"`
	ClusterName                       string         `json:"clusterName"`
	Status                            string         `json:"status"`
	RegisteredContainerInstancesCount int32          `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int32          `json:"runningTasksCount"`
	PendingTasksCount                 int32          `json:"pendingTasksCount"`
	ActiveServicesCount               int32          `json:"activeServicesCount"`
	Tags                              []tag          `json:"tags,omitempty"`
	CapacityProviders                 []string       `json:"capacityProviders"`
	DefaultCapacityProviderStrategy   []strategyItem `json:"defaultCapacityProviderStrategy"`
}

type containerOverride struct {
	Name                 string          `json:"name,omitempty"`
	Command              []string        `json:"command,omitempty"`
	Environment          []keyValue      `json:"environment,omitempty"`
	EnvironmentFiles     json.RawMessage `json:"environmentFiles,omitempty"`
	Cpu                  *int32          `json:"cpu,omitempty"`
	Memory               *int32          `json:"memory,omitempty"`
	MemoryReservation    *int32          `json:"memoryReservation,omitempty"`
	ResourceRequirements json.RawMessage `json:"resourceRequirements,omitempty"`
}

type taskOverride struct {
	ContainerOverrides []containerOverride `json:"containerOverrides"`
	Cpu                string              `json:"cpu,omitempty"`
	Memory             string              `json:"memory,omitempty"`
	ExecutionRoleArn   string              `json:"executionRoleArn,omitempty"`
	TaskRoleArn        string              `json:"taskRoleArn,omitempty"`
	EphemeralStorage   json.RawMessage     `json:"ephemeralStorage,omitempty"`
}

type wireContainer struct {
	ContainerArn string `json:"containerArn"`
	TaskArn      string `json:"taskArn"`
	Name         string `json:"name"`
	Image        string `json:"image,omitempty"`
	ImageDigest  string `json:"imageDigest,omitempty"`
	RuntimeID    string `json:"runtimeId,omitempty"`
	LastStatus   string `json:"lastStatus"`
	ExitCode     *int32 `json:"exitCode,omitempty"`
	Reason       string `json:"reason,omitempty"`
	HealthStatus string `json:"healthStatus,omitempty"`
	Cpu          string `json:"cpu,omitempty"`
	Memory       string `json:"memory,omitempty"`
}

type wireAttachment struct {
	ID      string     `json:"id"`
	Type    string     `json:"type"`
	Status  string     `json:"status"`
	Details []keyValue `json:"details"`
}

type wireTask struct {
	Attachments          []wireAttachment `json:"attachments,omitempty"`
	AvailabilityZone     string           `json:"availabilityZone,omitempty"`
	CapacityProviderName string           `json:"capacityProviderName,omitempty"`
	ClusterArn           string           `json:"clusterArn"`
	Connectivity         string           `json:"connectivity,omitempty"`
	ConnectivityAt       *epoch           `json:"connectivityAt,omitempty"`
	Containers           []wireContainer  `json:"containers"`
	Cpu                  string           `json:"cpu,omitempty"`
	CreatedAt            *epoch           `json:"createdAt,omitempty"`
	DesiredStatus        string           `json:"desiredStatus"`
	EnableExecuteCommand bool             `json:"enableExecuteCommand"`
	ExecutionStoppedAt   *epoch           `json:"executionStoppedAt,omitempty"`
	Group                string           `json:"group,omitempty"`
	HealthStatus         string           `json:"healthStatus,omitempty"`
	LastStatus           string           `json:"lastStatus"`
	LaunchType           string           `json:"launchType,omitempty"`
	Memory               string           `json:"memory,omitempty"`
	Overrides            *taskOverride    `json:"overrides,omitempty"`
	PlatformVersion      string           `json:"platformVersion,omitempty"`
	PlatformFamily       string           `json:"platformFamily,omitempty"`
	PullStartedAt        *epoch           `json:"pullStartedAt,omitempty"`
	PullStoppedAt        *epoch           `json:"pullStoppedAt,omitempty"`
	StartedAt            *epoch           `json:"startedAt,omitempty"`
	StartedBy            string           `json:"startedBy,omitempty"`
	StopCode             string           `json:"stopCode,omitempty"`
	StoppedAt            *epoch           `json:"stoppedAt,omitempty"`
	StoppedReason        string           `json:"stoppedReason,omitempty"`
	StoppingAt           *epoch           `json:"stoppingAt,omitempty"`
	Tags                 []tag            `json:"tags,omitempty"`
	TaskArn              string           `json:"taskArn"`
	TaskDefinitionArn    string           `json:"taskDefinitionArn"`
	Version              int64            `json:"version"`
}
