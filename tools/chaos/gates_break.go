package chaos

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// GateBreakage breaks a gate on purpose, from outside the engine, so a
// test proves the invariant that holds it can fail (gates_test.go).
type GateBreakage int

// Gate breakages.
const (
	GateBreakNothing GateBreakage = iota
	// BreakScanGate: the deployer's ECR answers every scan as finished
	// with no finding, as if the gate read nothing (invariant 13).
	BreakScanGate
	// BreakSoakClock: the deployer's clock runs 30 minutes ahead, so every
	// soak looks over the moment its source succeeded (invariant 14).
	BreakSoakClock
	// BreakGateClock: the gates' clock never runs, so nothing a gate held
	// back is ever sent again (invariant 15).
	BreakGateClock
)

// breakGates applies the run's gate breakage to the stack (BreakGateClock
// is gateClock's).
func (r *runner) breakGates() {
	switch r.cfg.BreakGate {
	case BreakScanGate:
		r.st.Deployer.Scans = cleanScans{}
	case BreakSoakClock:
		now := r.st.Deployer.Now
		r.st.Deployer.Now = func() time.Time { return now().Add(30 * time.Minute) }
	}
}

// cleanScans says every image's scan is complete and found nothing.
type cleanScans struct{}

func (cleanScans) DescribeImageScanFindings(context.Context, *ecr.DescribeImageScanFindingsInput, ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	return &ecr.DescribeImageScanFindingsOutput{
		ImageScanStatus:   &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusComplete},
		ImageScanFindings: &ecrtypes.ImageScanFindings{FindingSeverityCounts: map[string]int32{}},
	}, nil
}
