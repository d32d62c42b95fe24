package manifest

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Deployment strategies (deployment.strategy), DESIGN §10. Each is one of
// ECS's deploymentConfiguration.strategy values (ROLLING, BLUE_GREEN,
// LINEAR, CANARY).
const (
	StrategyRolling   = "rolling"
	StrategyBlueGreen = "blueGreen"
	StrategyLinear    = "linear"
	StrategyCanary    = "canary"
)

// Strategies are the deployment strategies a binding may ask for.
var Strategies = []string{StrategyRolling, StrategyBlueGreen, StrategyLinear, StrategyCanary}

// ECS's ranges for a deployment configuration (API reference:
// DeploymentConfiguration, CanaryConfiguration, LinearConfiguration).
const (
	MaxBake              = 1440 * time.Minute // bakeTimeInMinutes and the step bakes: 0 to 1440
	MinCanaryPercent     = 0.1                // canaryPercent: multiples of 0.1 from 0.1 to 100.0
	MinLinearStepPercent = 3.0                // stepPercent: multiples of 0.1 from 3.0 to 100.0
	// MaxAlarms is how many alarm names one DescribeAlarms call takes; the
	// deployer checks a binding's alarms exist with one call.
	MaxAlarms = 100
	// maxAlarmName is CloudWatch's limit on an alarm name.
	maxAlarmName = 255
)

// Deployment is how ECS rolls out a binding's revisions (DESIGN §10): the
// strategy, the bake time after the last traffic shift, the canary or
// linear steps, and the CloudWatch alarms that, in ALARM, roll the
// deployment back. Without a deployment: block, Deckhand leaves the
// service's strategy as it is and sets only the circuit breaker.
type Deployment struct {
	Strategy string `yaml:"strategy,omitempty" json:"strategy,omitempty" jsonschema:"enum=rolling,enum=blueGreen,enum=linear,enum=canary,default=rolling,description=ECS's deployment strategy: rolling (ROLLING)\\, blueGreen (BLUE_GREEN)\\, linear (LINEAR) or canary (CANARY). blueGreen needs an alternate target group and a production listener rule on every load balancer; linear and canary need those or Service Connect."`
	// Bake is bakeTimeInMinutes: how long both revisions keep running
	// after the last traffic shift, in whole minutes.
	Bake   string   `yaml:"bake,omitempty" json:"bake,omitempty" jsonschema:"description=bakeTimeInMinutes: how long the old and new revisions both run after all traffic has shifted\\, in whole minutes (0m to 24h\\, such as 10m). blueGreen\\, linear and canary only."`
	Canary *Canary  `yaml:"canary,omitempty" json:"canary,omitempty" jsonschema:"description=The canary step (strategy: canary only)."`
	Linear *Linear  `yaml:"linear,omitempty" json:"linear,omitempty" jsonschema:"description=The linear steps (strategy: linear only)."`
	Alarms []string `yaml:"alarms,omitempty" json:"alarms,omitempty" jsonschema:"maxItems=100,description=CloudWatch alarm names (in the service's account and Region) ECS watches during the deployment; any in ALARM rolls it back. They must exist when Deckhand deploys."`
}

// Canary is ECS's canaryConfiguration.
type Canary struct {
	Percent *float64 `yaml:"percent,omitempty" json:"percent,omitempty" jsonschema:"minimum=0.1,maximum=100,description=canaryPercent: the share of production traffic the canary gets\\, a multiple of 0.1 from 0.1 to 100 (ECS's default 5)."`
	Bake    string   `yaml:"bake,omitempty" json:"bake,omitempty" jsonschema:"description=canaryBakeTimeInMinutes: how long the canary runs before the rest of the traffic shifts\\, in whole minutes (0m to 24h; ECS's default 10m)."`
}

// Linear is ECS's linearConfiguration.
type Linear struct {
	StepPercent *float64 `yaml:"stepPercent,omitempty" json:"stepPercent,omitempty" jsonschema:"minimum=3,maximum=100,description=stepPercent: the share of production traffic each step adds\\, a multiple of 0.1 from 3 to 100 (ECS's default 10)."`
	StepBake    string   `yaml:"stepBake,omitempty" json:"stepBake,omitempty" jsonschema:"description=stepBakeTimeInMinutes: how long each step runs before the next\\, in whole minutes (0m to 24h; ECS's default 6m). Not applied after 100%."`
}

// StrategyName is the binding's strategy: rolling when it has no
// deployment: block or names none.
func (d *Deployment) StrategyName() string {
	if d == nil || d.Strategy == "" {
		return StrategyRolling
	}
	return d.Strategy
}

// Progressive reports whether the strategy shifts traffic between two
// revisions (blueGreen, linear, canary).
func (d *Deployment) Progressive() bool { return d.StrategyName() != StrategyRolling }

// BakeMinutes is bakeTimeInMinutes; ok is false when bake: is not set.
func (d *Deployment) BakeMinutes() (minutes int32, ok bool) {
	if d == nil {
		return 0, false
	}
	return minutesOf(d.Bake)
}

// BakeMinutes is canaryBakeTimeInMinutes; ok is false when not set.
func (c *Canary) BakeMinutes() (int32, bool) { return minutesOf(c.Bake) }

// StepBakeMinutes is stepBakeTimeInMinutes; ok is false when not set.
func (l *Linear) StepBakeMinutes() (int32, bool) { return minutesOf(l.StepBake) }

// minutesOf reads a validated bake duration.
func minutesOf(s string) (int32, bool) {
	if s == "" {
		return 0, false
	}
	d, _ := parseBake(s)
	return int32(d / time.Minute), true
}

// parseBake reads a bake duration: whole minutes from 0 to 24 hours.
func parseBake(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration; write whole minutes such as 10m, 90m or 1h", s)
	case d < 0 || d > MaxBake:
		return 0, fmt.Errorf("%s is outside ECS's 0 to 1440 minutes (24h)", s)
	case d%time.Minute != 0:
		return 0, fmt.Errorf("%s is not a whole number of minutes; ECS bakes in minutes", s)
	}
	return d, nil
}

func (c *checker) deployment(d *Deployment, i int) {
	if d == nil {
		return
	}
	at := func(field ...any) []any { return append([]any{"services", i, "deployment"}, field...) }
	strategy := d.StrategyName()
	known := false
	for _, s := range Strategies {
		known = known || s == strategy
	}
	if !known {
		c.add(fmt.Sprintf("unknown strategy %q; want %s", d.Strategy, strings.Join(Strategies, ", ")), at("strategy")...)
	}
	if d.Bake != "" {
		if _, err := parseBake(d.Bake); err != nil {
			c.add(err.Error(), at("bake")...)
		} else if known && strategy == StrategyRolling {
			c.add("a rolling deployment has no bake time; bake is for blueGreen, linear and canary", at("bake")...)
		}
	}
	if cn := d.Canary; cn != nil {
		if known && strategy != StrategyCanary {
			c.add(fmt.Sprintf("canary: is for strategy: canary; the strategy is %s", strategy), at("canary")...)
		}
		c.percent(cn.Percent, MinCanaryPercent, "canaryPercent", at("canary", "percent")...)
		if cn.Bake != "" {
			if _, err := parseBake(cn.Bake); err != nil {
				c.add(err.Error(), at("canary", "bake")...)
			}
		}
	}
	if l := d.Linear; l != nil {
		if known && strategy != StrategyLinear {
			c.add(fmt.Sprintf("linear: is for strategy: linear; the strategy is %s", strategy), at("linear")...)
		}
		c.percent(l.StepPercent, MinLinearStepPercent, "stepPercent", at("linear", "stepPercent")...)
		if l.StepBake != "" {
			if _, err := parseBake(l.StepBake); err != nil {
				c.add(err.Error(), at("linear", "stepBake")...)
			}
		}
	}
	c.alarms(d.Alarms, at("alarms")...)
}

// percent checks a traffic percentage against ECS's range: multiples of
// 0.1 from lo to 100.
func (c *checker) percent(v *float64, lo float64, ecsName string, path ...any) {
	if v == nil {
		return
	}
	tenths := *v * 10
	if *v < lo || *v > 100 || math.Abs(tenths-math.Round(tenths)) > 1e-9 {
		c.add(fmt.Sprintf("%g: ECS's %s is a multiple of 0.1 from %g to 100", *v, ecsName, lo), path...)
	}
}

func (c *checker) alarms(names []string, path ...any) {
	if len(names) > MaxAlarms {
		c.add(fmt.Sprintf("%d alarms; at most %d", len(names), MaxAlarms), path...)
	}
	seen := map[string]int{}
	for j, n := range names {
		p := append(append([]any{}, path...), j)
		switch {
		case strings.TrimSpace(n) == "":
			c.add("an alarm name is required", p...)
		case len(n) > maxAlarmName:
			c.add(fmt.Sprintf("alarm name of %d characters; CloudWatch allows at most %d", len(n), maxAlarmName), p...)
		case strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			c.add(fmt.Sprintf("alarm name %q has a control character", n), p...)
		}
		if first, dup := seen[n]; dup && n != "" {
			c.add(fmt.Sprintf("alarm %q is listed twice (first at alarms[%d])", n, first), p...)
		}
		if _, dup := seen[n]; !dup {
			seen[n] = j
		}
	}
}
