package events

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-events.html
func TestScanFixturesRoundTrip(t *testing.T) {
	t.Run("ecr-image-scan-complete.json counts only the severities found", func(t *testing.T) {
		ev := roundTrip[ImageScanEvent](t, "ecr-image-scan-complete.json")
		if diff := cmp.Diff(map[string]int{SeverityCritical: 10, SeverityMedium: 9}, ev.Detail.FindingSeverityCounts); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
	})
	t.Run("ecr-image-scan-clean.json has no counts at all", func(t *testing.T) {
		ev := roundTrip[ImageScanEvent](t, "ecr-image-scan-clean.json")
		if ev.Detail.FindingSeverityCounts[SeverityCritical] != 0 || ev.Detail.ScanStatus != ScanComplete {
			t.Errorf("detail %+v", ev.Detail)
		}
	})
	t.Run("inspector2-scan.json names its repository by ARN and adds a TOTAL", func(t *testing.T) {
		ev := roundTrip[InspectorScanEvent](t, "inspector2-scan.json")
		if got := ev.Detail.Repository(); got != "amazon/amazon-ecs-sample" {
			t.Errorf("Repository() = %q, want the name from the ARN", got)
		}
		if ev.Detail.FindingSeverityCounts[SeverityTotal] != 158 || ev.Detail.ScanStatus != InspectorInitialScanComplete {
			t.Errorf("detail %+v", ev.Detail)
		}
	})
}

func TestScanDecodersCheckTheEnvelope(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	basic, inspector := read("ecr-image-scan-complete.json"), read("inspector2-scan.json")
	tests := map[string]struct {
		raw      string
		decode   func([]byte) error
		wantPath string
	}{
		"a basic scan event decodes":          {basic, decodeBasic, ""},
		"an Inspector scan event decodes":     {inspector, decodeInspector, ""},
		"an Inspector event is no basic scan": {inspector, decodeBasic, "$.detail-type"},
		"a basic scan is no Inspector event":  {basic, decodeInspector, "$.detail-type"},
		"a digest that is not ECR's":          {strings.Replace(basic, "sha256:7f5b", "sha256:XXXX", 1), decodeBasic, "$.detail.image-digest"},
		"an account that is not 12 digits":    {strings.Replace(inspector, `"account": "123456789012"`, `"account": "1"`, 1), decodeInspector, "$.account"},
		"a region that is not a Region name":  {strings.Replace(basic, `"region": "us-west-2"`, `"region": "mars"`, 1), decodeBasic, "$.region"},
		"a count that is not a number":        {strings.Replace(basic, `"CRITICAL": 10`, `"CRITICAL": "ten"`, 1), decodeBasic, "$.detail.finding-severity-counts"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.decode([]byte(tc.raw))
			if tc.wantPath == "" {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) || de.Path != tc.wantPath {
				t.Errorf("err = %v, want a *DecodeError at %s", err, tc.wantPath)
			}
		})
	}
}

func decodeBasic(b []byte) error {
	_, err := DecodeImageScan(b)
	return err
}

func decodeInspector(b []byte) error {
	_, err := DecodeInspectorScan(b)
	return err
}
