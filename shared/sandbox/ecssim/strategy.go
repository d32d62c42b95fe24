package ecssim

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// Deployment strategies (deploymentConfiguration.strategy).
const (
	strategyRolling   = "ROLLING"
	strategyBlueGreen = "BLUE_GREEN"
	strategyLinear    = "LINEAR"
	strategyCanary    = "CANARY"
)

// Defaults ECS documents for the progressive strategies.
const (
	defaultCanaryPercent = 5.0
	defaultCanaryBake    = 10 // minutes
	defaultStepPercent   = 10.0
	defaultStepBake      = 6 // minutes
	maxBakeMinutes       = 1440
)

// hookStages are the lifecycle stages a hook may name, in the order a
// deployment passes them.
var hookStages = []string{
	"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
	"PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
}

// serviceConnect is the part of a ServiceConnectConfiguration the
// strategies look at.
type serviceConnect struct {
	Enabled bool `json:"enabled"`
}

// checkStrategy validates a service's deployment configuration against its
// load balancers and Service Connect configuration, as CreateService and
// UpdateService do before they change anything. Value ranges are those of
// ECS's API reference; the load balancer messages are ECS's (its blue/green
// troubleshooting guide and answers seen from the service).
func checkStrategy(cfg deploymentConfiguration, lbs []loadBalancer, sc json.RawMessage) error {
	strategy := cfg.Strategy
	switch strategy {
	case strategyRolling, strategyBlueGreen, strategyLinear, strategyCanary:
	default:
		return awsproto.InvalidParameter("1 validation error detected: Value '%s' at 'deploymentConfiguration.strategy' failed to satisfy constraint: Member must satisfy enum value set: [ROLLING, BLUE_GREEN, LINEAR, CANARY]", strategy)
	}
	if err := checkMinutes("deploymentConfiguration.bakeTimeInMinutes", cfg.BakeTimeInMinutes); err != nil {
		return err
	}
	if err := checkLinear(cfg); err != nil {
		return err
	}
	if err := checkCanary(cfg); err != nil {
		return err
	}
	if a := cfg.Alarms; a != nil && a.Enable && len(a.AlarmNames) == 0 {
		return awsproto.InvalidParameter("alarmNames must contain at least one alarm name when alarms are enabled.")
	}
	if err := checkHooks(strategy, cfg.LifecycleHooks); err != nil {
		return err
	}
	return checkLoadBalancers(strategy, lbs, sc)
}

func checkMinutes(field string, v *int32) error {
	if v != nil && (*v < 0 || *v > maxBakeMinutes) {
		return awsproto.InvalidParameter("%s must be between 0 and %d minutes; got %d.", field, maxBakeMinutes, *v)
	}
	return nil
}

// checkPercent accepts multiples of 0.1 in [lo, 100].
func checkPercent(field string, v *float64, lo float64) error {
	if v == nil {
		return nil
	}
	tenths := *v * 10
	if *v < lo || *v > 100 || math.Abs(tenths-math.Round(tenths)) > 1e-6 {
		return awsproto.InvalidParameter("%s must be a multiple of 0.1 from %.1f to 100.0; got %g.", field, lo, *v)
	}
	return nil
}

func checkLinear(cfg deploymentConfiguration) error {
	l := cfg.LinearConfiguration
	if l == nil {
		return nil
	}
	if cfg.Strategy != strategyLinear {
		return awsproto.InvalidParameter("linearConfiguration is only valid when the deployment strategy is LINEAR; the strategy is %s.", cfg.Strategy)
	}
	if err := checkPercent("linearConfiguration.stepPercent", l.StepPercent, 3.0); err != nil {
		return err
	}
	return checkMinutes("linearConfiguration.stepBakeTimeInMinutes", l.StepBakeTimeInMinutes)
}

func checkCanary(cfg deploymentConfiguration) error {
	c := cfg.CanaryConfiguration
	if c == nil {
		return nil
	}
	if cfg.Strategy != strategyCanary {
		return awsproto.InvalidParameter("canaryConfiguration is only valid when the deployment strategy is CANARY; the strategy is %s.", cfg.Strategy)
	}
	if err := checkPercent("canaryConfiguration.canaryPercent", c.CanaryPercent, 0.1); err != nil {
		return err
	}
	return checkMinutes("canaryConfiguration.canaryBakeTimeInMinutes", c.CanaryBakeTimeInMinutes)
}

func checkHooks(strategy string, hooks []lifecycleHook) error {
	if len(hooks) > 0 && strategy == strategyRolling {
		return awsproto.InvalidParameter("lifecycleHooks are only supported with the BLUE_GREEN, LINEAR and CANARY deployment strategies.")
	}
	for i, h := range hooks {
		switch h.TargetType {
		case "", "AWS_LAMBDA":
			if h.HookTargetArn == "" || h.RoleArn == "" {
				return awsproto.InvalidParameter("lifecycleHooks[%d]: hookTargetArn and roleArn are required for an AWS_LAMBDA lifecycle hook.", i)
			}
		case "PAUSE":
		default:
			return awsproto.InvalidParameter("lifecycleHooks[%d].targetType must be AWS_LAMBDA or PAUSE; got %s.", i, h.TargetType)
		}
		if len(h.LifecycleStages) == 0 {
			return awsproto.InvalidParameter("lifecycleHooks[%d].lifecycleStages must name at least one lifecycle stage.", i)
		}
		for _, st := range h.LifecycleStages {
			if !slices.Contains(hookStages, st) {
				return awsproto.InvalidParameter("lifecycleHooks[%d].lifecycleStages: %s is not a lifecycle stage (%s).", i, st, strings.Join(hookStages, ", "))
			}
			if h.TargetType == "PAUSE" && (st == "TEST_TRAFFIC_SHIFT" || st == "PRODUCTION_TRAFFIC_SHIFT") {
				return awsproto.InvalidParameter("lifecycleHooks[%d]: PAUSE hooks cannot be configured at the %s stage.", i, st)
			}
		}
		if t := h.TimeoutConfiguration; t != nil {
			if t.Action != "" && t.Action != "CONTINUE" && t.Action != "ROLLBACK" {
				return awsproto.InvalidParameter("lifecycleHooks[%d].timeoutConfiguration.action must be CONTINUE or ROLLBACK.", i)
			}
			if err := checkMinutes(fmt.Sprintf("lifecycleHooks[%d].timeoutConfiguration.timeoutInMinutes", i), t.TimeoutInMinutes); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLoadBalancers applies ECS's load balancer rules. A non-ROLLING
// strategy needs advancedConfiguration (an alternate target group and a
// production listener rule) on every load balancer. Without a load
// balancer, LINEAR and CANARY need Service Connect; a headless BLUE_GREEN
// service is allowed (ECS then shifts no traffic itself).
func checkLoadBalancers(strategy string, lbs []loadBalancer, sc json.RawMessage) error {
	v1, v2, advanced := 0, 0, 0
	targetGroups := map[string]bool{}
	for _, lb := range lbs {
		if lb.LoadBalancerName != "" {
			v1++
			if lb.AdvancedConfiguration != nil {
				return awsproto.ClientException("advancedConfiguration field is not allowed with ELBv1 loadBalancers")
			}
		}
		if lb.TargetGroupArn != "" {
			v2++
			if targetGroups[lb.TargetGroupArn] {
				return awsproto.InvalidParameter("Duplicate targetGroupArn found: %s", lb.TargetGroupArn)
			}
			targetGroups[lb.TargetGroupArn] = true
		}
		if lb.AdvancedConfiguration != nil {
			advanced++
		}
	}
	if v1 > 0 && v2 > 0 {
		return awsproto.InvalidParameter("All loadBalancers must be strictly either ELBv1 (defining loadBalancerName) or ELBv2 (defining targetGroupArn)")
	}
	if advanced > 0 && advanced < len(lbs) {
		return awsproto.ClientException("Either all or none of the provided loadBalancers must have advancedConfiguration defined")
	}
	if strategy == strategyRolling {
		return nil
	}
	if len(lbs) == 0 {
		var conn serviceConnect
		_ = json.Unmarshal(sc, &conn)
		if conn.Enabled || strategy == strategyBlueGreen {
			return nil
		}
		return awsproto.InvalidParameter("The %s deployment strategy requires a load balancer with advancedConfiguration or a Service Connect configuration.", strategy)
	}
	if advanced < len(lbs) {
		return awsproto.ClientException("advancedConfiguration field is required for all loadBalancers when using the %s deployment strategy", strategyWords[strategy])
	}
	for _, lb := range lbs {
		a := lb.AdvancedConfiguration
		switch {
		case a.AlternateTargetGroupArn == "":
			return awsproto.InvalidParameter("advancedConfiguration.alternateTargetGroupArn is required when using the %s deployment strategy", strategyWords[strategy])
		case a.ProductionListenerRule == "":
			return awsproto.InvalidParameter("advancedConfiguration.productionListenerRule is required when using the %s deployment strategy", strategyWords[strategy])
		case strings.Contains(a.ProductionListenerRule, ":listener/app/"):
			return awsproto.InvalidParameter("productionListenerRule has an invalid ARN format. Must be RuleArn for ALB or ListenerArn for NLB. Got: %s", a.ProductionListenerRule)
		case a.TestListenerRule != "" && a.TestListenerRule == a.ProductionListenerRule:
			return awsproto.InvalidParameter("The following rules cannot be used as both production and test listener rules: %s", a.ProductionListenerRule)
		case targetGroups[a.AlternateTargetGroupArn]:
			return awsproto.InvalidParameter("Duplicate targetGroupArn found: %s", a.AlternateTargetGroupArn)
		}
	}
	return nil
}

// strategyWords names a strategy as ECS's error messages do.
var strategyWords = map[string]string{
	strategyBlueGreen: "Blue/green",
	strategyLinear:    "linear",
	strategyCanary:    "canary",
}

// trafficSteps returns the production traffic weights (percent) a
// deployment of cfg shifts to its target revision, in order; the last is
// 100. ROLLING shifts no traffic and returns nil.
func trafficSteps(cfg deploymentConfiguration) []float64 {
	switch cfg.Strategy {
	case strategyBlueGreen:
		return []float64{100}
	case strategyCanary:
		pct := defaultCanaryPercent
		if c := cfg.CanaryConfiguration; c != nil && c.CanaryPercent != nil {
			pct = *c.CanaryPercent
		}
		if pct >= 100 {
			return []float64{100}
		}
		return []float64{pct, 100}
	case strategyLinear:
		step := defaultStepPercent
		if l := cfg.LinearConfiguration; l != nil && l.StepPercent != nil {
			step = *l.StepPercent
		}
		var out []float64
		for i := 1; ; i++ {
			w := math.Round(float64(i)*step*10) / 10
			if w >= 100 {
				return append(out, 100)
			}
			out = append(out, w)
		}
	}
	return nil
}

// stepBake returns the minutes a deployment of cfg waits after a traffic
// step that is not the last.
func stepBake(cfg deploymentConfiguration) int32 {
	switch cfg.Strategy {
	case strategyCanary:
		if c := cfg.CanaryConfiguration; c != nil && c.CanaryBakeTimeInMinutes != nil {
			return *c.CanaryBakeTimeInMinutes
		}
		return defaultCanaryBake
	case strategyLinear:
		if l := cfg.LinearConfiguration; l != nil && l.StepBakeTimeInMinutes != nil {
			return *l.StepBakeTimeInMinutes
		}
		return defaultStepBake
	}
	return 0
}
