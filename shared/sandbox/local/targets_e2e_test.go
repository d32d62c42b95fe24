package local

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// The targets of testdata/targets.yaml.
const (
	euAccount, euRegion = "210987654321", "eu-central-1"
	usAccount, usRegion = "310987654321", "us-east-1"
	euRole              = "arn:aws:iam::210987654321:role/deckhand-target"
)

// newTargetStack seeds testdata/targets.yaml: web in the hub and in two
// target accounts and Regions, each on its first images.
func newTargetStack(t *testing.T) *Stack {
	t.Helper()
	raw, err := os.ReadFile("testdata/targets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.Start(t)
	st, err := New(context.Background(), sb, Options{Dir: "../../../examples", Manifest: raw, InitialTags: ExampleTags})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return st
}

// verdicts are the deployment events of the web bindings, by binding.
func webStatuses(ds []Deployment) map[string][]events.DeploymentStatus {
	out := statusesByBinding(ds)
	delete(out, "worker")
	return out
}

// TestAPushToTheCentralRegistryDeploysIntoEveryTarget is issue 14's
// acceptance: one push to the hub's ECR deploys the web service in the
// hub and in two target accounts and Regions, through each target's role
// with the external id and session tags naming the binding; the targets'
// deployment events come back to the hub's tracker through forwarding and
// are judged against the right account's ECS.
func TestAPushToTheCentralRegistryDeploysIntoEveryTarget(t *testing.T) {
	st := newTargetStack(t)
	digest := st.SB.PushImage("web", "1.1.0")
	st.mustSettle(t)

	want := map[string][]events.DeploymentStatus{
		"web":    {events.StatusStarted, events.StatusSucceeded},
		"web-eu": {events.StatusStarted, events.StatusSucceeded},
		"web-us": {events.StatusStarted, events.StatusSucceeded},
	}
	ds := st.Deployments()
	if diff := cmp.Diff(want, webStatuses(ds)); diff != "" {
		t.Fatalf("deployment events (-want +got):\n%s", diff)
	}
	for _, b := range []string{"web", "web-eu", "web-us"} {
		if got := st.image(t, b, "web"); !strings.HasSuffix(got, "/web@"+digest) || !strings.HasPrefix(got, "123456789012.dkr.ecr.us-west-2.") {
			t.Errorf("%s runs %s, want the pushed digest from the hub's registry", b, got)
		}
	}
	// Each account's ECS deployed its own service once: no client was
	// shared between accounts (the three services have one cluster and
	// service name).
	for _, where := range []struct{ account, region string }{{"", ""}, {euAccount, euRegion}, {usAccount, usRegion}} {
		ecsIn := st.SB.ECSIn(where.account, where.region)
		if n := len(ecsIn.UpdateHistory()); n != 1 {
			t.Errorf("account %q %q: %d UpdateService calls, want 1", where.account, where.region, n)
		}
		if n := len(ecsIn.TaskDefinitions("web")); n != 2 {
			t.Errorf("account %q %q: family web has %d revisions, want 2 (seed and the push)", where.account, where.region, n)
		}
	}
	// The target's revision is rendered for the target: its roles and
	// Region are the target's, and it carries the push's pushed-at mark.
	rev, _, err := st.Running("web-eu")
	if err != nil {
		t.Fatal(err)
	}
	td := st.SB.ECSIn(euAccount, euRegion).TaskDefinitions("web")
	var found bool
	for _, r := range td {
		if r.ARN == rev {
			found = true
			if !strings.Contains(r.ARN, ":"+euRegion+":"+euAccount+":") || r.Tags[revision.TagBinding] != "web-eu" || r.Tags[revision.TagPushedAt+"web"] == "" {
				t.Errorf("web-eu's revision %s has tags %v", r.ARN, r.Tags)
			}
		}
	}
	if !found {
		t.Errorf("web-eu's running revision %s is not in the eu account", rev)
	}
	// One session per target binding, with the external id and tags.
	var got []string
	for _, s := range st.SB.Sessions() {
		got = append(got, s.RoleARN+" "+s.SessionName+" "+s.ExternalID+" "+s.Tags["deckhand:binding"]+"@"+s.Tags["deckhand:target"])
	}
	slices.Sort(got)
	wantSessions := []string{
		euRole + " deckhand-web-eu " + ExternalID(st.SB) + " web-eu@prod-eu",
		"arn:aws:iam::310987654321:role/deckhand-target deckhand-web-us " + ExternalID(st.SB) + " web-us@prod-us",
	}
	if diff := cmp.Diff(wantSessions, slices.Compact(got)); diff != "" {
		t.Errorf("STS sessions (-want +got):\n%s", diff)
	}
	// The targets' events reached the hub's bus with their own account.
	forwarded := map[string]bool{}
	for _, ev := range st.SB.Events() {
		if ev.DetailType == events.DetailTypeDeploymentStateChange {
			forwarded[ev.Account+" "+ev.Region] = true
		}
	}
	for _, k := range []string{euAccount + " " + euRegion, usAccount + " " + usRegion} {
		if !forwarded[k] {
			t.Errorf("no deployment state change of %s reached the hub's bus", k)
		}
	}
}

// TestACircuitBreakerRollbackInATargetIsRolledBack: a broken image rolls
// back in every account; the tracker judges each target's rollback against
// that target's ECS, writes the rolled-back mark on the target's service,
// and a redelivered push is skipped there.
func TestACircuitBreakerRollbackInATargetIsRolledBack(t *testing.T) {
	st := newTargetStack(t)
	before, _, _ := st.Running("web-us")
	bad := st.SB.PushImage("web", "1.3.0")
	for _, where := range [][2]string{{"", ""}, {euAccount, euRegion}, {usAccount, usRegion}} {
		st.SB.ECSIn(where[0], where[1]).SetImageHealth(bad, false)
	}
	st.mustSettle(t)
	want := map[string][]events.DeploymentStatus{
		"web":    {events.StatusStarted, events.StatusRolledBack},
		"web-eu": {events.StatusStarted, events.StatusRolledBack},
		"web-us": {events.StatusStarted, events.StatusRolledBack},
	}
	if diff := cmp.Diff(want, webStatuses(st.Deployments())); diff != "" {
		t.Fatalf("deployment events (-want +got):\n%s", diff)
	}
	if after, _, _ := st.Running("web-us"); after != before {
		t.Errorf("web-us runs %s after the rollback, want %s", after, before)
	}
	svc, _ := st.SB.ECSIn(usAccount, usRegion).Service("prod", "web")
	if svc.Tags[revision.TagRolledBack+"web"] != bad {
		t.Errorf("the us service's tags %v lack the rolled-back mark for %s", svc.Tags, bad)
	}
	// EventBridge delivers the push again: the targets skip it on their
	// own service's mark, and nothing is deployed again anywhere.
	n := len(st.Deployments())
	for _, ev := range st.SB.Events() {
		if ev.Source == events.SourceECR {
			ev.ID += "-again"
			raw, _ := jsonMarshal(ev)
			if err := st.Router.Deliver(raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.mustSettle(t)
	want = map[string][]events.DeploymentStatus{"web": {events.StatusSkipped}, "web-eu": {events.StatusSkipped}, "web-us": {events.StatusSkipped}}
	if diff := cmp.Diff(want, webStatuses(st.Deployments()[n:])); diff != "" {
		t.Errorf("redelivered broken push (-want +got):\n%s", diff)
	}
}

// TestADeniedAssumeRoleFailsCleanly: a target role that no longer trusts
// the hub with its external id fails its binding once, FAILED naming the
// role, and the push goes to the DLQ at once: no retry loop, and the other
// targets deploy.
func TestADeniedAssumeRoleFailsCleanly(t *testing.T) {
	st := newTargetStack(t)
	if err := st.SB.PutRole(sandbox.RoleSpec{ARN: euRole, TrustAccounts: []string{st.SB.Account()}, ExternalID: "someone-else", TagSession: true}); err != nil {
		t.Fatal(err)
	}
	st.SB.PushImage("web", "1.1.0")
	stats, err := st.Pump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Messages != 1 || stats.ItemFailures != 0 || stats.Deleted != 1 {
		t.Errorf("pump = %+v, want the message received once and acknowledged (dead-lettered)", stats)
	}
	st.mustSettle(t)
	st.SB.Clock().Advance(time.Hour)
	st.mustSettle(t)
	want := map[string][]events.DeploymentStatus{
		"web":    {events.StatusStarted, events.StatusSucceeded},
		"web-eu": {events.StatusFailed},
		"web-us": {events.StatusStarted, events.StatusSucceeded},
	}
	ds := st.Deployments()
	if diff := cmp.Diff(want, webStatuses(ds)); diff != "" {
		t.Fatalf("deployment events (-want +got):\n%s", diff)
	}
	for _, d := range ds {
		if d.Binding == "web-eu" && (!strings.Contains(d.Reason, euRole) || !strings.Contains(d.Reason, "AccessDenied")) {
			t.Errorf("FAILED reason %q does not name the role and the refusal", d.Reason)
		}
	}
	if dlq := st.Router.DLQ(); len(dlq) != 1 {
		t.Errorf("DLQ holds %d messages, want the push", len(dlq))
	}
	if n := st.SB.CountCalls("sts", "AssumeRole"); n > 3 {
		t.Errorf("%d AssumeRole calls: a refused role is not retried in a loop", n)
	}
	if n := len(st.SB.ECSIn(euAccount, euRegion).UpdateHistory()); n != 0 {
		t.Errorf("the refused target's service was updated %d times", n)
	}
}

// TestAJobRunsInItsTarget: a job with a target: registers its revision and
// starts its task in the target's account and Region, and the task's
// events come back through forwarding to the tracker, which judges its
// exit code against the target's ECS.
func TestAJobRunsInItsTarget(t *testing.T) {
	st := newTargetStack(t)
	ctx := context.Background()
	report := ""
	for _, img := range []string{"report"} {
		report = st.SB.PushImageSilently(img, "1.1.0")
	}
	eu := st.SB.ECSIn(euAccount, euRegion)
	eu.ScriptImage(report, ecssim.TaskScript{RunFor: 45 * time.Second, ExitCode: 0})
	if err := st.Router.Schedule("report-eu", st.SB.Clock().Now().Truncate(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.Settle(ctx, 3*time.Minute, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	var got []events.JobStatus
	for _, ev := range st.SB.Events() {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandJob {
			continue
		}
		var j events.JobStateChange
		if err := jsonUnmarshal(ev.Detail, &j); err != nil {
			t.Fatal(err)
		}
		got = append(got, j.Status)
	}
	if diff := cmp.Diff([]events.JobStatus{events.JobStarted, events.JobSucceeded}, got); diff != "" {
		t.Errorf("job events (-want +got):\n%s", diff)
	}
	var ran []string
	for _, task := range eu.Tasks() {
		ran = append(ran, task.ARN)
	}
	if len(ran) != 1 || !strings.Contains(ran[0], ":"+euRegion+":"+euAccount+":task/prod/") {
		t.Errorf("tasks in the eu account: %v, want the job's one", ran)
	}
	if n := len(st.SB.ECS().Tasks()); n != 0 {
		t.Errorf("%d tasks started in the hub's own account", n)
	}
}

// TestTheReconcilerCatchesUpTargets: a push whose event was lost is found
// behind in every account by the reconciler, which reads each target's
// service with that binding's session; its synthetic push deploys there.
func TestTheReconcilerCatchesUpTargets(t *testing.T) {
	st := newTargetStack(t)
	ctx := context.Background()
	digest := st.SB.PushImageSilently("web", "1.2.0")
	rep, err := st.Reconciler.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"web": {"web"}, "web-eu": {"web"}, "web-us": {"web"}}
	if diff := cmp.Diff(want, rep.Behind); diff != "" {
		t.Errorf("bindings behind (-want +got):\n%s", diff)
	}
	st.mustSettle(t)
	for _, b := range []string{"web", "web-eu", "web-us"} {
		if got := st.image(t, b, "web"); !strings.HasSuffix(got, "/web@"+digest) {
			t.Errorf("%s runs %s after the reconciler's push, want %s", b, got, digest)
		}
	}
}
