package local

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/cli/console"
	"github.com/deckhand-ecs/deckhand/shared/engine/delivery"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestTrackerPrintsDeliveryMetrics reads the EMF lines the tracker prints
// while web is deployed, rolled back by the circuit breaker and fixed:
// three verdicts, one failure and rollback, lead times from each push to
// ECS's completion of its deployment, and a time to restore from the
// rollback's end to the fix's completion, the times read back from ECS's
// service-deployment records. deckhand report computes the same figures
// from ECS afterwards.
func TestTrackerPrintsDeliveryMetrics(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.Start(t)
	var out bytes.Buffer
	st, err := New(ctx, sb, Options{Dir: "../../../examples", InitialTags: ExampleTags, Metrics: &out})
	if err != nil {
		t.Fatal(err)
	}
	start := sb.Clock().Now()
	var pushed []time.Time
	push := func(tag string, healthy bool) {
		st.SB.Clock().Advance(3 * time.Minute)
		pushed = append(pushed, sb.Clock().Now())
		d := st.SB.PushImage("web", tag)
		if !healthy {
			st.SB.ECS().SetImageHealth(d, false)
		}
		st.mustSettle(t)
	}
	push("1.1.0", true)
	push("1.2.0", false)
	push("1.3.0", true)

	points, err := delivery.ParseEMF(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// ECS's records of web's deployments, newest first: the fix, the
	// rolled-back one, the first push's (and the seed's, not Deckhand's).
	recs, err := st.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.ServiceDeployments) < 3 {
		t.Fatalf("%d service deployment records of web, want at least 3", len(recs.ServiceDeployments))
	}
	fix, bad, first := recs.ServiceDeployments[0], recs.ServiceDeployments[1], recs.ServiceDeployments[2]
	if diff := cmp.Diff([]string{"SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "SUCCESSFUL"}, []string{string(fix.Status), string(bad.Status), string(first.Status)}); diff != "" {
		t.Fatalf("web's records (-want +got):\n%s", diff)
	}
	firstAt, badAt, fixAt := aws.ToTime(first.FinishedAt), aws.ToTime(bad.FinishedAt), aws.ToTime(fix.FinishedAt)
	// The ROLLED_BACK verdict is ECS's failure of the deployment, when its
	// rollback started.
	badRec, err := st.ECS.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(bad.ServiceDeploymentArn)}})
	if err != nil || len(badRec.ServiceDeployments) != 1 || badRec.ServiceDeployments[0].Rollback == nil {
		t.Fatalf("describe the rolled-back deployment: %v, %+v", err, badRec)
	}
	failedAt := aws.ToTime(badRec.ServiceDeployments[0].Rollback.StartedAt)
	want := []delivery.Point{
		{Binding: "web", Verdict: "SUCCEEDED", At: firstAt, LeadTime: firstAt.Sub(pushed[0]), HasLeadTime: true},
		{Binding: "web", Verdict: "ROLLED_BACK", At: failedAt},
		{Binding: "web", Verdict: "SUCCEEDED", At: fixAt, LeadTime: fixAt.Sub(pushed[2]), HasLeadTime: true,
			Restore: fixAt.Sub(badAt), HasRestore: true},
	}
	if diff := cmp.Diff(want, points); diff != "" {
		t.Errorf("EMF points (-want +got):\n%s", diff)
	}
	for _, p := range points {
		if p.HasLeadTime && p.LeadTime <= 0 || p.HasRestore && p.Restore <= 0 {
			t.Errorf("a point with a duration that is not positive: %+v", p)
		}
	}

	// deckhand report, from ECS afterwards: the same figures.
	cfg := sb.AWSConfig()
	env := &cli.Env{ECS: ecs.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg), Account: sb.Account(), Region: sb.Region(),
		Source: store.Dir{ManifestPath: "../../../examples/deckhand.yaml"}}
	rep, err := env.Report(ctx, cli.ReportRequest{Bindings: []string{"web"}, Since: start, Until: sb.Clock().Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	rate := 1.0 / 3
	wantRep := cli.BindingReport{Binding: "web", Deployments: 3, Failures: 1, Rollbacks: 1, ChangeFailureRate: &rate,
		LeadTimesMS: []int64{want[0].LeadTime.Milliseconds(), want[2].LeadTime.Milliseconds()},
		RestoresMS:  []int64{want[2].Restore.Milliseconds()},
		LeadTimeMS:  aws.Int64((want[0].LeadTime + want[2].LeadTime).Milliseconds() / 2), TimeToRestoreMS: aws.Int64(want[2].Restore.Milliseconds())}
	if diff := cmp.Diff([]cli.BindingReport{wantRep}, rep.Bindings); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}

	// The console's Delivery view: the same computation.
	m, err := env.Source.Manifest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	view, err := (&console.DerivedMetrics{Env: env}).Delivery(ctx, m, start, sb.Clock().Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	type figures struct {
		Deployments, Failed int
		LeadTimes, Restores []time.Duration
	}
	found := false
	for _, b := range view.Bindings {
		if b.Binding != "web" {
			continue
		}
		found = true
		got := figures{b.Deployments, b.Failed, b.LeadTimes, b.Restores}
		wantView := figures{3, 1, []time.Duration{want[0].LeadTime, want[2].LeadTime}, []time.Duration{want[2].Restore}}
		if diff := cmp.Diff(wantView, got); diff != "" {
			t.Errorf("console's delivery metrics of web (-want +got):\n%s", diff)
		}
		if n := slices.Max(b.PerDay); n != 3 || slices.Max(b.FailedPerDay) != 1 {
			t.Errorf("console's per-day counts %v, failed %v; want the day's 3 and 1", b.PerDay, b.FailedPerDay)
		}
	}
	if !found {
		t.Errorf("the console's delivery view has no binding web: %+v", view.Bindings)
	}
}
