package events

import "time"

// ECS event constants.
const (
	SourceECS                       = "aws.ecs"
	DetailTypeDeploymentStateChange = "ECS Deployment State Change"
	DetailTypeTaskStateChange       = "ECS Task State Change"

	DeploymentInProgress = "SERVICE_DEPLOYMENT_IN_PROGRESS"
	DeploymentCompleted  = "SERVICE_DEPLOYMENT_COMPLETED"
	DeploymentFailed     = "SERVICE_DEPLOYMENT_FAILED"
)

// ECSDeploymentStateChange is the detail of an "ECS Deployment State Change"
// event. The service ARN is in the envelope's resources.
type ECSDeploymentStateChange struct {
	EventType    string    `json:"eventType"`
	EventName    string    `json:"eventName"`
	DeploymentID string    `json:"deploymentId"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Reason       string    `json:"reason"`
}

// DeploymentEvent is a whole ECS Deployment State Change event.
type DeploymentEvent = Envelope[ECSDeploymentStateChange]

// ECSTaskStateChange is the detail of an "ECS Task State Change" event. It
// carries the fields Deckhand reads plus those needed to round-trip the
// documented sample.
type ECSTaskStateChange struct {
	Attachments       []ECSAttachment `json:"attachments,omitempty"`
	AvailabilityZone  string          `json:"availabilityZone,omitempty"`
	ClusterARN        string          `json:"clusterArn"`
	Containers        []ECSContainer  `json:"containers"`
	CreatedAt         *time.Time      `json:"createdAt,omitempty"`
	LaunchType        string          `json:"launchType,omitempty"`
	CapacityProvider  string          `json:"capacityProviderName,omitempty"`
	CPU               string          `json:"cpu,omitempty"`
	Memory            string          `json:"memory,omitempty"`
	DesiredStatus     string          `json:"desiredStatus"`
	Group             string          `json:"group,omitempty"`
	LastStatus        string          `json:"lastStatus"`
	Overrides         *ECSOverrides   `json:"overrides,omitempty"`
	Connectivity      string          `json:"connectivity,omitempty"`
	ConnectivityAt    *time.Time      `json:"connectivityAt,omitempty"`
	PullStartedAt     *time.Time      `json:"pullStartedAt,omitempty"`
	PullStoppedAt     *time.Time      `json:"pullStoppedAt,omitempty"`
	StartedAt         *time.Time      `json:"startedAt,omitempty"`
	StartedBy         string          `json:"startedBy,omitempty"`
	StopCode          string          `json:"stopCode,omitempty"`
	StoppedAt         *time.Time      `json:"stoppedAt,omitempty"`
	StoppedReason     string          `json:"stoppedReason,omitempty"`
	StoppingAt        *time.Time      `json:"stoppingAt,omitempty"`
	UpdatedAt         *time.Time      `json:"updatedAt,omitempty"`
	TaskARN           string          `json:"taskArn"`
	TaskDefinitionARN string          `json:"taskDefinitionArn"`
	Version           int64           `json:"version"`
	PlatformVersion   string          `json:"platformVersion,omitempty"`
}

// ECSAttachment is a task attachment such as an ENI.
type ECSAttachment struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Status  string         `json:"status"`
	Details []ECSNameValue `json:"details,omitempty"`
}

// ECSNameValue is a name/value pair.
type ECSNameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ECSContainer is one container of a task in a task state change.
type ECSContainer struct {
	ContainerARN string `json:"containerArn,omitempty"`
	ExitCode     *int32 `json:"exitCode,omitempty"`
	LastStatus   string `json:"lastStatus"`
	Name         string `json:"name"`
	Image        string `json:"image,omitempty"`
	ImageDigest  string `json:"imageDigest,omitempty"`
	RuntimeID    string `json:"runtimeId,omitempty"`
	TaskARN      string `json:"taskArn,omitempty"`
	Reason       string `json:"reason,omitempty"`
	CPU          string `json:"cpu,omitempty"`
}

// ECSOverrides is the overrides block of a task.
type ECSOverrides struct {
	ContainerOverrides []ECSContainerOverride `json:"containerOverrides"`
}

// ECSContainerOverride is one container's override.
type ECSContainerOverride struct {
	Name        string         `json:"name"`
	Command     []string       `json:"command,omitempty"`
	Environment []ECSNameValue `json:"environment,omitempty"`
}

// TaskEvent is a whole ECS Task State Change event.
type TaskEvent = Envelope[ECSTaskStateChange]
