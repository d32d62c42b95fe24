package events

import (
	"errors"
	"fmt"
)

// ECR Image Scan constants: a basic scan of an image completed.
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
const (
	DetailTypeImageScan = "ECR Image Scan"
	ScanComplete        = "COMPLETE"
	ScanFailed          = "FAILED"
)

// Finding severities, as ECR and Inspector count them.
const (
	SeverityCritical      = "CRITICAL"
	SeverityHigh          = "HIGH"
	SeverityMedium        = "MEDIUM"
	SeverityLow           = "LOW"
	SeverityInformational = "INFORMATIONAL"
	SeverityUndefined     = "UNDEFINED"
)

// ECRImageScan is the detail of an "ECR Image Scan" event (basic
// scanning). finding-severity-counts names only the severities found: an
// image without CRITICAL findings has no CRITICAL key, and a clean image an
// empty or missing map.
type ECRImageScan struct {
	ScanStatus            string         `json:"scan-status"`
	RepositoryName        string         `json:"repository-name"`
	FindingSeverityCounts map[string]int `json:"finding-severity-counts,omitempty"`
	ImageDigest           string         `json:"image-digest"`
	ImageTags             []string       `json:"image-tags"`
}

// ImageScanEvent is a whole ECR Image Scan event.
type ImageScanEvent = Envelope[ECRImageScan]

// DecodeImageScan decodes an ECR Image Scan event and checks that it is one,
// with a 12-digit account, a Region name and an ECR image digest; anything
// else is malformed, with its JSON path.
func DecodeImageScan(data []byte) (ImageScanEvent, error) {
	const what = "ECR Image Scan event"
	ev, err := Decode[ImageScanEvent](data, what)
	if err != nil {
		return ev, err
	}
	if path, err := checkScanEnvelope(ev.Source, ev.DetailType, SourceECR, DetailTypeImageScan, ev.Account, ev.Region, ev.Detail.ImageDigest); err != nil {
		return ev, &DecodeError{What: what, Path: path, Err: err}
	}
	return ev, nil
}

// checkScanEnvelope checks what a scan event of either source must carry.
func checkScanEnvelope(source, detailType, wantSource, wantType, account, region, digest string) (string, error) {
	switch {
	case source != wantSource || detailType != wantType:
		return "$.detail-type", fmt.Errorf("want source %q detail-type %q, got %q %q", wantSource, wantType, source, detailType)
	case !ValidAccount(account):
		return "$.account", fmt.Errorf("account %q is not a 12-digit AWS account id", account)
	case !ValidRegion(region):
		return "$.region", fmt.Errorf("region %q is not an AWS Region name such as us-west-2", region)
	case !ValidImageDigest(digest):
		return "$.detail.image-digest", errors.New("want sha256: and 64 lowercase hex digits, as ECR digests are")
	}
	return "", nil
}
