package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"
)

// TestReport deploys web twice and reads deckhand report: two deployments,
// no failure, and each lead time from its push to ECS's completion of its
// service deployment (read back from ECS's records); bad windows and
// bindings are refused.
func TestReport(t *testing.T) {
	w := seed(t)
	var pushed []time.Time
	for _, tag := range []string{"1.1.0", "1.2.0"} {
		w.sb.Clock().Advance(5 * time.Minute)
		pushed = append(pushed, w.sb.Clock().Now())
		w.push("web", tag)
		mustRun(t, w, "deploy", "web", "--image", "web:"+tag, "--wait")
	}
	recs, err := w.ecs.ListServiceDeployments(context.Background(), &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("web")})
	if err != nil || len(recs.ServiceDeployments) < 2 {
		t.Fatalf("web's service deployment records: %v, %v", recs, err)
	}
	var want []int64
	for i, rec := range slices.Backward(recs.ServiceDeployments[:2]) { // oldest first
		want = append(want, aws.ToTime(rec.FinishedAt).Sub(pushed[1-i]).Milliseconds())
	}
	slices.Reverse(want)
	r := deckhand(t, w.args("report", "web", "--since", "1d", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	var rep struct {
		Bindings []struct {
			Binding                          string
			Deployments, Failures, Rollbacks int
			LeadTimesMS                      []int64 `json:"leadTimesMs"`
			RestoresMS                       []int64 `json:"timesToRestoreMs"`
		}
		Fleet struct{ Deployments int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report -o json: %v\n%s", err, r.stdout)
	}
	if len(rep.Bindings) != 1 {
		t.Fatalf("report of web: %+v", rep)
	}
	b := rep.Bindings[0]
	got := []any{b.Binding, b.Deployments, b.Failures, b.Rollbacks, b.LeadTimesMS, b.RestoresMS, rep.Fleet.Deployments}
	if diff := cmp.Diff([]any{"web", 2, 0, 0, want, []int64{}, 2}, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	text := deckhand(t, w.args("report")...)
	for _, s := range []string{"BINDING", "web ", "fleet", "(median of 2)"} {
		if !strings.Contains(text.stdout, s) {
			t.Errorf("report's text lacks %q:\n%s", s, text.stdout)
		}
	}
	if r := deckhand(t, w.args("report", "--since", "0d")...); r.code != 2 {
		t.Errorf("report --since 0d: exit %d, want 2", r.code)
	}
	if r := deckhand(t, w.args("report", "wbe")...); r.code != 3 {
		t.Errorf("report of an unknown binding: exit %d, want 3", r.code)
	}
}
