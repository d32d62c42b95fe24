package revision

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// ECSStrategy is ECS's name for a manifest strategy (manifest.Strategies).
func ECSStrategy(strategy string) types.DeploymentStrategy {
	switch strategy {
	case manifest.StrategyBlueGreen:
		return types.DeploymentStrategyBlueGreen
	case manifest.StrategyLinear:
		return types.DeploymentStrategyLinear
	case manifest.StrategyCanary:
		return types.DeploymentStrategyCanary
	}
	return types.DeploymentStrategyRolling
}

// DeploymentConfiguration is the deploymentConfiguration UpdateService
// carries for b (DESIGN §10): the circuit breaker the manifest asks for
// and, when b has a deployment: block, its strategy, bake time, canary or
// linear steps and its alarms, which roll back. A binding without the
// block sends the circuit breaker alone, so the service keeps whatever
// strategy it has. Fields the block leaves out are not sent either: ECS
// keeps the service's values (alarms included: Deckhand never turns a
// service's alarms off by leaving them out).
func DeploymentConfiguration(b *manifest.Service) *types.DeploymentConfiguration {
	cfg := &types.DeploymentConfiguration{DeploymentCircuitBreaker: CircuitBreaker(b)}
	d := b.Deployment
	if d == nil {
		return cfg
	}
	cfg.Strategy = ECSStrategy(d.StrategyName())
	if m, ok := d.BakeMinutes(); ok {
		cfg.BakeTimeInMinutes = aws.Int32(m)
	}
	if c := d.Canary; c != nil {
		cfg.CanaryConfiguration = &types.CanaryConfiguration{CanaryPercent: c.Percent}
		if m, ok := c.BakeMinutes(); ok {
			cfg.CanaryConfiguration.CanaryBakeTimeInMinutes = aws.Int32(m)
		}
	}
	if l := d.Linear; l != nil {
		cfg.LinearConfiguration = &types.LinearConfiguration{StepPercent: l.StepPercent}
		if m, ok := l.StepBakeMinutes(); ok {
			cfg.LinearConfiguration.StepBakeTimeInMinutes = aws.Int32(m)
		}
	}
	if len(d.Alarms) > 0 {
		cfg.Alarms = &types.DeploymentAlarms{AlarmNames: d.Alarms, Enable: true, Rollback: true}
	}
	return cfg
}

// StrategyUnsupported says what b's service lacks for b's strategy, or ""
// when ECS can run it (DESIGN §10, bad input): blueGreen, linear and
// canary need advancedConfiguration (an alternate target group and a
// production listener rule) on every load balancer; without a load
// balancer, linear and canary need Service Connect, and blueGreen runs
// headless. ECS refuses the update otherwise, but only after a revision
// was registered; this lets the deploy engine refuse before any write,
// naming what is missing. svc is the service as DescribeServices answers.
func StrategyUnsupported(b *manifest.Service, svc *types.Service) string {
	if !b.Deployment.Progressive() || svc == nil {
		return ""
	}
	strategy := b.Deployment.StrategyName()
	where := fmt.Sprintf("service %s/%s (binding %s)", b.Cluster, b.Service, b.Name)
	if len(svc.LoadBalancers) == 0 {
		if strategy == manifest.StrategyBlueGreen || serviceConnect(svc) {
			return ""
		}
		return fmt.Sprintf("deployment strategy %s needs a load balancer with an alternate target group and a production listener rule (loadBalancers[].advancedConfiguration), or Service Connect; %s has neither", strategy, where)
	}
	var missing []string
	for i, lb := range svc.LoadBalancers {
		name := aws.ToString(lb.TargetGroupArn)
		if name == "" {
			name = aws.ToString(lb.LoadBalancerName)
		}
		a := lb.AdvancedConfiguration
		switch {
		case lb.LoadBalancerName != nil && lb.TargetGroupArn == nil:
			missing = append(missing, fmt.Sprintf("loadBalancers[%d] (%s) is a Classic Load Balancer, which %s cannot use", i, name, strategy))
		case a == nil:
			missing = append(missing, fmt.Sprintf("loadBalancers[%d] (%s) has no advancedConfiguration: an alternateTargetGroupArn and a productionListenerRule", i, name))
		case aws.ToString(a.AlternateTargetGroupArn) == "":
			missing = append(missing, fmt.Sprintf("loadBalancers[%d] (%s) has no advancedConfiguration.alternateTargetGroupArn", i, name))
		case aws.ToString(a.ProductionListenerRule) == "":
			missing = append(missing, fmt.Sprintf("loadBalancers[%d] (%s) has no advancedConfiguration.productionListenerRule", i, name))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("deployment strategy %s cannot run on %s: %s", strategy, where, strings.Join(missing, "; "))
}

// serviceConnect reports whether the service's PRIMARY deployment has
// Service Connect turned on.
func serviceConnect(svc *types.Service) bool {
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && d.ServiceConnectConfiguration != nil && d.ServiceConnectConfiguration.Enabled {
			return true
		}
	}
	return false
}
