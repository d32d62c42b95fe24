package chaos

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReportOrdersInvariantsByNumber: the table lists invariants 0, 2, 9,
// 10, 16 in that order, not as text sorts them.
func TestReportOrdersInvariantsByNumber(t *testing.T) {
	r := &Report{Rows: []Row{{Name: InvIsolated}, {Name: InvTemplates}, {Name: InvNoBackward}, {Name: InvHarness}, {Name: InvVerdictsAgree}}}
	var out bytes.Buffer
	r.Write(&out)
	var got []string
	for line := range strings.Lines(out.String()) {
		for _, n := range []string{"0 ", "2 ", "9 ", "10 ", "16 "} {
			if strings.HasPrefix(line, n) {
				got = append(got, strings.TrimSpace(n))
			}
		}
	}
	if diff := cmp.Diff([]string{"0", "2", "9", "10", "16"}, got); diff != "" {
		t.Errorf("invariant order (-want +got):\n%s", diff)
	}
}
