package local

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestOverlaps(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 7, 1, 3, min, 0, 0, time.UTC) }
	run := func(arn string, created, ended int) Run {
		r := Run{TaskARN: arn, Created: at(created)}
		if ended >= 0 {
			r.Ended = at(ended)
		}
		return r
	}
	tests := map[string]struct {
		runs []Run
		want []Overlap
	}{
		"runs one after the other do not overlap":         {runs: []Run{run("a", 0, 10), run("b", 10, 20)}},
		"a run starting before another ended overlaps":    {runs: []Run{run("a", 0, 10), run("b", 5, 20)}, want: []Overlap{{At: at(5), Tasks: []string{"a", "b"}}}},
		"a run that never ended overlaps every later one": {runs: []Run{run("a", 0, -1), run("b", 30, 40), run("c", 50, 60)}, want: []Overlap{{At: at(30), Tasks: []string{"a", "b"}}, {At: at(50), Tasks: []string{"a", "c"}}}},
		"runs started in the same instant overlap":        {runs: []Run{run("a", 0, 10), run("b", 0, 10)}, want: []Overlap{{At: at(0), Tasks: []string{"a", "b"}}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Overlaps(tc.runs, Active), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("overlaps (-want +got):\n%s", diff)
			}
		})
	}
}
