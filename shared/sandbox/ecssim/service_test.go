package ecssim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/google/go-cmp/cmp"
)

const svcARN = "arn:aws:ecs:us-west-2:123456789012:service/prod/web"

// createWeb registers web:1 and creates service prod/web with the given
// circuit breaker, then lets its first deployment complete.
func createWeb(t *testing.T, f *fixture, desired int, enable, rollback bool) {
	t.Helper()
	f.register(t, "web", "repo/web@sha256:good")
	f.call(t, "CreateService", fmt.Sprintf(`{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":%d,
		"launchType":"FARGATE",`+network+`,
		"deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":%t,"rollback":%t}}}`, desired, enable, rollback), nil)
	f.clock.Advance(time.Minute)
}

type describedDeployment struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	TaskDefinition string `json:"taskDefinition"`
	DesiredCount   int32  `json:"desiredCount"`
	RunningCount   int32  `json:"runningCount"`
	FailedTasks    int32  `json:"failedTasks"`
	RolloutState   string `json:"rolloutState"`
}

type describedService struct {
	TaskDefinition string                `json:"taskDefinition"`
	DesiredCount   int32                 `json:"desiredCount"`
	RunningCount   int32                 `json:"runningCount"`
	Deployments    []describedDeployment `json:"deployments"`
	Events         []struct {
		Message string `json:"message"`
	} `json:"events"`
}

func (f *fixture) describeWeb(t *testing.T) describedService {
	t.Helper()
	var out struct {
		Services []describedService `json:"services"`
	}
	f.call(t, "DescribeServices", `{"cluster":"prod","services":["web"]}`, &out)
	if len(out.Services) != 1 {
		t.Fatalf("DescribeServices web: %d services", len(out.Services))
	}
	return out.Services[0]
}

func td(s string) string { return "arn:aws:ecs:us-west-2:123456789012:task-definition/" + s }

func TestRolloutCompletesOnTheClock(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	first := f.describeWeb(t).Deployments[0].ID
	f.register(t, "web", "repo/web@sha256:next")

	var upd struct {
		Service describedService `json:"service"`
	}
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, &upd)
	second := upd.Service.Deployments[0].ID
	want := []describedDeployment{
		{ID: second, Status: "PRIMARY", TaskDefinition: td("web:2"), DesiredCount: 2, RolloutState: "IN_PROGRESS"},
		{ID: first, Status: "ACTIVE", TaskDefinition: td("web:1"), DesiredCount: 2, RunningCount: 2, RolloutState: "COMPLETED"},
	}
	if diff := cmp.Diff(want, upd.Service.Deployments); diff != "" {
		t.Errorf("after UpdateService (-want +got):\n%s", diff)
	}
	if upd.Service.TaskDefinition != td("web:2") {
		t.Errorf("service taskDefinition %s, want web:2", upd.Service.TaskDefinition)
	}

	f.clock.Advance(10 * time.Second)
	if got := f.describeWeb(t); got.RunningCount != 4 || got.Deployments[0].RunningCount != 2 {
		t.Errorf("after 10s: service running %d, primary running %d; want 4 and 2", got.RunningCount, got.Deployments[0].RunningCount)
	}
	f.clock.Advance(30 * time.Second)
	got := f.describeWeb(t)
	want = []describedDeployment{{ID: second, Status: "PRIMARY", TaskDefinition: td("web:2"), DesiredCount: 2, RunningCount: 2, RolloutState: "COMPLETED"}}
	if diff := cmp.Diff(want, got.Deployments); diff != "" {
		t.Errorf("after 40s (-want +got):\n%s", diff)
	}
	if got.RunningCount != 2 || !strings.HasSuffix(got.Events[0].Message, "has reached a steady state.") {
		t.Errorf("after 40s: running %d, newest event %q", got.RunningCount, got.Events[0].Message)
	}
	if snap, _ := f.ecs.Service("prod", "web"); snap.Deployments[1].Status != "INACTIVE" {
		t.Errorf("old deployment status %s, want INACTIVE", snap.Deployments[1].Status)
	}

	wantEvents := []events.ECSDeploymentStateChange{
		{EventType: "INFO", EventName: events.DeploymentInProgress, DeploymentID: first, UpdatedAt: t0, Reason: "ECS deployment " + first + " in progress."},
		{EventType: "INFO", EventName: events.DeploymentCompleted, DeploymentID: first, UpdatedAt: t0.Add(40 * time.Second), Reason: "ECS deployment " + first + " completed."},
		{EventType: "INFO", EventName: events.DeploymentInProgress, DeploymentID: second, UpdatedAt: t0.Add(time.Minute), Reason: "ECS deployment " + second + " in progress."},
		{EventType: "INFO", EventName: events.DeploymentCompleted, DeploymentID: second, UpdatedAt: t0.Add(100 * time.Second), Reason: "ECS deployment " + second + " completed."},
	}
	if diff := cmp.Diff(wantEvents, f.rec.deployments()); diff != "" {
		t.Errorf("deployment events (-want +got):\n%s", diff)
	}
	for _, ev := range f.rec.all() {
		want := []string{svcARN}
		if d, ok := ev.Detail.(events.ECSTaskStateChange); ok {
			want = []string{d.TaskARN} // the service's tasks
		}
		if diff := cmp.Diff(want, ev.Resources); diff != "" {
			t.Errorf("event %s resources (-want +got):\n%s", ev.DetailType, diff)
		}
	}
	wantHistory := []UpdateRecord{{Time: t0.Add(time.Minute), Cluster: "prod", Service: "web", TaskDefinition: td("web:2"), DeploymentID: second, From: td("web:1")}}
	if diff := cmp.Diff(wantHistory, f.ecs.UpdateHistory()); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestUpdateServiceWithoutChangeStartsNoDeployment(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 1, false, false)
	before := len(f.rec.all())
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:1"}`, nil)
	f.call(t, "UpdateService", `{"cluster":"arn:aws:ecs:us-west-2:123456789012:cluster/prod","service":"`+svcARN+`","deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}}`, nil)
	if got := f.describeWeb(t); len(got.Deployments) != 1 || len(f.rec.all()) != before || len(f.ecs.UpdateHistory()) != 0 {
		t.Errorf("no-op updates: %d deployments, %d new events, %d history", len(got.Deployments), len(f.rec.all())-before, len(f.ecs.UpdateHistory()))
	}

	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","forceNewDeployment":true}`, nil)
	got := f.describeWeb(t)
	if len(got.Deployments) != 2 || got.Deployments[0].TaskDefinition != td("web:1") || len(f.ecs.UpdateHistory()) != 0 {
		t.Errorf("forceNewDeployment: deployments %+v, history %d", got.Deployments, len(f.ecs.UpdateHistory()))
	}

	f.clock.Advance(time.Minute)
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","desiredCount":3}`, nil)
	f.clock.Advance(10 * time.Second)
	if got := f.describeWeb(t); got.RunningCount != 3 || len(got.Deployments) != 1 || got.DesiredCount != 3 {
		t.Errorf("scale to 3: running %d, deployments %d, desired %d", got.RunningCount, len(got.Deployments), got.DesiredCount)
	}
}

func TestCircuitBreakerRollsBack(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 1, true, true)
	first := f.describeWeb(t).Deployments[0].ID
	f.register(t, "web", "123456789012.dkr.ecr.us-west-2.amazonaws.com/web@sha256:bad")
	f.ecs.SetImageHealth("sha256:bad", false)
	start := f.clock.Now()
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
	failing := f.describeWeb(t).Deployments[0].ID

	f.clock.Advance(20 * time.Second)
	if got := f.describeWeb(t).Deployments[0]; got.FailedTasks != 2 || got.RunningCount != 0 || got.RolloutState != "IN_PROGRESS" {
		t.Errorf("after two attempts: %+v", got)
	}
	f.clock.Advance(5 * time.Minute) // one big step: the rest happens at its own times

	got := f.describeWeb(t)
	if len(got.Deployments) != 1 || got.TaskDefinition != td("web:1") || got.RunningCount != 1 || got.Deployments[0].RolloutState != "COMPLETED" {
		t.Fatalf("after rollback: %+v", got)
	}
	rollback := got.Deployments[0].ID
	failedAt := start.Add(30 * time.Second) // threshold 3 attempts, 10s apart
	wantEvents := []events.ECSDeploymentStateChange{
		{EventType: "INFO", EventName: events.DeploymentInProgress, DeploymentID: failing, UpdatedAt: start, Reason: "ECS deployment " + failing + " in progress."},
		{EventType: "ERROR", EventName: events.DeploymentFailed, DeploymentID: failing, UpdatedAt: failedAt, Reason: "ECS deployment circuit breaker: task failed to start."},
		{EventType: "INFO", EventName: events.DeploymentInProgress, DeploymentID: rollback, UpdatedAt: failedAt, Reason: "ECS deployment circuit breaker: rolling back to deploymentId " + first + "."},
		{EventType: "INFO", EventName: events.DeploymentCompleted, DeploymentID: rollback, UpdatedAt: failedAt.Add(40 * time.Second), Reason: "ECS deployment " + rollback + " completed."},
	}
	if diff := cmp.Diff(wantEvents, f.rec.deployments()[2:]); diff != "" {
		t.Errorf("rollback events (-want +got):\n%s", diff)
	}
	snap, _ := f.ecs.Service("prod", "web")
	var failedSnap DeploymentSnapshot
	for _, d := range snap.Deployments {
		if d.ID == failing {
			failedSnap = d
		}
	}
	if failedSnap.RolloutState != "FAILED" || failedSnap.FailedTasks != 3 || failedSnap.Status != "INACTIVE" {
		t.Errorf("failed deployment: %+v", failedSnap)
	}
	if len(f.ecs.UpdateHistory()) != 1 {
		t.Errorf("history has %d records, want only the UpdateService", len(f.ecs.UpdateHistory()))
	}
	// The next update records that it came from the revision ECS rolled
	// back to, not from the one the previous update deployed.
	f.register(t, "web", "123456789012.dkr.ecr.us-west-2.amazonaws.com/web@sha256:good")
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:3"}`, nil)
	if h := f.ecs.UpdateHistory(); len(h) != 2 || h[1].From != td("web:1") || h[1].TaskDefinition != td("web:3") {
		t.Errorf("history after the rollback: %+v", h)
	}
}

func TestCircuitBreakerWithoutRollbackAndWithoutBreaker(t *testing.T) {
	tests := map[string]struct {
		enable, rollback bool
		wantFailed       int32
		wantState        string
		wantDeployments  int
	}{
		"breaker without rollback fails and stops retrying": {enable: true, wantFailed: 3, wantState: "FAILED", wantDeployments: 2},
		"no breaker retries forever":                        {wantFailed: 60, wantState: "IN_PROGRESS", wantDeployments: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			createWeb(t, f, 1, tc.enable, tc.rollback)
			f.register(t, "web", "repo/web:broken")
			f.ecs.SetImageHealth("repo/web:broken", false)
			f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
			f.clock.Advance(10 * time.Minute)
			got := f.describeWeb(t)
			p := got.Deployments[0]
			if p.FailedTasks != tc.wantFailed || p.RolloutState != tc.wantState || len(got.Deployments) != tc.wantDeployments {
				t.Errorf("got failed %d state %s deployments %d, want %d %s %d", p.FailedTasks, p.RolloutState, len(got.Deployments), tc.wantFailed, tc.wantState, tc.wantDeployments)
			}
			if got.RunningCount != 1 || got.Deployments[1].TaskDefinition != td("web:1") {
				t.Errorf("the old deployment must keep serving: %+v", got)
			}
		})
	}
}

func TestFailedRollbackIsNotRolledBackAgain(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 1, true, true)
	f.register(t, "web", "repo/web@sha256:bad")
	f.ecs.SetImageHealth("sha256:bad", false)
	f.ecs.SetImageHealth("sha256:good", false) // the rollback target breaks too
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
	f.clock.Advance(10 * time.Minute)
	var names []string
	for _, d := range f.rec.deployments() {
		names = append(names, d.EventName)
	}
	want := []string{events.DeploymentInProgress, events.DeploymentCompleted, // create
		events.DeploymentInProgress, events.DeploymentFailed, // web:2
		events.DeploymentInProgress, events.DeploymentFailed} // the rollback, which stays failed
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if got := f.describeWeb(t); got.Deployments[0].RolloutState != "FAILED" || got.TaskDefinition != td("web:1") {
		t.Errorf("service: %+v", got)
	}
}

func TestBreakerThreshold(t *testing.T) {
	tests := map[string]struct {
		desired, want int32
	}{
		"one task needs three failures": {1, 3},
		"six tasks need three":          {6, 3},
		"seven tasks need four":         {7, 4},
		"ten tasks need five":           {10, 5},
		"a thousand tasks cap at 200":   {1000, 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := breakerThreshold(tc.desired); got != tc.want {
				t.Errorf("breakerThreshold(%d) = %d, want %d", tc.desired, got, tc.want)
			}
		})
	}
}

func TestServiceErrors(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 1, false, false)
	tests := map[string]struct {
		op, body, code string
	}{
		"update of an unknown service":      {"UpdateService", `{"cluster":"prod","service":"nope"}`, "ServiceNotFoundException"},
		"update in an unknown cluster":      {"UpdateService", `{"cluster":"nope","service":"web"}`, "ClusterNotFoundException"},
		"update to an unknown revision":     {"UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:9"}`, "ClientException"},
		"create twice":                      {"CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web",` + network + `}`, "InvalidParameterException"},
		"create without network for awsvpc": {"CreateService", `{"cluster":"prod","serviceName":"api","taskDefinition":"web"}`, "InvalidParameterException"},
		"unknown operation":                 {"CreateDaemon", `{}`, "UnknownOperationException"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := f.fail(t, tc.op, tc.body); err.Code != tc.code {
				t.Errorf("code %s (%s), want %s", err.Code, err.Message, tc.code)
			}
		})
	}
	var out struct {
		Services []any     `json:"services"`
		Failures []failure `json:"failures"`
	}
	f.call(t, "DescribeServices", `{"cluster":"prod","services":["nope"]}`, &out)
	want := []failure{{Arn: "arn:aws:ecs:us-west-2:123456789012:service/prod/nope", Reason: "MISSING"}}
	if diff := cmp.Diff(want, out.Failures); diff != "" || len(out.Services) != 0 {
		t.Errorf("describe missing service (-want +got):\n%s", diff)
	}
}
