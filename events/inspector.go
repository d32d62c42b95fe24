package events

import "strings"

// Inspector2 Scan constants: Amazon Inspector finished the initial
// (enhanced) scan of an ECR image.
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-events.html
const (
	SourceInspector              = "aws.inspector2"
	DetailTypeInspectorScan      = "Inspector2 Scan"
	InspectorInitialScanComplete = "INITIAL_SCAN_COMPLETE"
	SeverityTotal                = "TOTAL" // Inspector's counts add the total
)

// InspectorScan is the detail of an "Inspector2 Scan" event. Unlike ECR's
// own scan event, its repository-name is the repository's ARN, and
// finding-severity-counts carries a TOTAL.
type InspectorScan struct {
	ScanStatus            string         `json:"scan-status"`
	RepositoryName        string         `json:"repository-name"`
	FindingSeverityCounts map[string]int `json:"finding-severity-counts,omitempty"`
	ImageDigest           string         `json:"image-digest"`
	ImageTags             []string       `json:"image-tags"`
}

// InspectorScanEvent is a whole Inspector2 Scan event.
type InspectorScanEvent = Envelope[InspectorScan]

// Repository returns the repository's name, read from the ARN Inspector
// puts in repository-name (arn:aws:ecr:REGION:ACCOUNT:repository/NAME).
func (d InspectorScan) Repository() string {
	if _, name, ok := strings.Cut(d.RepositoryName, ":repository/"); ok {
		return name
	}
	return d.RepositoryName
}

// DecodeInspectorScan decodes an Inspector2 Scan event and checks its
// envelope as DecodeImageScan does.
func DecodeInspectorScan(data []byte) (InspectorScanEvent, error) {
	const what = "Inspector2 Scan event"
	ev, err := Decode[InspectorScanEvent](data, what)
	if err != nil {
		return ev, err
	}
	if path, err := checkScanEnvelope(ev.Source, ev.DetailType, SourceInspector, DetailTypeInspectorScan, ev.Account, ev.Region, ev.Detail.ImageDigest); err != nil {
		return ev, &DecodeError{What: what, Path: path, Err: err}
	}
	return ev, nil
}
