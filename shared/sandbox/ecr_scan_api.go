package sandbox

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

func (e *ecrService) putImageScanningConfiguration(body []byte) (any, []pendingEvent, error) {
	var in struct {
		RepositoryName             string `json:"repositoryName"`
		ImageScanningConfiguration *struct {
			ScanOnPush bool `json:"scanOnPush"`
		} `json:"imageScanningConfiguration"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, nil, err
	}
	r, err := e.repo(in.RepositoryName)
	if err != nil {
		return nil, nil, err
	}
	if in.ImageScanningConfiguration == nil {
		return nil, nil, awsproto.InvalidParameter("imageScanningConfiguration is required")
	}
	r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	return map[string]any{"registryId": e.account, "repositoryName": r.name,
		"imageScanningConfiguration": map[string]bool{"scanOnPush": r.scanOnPush}}, nil, nil
}

func (e *ecrService) putRegistryScanningConfiguration(body []byte) (any, []pendingEvent, error) {
	var in registryScanning
	if err := decodeInput(body, &in); err != nil {
		return nil, nil, err
	}
	if in.ScanType == "" {
		in.ScanType = e.scanning.ScanType
	}
	if in.ScanType != "BASIC" && in.ScanType != "ENHANCED" {
		return nil, nil, ecrValidation("1 validation error detected: Value '%s' at 'scanType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, ENHANCED]", in.ScanType)
	}
	if in.Rules == nil {
		in.Rules = []scanRule{}
	}
	for _, r := range in.Rules {
		allowed := []string{"SCAN_ON_PUSH", "CONTINUOUS_SCAN"}
		if in.ScanType == "BASIC" {
			allowed = []string{"SCAN_ON_PUSH"}
		}
		if !slices.Contains(allowed, r.ScanFrequency) {
			return nil, nil, ecrValidation("scanFrequency %q is not valid for scan type %s", r.ScanFrequency, in.ScanType)
		}
		if len(r.RepositoryFilters) == 0 {
			return nil, nil, ecrValidation("a rule needs at least one repository filter")
		}
	}
	e.scanning = in
	return map[string]any{"registryScanningConfiguration": in}, nil, nil
}

func (e *ecrService) getRegistryScanningConfiguration([]byte) (any, []pendingEvent, error) {
	return map[string]any{"registryId": e.account, "scanningConfiguration": e.scanning}, nil, nil
}

type scanQuery struct {
	RepositoryName string  `json:"repositoryName"`
	ImageID        imageID `json:"imageId"`
	NextToken      string  `json:"nextToken"`
	MaxResults     int     `json:"maxResults"`
}

func (e *ecrService) scanTarget(body []byte) (*repository, *image, scanQuery, error) {
	var q scanQuery
	if err := decodeInput(body, &q); err != nil {
		return nil, nil, q, err
	}
	r, err := e.repo(q.RepositoryName)
	if err != nil {
		return nil, nil, q, err
	}
	im, _ := r.lookup(q.ImageID)
	if im == nil {
		return nil, nil, q, imageNotFound(r, q.ImageID, e.account)
	}
	if q.ImageID.ImageDigest == "" {
		q.ImageID.ImageDigest = im.digest
	}
	return r, im, q, nil
}

// startImageScan starts a basic scan by hand. ECR allows one scan per
// image per 24 hours (LimitExceededException); with enhanced scanning a
// manual scan is not supported.
func (e *ecrService) startImageScan(body []byte) (any, []pendingEvent, error) {
	r, im, q, err := e.scanTarget(body)
	if err != nil {
		return nil, nil, err
	}
	now := e.s.clock.Now()
	switch {
	case e.scanning.ScanType == "ENHANCED":
		return nil, nil, ecrValidation("Manual scans are not supported when enhanced scanning is turned on for the registry.")
	case im.scan != nil && !im.scan.enhanced && now.Before(im.scan.started.Add(24*time.Hour)):
		return nil, nil, awsproto.Errorf(http.StatusBadRequest, "LimitExceededException",
			"The scan quota per image has been exceeded. Wait and try again.")
	}
	e.start(r, im, false, false, true)
	return map[string]any{"registryId": e.account, "repositoryName": r.name, "imageId": q.ImageID,
		"imageScanStatus": map[string]string{"status": "IN_PROGRESS", "description": "The scan is in progress."}}, nil, nil
}

// describeImageScanFindings answers an image's latest scan: its status and,
// once complete, the findings (basic: findings; enhanced: enhancedFindings)
// paged by maxResults, and the counts per severity.
func (e *ecrService) describeImageScanFindings(body []byte) (any, []pendingEvent, error) {
	r, im, q, err := e.scanTarget(body)
	if err != nil {
		return nil, nil, err
	}
	sc := im.scan
	if sc == nil {
		return nil, nil, awsproto.Errorf(http.StatusBadRequest, "ScanNotFoundException",
			"Image scan does not exist for image with '{imageDigest:'%s', imageTag:'%s'}' in the repository with name '%s' in the registry with id '%s'",
			orNull(q.ImageID.ImageDigest), orNull(q.ImageID.ImageTag), r.name, e.account)
	}
	status, desc := sc.status()
	out := map[string]any{"registryId": e.account, "repositoryName": r.name, "imageId": q.ImageID,
		"imageScanStatus": map[string]string{"status": status, "description": desc}}
	if !sc.done || sc.failed {
		return out, nil, nil
	}
	all := e.findingsOf(r, im)
	page, next, err := paginate(all, q.NextToken, q.MaxResults, 100, 1000)
	if err != nil {
		return nil, nil, err
	}
	findings := map[string]any{"imageScanCompletedAt": epochSeconds(sc.due), "vulnerabilitySourceUpdatedAt": epochSeconds(sc.due),
		"findingSeverityCounts": nonZero(sc.counts)}
	if sc.enhanced {
		findings["enhancedFindings"] = nonNil(page)
	} else {
		findings["findings"] = nonNil(page)
	}
	out["imageScanFindings"], out["nextToken"] = findings, next
	return out, nil, nil
}

// severities in the order findings are listed.
var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"}

// findingsOf synthesises a scan's findings from its counts: one CVE-shaped
// finding per count, most severe first.
func (e *ecrService) findingsOf(r *repository, im *image) []map[string]any {
	sc := im.scan
	var out []map[string]any
	n := sc.firstID
	for _, sev := range severities {
		for range sc.counts[sev] {
			name := fmt.Sprintf("CVE-2026-%05d", n)
			n++
			if !sc.enhanced {
				out = append(out, map[string]any{"name": name, "severity": sev,
					"uri":         "https://security-tracker.debian.org/tracker/" + name,
					"description": "A vulnerability the Deckhand sandbox scripted.",
					"attributes":  []map[string]string{{"key": "package_name", "value": "libsandbox"}, {"key": "package_version", "value": "1.0.0"}}})
				continue
			}
			out = append(out, map[string]any{
				"awsAccountId": e.account, "severity": sev, "status": "ACTIVE", "type": "PACKAGE_VULNERABILITY",
				"title": name + " - libsandbox", "description": "A vulnerability the Deckhand sandbox scripted.",
				"findingArn":      fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%032x", e.region, e.account, n),
				"firstObservedAt": epochSeconds(sc.due), "lastObservedAt": epochSeconds(sc.due), "updatedAt": epochSeconds(sc.due),
				"packageVulnerabilityDetails": map[string]any{"vulnerabilityId": name, "source": "NVD",
					"vulnerablePackages": []map[string]string{{"name": "libsandbox", "version": "1.0.0", "packageManager": "OS"}}},
				"resources": []map[string]any{{"id": e.repoARN(r.name) + "/" + im.digest, "type": "AWS_ECR_CONTAINER_IMAGE"}},
			})
		}
	}
	return out
}

// SetScanFindings scripts the scans of an image in an account and Region
// ("" for the sandbox's own): repository and digest, or every image of the
// repository when digest is "". A scan already running takes the new
// script's findings when it completes (NEVER: it stays IN_PROGRESS); the
// delay applies to scans started later. It is the control API's POST /_sandbox/scan-findings.
func (s *Sandbox) SetScanFindings(account, region, repository, digest string, script ScanScript) error {
	switch script.Status {
	case "", "COMPLETE", "FAILED", "NEVER":
	default:
		return fmt.Errorf("scan findings for %s: status %q: want COMPLETE, FAILED or NEVER", repository, script.Status)
	}
	for sev, n := range script.Severities {
		if !slices.Contains(severities, sev) || n < 0 {
			return fmt.Errorf("scan findings for %s: severity %s=%d: want a count of one of %v", repository, sev, n, severities)
		}
	}
	e := s.scope(account, region).ecr
	e.mu.Lock()
	defer e.mu.Unlock()
	key := repository
	if digest != "" {
		key += "@" + digest
	}
	e.scripts[key] = script
	if r := e.repos[repository]; r != nil {
		for _, im := range r.images {
			if sc := im.scan; sc != nil && !sc.done && (digest == "" || im.digest == digest) {
				sc.counts, sc.failed, sc.firstID = maps.Clone(script.Severities), script.Status == "FAILED", e.findings+1
				if script.Status == "NEVER" {
					sc.due = time.Time{} // stays IN_PROGRESS
				}
				for _, n := range script.Severities {
					e.findings += n
				}
			}
		}
	}
	return nil
}
