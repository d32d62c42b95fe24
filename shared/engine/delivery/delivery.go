// Package delivery defines Deckhand's delivery metrics (DESIGN §13, issue 15
// item 4) once, for the three places that compute them: the tracker, which
// prints one embedded-metric-format line per verdict (EMF, emf.go), and
// `deckhand report` and the console, which compute the same figures after
// the fact from ECS revision tags and ECS's service-deployment records.
//
// The metrics, per binding:
//
//   - Deployments: deployments that reached a verdict (SUCCEEDED, FAILED or
//     ROLLED_BACK).
//   - Failures: those that FAILED or were ROLLED_BACK (so the average of the
//     Failures metric is the change failure rate), and Rollbacks: those
//     ROLLED_BACK.
//   - LeadTime: push → SUCCEEDED, from the newest deckhand:pushed-at tag of
//     the revision to the verdict; not for a `deckhand rollback` (its images
//     were pushed long ago).
//   - TimeToRestore: rollback → next SUCCEEDED. Deckhand keeps no database,
//     so it is read from ECS's service-deployment records, which ECS keeps
//     per service: a SUCCEEDED deployment restores the service when the
//     records before it, back to the previous successful one, hold a
//     rolled-back deployment; the time runs from the first such rollback's
//     end (its finishedAt: when the service ran the previous revision again)
//     to the verdict. Deployments stopped because a newer one started
//     neither restore nor break the streak.
package delivery

import (
	"slices"
	"time"
)

// Verdicts, as Deckhand's events name them.
const (
	Succeeded  = "SUCCEEDED"
	Failed     = "FAILED"
	RolledBack = "ROLLED_BACK"
)

// Record is one deployment of a service as ECS's service-deployment
// records keep it, reduced to what the metrics need.
type Record struct {
	// Verdict is Succeeded, RolledBack, Failed, or "" for a deployment
	// that is in progress or was stopped (superseded).
	Verdict    string
	CreatedAt  time.Time
	FinishedAt time.Time
}

// RecordVerdict maps a service deployment's status (ECS's
// ServiceDeploymentStatus) to a verdict: SUCCESSFUL is Succeeded,
// ROLLBACK_SUCCESSFUL and ROLLBACK_FAILED are RolledBack; anything else
// (in progress, stopped) has none.
func RecordVerdict(status string) string {
	switch status {
	case "SUCCESSFUL":
		return Succeeded
	case "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED":
		return RolledBack
	}
	return ""
}

// Restore is the time to restore of a deployment that SUCCEEDED at at,
// given the service's records of the deployments created before it (in
// any order; the deployment itself, and any created at or after its own
// creation, excluded by the caller or by created): at minus the end of the
// first rollback since the previous successful deployment. False when the
// service was not rolled back since.
func Restore(before []Record, created, at time.Time) (time.Duration, bool) {
	recs := slices.Clone(before)
	slices.SortStableFunc(recs, func(a, b Record) int { return b.CreatedAt.Compare(a.CreatedAt) }) // newest first
	var first time.Time
	for _, r := range recs {
		if !created.IsZero() && !r.CreatedAt.Before(created) {
			continue
		}
		if r.Verdict == Succeeded {
			break
		}
		if r.Verdict == RolledBack && !r.FinishedAt.IsZero() {
			first = r.FinishedAt
		}
	}
	if first.IsZero() || at.Before(first) {
		return 0, false
	}
	return at.Sub(first), true
}

// LeadTime is push → verdict for a deployment that SUCCEEDED; false when
// the push time is unknown or the deployment is a `deckhand rollback`.
func LeadTime(pushedAt, at time.Time, trigger string) (time.Duration, bool) {
	if pushedAt.IsZero() || trigger == "rollback" || at.Before(pushedAt) {
		return 0, false
	}
	return at.Sub(pushedAt), true
}

// Deployment is one of a binding's deployments with its verdict, as report
// and the console assemble it.
type Deployment struct {
	Revision string    `json:"revision"`
	Trigger  string    `json:"trigger,omitempty"`
	Verdict  string    `json:"verdict"`
	PushedAt time.Time `json:"pushedAt,omitzero"`
	// CreatedAt is when ECS started the deployment, FinishedAt when it
	// reached its verdict.
	CreatedAt  time.Time `json:"createdAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

// Figures are a binding's delivery metrics over a window.
type Figures struct {
	Binding     string
	Deployments int
	Failures    int
	Rollbacks   int
	// LeadTimes and Restores are one per SUCCEEDED deployment that has
	// one, in the history's order.
	LeadTimes []time.Duration
	Restores  []time.Duration
}

// Compute gives the figures of the deployments that finished in [since,
// until], each computed as the tracker computes it when it judges one.
// records are the service's service-deployment records the restores are
// measured from (nil: history's own); both may reach back before since, so
// a restore that began before the window is measured whole.
func Compute(binding string, history []Deployment, records []Record, since, until time.Time) Figures {
	f := Figures{Binding: binding, LeadTimes: []time.Duration{}, Restores: []time.Duration{}}
	if records == nil {
		for _, d := range history {
			records = append(records, Record{Verdict: d.Verdict, CreatedAt: d.CreatedAt, FinishedAt: d.FinishedAt})
		}
	}
	for _, d := range history {
		if d.Verdict == "" || d.FinishedAt.Before(since) || d.FinishedAt.After(until) {
			continue
		}
		f.Deployments++
		switch d.Verdict {
		case Succeeded:
			if lt, ok := LeadTime(d.PushedAt, d.FinishedAt, d.Trigger); ok {
				f.LeadTimes = append(f.LeadTimes, lt)
			}
			if r, ok := Restore(records, d.CreatedAt, d.FinishedAt); ok {
				f.Restores = append(f.Restores, r)
			}
		case RolledBack:
			f.Failures++
			f.Rollbacks++
		default:
			f.Failures++
		}
	}
	return f
}

// Median is the median of ds, false when there is none.
func Median(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2, true
	}
	return s[len(s)/2], true
}
