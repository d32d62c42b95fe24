package revision

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// TestUpdate is rule 8's update: the manifest's circuit breaker, paced and
// retried, and the id of the deployment it started.
func TestUpdate(t *testing.T) {
	tests := map[string]struct {
		breaker                  string
		throttled                int
		wantEnable, wantRollback bool
		wantCalls                int
	}{
		"rollback by default":               {breaker: "", wantEnable: true, wantRollback: true, wantCalls: 1},
		"rollback when asked":               {breaker: manifest.CircuitBreakerRollback, wantEnable: true, wantRollback: true, wantCalls: 1},
		"on without rollback":               {breaker: manifest.CircuitBreakerOn, wantEnable: true, wantCalls: 1},
		"off":                               {breaker: manifest.CircuitBreakerOff, wantCalls: 1},
		"a throttled update is tried again": {breaker: "", throttled: 2, wantEnable: true, wantRollback: true, wantCalls: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.fail = func(op string, n int) error {
				if op == "UpdateService" && n <= tc.throttled {
					return apiErr("ThrottlingException", "slow down")
				}
				return nil
			}
			s := &sleeps{}
			u := Updater{ECS: f, Pacer: Pacer{Sleep: s.sleep, Now: func() time.Time { return t0 }}, Limit: Unlimited()}
			b := &manifest.Service{Name: "web", Cluster: "prod", Service: "web", CircuitBreaker: tc.breaker}
			id, err := u.Update(context.Background(), b, "arn:web:7")
			if err != nil {
				t.Fatal(err)
			}
			if id != "ecs-svc/1" {
				t.Errorf("deployment id = %q, want the PRIMARY deployment running the revision", id)
			}
			if got := f.count("UpdateService"); got != tc.wantCalls {
				t.Errorf("UpdateService called %d times, want %d", got, tc.wantCalls)
			}
			in := f.updated[0]
			cb := in.DeploymentConfiguration.DeploymentCircuitBreaker
			if aws.ToString(in.Cluster) != "prod" || aws.ToString(in.Service) != "web" || aws.ToString(in.TaskDefinition) != "arn:web:7" ||
				cb.Enable != tc.wantEnable || cb.Rollback != tc.wantRollback {
				t.Errorf("UpdateService %s/%s to %s with circuit breaker %+v; want enable %v rollback %v",
					aws.ToString(in.Cluster), aws.ToString(in.Service), aws.ToString(in.TaskDefinition), cb, tc.wantEnable, tc.wantRollback)
			}
		})
	}
}
