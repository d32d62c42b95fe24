package sandbox_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// scanEvents returns the scan events on the home bus, re-encoded as JSON
// and decoded by events' own decoders.
func scanEvents(t *testing.T, sb *sandbox.Sandbox) (basic []events.ImageScanEvent, enhanced []events.InspectorScanEvent) {
	t.Helper()
	for _, ev := range sb.Events() {
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		switch ev.DetailType {
		case events.DetailTypeImageScan:
			e, err := events.DecodeImageScan(raw)
			if err != nil {
				t.Fatalf("the sandbox's ECR Image Scan event does not decode: %v", err)
			}
			basic = append(basic, e)
		case events.DetailTypeInspectorScan:
			e, err := events.DecodeInspectorScan(raw)
			if err != nil {
				t.Fatalf("the sandbox's Inspector2 Scan event does not decode: %v", err)
			}
			enhanced = append(enhanced, e)
		}
	}
	return basic, enhanced
}

func findings(t *testing.T, client *ecr.Client, repo, digest string) (*ecr.DescribeImageScanFindingsOutput, error) {
	t.Helper()
	return client.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(repo),
		ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)}}, noRetry.ecr)
}

// https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-basic.html (scan on push)
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageScanFindings.html
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html (ECR Image Scan)
func TestBasicScanOnPushCompletesOnTheClockWithTheScriptedFindings(t *testing.T) {
	c := start(t)
	created, err := c.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web"),
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !created.Repository.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("CreateRepository answered scanOnPush false")
	}
	if err := c.sb.SetScanFindings("", "", "web", "", sandbox.ScanScript{Severities: map[string]int{"CRITICAL": 1, "HIGH": 2, "LOW": 0}, Delay: time.Minute}); err != nil {
		t.Fatal(err)
	}
	pushed := c.sb.Clock().Now()
	digest := c.sb.PushImage("web", "1.4.0")
	out, err := findings(t, c.ecr, "web", digest)
	if err != nil {
		t.Fatal(err)
	}
	if out.ImageScanStatus.Status != ecrtypes.ScanStatusInProgress || out.ImageScanFindings != nil {
		t.Errorf("right after the push: status %s, findings %v; want IN_PROGRESS and none", out.ImageScanStatus.Status, out.ImageScanFindings)
	}
	c.sb.Clock().Advance(time.Minute)
	out, err = findings(t, c.ecr, "web", digest)
	if err != nil {
		t.Fatal(err)
	}
	f := out.ImageScanFindings
	if out.ImageScanStatus.Status != ecrtypes.ScanStatusComplete || f == nil {
		t.Fatalf("a minute later: status %s, want COMPLETE with findings", out.ImageScanStatus.Status)
	}
	if diff := cmp.Diff(map[string]int32{"CRITICAL": 1, "HIGH": 2}, f.FindingSeverityCounts); diff != "" {
		t.Errorf("findingSeverityCounts (-want +got):\n%s", diff)
	}
	if len(f.Findings) != 3 || f.Findings[0].Severity != ecrtypes.FindingSeverityCritical || !aws.ToTime(f.ImageScanCompletedAt).Equal(pushed.Add(time.Minute)) {
		t.Errorf("findings %+v completed at %v, want 3, CRITICAL first, at %v", f.Findings, f.ImageScanCompletedAt, pushed.Add(time.Minute))
	}
	page, err := c.ecr.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("web"),
		ImageId: &ecrtypes.ImageIdentifier{ImageTag: aws.String("1.4.0")}, MaxResults: aws.Int32(2)})
	if err != nil || len(page.ImageScanFindings.Findings) != 2 || page.NextToken == nil {
		t.Errorf("DescribeImageScanFindings by tag, maxResults 2: %v, %+v; want a page of 2 and a nextToken", err, page)
	}
	described, err := c.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if d := described.ImageDetails[0]; d.ImageScanStatus == nil || d.ImageScanFindingsSummary == nil || d.ImageScanFindingsSummary.FindingSeverityCounts["HIGH"] != 2 {
		t.Errorf("DescribeImages image detail %+v, want imageScanStatus and imageScanFindingsSummary", d)
	}
	basic, enhanced := scanEvents(t, c.sb)
	if len(basic) != 1 || len(enhanced) != 0 {
		t.Fatalf("%d ECR Image Scan and %d Inspector2 Scan events, want 1 and 0", len(basic), len(enhanced))
	}
	ev := basic[0]
	want := events.ECRImageScan{ScanStatus: "COMPLETE", RepositoryName: "web", FindingSeverityCounts: map[string]int{"CRITICAL": 1, "HIGH": 2},
		ImageDigest: digest, ImageTags: []string{"1.4.0"}}
	if diff := cmp.Diff(want, ev.Detail); diff != "" {
		t.Errorf("ECR Image Scan detail (-want +got):\n%s", diff)
	}
	if !ev.Time.Equal(pushed.Add(time.Minute)) || !cmp.Equal(ev.Resources, []string{"arn:aws:ecr:us-west-2:123456789012:repository/web"}) {
		t.Errorf("event time %v resources %v, want the completion time and the repository ARN", ev.Time, ev.Resources)
	}
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_StartImageScan.html (LimitExceededException: once a day)
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageScanFindings.html (ScanNotFoundException)
func TestManualScansAreOncePerDayAndAnUnscannedImageHasNoScan(t *testing.T) {
	c := start(t)
	digest := c.sb.PushImage("api", "2.0.0")
	if _, err := findings(t, c.ecr, "api", digest); errorCode(err) != "ScanNotFoundException" {
		t.Errorf("findings of an image never scanned: %v, want ScanNotFoundException", err)
	}
	id := &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)}
	started, err := c.ecr.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("api"), ImageId: id})
	if err != nil {
		t.Fatal(err)
	}
	if started.ImageScanStatus.Status != ecrtypes.ScanStatusInProgress {
		t.Errorf("StartImageScan status %s, want IN_PROGRESS", started.ImageScanStatus.Status)
	}
	c.sb.Clock().Advance(time.Hour)
	if _, err := c.ecr.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("api"), ImageId: id}, noRetry.ecr); errorCode(err) != "LimitExceededException" {
		t.Errorf("a second StartImageScan an hour later: %v, want LimitExceededException", err)
	}
	c.sb.Clock().Advance(24 * time.Hour)
	if _, err := c.ecr.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("api"), ImageId: id}); err != nil {
		t.Errorf("StartImageScan a day later: %v", err)
	}
}

// https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced.html
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-events.html (Inspector2 Scan)
func TestEnhancedScanningSendsInspectorEventsAndNeverScannedImagesNone(t *testing.T) {
	c := start(t)
	_, err := c.ecr.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{ScanType: ecrtypes.ScanTypeEnhanced,
		Rules: []ecrtypes.RegistryScanningRule{{ScanFrequency: ecrtypes.ScanFrequencyContinuousScan,
			RepositoryFilters: []ecrtypes.ScanningRepositoryFilter{{Filter: aws.String("prod"), FilterType: ecrtypes.ScanningRepositoryFilterTypeWildcard}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"prod/web", "prod/api", "dev/web"} {
		if _, err := c.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.sb.SetScanFindings("", "", "prod/web", "", sandbox.ScanScript{Severities: map[string]int{"CRITICAL": 2, "MEDIUM": 1}}); err != nil {
		t.Fatal(err)
	}
	if err := c.sb.SetScanFindings("", "", "prod/api", "", sandbox.ScanScript{Status: "NEVER"}); err != nil {
		t.Fatal(err)
	}
	scanned := c.sb.PushImage("prod/web", "1.0.0")
	unmatched := c.sb.PushImage("dev/web", "1.0.0")
	never := c.sb.PushImage("prod/api", "1.0.0")
	stuck := c.sb.PushImage("prod/web", "1.0.1")
	if err := c.sb.SetScanFindings("", "", "prod/web", stuck, sandbox.ScanScript{Status: "NEVER"}); err != nil {
		t.Fatal(err)
	}
	c.sb.Clock().Advance(time.Hour)
	if out, err := findings(t, c.ecr, "prod/web", stuck); err != nil || out.ImageScanStatus.Status != ecrtypes.ScanStatusInProgress {
		t.Errorf("a running scan scripted NEVER: %v, %+v; want IN_PROGRESS an hour later", err, out)
	}
	if _, err := findings(t, c.ecr, "prod/api", never); errorCode(err) != "ScanNotFoundException" {
		t.Errorf("an image scripted NEVER before its push: %v, want ScanNotFoundException", err)
	}
	out, err := findings(t, c.ecr, "prod/web", scanned)
	if err != nil {
		t.Fatal(err)
	}
	if out.ImageScanStatus.Status != ecrtypes.ScanStatusActive || len(out.ImageScanFindings.EnhancedFindings) != 3 || len(out.ImageScanFindings.Findings) != 0 {
		t.Errorf("continuous enhanced scan: status %s, %d enhanced findings, %d basic; want ACTIVE, 3, 0",
			out.ImageScanStatus.Status, len(out.ImageScanFindings.EnhancedFindings), len(out.ImageScanFindings.Findings))
	}
	if _, err := findings(t, c.ecr, "dev/web", unmatched); errorCode(err) != "ScanNotFoundException" {
		t.Errorf("an image of a repository no rule names: %v, want ScanNotFoundException", err)
	}
	basic, enhanced := scanEvents(t, c.sb)
	if len(basic) != 0 || len(enhanced) != 1 {
		t.Fatalf("%d ECR Image Scan and %d Inspector2 Scan events, want 0 and 1 (the NEVER images send none)", len(basic), len(enhanced))
	}
	want := events.InspectorScan{ScanStatus: "INITIAL_SCAN_COMPLETE", RepositoryName: "arn:aws:ecr:us-west-2:123456789012:repository/prod/web",
		FindingSeverityCounts: map[string]int{"CRITICAL": 2, "MEDIUM": 1, "TOTAL": 3}, ImageDigest: scanned, ImageTags: []string{"1.0.0"}}
	if diff := cmp.Diff(want, enhanced[0].Detail); diff != "" {
		t.Errorf("Inspector2 Scan detail (-want +got):\n%s", diff)
	}
	if enhanced[0].Source != "aws.inspector2" || enhanced[0].Detail.Repository() != "prod/web" {
		t.Errorf("source %s repository %s", enhanced[0].Source, enhanced[0].Detail.Repository())
	}
	_, err = c.ecr.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("prod/api"),
		ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(never)}}, noRetry.ecr)
	if errorCode(err) != "ValidationException" {
		t.Errorf("StartImageScan under enhanced scanning: %v, want ValidationException", err)
	}
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanStatus.html (FAILED)
func TestAScriptedScanFailureIsFailedWithAnEvent(t *testing.T) {
	c := start(t)
	if _, err := c.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("job")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ecr.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("job"),
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true}}); err != nil {
		t.Fatal(err)
	}
	if err := c.sb.SetScanFindings("", "", "job", "", sandbox.ScanScript{Status: "FAILED"}); err != nil {
		t.Fatal(err)
	}
	digest := c.sb.PushImage("job", "1")
	c.sb.Clock().Advance(time.Hour)
	out, err := findings(t, c.ecr, "job", digest)
	if err != nil || out.ImageScanStatus.Status != ecrtypes.ScanStatusFailed || out.ImageScanFindings != nil {
		t.Errorf("failed scan: %v %+v, want FAILED without findings", err, out)
	}
	basic, _ := scanEvents(t, c.sb)
	if len(basic) != 1 || basic[0].Detail.ScanStatus != "FAILED" {
		t.Errorf("events %+v, want one ECR Image Scan with scan-status FAILED", basic)
	}
	if err := c.sb.SetScanFindings("", "", "job", "", sandbox.ScanScript{Status: "DONE"}); err == nil {
		t.Errorf("SetScanFindings accepted status DONE")
	}
}
