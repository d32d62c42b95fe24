package delivery

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestRestore(t *testing.T) {
	tests := map[string]struct {
		before []Record
		want   time.Duration
		wantOK bool
	}{
		"no rollback since the last success": {
			before: []Record{{Succeeded, at(0), at(5)}, {RolledBack, at(-20), at(-10)}},
		},
		"one rollback: from its end": {
			before: []Record{{Succeeded, at(0), at(5)}, {RolledBack, at(10), at(15)}},
			want:   45 * time.Minute, wantOK: true,
		},
		"two rollbacks in a row: from the first one's end": {
			before: []Record{{RolledBack, at(20), at(25)}, {Succeeded, at(0), at(5)}, {RolledBack, at(10), at(15)}},
			want:   45 * time.Minute, wantOK: true,
		},
		"a stopped deployment neither restores nor breaks the streak": {
			before: []Record{{Succeeded, at(0), at(5)}, {RolledBack, at(10), at(15)}, {"", at(30), at(31)}},
			want:   45 * time.Minute, wantOK: true,
		},
		"records of later deployments are not looked at": {
			before: []Record{{Succeeded, at(0), at(5)}, {RolledBack, at(10), at(15)}, {Succeeded, at(40), at(50)}},
			want:   45 * time.Minute, wantOK: true,
		},
		"no record at all": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Restore(tc.before, at(40), at(60))
			if diff := cmp.Diff([]any{tc.want, tc.wantOK}, []any{got, ok}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompute(t *testing.T) {
	history := []Deployment{
		{Revision: "web:2", Verdict: Succeeded, PushedAt: at(-3), CreatedAt: at(0), FinishedAt: at(2)}, // before the window
		{Revision: "web:3", Verdict: RolledBack, PushedAt: at(9), CreatedAt: at(10), FinishedAt: at(15)},
		{Revision: "web:4", Verdict: Failed, PushedAt: at(19), CreatedAt: at(20), FinishedAt: at(25)},
		{Revision: "web:5", Verdict: Succeeded, PushedAt: at(29), CreatedAt: at(30), FinishedAt: at(35)},
		{Revision: "web:5", Trigger: "rollback", Verdict: Succeeded, PushedAt: at(29), CreatedAt: at(40), FinishedAt: at(42)},
		{Revision: "web:6", CreatedAt: at(50)}, // in progress
	}
	got := Compute("web", history, nil, at(5), at(60))
	want := Figures{Binding: "web", Deployments: 4, Failures: 2, Rollbacks: 1,
		LeadTimes: []time.Duration{6 * time.Minute}, Restores: []time.Duration{20 * time.Minute}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEMFRoundTrip(t *testing.T) {
	points := []Point{
		{Binding: "web", Verdict: Succeeded, At: at(35), LeadTime: 6 * time.Minute, HasLeadTime: true, Restore: 20 * time.Minute, HasRestore: true},
		{Binding: "api", Verdict: RolledBack, At: at(15)},
	}
	var b bytes.Buffer
	b.WriteString("time=… level=INFO msg=\"deployment verdict\"\n") // a log line among them
	for _, p := range points {
		if err := WriteEMF(&b, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ParseEMF(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(points, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !bytes.Contains(b.Bytes(), []byte(`"CloudWatchMetrics":[{"Namespace":"Deckhand/Delivery","Dimensions":[["Binding"]],"Metrics":[{"Name":"Deployments","Unit":"Count"},{"Name":"Failures","Unit":"Count"},{"Name":"Rollbacks","Unit":"Count"}]}]`)) {
		t.Errorf("the rolled-back line's directive names the three counts only:\n%s", b.String())
	}
}
