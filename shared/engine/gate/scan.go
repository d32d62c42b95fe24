// Package gate reads what DESIGN §11's gates decide on, from where it
// lives: an image's vulnerability scan in ECR, a promotion's source in ECS
// (the revision it serves and the service-deployment record of when it
// reached SUCCESSFUL), and a binding's gated revision (the one tagged
// deckhand:approval). The deploy engine, the reconciler and the CLI all
// read gates through it, so they agree; freeze windows are the manifest's
// (manifest.Service.Frozen).
package gate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
)

// ScanAPI is the part of ECR the scan gate reads.
type ScanAPI interface {
	DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

var _ ScanAPI = (*ecr.Client)(nil)

// FromECR names where ReadScan reads a result.
const FromECR = "DescribeImageScanFindings"

// Image is an image whose scan the gate reads.
type Image struct {
	// Registry is the account the repository is in ("" for the caller's).
	Registry   string
	Repository string
	Digest     string
}

// ReadScan reads an image's scan from ECR, which answers for basic and
// enhanced (Inspector) scanning alike, and judges it against the blocking
// severities: CLEAN, FINDINGS (with the counts), PENDING (not finished, or
// not started: ScanNotFoundException) or FAILED (the scanner could not
// scan it, or the image is gone). A scan event only says when to ask:
// the result is always ECR's own. Other errors are returned.
func ReadScan(ctx context.Context, api ScanAPI, img Image, block []string) (events.ScanResult, error) {
	res := events.ScanResult{Repository: img.Repository, Digest: img.Digest, From: FromECR}
	in := &ecr.DescribeImageScanFindingsInput{
		RepositoryName: aws.String(img.Repository), ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(img.Digest)},
		MaxResults: aws.Int32(1), // the counts are in every page; the findings are not needed
	}
	if img.Registry != "" {
		in.RegistryId = aws.String(img.Registry)
	}
	out, err := api.DescribeImageScanFindings(ctx, in)
	switch {
	case awserr.ScanNotFound(err):
		res.Status, res.Detail = events.ScanStatePending, "no scan of the image yet (ScanNotFoundException)"
		return res, nil
	case awserr.ImageNotFound(err):
		res.Status, res.Detail = events.ScanStateFailed, "ECR no longer has the image"
		return res, nil
	case err != nil:
		return res, fmt.Errorf("describe image scan findings of %s@%s: %w", img.Repository, img.Digest, err)
	}
	var status ecrtypes.ScanStatus
	if out.ImageScanStatus != nil {
		status = out.ImageScanStatus.Status
		res.Detail = aws.ToString(out.ImageScanStatus.Description)
	}
	switch status {
	case ecrtypes.ScanStatusComplete, ecrtypes.ScanStatusActive:
		res.Findings = map[string]int{}
		if f := out.ImageScanFindings; f != nil {
			for sev, n := range f.FindingSeverityCounts {
				if n > 0 && sev != events.SeverityTotal {
					res.Findings[sev] = int(n)
				}
			}
		}
		res.Status = Judge(res.Findings, block)
	case ecrtypes.ScanStatusInProgress, ecrtypes.ScanStatusPending, "":
		res.Status = events.ScanStatePending
	default: // FAILED, UNSUPPORTED_IMAGE, SCAN_ELIGIBILITY_EXPIRED, FINDINGS_UNAVAILABLE, …
		res.Status = events.ScanStateFailed
		res.Detail = strings.TrimSpace(string(status) + ": " + res.Detail)
	}
	return res, nil
}

// Judge is CLEAN, or FINDINGS when any blocking severity has a finding.
func Judge(findings map[string]int, block []string) string {
	for _, sev := range block {
		if findings[sev] > 0 {
			return events.ScanStateFindings
		}
	}
	return events.ScanStateClean
}

// Overdue turns a PENDING result into TIMED_OUT when the image was pushed
// more than timeout before now: an image never scanned within the bound is
// blocked, never deployed silently.
func Overdue(r events.ScanResult, pushedAt, now time.Time, timeout time.Duration) events.ScanResult {
	if r.Status == events.ScanStatePending && !pushedAt.IsZero() && !now.Before(pushedAt.Add(timeout)) {
		r.Status = events.ScanStateTimedOut
		r.Detail = fmt.Sprintf("not scanned within %s of its push at %s (%s); is scan on push on for repository %s?",
			timeout, pushedAt.UTC().Format(time.RFC3339), r.Detail, r.Repository)
	}
	return r
}

// Counts writes findings as "CRITICAL 1, HIGH 3", most severe first.
func Counts(findings map[string]int) string {
	order := []string{events.SeverityCritical, events.SeverityHigh, events.SeverityMedium, events.SeverityLow,
		events.SeverityInformational, events.SeverityUndefined}
	var parts []string
	for _, sev := range order {
		if n := findings[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", sev, n))
		}
	}
	for _, sev := range slices.Sorted(maps.Keys(findings)) {
		if !slices.Contains(order, sev) && findings[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", sev, findings[sev]))
		}
	}
	if len(parts) == 0 {
		return "no findings"
	}
	return strings.Join(parts, ", ")
}
