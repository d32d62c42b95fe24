package ecssim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sdState is the part of a service deployment the stop and hook tests read.
type sdState struct {
	Status         string `json:"status"`
	StatusReason   string `json:"statusReason"`
	LifecycleStage string `json:"lifecycleStage"`
	Rollback       *struct {
		ServiceRevisionArn string `json:"serviceRevisionArn"`
	} `json:"rollback"`
	LifecycleHookDetails []struct {
		HookID string `json:"hookId"`
		Status string `json:"status"`
	} `json:"lifecycleHookDetails"`
}

func (f *fixture) sdState(t *testing.T, arn string) sdState {
	t.Helper()
	var out struct {
		ServiceDeployments []sdState `json:"serviceDeployments"`
	}
	f.call(t, "DescribeServiceDeployments", `{"serviceDeploymentArns":["`+arn+`"]}`, &out)
	return out.ServiceDeployments[0]
}

// rollingWeb creates service web on web:1 (ROLLING, extra config fields),
// completes it, and starts an update to web:2. It returns the update's
// service deployment ARN.
func rollingWeb(t *testing.T, f *fixture, extra string) string {
	t.Helper()
	f.register(t, "web", "repo/web@sha256:one")
	f.register(t, "web", "repo/web@sha256:two")
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":2,`+network+extra+`}`, nil)
	f.clock.Advance(time.Hour)
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
	return f.newestSD(t)
}

func TestStopServiceDeployment(t *testing.T) {
	t.Run("ROLLBACK rolls an in-flight deployment back to the last successful revision", func(t *testing.T) {
		f := newFixture(t)
		arn := rollingWeb(t, f, "")
		first := f.firstSD(t)
		f.clock.Advance(5 * time.Second)
		var out map[string]string
		f.call(t, "StopServiceDeployment", `{"serviceDeploymentArn":"`+arn+`","stopType":"ROLLBACK"}`, &out)
		if out["serviceDeploymentArn"] != arn {
			t.Errorf("StopServiceDeployment answered %v", out)
		}
		if got := f.sdState(t, arn).Status; got != "ROLLBACK_REQUESTED" {
			t.Errorf("right after the stop: %s, want ROLLBACK_REQUESTED", got)
		}
		f.clock.Advance(time.Second)
		got := f.sdState(t, arn)
		if got.Status != "ROLLBACK_IN_PROGRESS" || got.Rollback == nil || got.Rollback.ServiceRevisionArn != f.targetRevision(t, first) {
			t.Errorf("a second later: %+v", got)
		}
		f.clock.Advance(time.Minute)
		if got := f.sdState(t, arn); got.Status != "ROLLBACK_SUCCESSFUL" {
			t.Errorf("after the rollback: %+v", got)
		}
		snap, _ := f.ecs.Service("prod", "web")
		if !strings.HasSuffix(snap.TaskDefinition, "web:1") {
			t.Errorf("service runs %s after the rollback", snap.TaskDefinition)
		}
		if e := f.fail(t, "StopServiceDeployment", `{"serviceDeploymentArn":"`+arn+`"}`); e.Code != "ConflictException" {
			t.Errorf("stopping a finished deployment: %v", e)
		}
	})
	t.Run("ABORT stops it and leaves the previous revision serving", func(t *testing.T) {
		f := newFixture(t)
		arn := rollingWeb(t, f, "")
		f.call(t, "StopServiceDeployment", `{"serviceDeploymentArn":"`+arn+`","stopType":"ABORT"}`, nil)
		if got := f.sdState(t, arn).Status; got != "STOP_REQUESTED" {
			t.Errorf("right after the stop: %s, want STOP_REQUESTED", got)
		}
		f.clock.Advance(time.Minute)
		if got := f.sdState(t, arn); got.Status != "STOPPED" {
			t.Errorf("after the stop: %+v", got)
		}
		snap, _ := f.ecs.Service("prod", "web")
		if snap.RunningCount != 2 || snap.Deployments[1].RolloutState != "COMPLETED" || !strings.HasSuffix(snap.Deployments[1].TaskDefinition, "web:1") {
			t.Errorf("after ABORT: %+v", snap)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		f := newFixture(t)
		arn := rollingWeb(t, f, "")
		if e := f.fail(t, "StopServiceDeployment", `{"serviceDeploymentArn":"`+arn+`x"}`); e.Code != "ServiceDeploymentNotFoundException" {
			t.Errorf("unknown ARN: %v", e)
		}
		if e := f.fail(t, "StopServiceDeployment", `{"serviceDeploymentArn":"`+arn+`","stopType":"PAUSE"}`); e.Code != "InvalidParameterException" {
			t.Errorf("unknown stopType: %v", e)
		}
	})
}

// firstSD returns the ARN of service web's oldest service deployment.
func (f *fixture) firstSD(t *testing.T) string {
	t.Helper()
	var out struct {
		ServiceDeployments []struct {
			ServiceDeploymentArn string `json:"serviceDeploymentArn"`
		} `json:"serviceDeployments"`
	}
	f.call(t, "ListServiceDeployments", `{"cluster":"prod","service":"web"}`, &out)
	return out.ServiceDeployments[len(out.ServiceDeployments)-1].ServiceDeploymentArn
}

func (f *fixture) targetRevision(t *testing.T, sdARN string) string {
	t.Helper()
	var out struct {
		ServiceDeployments []struct {
			TargetServiceRevision struct {
				Arn string `json:"arn"`
			} `json:"targetServiceRevision"`
		} `json:"serviceDeployments"`
	}
	f.call(t, "DescribeServiceDeployments", `{"serviceDeploymentArns":["`+sdARN+`"]}`, &out)
	return out.ServiceDeployments[0].TargetServiceRevision.Arn
}

func TestCircuitBreakerWithEveryStrategy(t *testing.T) {
	for _, strategy := range []string{"ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"} {
		t.Run(strategy, func(t *testing.T) {
			f := newFixture(t)
			f.register(t, "web", "repo/web@sha256:one")
			f.register(t, "web", "repo/web@sha256:bad")
			f.ecs.SetImageHealth("sha256:bad", false)
			cfg := `,"deploymentConfiguration":{"strategy":"` + strategy + `","deploymentCircuitBreaker":{"enable":true,"rollback":true}},` + lbAdvance
			f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":2,`+network+cfg+`}`, nil)
			f.clock.Advance(time.Hour)
			f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
			arn := f.newestSD(t)
			f.clock.Advance(10 * time.Minute)
			var out struct {
				ServiceDeployments []struct {
					Status                   string `json:"status"`
					StatusReason             string `json:"statusReason"`
					DeploymentCircuitBreaker struct {
						Status       string `json:"status"`
						FailureCount int32  `json:"failureCount"`
						Threshold    int32  `json:"threshold"`
					} `json:"deploymentCircuitBreaker"`
				} `json:"serviceDeployments"`
			}
			f.call(t, "DescribeServiceDeployments", `{"serviceDeploymentArns":["`+arn+`"]}`, &out)
			got := out.ServiceDeployments[0]
			want := `{"status":"ROLLBACK_SUCCESSFUL","statusReason":"Service deployment rolled back because the circuit breaker threshold was exceeded.","deploymentCircuitBreaker":{"status":"TRIGGERED","failureCount":3,"threshold":3}}`
			if b, _ := json.Marshal(got); string(b) != want {
				t.Errorf("got  %s\nwant %s", b, want)
			}
			snap, _ := f.ecs.Service("prod", "web")
			if !strings.HasSuffix(snap.TaskDefinition, "web:1") {
				t.Errorf("service runs %s", snap.TaskDefinition)
			}
		})
	}
}

func TestLifecycleHooks(t *testing.T) {
	const lambda = "arn:aws:lambda:us-west-2:123456789012:function:smoke"
	hooks := `"lifecycleHooks":[{"hookTargetArn":"` + lambda + `","roleArn":"arn:aws:iam::123456789012:role/hook","lifecycleStages":["POST_TEST_TRAFFIC_SHIFT"]},` +
		`{"targetType":"PAUSE","lifecycleStages":["PRE_PRODUCTION_TRAFFIC_SHIFT"],"timeoutConfiguration":{"timeoutInMinutes":30}}]`
	// start creates web on web:1 (ROLLING) and updates it to web:2 with a
	// BLUE_GREEN strategy and the hooks.
	start := func(t *testing.T, f *fixture) string {
		f.register(t, "web", "repo/web@sha256:one")
		f.register(t, "web", "repo/web@sha256:two")
		f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":2,`+network+`,`+lbAdvance+`}`, nil)
		f.clock.Advance(time.Hour)
		f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2","deploymentConfiguration":{"strategy":"BLUE_GREEN",`+hooks+`}}`, nil)
		return f.newestSD(t)
	}
	t.Run("a PAUSE hook waits for ContinueServiceDeployment", func(t *testing.T) {
		f := newFixture(t)
		arn := start(t, f)
		f.clock.Advance(time.Minute)
		got := f.sdState(t, arn)
		if got.LifecycleStage != "PRE_PRODUCTION_TRAFFIC_SHIFT" || len(got.LifecycleHookDetails) != 2 || got.LifecycleHookDetails[1].Status != "AWAITING_ACTION" {
			t.Fatalf("at +1m: %+v", got)
		}
		f.call(t, "ContinueServiceDeployment", `{"serviceDeploymentArn":"`+arn+`","hookId":"`+got.LifecycleHookDetails[1].HookID+`"}`, nil)
		f.clock.Advance(time.Second)
		if got := f.sdState(t, arn); got.Status != "SUCCESSFUL" || got.LifecycleHookDetails[1].Status != "SUCCEEDED" {
			t.Errorf("after CONTINUE: %+v", got)
		}
	})
	t.Run("a PAUSE hook that times out rolls back", func(t *testing.T) {
		f := newFixture(t)
		arn := start(t, f)
		f.clock.Advance(32 * time.Minute) // the hook waits from +40s to +30m40s; the rollback takes 40s
		got := f.sdState(t, arn)
		if got.Status != "ROLLBACK_SUCCESSFUL" || got.LifecycleHookDetails[1].Status != "TIMED_OUT" ||
			got.StatusReason != "Service deployment rolled back because PRE_PRODUCTION_TRAFFIC_SHIFT lifecycle hook(s) failed. The PAUSE lifecycle hook timed out." {
			t.Errorf("after the timeout: %+v", got)
		}
	})
	t.Run("a failing Lambda hook rolls back with hook:<target>", func(t *testing.T) {
		f := newFixture(t)
		f.ecs.ScriptHook(lambda, true)
		arn := start(t, f)
		f.clock.Advance(5 * time.Minute)
		got := f.sdState(t, arn)
		want := "Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT lifecycle hook(s) failed. Lifecycle hook target " + lambda + " returned FAILED status."
		if got.Status != "ROLLBACK_SUCCESSFUL" || got.StatusReason != want {
			t.Errorf("failing hook: %+v\nwant reason %q", got, want)
		}
	})
}

func TestDeleteTaskDefinitions(t *testing.T) {
	f := newFixture(t)
	f.register(t, "web", "repo/web@sha256:one")
	f.register(t, "web", "repo/web@sha256:two")
	f.register(t, "web", "repo/web@sha256:three")
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web:2","desiredCount":1,`+network+`}`, nil)
	f.clock.Advance(time.Minute)

	type result struct {
		TaskDefinitions []struct {
			Revision          int32    `json:"revision"`
			Status            string   `json:"status"`
			DeleteRequestedAt *float64 `json:"deleteRequestedAt"`
		} `json:"taskDefinitions"`
		Failures []failure `json:"failures"`
	}
	var out result
	f.call(t, "DeleteTaskDefinitions", `{"taskDefinitions":["web:1"]}`, &out)
	if len(out.TaskDefinitions) != 0 || len(out.Failures) != 1 || !strings.Contains(out.Failures[0].Reason, "ACTIVE status") {
		t.Errorf("deleting an ACTIVE revision: %+v", out)
	}
	f.call(t, "DeregisterTaskDefinition", `{"taskDefinition":"web:1"}`, nil)
	f.call(t, "DeregisterTaskDefinition", `{"taskDefinition":"web:2"}`, nil)
	out = result{}
	f.call(t, "DeleteTaskDefinitions", `{"taskDefinitions":["web:1","arn:aws:ecs:us-west-2:123456789012:task-definition/web:2","web:9"]}`, &out)
	if len(out.TaskDefinitions) != 2 || out.TaskDefinitions[0].Status != "DELETE_IN_PROGRESS" || out.TaskDefinitions[0].DeleteRequestedAt == nil ||
		len(out.Failures) != 1 || out.Failures[0].Arn != "arn:aws:ecs:us-west-2:123456789012:task-definition/web:9" {
		t.Errorf("deleting web:1, web:2 and web:9: %+v", out)
	}

	list := func(status string) []string {
		var l struct {
			TaskDefinitionArns []string `json:"taskDefinitionArns"`
		}
		f.call(t, "ListTaskDefinitions", `{"familyPrefix":"web","status":"`+status+`"}`, &l)
		var revs []string
		for _, a := range l.TaskDefinitionArns {
			revs = append(revs, a[strings.LastIndex(a, "/")+1:])
		}
		return revs
	}
	// web:1 is unused and goes at once; web:2 runs the service and stays
	// DELETE_IN_PROGRESS, still describable.
	if diff := cmp.Diff([]string{"web:2"}, list("DELETE_IN_PROGRESS")); diff != "" {
		t.Errorf("DELETE_IN_PROGRESS (-want +got):\n%s", diff)
	}
	if e := f.fail(t, "DescribeTaskDefinition", `{"taskDefinition":"web:1"}`); e.Code != "ClientException" {
		t.Errorf("describing a deleted revision: %v", e)
	}
	var desc struct {
		TaskDefinition struct {
			Status string `json:"status"`
		} `json:"taskDefinition"`
	}
	f.call(t, "DescribeTaskDefinition", `{"taskDefinition":"web:2"}`, &desc)
	if desc.TaskDefinition.Status != "DELETE_IN_PROGRESS" {
		t.Errorf("web:2 is %s", desc.TaskDefinition.Status)
	}
	// Moving the service off web:2 lets it go once its tasks have stopped.
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:3"}`, nil)
	f.clock.Advance(time.Minute)
	if got := list("DELETE_IN_PROGRESS"); len(got) != 0 {
		t.Errorf("DELETE_IN_PROGRESS after the service moved on: %v", got)
	}
	if e := f.fail(t, "DescribeTaskDefinition", `{"taskDefinition":"web:2"}`); e.Code != "ClientException" {
		t.Errorf("describing web:2 after deletion: %v", e)
	}
	// Revision numbers continue past deleted ones; INACTIVE ones stay listed.
	if arn := f.register(t, "web", "repo/web@sha256:four"); !strings.HasSuffix(arn, "web:4") {
		t.Errorf("registered %s, want web:4", arn)
	}
	f.call(t, "DeregisterTaskDefinition", `{"taskDefinition":"web:4"}`, nil)
	if diff := cmp.Diff([]string{"web:4"}, list("INACTIVE")); diff != "" {
		t.Errorf("INACTIVE (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"web:3"}, list("ACTIVE")); diff != "" {
		t.Errorf("ACTIVE (-want +got):\n%s", diff)
	}
}

func TestServiceDeploymentsAreBounded(t *testing.T) {
	f := newFixture(t)
	f.register(t, "web", "repo/web@sha256:one")
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":1,`+network+`}`, nil)
	first := f.newestSD(t)
	for range maxServiceDeployments + 20 {
		f.call(t, "UpdateService", `{"cluster":"prod","service":"web","forceNewDeployment":true}`, nil)
	}
	var out struct {
		Failures []failure `json:"failures"`
	}
	f.call(t, "DescribeServiceDeployments", `{"serviceDeploymentArns":["`+first+`"]}`, &out)
	if len(out.Failures) != 1 || out.Failures[0].Reason != "MISSING" {
		t.Errorf("the oldest service deployment: %+v, want MISSING", out)
	}
	count, token := 0, ""
	for {
		var page struct {
			ServiceDeployments []json.RawMessage `json:"serviceDeployments"`
			NextToken          string            `json:"nextToken"`
		}
		f.call(t, "ListServiceDeployments", `{"cluster":"prod","service":"web","maxResults":30,"nextToken":"`+token+`"}`, &page)
		count += len(page.ServiceDeployments)
		if token = page.NextToken; token == "" {
			break
		}
	}
	if count != maxServiceDeployments {
		t.Errorf("listed %d service deployments, want %d", count, maxServiceDeployments)
	}
	f.ecs.mu.Lock()
	defer f.ecs.mu.Unlock()
	if n := len(f.ecs.revisions); n > maxServiceDeployments+2 {
		t.Errorf("%d revisions kept for %d service deployments", n, maxServiceDeployments)
	}
}
