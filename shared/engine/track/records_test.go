package track

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// recordECS is ECS over HTTP for the real SDK client: one service whose
// deployment depID runs rev7, and ECS's record of it from a fixture of
// events/testdata (DescribeServiceDeployments as ECS sends it).
type recordECS struct {
	// rollout is depID's rolloutState on the service; "" leaves it off
	// the service (only the record knows it).
	rollout string
	// record is DescribeServiceDeployments' answer (a fixture's bytes).
	record []byte

	mu     sync.Mutex
	tagged []map[string]string
}

func (f *recordECS) serve(t *testing.T) *ecs.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerServiceV20141113.")
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		out, err := f.answer(op, body)
		if err != nil {
			t.Errorf("%s: %v", op, err)
		}
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return ecs.New(ecs.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(), Credentials: aws.AnonymousCredentials{}})
}

func (f *recordECS) answer(op string, body []byte) ([]byte, error) {
	switch op {
	case "DescribeServices":
		deps := []any{}
		if f.rollout != "" {
			deps = append(deps, map[string]any{"id": depID, "status": "ACTIVE", "taskDefinition": rev7, "rolloutState": f.rollout,
				"rolloutStateReason": "ECS says " + f.rollout, "createdAt": 1794877510.0})
		}
		if f.rollout == "FAILED" {
			deps = append(deps, map[string]any{"id": "ecs-svc/9876543210987654321", "status": "PRIMARY", "taskDefinition": rev6,
				"rolloutState": "IN_PROGRESS", "rolloutStateReason": "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1111.", "createdAt": 1794877590.0})
		}
		return json.Marshal(map[string]any{"services": []any{map[string]any{"serviceName": "web", "serviceArn": serviceARN, "status": "ACTIVE",
			"deployments": deps, "deploymentConfiguration": map[string]any{"deploymentCircuitBreaker": map[string]any{"enable": true, "rollback": true}}}}})
	case "ListServiceDeployments":
		var rec struct {
			ServiceDeployments []map[string]any `json:"serviceDeployments"`
		}
		if err := json.Unmarshal(f.record, &rec); err != nil {
			return nil, err
		}
		var briefs []any
		for _, sd := range rec.ServiceDeployments {
			briefs = append(briefs, map[string]any{"serviceDeploymentArn": sd["serviceDeploymentArn"], "serviceArn": sd["serviceArn"],
				"clusterArn": sd["clusterArn"], "status": sd["status"], "targetServiceRevisionArn": sd["targetServiceRevision"].(map[string]any)["arn"]})
		}
		return json.Marshal(map[string]any{"serviceDeployments": briefs})
	case "DescribeServiceDeployments":
		return f.record, nil
	case "DescribeServiceRevisions":
		var in struct{ ServiceRevisionArns []string }
		json.Unmarshal(body, &in)
		td := map[string]string{srARN7: rev7, srARN6: rev6}
		var revs []any
		for _, a := range in.ServiceRevisionArns {
			revs = append(revs, map[string]any{"serviceRevisionArn": a, "taskDefinition": td[a]})
		}
		return json.Marshal(map[string]any{"serviceRevisions": revs})
	case "DescribeTaskDefinition":
		var tags []any
		for k, v := range (revision.Tags{revision.TagBinding: "web", revision.TagTrigger: "push", revision.TagEventID: "ev-1",
			revision.TagDigest + "web": digestWb, revision.TagImageTag + "web": "1.4.0", revision.TagChanged: "web"}) {
			tags = append(tags, map[string]string{"key": k, "value": v})
		}
		return json.Marshal(map[string]any{"taskDefinition": map[string]any{"taskDefinitionArn": rev7, "family": "web", "revision": 7}, "tags": tags})
	case "TagResource":
		var in struct {
			Tags []struct{ Key, Value string }
		}
		json.Unmarshal(body, &in)
		f.mu.Lock()
		for _, tg := range in.Tags {
			f.tagged = append(f.tagged, map[string]string{tg.Key: tg.Value})
		}
		f.mu.Unlock()
		return []byte(`{}`), nil
	}
	return []byte(`{}`), nil
}

// withAlarmFired is a record fixture whose alarms say web-5xx fired.
func withAlarmFired(t *testing.T, name string) []byte {
	var rec map[string][]map[string]any
	if err := json.Unmarshal(fixture(t, name), &rec); err != nil {
		t.Fatal(err)
	}
	rec["serviceDeployments"][0]["alarms"] = map[string]any{"status": "TRIGGERED", "alarmNames": []string{"web-5xx"}, "triggeredAlarmNames": []string{"web-5xx"}}
	b, _ := json.Marshal(rec)
	return b
}

// TestVerdictsFromECSRecords: per strategy and per rollback cause, through
// the real tracker handler and the real SDK client, ECS's event judged
// from ECS's service-deployment record (DESIGN §10).
func TestVerdictsFromECSRecords(t *testing.T) {
	mark := map[string]string{revision.TagRolledBack + "web": digestWb}
	tests := map[string]struct {
		event, record string
		recordBytes   []byte
		rollout       string // the deployment on the service; "" not listed
		wantStatus    events.DeploymentStatus
		wantCause     string
		wantOld       string
		wantMarks     []map[string]string
		wantIgnored   string
		wantErr       bool
	}{
		"rolling: SUCCESSFUL is SUCCEEDED": {
			event: "ecs-deployment-state-change-completed.json", record: "ecs-service-deployment-successful.json", rollout: "COMPLETED",
			wantStatus: events.StatusSucceeded,
		},
		"blue/green: SUCCESSFUL is SUCCEEDED": {
			event: "ecs-deployment-state-change-completed.json", record: "ecs-service-deployment-successful-blue-green.json", rollout: "COMPLETED",
			wantStatus: events.StatusSucceeded,
		},
		"linear: SUCCESSFUL is SUCCEEDED": {
			event: "ecs-deployment-state-change-completed.json", record: "ecs-service-deployment-successful-linear.json", rollout: "COMPLETED",
			wantStatus: events.StatusSucceeded,
		},
		"canary: SUCCESSFUL is SUCCEEDED": {
			event: "ecs-deployment-state-change-completed.json", record: "ecs-service-deployment-successful-canary.json", rollout: "COMPLETED",
			wantStatus: events.StatusSucceeded,
		},
		"the circuit breaker's rollback": {
			event: "ecs-deployment-state-change-failed.json", record: "ecs-service-deployment-rollback-circuit-breaker.json", rollout: "FAILED",
			wantStatus: events.StatusRolledBack, wantCause: "circuitBreaker", wantOld: rev6, wantMarks: []map[string]string{mark},
		},
		"an alarm's rollback of a canary": {
			event: "ecs-deployment-state-change-failed.json", record: "ecs-service-deployment-rollback-alarm.json", rollout: "FAILED",
			wantStatus: events.StatusRolledBack, wantCause: "alarm:web-5xx", wantOld: rev6, wantMarks: []map[string]string{mark},
		},
		"a lifecycle hook's rollback of a blue/green deployment": {
			event: "ecs-deployment-state-change-failed.json", record: "ecs-service-deployment-rollback-hook.json", rollout: "FAILED",
			wantStatus: events.StatusRolledBack, wantCause: "hook:web-smoke-test", wantOld: rev6, wantMarks: []map[string]string{mark},
		},
		"a person's StopServiceDeployment of a linear deployment": {
			event: "ecs-deployment-state-change-failed.json", record: "ecs-service-deployment-rollback-manual.json", rollout: "FAILED",
			wantStatus: events.StatusRolledBack, wantCause: "manual", wantOld: rev6, wantMarks: []map[string]string{mark},
		},
		"a rollback that failed is FAILED, and its digest stays marked": {
			event: "ecs-deployment-state-change-failed.json", record: "ecs-service-deployment-rollback-failed.json", rollout: "FAILED",
			wantStatus: events.StatusFailed, wantCause: "circuitBreaker", wantMarks: []map[string]string{mark},
		},
		"STOPPED without rollback is FAILED": {
			event: "ecs-deployment-state-change-failed.json", record: "ecs-service-deployment-stopped.json", rollout: "FAILED",
			wantStatus: events.StatusFailed, wantCause: "circuitBreaker",
		},
		"an alarm's rollback only the record knows": {
			event: "ecs-deployment-state-change-failed.json", record: "ecs-service-deployment-rollback-alarm.json",
			wantStatus: events.StatusRolledBack, wantCause: "alarm:web-5xx", wantOld: rev6, wantMarks: []map[string]string{mark},
		},
		"a completion whose alarm fired is never SUCCEEDED": {
			event: "ecs-deployment-state-change-completed.json", recordBytes: withAlarmFired(t, "ecs-service-deployment-successful-canary.json"), rollout: "COMPLETED",
			wantIgnored: "alarm(s) web-5xx went into ALARM during deployment ecs-svc/1234567890123456789",
		},
		"a completion the record says was rolled back decides nothing": {
			event: "ecs-deployment-state-change-completed.json", record: "ecs-service-deployment-rollback-alarm.json", rollout: "COMPLETED",
			wantIgnored: "ECS contradicts itself",
		},
		"a failure whose record is still in progress is asked again": {
			event: "ecs-deployment-state-change-failed.json", recordBytes: []byte(strings.Replace(string(fixture(t, "ecs-service-deployment-rollback-alarm.json")), "ROLLBACK_SUCCESSFUL", "IN_PROGRESS", 1)),
			rollout: "FAILED", wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := &recordECS{rollout: tc.rollout, record: tc.recordBytes}
			if f.record == nil {
				f.record = fixture(t, tc.record)
			}
			rec := &recorder{}
			h := lambda.NewHandler((&Handler{Deployments: &Deployments{ECS: f.serve(t), Events: rec, Pacer: revision.Pacer{Sleep: noSleep}}}).Handle)
			out, err := h.Invoke(context.Background(), fixture(t, tc.event))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Invoke error %v, want an error: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if len(rec.evs) != 0 {
					t.Errorf("verdicts %+v emitted while ECS is still deciding", rec.evs)
				}
				return
			}
			var v Verdict
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatal(err)
			}
			if tc.wantIgnored != "" {
				if len(rec.evs) != 0 || !strings.Contains(v.Ignored, tc.wantIgnored) {
					t.Errorf("verdicts %+v, ignored %q; want none, ignored with %q", rec.evs, v.Ignored, tc.wantIgnored)
				}
				return
			}
			if len(rec.evs) != 1 {
				t.Fatalf("verdicts %+v (ignored %q), want one", rec.evs, v.Ignored)
			}
			got := rec.evs[0]
			if diff := cmp.Diff([]any{tc.wantStatus, tc.wantCause, tc.wantOld, digestWb}, []any{got.Status, got.Cause, got.OldRevision, got.Containers["web"].NewDigest}); diff != "" {
				t.Errorf("verdict (status, cause, old revision, digest) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMarks, f.tagged); diff != "" {
				t.Errorf("rolled-back marks (-want +got):\n%s", diff)
			}
		})
	}
}
