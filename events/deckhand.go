package events

import (
	"strings"
	"time"
)

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
	// Cause names what rolled a ROLLED_BACK (or failed a FAILED) deployment
	// back, as ECS's service-deployment record says (DESIGN §10):
	// circuitBreaker, alarm:<name>, hook:<name> or manual; empty when ECS
	// does not say.
	Cause string `json:"cause,omitempty"`
	// Strategy is the binding's deployment strategy (rolling, blueGreen,
	// linear, canary) on the STARTED of a binding with a deployment:
	// block; empty without one (the service keeps its own).
	Strategy string `json:"strategy,omitempty"`
	// DurationMS is the time from the triggering push (or deployment start)
	// to this decision, in milliseconds.
	DurationMS int64 `json:"durationMs,omitempty"`
	// Gate is what a gate status is about, on PENDING_APPROVAL, APPROVED,
	// REJECTED, EXPIRED, BLOCKED and PENDING_SCAN (and on the STARTED that
	// follows an approval or a promotion); nil otherwise.
	Gate *GateDetail `json:"gate,omitempty"`
}

// Causes of a rollback (DeploymentStateChange.Cause), DESIGN §10.
const (
	CauseCircuitBreaker = "circuitBreaker"
	CauseManual         = "manual"
	causeAlarm          = "alarm:"
	causeHook           = "hook:"
)

// CauseAlarm is the cause of a rollback by the CloudWatch alarm name.
func CauseAlarm(name string) string { return causeAlarm + name }

// CauseHook is the cause of a rollback by the lifecycle hook name (a
// Lambda function's name, or PAUSE).
func CauseHook(name string) string { return causeHook + name }

// CauseKind is a cause without its name: circuitBreaker, alarm, hook or
// manual ("" for none).
func CauseKind(cause string) string {
	kind, _, _ := strings.Cut(cause, ":")
	return kind
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
