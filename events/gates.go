package events

import "time"

// Gates a deploy waits at or is stopped by (DESIGN §11), named in a
// Deckhand Deployment State Change's gate.name.
const (
	GateApproval = "approval"
	GateScan     = "scan"
	GateFreeze   = "freeze"
	GateSoak     = "soak"
)

// Scan states of one image, as a gate reports them (ScanResult.Status).
const (
	ScanStateClean    = "CLEAN"     // complete, nothing at a blocking severity
	ScanStateFindings = "FINDINGS"  // complete, findings at a blocking severity
	ScanStatePending  = "PENDING"   // not finished (or not started) yet
	ScanStateFailed   = "FAILED"    // the scanner could not scan the image
	ScanStateTimedOut = "TIMED_OUT" // not finished within the gate's bound
)

// GateDetail is what a gate status is about: which gate, until when, and
// what an approver or an on-call person needs to act on it.
type GateDetail struct {
	// Name is approval, scan, freeze or soak.
	Name string `json:"name"`
	// Until is when the state ends on its own: a freeze window's end, a
	// pending approval's expiry, a pending scan's deadline, a soak's end.
	Until *time.Time `json:"until,omitempty"`
	// Window is the freeze window as the manifest writes it.
	Window string `json:"window,omitempty"`
	// Scans are the scan results of the images the deploy brings, by
	// container.
	Scans map[string]ScanResult `json:"scans,omitempty"`
	// Block are the severities that block (gates.scan.block).
	Block []string `json:"block,omitempty"`
	// DecidedBy is who approved or rejected (STS GetCallerIdentity's ARN),
	// and DecidedAt when.
	DecidedBy string     `json:"decidedBy,omitempty"`
	DecidedAt *time.Time `json:"decidedAt,omitempty"`
	// Source is what the promotion's source binding said about the digests
	// it promotes (trigger promote).
	Source *SourceVerdict `json:"source,omitempty"`
	// Diff summarises the change for an approver, one line per container
	// (old → new image) and one for the template.
	Diff []string `json:"diff,omitempty"`
	// Push names the push the deploy answers (event id, time, trigger):
	// ECR's push event names no identity, CloudTrail's PutImage record for
	// this digest does.
	Push string `json:"push,omitempty"`
	// Approve and Reject are the commands that decide a pending approval.
	Approve string `json:"approve,omitempty"`
	Reject  string `json:"reject,omitempty"`
}

// ScanResult is one image's scan, as the scan gate read it.
type ScanResult struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	// Status is CLEAN, FINDINGS, PENDING, FAILED or TIMED_OUT.
	Status string `json:"status"`
	// Findings are the finding counts per severity (CRITICAL, HIGH, …).
	Findings map[string]int `json:"findings,omitempty"`
	// From names where the result was read: the ECR Image Scan or
	// Inspector2 Scan event, or DescribeImageScanFindings.
	From string `json:"from,omitempty"`
	// Detail is the scanner's own description (a failure's reason).
	Detail string `json:"detail,omitempty"`
}

// SourceVerdict is what a promotion's source binding did with the digests
// promoted: it reached SUCCEEDED with its revision at SucceededAt and has
// served it since.
type SourceVerdict struct {
	Binding     string    `json:"binding"`
	Revision    string    `json:"revision"`
	Status      string    `json:"status"`
	SucceededAt time.Time `json:"succeededAt"`
	// ServedMS is how long the source has served it, in milliseconds.
	ServedMS int64 `json:"servedMs"`
}
