package sandbox

import (
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// ScanScript decides how the scans of an image end (SetScanFindings): the
// findings per severity (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL,
// UNDEFINED), how long a scan takes on the virtual clock, and whether it
// fails or never happens.
type ScanScript struct {
	Severities map[string]int `json:"severities,omitempty"`
	Delay      time.Duration  `json:"-"`
	// Status is "" or "COMPLETE" (the default), "FAILED" (basic scanning:
	// FAILED and an ECR Image Scan event with that status; enhanced:
	// UNSUPPORTED_IMAGE and no event), or "NEVER": a push starts no scan at
	// all (DescribeImageScanFindings: ScanNotFoundException) and a manual
	// scan stays IN_PROGRESS.
	Status string `json:"status,omitempty"`
}

// DefaultScanDelay is how long a scan takes without a ScanScript.
const DefaultScanDelay = 30 * time.Second

// imageScan is an image's latest scan.
type imageScan struct {
	enhanced   bool
	continuous bool // enhanced CONTINUOUS_SCAN: status ACTIVE once complete
	started    time.Time
	due        time.Time // zero: never completes
	done       bool
	failed     bool
	counts     map[string]int
	firstID    int // findings are named from this number on
}

// scanRule and registryScanning are the registry's scanning configuration
// (PutRegistryScanningConfiguration).
type scanRule struct {
	ScanFrequency     string `json:"scanFrequency"`
	RepositoryFilters []struct {
		Filter     string `json:"filter"`
		FilterType string `json:"filterType"`
	} `json:"repositoryFilters"`
}

type registryScanning struct {
	ScanType string     `json:"scanType"`
	Rules    []scanRule `json:"rules"`
}

// frequency is the scan frequency the registry gives repo: "" (manual) or
// SCAN_ON_PUSH / CONTINUOUS_SCAN. A filter without a wildcard matches names
// that contain it, as ECR's do.
func (c registryScanning) frequency(repo string) string {
	for _, r := range c.Rules {
		for _, f := range r.RepositoryFilters {
			pattern := f.Filter
			if !strings.Contains(pattern, "*") {
				pattern = "*" + pattern + "*"
			}
			if globMatch(repo, pattern) {
				return r.ScanFrequency
			}
		}
	}
	return ""
}

// script returns the scan script for an image of repo.
func (e *ecrService) script(repo string, im *image) ScanScript {
	if sc, ok := e.scripts[repo+"@"+im.digest]; ok {
		return sc
	}
	if sc, ok := e.scripts[repo]; ok {
		return sc
	}
	return ScanScript{}
}

// start begins a scan of im. Callers hold mu.
func (e *ecrService) start(r *repository, im *image, enhanced, continuous, manual bool) {
	sc := e.script(r.name, im)
	if sc.Status == "NEVER" && !manual {
		return
	}
	now := e.s.clock.Now()
	delay := sc.Delay
	if delay <= 0 {
		delay = DefaultScanDelay
	}
	scan := &imageScan{enhanced: enhanced, continuous: continuous, started: now, due: now.Add(delay),
		failed: sc.Status == "FAILED", counts: maps.Clone(sc.Severities), firstID: e.findings + 1}
	if sc.Status == "NEVER" {
		scan.due = time.Time{}
	}
	for _, n := range sc.Severities {
		e.findings += n
	}
	im.scan = scan
}

// scanOnPush starts the scan a push gets: enhanced scanning's when the
// registry's rules name the repository, else basic scan on push. Callers
// hold mu.
func (e *ecrService) scanOnPush(r *repository, im *image) {
	freq := e.scanning.frequency(r.name)
	switch {
	case e.scanning.ScanType == "ENHANCED" && freq != "":
		e.start(r, im, true, freq == "CONTINUOUS_SCAN", false)
	case e.scanning.ScanType != "ENHANCED" && (r.scanOnPush || freq == "SCAN_ON_PUSH"):
		e.start(r, im, false, false, false)
	}
}

// advance completes the scans due by now, on every clock advance.
func (e *ecrService) advance(now time.Time) {
	e.mu.Lock()
	evs := e.completeScans(now)
	e.mu.Unlock()
	e.publish(evs)
}

// completeScans finishes every scan due by now and returns its events,
// stamped with the time the scan completed. Callers hold mu.
func (e *ecrService) completeScans(now time.Time) []pendingEvent {
	var evs []pendingEvent
	for _, name := range e.order {
		r := e.repos[name]
		for _, im := range r.images {
			sc := im.scan
			if sc == nil || sc.done || sc.due.IsZero() || sc.due.After(now) {
				continue
			}
			sc.done = true
			if ev, ok := e.scanEvent(r, im); ok {
				evs = append(evs, ev)
			}
		}
	}
	return evs
}

// scanEvent is the event a completed scan sends: ECR Image Scan (basic) or
// Inspector2 Scan (enhanced, whose repository-name is the repository ARN).
// finding-severity-counts holds only the severities found, plus TOTAL for
// Inspector.
func (e *ecrService) scanEvent(r *repository, im *image) (pendingEvent, bool) {
	sc := im.scan
	counts := map[string]int{}
	total := 0
	for k, n := range sc.counts {
		if n > 0 {
			counts[k] = n
			total += n
		}
	}
	tags := append([]string{}, im.tags...)
	if !sc.enhanced {
		status := "COMPLETE"
		if sc.failed {
			status, counts = "FAILED", nil
		}
		return pendingEvent{source: events.SourceECR, detailType: events.DetailTypeImageScan, resources: []string{e.repoARN(r.name)}, at: sc.due,
			detail: events.ECRImageScan{ScanStatus: status, RepositoryName: r.name, FindingSeverityCounts: counts, ImageDigest: im.digest, ImageTags: tags}}, true
	}
	if sc.failed {
		return pendingEvent{}, false
	}
	counts["TOTAL"] = total
	return pendingEvent{source: events.SourceInspector, detailType: events.DetailTypeInspectorScan, resources: []string{e.repoARN(r.name)}, at: sc.due,
		detail: events.InspectorScan{ScanStatus: events.InspectorInitialScanComplete, RepositoryName: e.repoARN(r.name),
			FindingSeverityCounts: counts, ImageDigest: im.digest, ImageTags: tags}}, true
}

// status is an image scan's imageScanStatus.
func (sc *imageScan) status() (status, description string) {
	switch {
	case !sc.done:
		return "IN_PROGRESS", "The scan is in progress."
	case sc.failed && sc.enhanced:
		return "UNSUPPORTED_IMAGE", "The operating system and/or package manager are not supported."
	case sc.failed:
		return "FAILED", "UnsupportedImageError: The operating system and/or package manager are not supported."
	case sc.continuous:
		return "ACTIVE", "Continuous scan is selected for image."
	}
	return "COMPLETE", "The scan was completed successfully."
}

// scanSummary adds DescribeImages' imageScanStatus and
// imageScanFindingsSummary to an image detail.
func (e *ecrService) scanSummary(im *image, d map[string]any) {
	sc := im.scan
	if sc == nil {
		return
	}
	status, desc := sc.status()
	d["imageScanStatus"] = map[string]string{"status": status, "description": desc}
	if sc.done && !sc.failed {
		d["imageScanFindingsSummary"] = map[string]any{"imageScanCompletedAt": epochSeconds(sc.due),
			"vulnerabilitySourceUpdatedAt": epochSeconds(sc.due), "findingSeverityCounts": nonZero(sc.counts)}
	}
}

func nonZero(counts map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range counts {
		if n > 0 {
			out[k] = n
		}
	}
	return out
}

func ecrValidation(format string, args ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}
