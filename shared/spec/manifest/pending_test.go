package manifest

import (
	"errors"
	"testing"
)

// TestPendingSchedule: a job's empty schedule (what `deckhand init` leaves)
// is a problem that names the field, and the only kind (OnlyPending) after
// which offline commands may use the manifest Parse returns with the error.
func TestPendingSchedule(t *testing.T) {
	const job = "version: 1\njobs:\n  - name: report\n    schedule: \"\"\n    cluster: prod\n    template: t.json\n"
	cases := map[string]struct {
		src         string
		onlyPending bool
	}{
		"an empty schedule alone is pending":           {job, true},
		"an empty schedule and another problem is not": {job + "    overlap: sometimes\n", false},
	}
	for name, tc := range cases {
		m, err := Parse("deckhand.yaml", []byte(tc.src))
		var merr *Error
		if !errors.As(err, &merr) {
			t.Fatalf("%s: Parse = %v, want a manifest error", name, err)
		}
		if got := merr.OnlyPending(); got != tc.onlyPending {
			t.Errorf("%s: OnlyPending = %v, want %v (%v)", name, got, tc.onlyPending, err)
		}
		if p := merr.Problems[0]; p.Field != "jobs[0].schedule" || p.Line != 4 || p.Msg != ScheduleMissing || !p.Pending {
			t.Errorf("%s: first problem %+v", name, p)
		}
		if _, ok := m.Job("report"); !ok {
			t.Errorf("%s: the manifest returned with the error has no job report", name)
		}
	}
}
