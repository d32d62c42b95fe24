package revision

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

func ptr[T any](v T) *T { return &v }

// TestUpdateCarriesTheDeploymentBlock: UpdateService's
// deploymentConfiguration, on the wire, for each strategy.
func TestUpdateCarriesTheDeploymentBlock(t *testing.T) {
	breaker := map[string]any{"enable": true, "rollback": true}
	tests := map[string]struct {
		deployment *manifest.Deployment
		want       map[string]any
	}{
		"an empty block asks for ROLLING": {
			deployment: &manifest.Deployment{},
			want:       map[string]any{"deploymentCircuitBreaker": breaker, "strategy": "ROLLING"},
		},
		"blueGreen with a bake": {
			deployment: &manifest.Deployment{Strategy: manifest.StrategyBlueGreen, Bake: "15m"},
			want:       map[string]any{"deploymentCircuitBreaker": breaker, "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 15.0},
		},
		"canary with its step and alarms that roll back": {
			deployment: &manifest.Deployment{Strategy: manifest.StrategyCanary, Bake: "10m", Canary: &manifest.Canary{Percent: ptr(10.0), Bake: "5m"}, Alarms: []string{"web-5xx", "web-p99"}},
			want: map[string]any{
				"deploymentCircuitBreaker": breaker, "strategy": "CANARY", "bakeTimeInMinutes": 10.0,
				"canaryConfiguration": map[string]any{"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5.0},
				"alarms":              map[string]any{"alarmNames": []any{"web-5xx", "web-p99"}, "enable": true, "rollback": true},
			},
		},
		"canary without a step leaves ECS's defaults": {
			deployment: &manifest.Deployment{Strategy: manifest.StrategyCanary},
			want:       map[string]any{"deploymentCircuitBreaker": breaker, "strategy": "CANARY"},
		},
		"linear with a step bake of 0": {
			deployment: &manifest.Deployment{Strategy: manifest.StrategyLinear, Linear: &manifest.Linear{StepPercent: ptr(20.0), StepBake: "0m"}},
			want: map[string]any{"deploymentCircuitBreaker": breaker, "strategy": "LINEAR",
				"linearConfiguration": map[string]any{"stepPercent": 20.0, "stepBakeTimeInMinutes": 0.0}},
		},
		"alarms on a rolling deployment": {
			deployment: &manifest.Deployment{Alarms: []string{"web-5xx"}},
			want: map[string]any{"deploymentCircuitBreaker": breaker, "strategy": "ROLLING",
				"alarms": map[string]any{"alarmNames": []any{"web-5xx"}, "enable": true, "rollback": true}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := &manifest.Service{Name: "web", Cluster: "prod", Service: "web", Deployment: tc.deployment}
			var in struct {
				DeploymentConfiguration map[string]any `json:"deploymentConfiguration"`
			}
			if err := json.Unmarshal(updateBody(t, b), &in); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, in.DeploymentConfiguration); diff != "" {
				t.Errorf("deploymentConfiguration (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStrategyUnsupported is the bad input of issue 12: a strategy the
// service cannot run is named with what is missing, before any write.
func TestStrategyUnsupported(t *testing.T) {
	tg := aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web-blue/1")
	alt := aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web-green/2")
	rule := aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/web/1/2/3")
	advanced := []types.LoadBalancer{{TargetGroupArn: tg, AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: alt, ProductionListenerRule: rule}}}
	withSC := []types.Deployment{{Status: aws.String("PRIMARY"), ServiceConnectConfiguration: &types.ServiceConnectConfiguration{Enabled: true}}}
	tests := map[string]struct {
		strategy string
		svc      types.Service
		want     []string // parts of the message; none: supported
	}{
		"rolling runs anywhere":                        {strategy: manifest.StrategyRolling},
		"blueGreen with advancedConfiguration":         {strategy: manifest.StrategyBlueGreen, svc: types.Service{LoadBalancers: advanced}},
		"blueGreen without a load balancer (headless)": {strategy: manifest.StrategyBlueGreen},
		"canary on Service Connect":                    {strategy: manifest.StrategyCanary, svc: types.Service{Deployments: withSC}},
		"linear with advancedConfiguration":            {strategy: manifest.StrategyLinear, svc: types.Service{LoadBalancers: advanced}},
		"blueGreen on a load balancer without the alternate target group and listener rule": {
			strategy: manifest.StrategyBlueGreen, svc: types.Service{LoadBalancers: []types.LoadBalancer{{TargetGroupArn: tg}}},
			want: []string{"deployment strategy blueGreen cannot run on service prod/web (binding web)", "loadBalancers[0] (" + *tg + ") has no advancedConfiguration: an alternateTargetGroupArn and a productionListenerRule"},
		},
		"a production listener rule missing": {
			strategy: manifest.StrategyCanary, svc: types.Service{LoadBalancers: []types.LoadBalancer{{TargetGroupArn: tg, AdvancedConfiguration: &types.AdvancedConfiguration{AlternateTargetGroupArn: alt}}}},
			want: []string{"has no advancedConfiguration.productionListenerRule"},
		},
		"a Classic Load Balancer": {
			strategy: manifest.StrategyBlueGreen, svc: types.Service{LoadBalancers: []types.LoadBalancer{{LoadBalancerName: aws.String("web-elb")}}},
			want: []string{"loadBalancers[0] (web-elb) is a Classic Load Balancer"},
		},
		"linear with neither a load balancer nor Service Connect": {
			strategy: manifest.StrategyLinear,
			want:     []string{"deployment strategy linear needs a load balancer with an alternate target group and a production listener rule", "or Service Connect; service prod/web (binding web) has neither"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := &manifest.Service{Name: "web", Cluster: "prod", Service: "web", Deployment: &manifest.Deployment{Strategy: tc.strategy}}
			got := StrategyUnsupported(b, &tc.svc)
			if len(tc.want) == 0 && got != "" {
				t.Errorf("refused: %s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("message %q lacks %q", got, w)
				}
			}
		})
	}
	if got := StrategyUnsupported(&manifest.Service{Name: "web"}, &types.Service{LoadBalancers: []types.LoadBalancer{{TargetGroupArn: tg}}}); got != "" {
		t.Errorf("a binding without a deployment: block was refused: %s", got)
	}
}
