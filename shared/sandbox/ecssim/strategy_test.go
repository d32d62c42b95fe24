package ecssim

import (
	"strings"
	"testing"
	"time"
)

const (
	advanced  = `"advancedConfiguration":{"alternateTargetGroupArn":"` + tgGreen + `","productionListenerRule":"` + rule + `","roleArn":"arn:aws:iam::123456789012:role/ecs-infra"}`
	lbAdvance = `"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","containerName":"web","containerPort":8080,` + advanced + `}]`
)

func TestStrategyValidation(t *testing.T) {
	tests := map[string]struct {
		extra    string // fields added to a CreateService of web:1
		wantCode string
		wantMsg  string
	}{
		"an unknown strategy is refused": {
			`"deploymentConfiguration":{"strategy":"RAINBOW"}`, "InvalidParameterException", "Member must satisfy enum value set: [ROLLING, BLUE_GREEN, LINEAR, CANARY]"},
		"a bake time over 1440 minutes is refused": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN","bakeTimeInMinutes":1441},` + lbAdvance, "InvalidParameterException", "bakeTimeInMinutes must be between 0 and 1440 minutes; got 1441."},
		"a negative bake time is refused": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN","bakeTimeInMinutes":-1},` + lbAdvance, "InvalidParameterException", "bakeTimeInMinutes must be between 0 and 1440"},
		"a canary percent below 0.1 is refused": {
			`"deploymentConfiguration":{"strategy":"CANARY","canaryConfiguration":{"canaryPercent":0.05}},` + lbAdvance, "InvalidParameterException", "canaryPercent must be a multiple of 0.1 from 0.1 to 100.0; got 0.05."},
		"a canary percent over 100 is refused": {
			`"deploymentConfiguration":{"strategy":"CANARY","canaryConfiguration":{"canaryPercent":100.1}},` + lbAdvance, "InvalidParameterException", "got 100.1."},
		"a canary percent off the 0.1 grid is refused": {
			`"deploymentConfiguration":{"strategy":"CANARY","canaryConfiguration":{"canaryPercent":12.34}},` + lbAdvance, "InvalidParameterException", "got 12.34."},
		"a canary bake over 1440 minutes is refused": {
			`"deploymentConfiguration":{"strategy":"CANARY","canaryConfiguration":{"canaryBakeTimeInMinutes":2000}},` + lbAdvance, "InvalidParameterException", "canaryBakeTimeInMinutes must be between 0 and 1440"},
		"a step percent below 3 is refused": {
			`"deploymentConfiguration":{"strategy":"LINEAR","linearConfiguration":{"stepPercent":2.9}},` + lbAdvance, "InvalidParameterException", "stepPercent must be a multiple of 0.1 from 3.0 to 100.0; got 2.9."},
		"a step bake over 1440 minutes is refused": {
			`"deploymentConfiguration":{"strategy":"LINEAR","linearConfiguration":{"stepBakeTimeInMinutes":1500}},` + lbAdvance, "InvalidParameterException", "stepBakeTimeInMinutes must be between 0 and 1440"},
		"linearConfiguration with CANARY is refused": {
			`"deploymentConfiguration":{"strategy":"CANARY","linearConfiguration":{"stepPercent":10}},` + lbAdvance, "InvalidParameterException", "linearConfiguration is only valid when the deployment strategy is LINEAR"},
		"canaryConfiguration with ROLLING is refused": {
			`"deploymentConfiguration":{"canaryConfiguration":{"canaryPercent":10}}`, "InvalidParameterException", "canaryConfiguration is only valid when the deployment strategy is CANARY"},
		"enabled alarms without names are refused": {
			`"deploymentConfiguration":{"alarms":{"alarmNames":[],"enable":true,"rollback":true}}`, "InvalidParameterException", "alarmNames must contain at least one alarm name"},
		"a load balancer without advancedConfiguration cannot go linear": {
			`"deploymentConfiguration":{"strategy":"LINEAR"},"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","containerName":"web","containerPort":8080}]`,
			"ClientException", "advancedConfiguration field is required for all loadBalancers when using the linear deployment strategy"},
		"a load balancer without advancedConfiguration cannot go blue/green": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN"},"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","containerName":"web","containerPort":8080}]`,
			"ClientException", "advancedConfiguration field is required for all loadBalancers when using the Blue/green deployment strategy"},
		"advancedConfiguration without an alternate target group is refused": {
			`"deploymentConfiguration":{"strategy":"CANARY"},"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","advancedConfiguration":{"productionListenerRule":"` + rule + `"}}]`,
			"InvalidParameterException", "advancedConfiguration.alternateTargetGroupArn is required when using the canary deployment strategy"},
		"advancedConfiguration without a production listener rule is refused": {
			`"deploymentConfiguration":{"strategy":"CANARY"},"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","advancedConfiguration":{"alternateTargetGroupArn":"` + tgGreen + `"}}]`,
			"InvalidParameterException", "advancedConfiguration.productionListenerRule is required"},
		"an ALB listener instead of a listener rule is refused": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN"},"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","advancedConfiguration":{"alternateTargetGroupArn":"` + tgGreen + `","productionListenerRule":"arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/web/3333/4444"}}]`,
			"InvalidParameterException", "productionListenerRule has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB."},
		"one rule for production and test is refused": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN"},"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","advancedConfiguration":{"alternateTargetGroupArn":"` + tgGreen + `","productionListenerRule":"` + rule + `","testListenerRule":"` + rule + `"}}]`,
			"InvalidParameterException", "cannot be used as both production and test listener rules"},
		"the alternate target group may not be the primary one": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN"},"loadBalancers":[{"targetGroupArn":"` + tgBlue + `","advancedConfiguration":{"alternateTargetGroupArn":"` + tgBlue + `","productionListenerRule":"` + rule + `"}}]`,
			"InvalidParameterException", "Duplicate targetGroupArn found"},
		"advancedConfiguration on some load balancers only is refused": {
			`"loadBalancers":[{"targetGroupArn":"` + tgBlue + `",` + advanced + `},{"targetGroupArn":"arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/other/9"}]`,
			"ClientException", "Either all or none of the provided loadBalancers must have advancedConfiguration defined"},
		"advancedConfiguration on a classic load balancer is refused": {
			`"loadBalancers":[{"loadBalancerName":"classic",` + advanced + `}]`, "ClientException", "advancedConfiguration field is not allowed with ELBv1 loadBalancers"},
		"a headless service cannot go canary": {
			`"deploymentConfiguration":{"strategy":"CANARY"}`, "InvalidParameterException", "The CANARY deployment strategy requires a load balancer with advancedConfiguration or a Service Connect configuration."},
		"a headless service cannot go linear": {
			`"deploymentConfiguration":{"strategy":"LINEAR"}`, "InvalidParameterException", "The LINEAR deployment strategy requires"},
		"hooks with ROLLING are refused": {
			`"deploymentConfiguration":{"lifecycleHooks":[{"targetType":"PAUSE","lifecycleStages":["POST_SCALE_UP"]}]}`, "InvalidParameterException", "lifecycleHooks are only supported with the BLUE_GREEN, LINEAR and CANARY deployment strategies."},
		"a Lambda hook without a role is refused": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN","lifecycleHooks":[{"hookTargetArn":"arn:aws:lambda:us-west-2:123456789012:function:check","lifecycleStages":["POST_SCALE_UP"]}]}`, "InvalidParameterException", "hookTargetArn and roleArn are required"},
		"a hook at an unknown stage is refused": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN","lifecycleHooks":[{"targetType":"PAUSE","lifecycleStages":["BAKE_TIME"]}]}`, "InvalidParameterException", "BAKE_TIME is not a lifecycle stage"},
		"a PAUSE hook at PRODUCTION_TRAFFIC_SHIFT is refused": {
			`"deploymentConfiguration":{"strategy":"BLUE_GREEN","lifecycleHooks":[{"targetType":"PAUSE","lifecycleStages":["PRODUCTION_TRAFFIC_SHIFT"]}]}`, "InvalidParameterException", "PAUSE hooks cannot be configured at the PRODUCTION_TRAFFIC_SHIFT stage."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.register(t, "web", "repo/web@sha256:one")
			body := `{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":1,` + network + `,` + tc.extra + `}`
			err := f.fail(t, "CreateService", body)
			if err.Code != tc.wantCode || !strings.Contains(err.Message, tc.wantMsg) {
				t.Errorf("CreateService: %s: %s\nwant %s containing %q", err.Code, err.Message, tc.wantCode, tc.wantMsg)
			}
			if _, ok := f.ecs.Service("prod", "web"); ok {
				t.Error("a refused CreateService created the service")
			}
		})
	}
}

func TestStrategyUpdateIsValidatedBeforeAnyChange(t *testing.T) {
	f := newFixture(t)
	f.register(t, "web", "repo/web@sha256:one")
	f.register(t, "web", "repo/web@sha256:two")
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":1,`+network+`,"loadBalancers":[{"targetGroupArn":"`+tgBlue+`","containerName":"web","containerPort":8080}]}`, nil)
	f.clock.Advance(time.Minute)
	err := f.fail(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2","deploymentConfiguration":{"strategy":"BLUE_GREEN"}}`)
	if err.Code != "ClientException" || !strings.Contains(err.Message, "advancedConfiguration field is required") {
		t.Fatalf("UpdateService to BLUE_GREEN without advancedConfiguration: %v", err)
	}
	snap, _ := f.ecs.Service("prod", "web")
	if !strings.HasSuffix(snap.TaskDefinition, "web:1") || len(snap.Deployments) != 1 {
		t.Errorf("a refused update changed the service: %+v", snap)
	}
	// The same update with the load balancer's advanced configuration goes.
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2","deploymentConfiguration":{"strategy":"BLUE_GREEN","bakeTimeInMinutes":1},`+lbAdvance+`}`, nil)
	f.clock.Advance(40 * time.Second)
	var out struct {
		ServiceDeployments []struct {
			Status, LifecycleStage string
		} `json:"serviceDeployments"`
	}
	f.call(t, "DescribeServiceDeployments", `{"serviceDeploymentArns":["`+f.newestSD(t)+`"]}`, &out)
	if got := out.ServiceDeployments[0]; got.Status != "IN_PROGRESS" || got.LifecycleStage != "BAKE_TIME" {
		t.Errorf("blue/green at +40s: %+v, want IN_PROGRESS in BAKE_TIME", got)
	}
	f.clock.Advance(time.Minute)
	f.call(t, "DescribeServiceDeployments", `{"serviceDeploymentArns":["`+f.newestSD(t)+`"]}`, &out)
	if got := out.ServiceDeployments[0]; got.Status != "SUCCESSFUL" {
		t.Errorf("blue/green after the bake: %+v", got)
	}
}

// newestSD returns the ARN of service web's newest service deployment.
func (f *fixture) newestSD(t *testing.T) string {
	t.Helper()
	var out struct {
		ServiceDeployments []struct {
			ServiceDeploymentArn string `json:"serviceDeploymentArn"`
		} `json:"serviceDeployments"`
	}
	f.call(t, "ListServiceDeployments", `{"cluster":"prod","service":"web"}`, &out)
	if len(out.ServiceDeployments) == 0 {
		t.Fatal("no service deployments")
	}
	return out.ServiceDeployments[0].ServiceDeploymentArn
}
