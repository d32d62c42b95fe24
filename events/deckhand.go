package events

import "time"

// Deckhand's own events (DESIGN §6).
const (
	SourceDeckhand               = "deckhand"
	DetailTypeDeckhandDeployment = "Deckhand Deployment State Change"
	DetailTypeDeckhandJob        = "Deckhand Job State Change"
)

// DeploymentStatus is the status of a Deckhand Deployment State Change.
type DeploymentStatus string

// Deployment statuses.
const (
	StatusStarted         DeploymentStatus = "STARTED"
	StatusSucceeded       DeploymentStatus = "SUCCEEDED"
	StatusFailed          DeploymentStatus = "FAILED"
	StatusRolledBack      DeploymentStatus = "ROLLED_BACK"
	StatusSkipped         DeploymentStatus = "SKIPPED"
	StatusSuperseded      DeploymentStatus = "SUPERSEDED"
	StatusHeld            DeploymentStatus = "HELD"
	StatusAlreadyDeployed DeploymentStatus = "ALREADY_DEPLOYED"
)

// Gate statuses (DESIGN §11; events/gates.go has the details they carry).
const (
	// StatusPendingApproval: the revision is registered (tagged
	// deckhand:approval=pending) and the service untouched until a person
	// approves it.
	StatusPendingApproval DeploymentStatus = "PENDING_APPROVAL"
	// StatusApproved: a person approved a pending revision; STARTED follows.
	StatusApproved DeploymentStatus = "APPROVED"
	// StatusRejected: a person rejected a pending revision, with a reason.
	StatusRejected DeploymentStatus = "REJECTED"
	// StatusExpired: nobody decided on a pending revision in time.
	StatusExpired DeploymentStatus = "EXPIRED"
	// StatusBlocked: a gate stopped the deploy: scan findings, a scan that
	// failed or never came, a freeze window, or a promotion's soak. The
	// event's gate says which.
	StatusBlocked DeploymentStatus = "BLOCKED"
	// StatusPendingScan: the image's vulnerability scan has not finished;
	// its result (ECR's or Inspector's scan event, or the reconciler)
	// decides the deploy.
	StatusPendingScan DeploymentStatus = "PENDING_SCAN"
)

// Trigger says why Deckhand deployed (the deckhand:trigger revision tag).
type Trigger string

// Triggers.
const (
	TriggerPush      Trigger = "push"
	TriggerReconcile Trigger = "reconcile"
	TriggerManual    Trigger = "manual"
	TriggerPromote   Trigger = "promote"
	TriggerRollback  Trigger = "rollback"
)

// ContainerChange is one container's image before and after a deployment.
type ContainerChange struct {
	OldDigest string `json:"oldDigest,omitempty"`
	NewDigest string `json:"newDigest,omitempty"`
	OldTag    string `json:"oldTag,omitempty"`
	NewTag    string `json:"newTag,omitempty"`
	// PushedDigest and PushedTag name the push this decision answers when
	// the engine deployed a newer eligible image instead (catch-up during a
	// burst, see shared/engine/deploy/catchup.go); empty otherwise.
	PushedDigest string `json:"pushedDigest,omitempty"`
	PushedTag    string `json:"pushedTag,omitempty"`
}

// DeploymentStateChange is the detail of a "Deckhand Deployment State Change".
type DeploymentStateChange struct {
	Status       DeploymentStatus           `json:"status"`
	Binding      string                     `json:"binding"`
	Cluster      string                     `json:"cluster"`
	Service      string                     `json:"service"`
	OldRevision  string                     `json:"oldRevision,omitempty"`
	NewRevision  string                     `json:"newRevision,omitempty"`
	Containers   map[string]ContainerChange `json:"containers,omitempty"`
	Trigger      Trigger                    `json:"trigger,omitempty"`
	EventID      string                     `json:"eventId,omitempty"`
	DeploymentID string                     `json:"deploymentId,omitempty"`
	Reason       string                     `json:"reason,omitempty"`
	// DurationMS is the time from the triggering push (or deployment start)
	// to this decision, in milliseconds.
	DurationMS int64 `json:"durationMs,omitempty"`
	// Gate is what a gate status is about, on PENDING_APPROVAL, APPROVED,
	// REJECTED, EXPIRED, BLOCKED and PENDING_SCAN (and on the STARTED that
	// follows an approval or a promotion); nil otherwise.
	Gate *GateDetail `json:"gate,omitempty"`
}

// JobStatus is the status of a Deckhand Job State Change.
type JobStatus string

// Job statuses.
const (
	JobStarted        JobStatus = "STARTED"
	JobSkippedOverlap JobStatus = "SKIPPED_OVERLAP"
	JobSucceeded      JobStatus = "SUCCEEDED"
	JobFailed         JobStatus = "FAILED"
	JobTimedOut       JobStatus = "TIMED_OUT"
	JobRetrying       JobStatus = "RETRYING"
)

// JobStateChange is the detail of a "Deckhand Job State Change".
type JobStateChange struct {
	Status        JobStatus        `json:"status"`
	Job           string           `json:"job"`
	Cluster       string           `json:"cluster,omitempty"`
	TaskARNs      []string         `json:"taskArns,omitempty"`
	ExitCodes     map[string]int32 `json:"exitCodes,omitempty"`
	StopCode      string           `json:"stopCode,omitempty"`
	Reason        string           `json:"reason,omitempty"`
	ScheduledTime *time.Time       `json:"scheduledTime,omitempty"`
	Attempt       int              `json:"attempt,omitempty"`
	DurationMS    int64            `json:"durationMs,omitempty"`
}
