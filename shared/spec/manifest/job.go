package manifest

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/spec/schedule"
)

// checkSchedule validates an EventBridge Scheduler expression with the
// schedule package, which names the field at fault and gives an example.
func checkSchedule(expr string) error {
	return schedule.Validate(expr)
}

// TimeoutDuration returns the job's timeout, or 0 when none is set.
func (j Job) TimeoutDuration() time.Duration {
	d, _ := time.ParseDuration(j.Timeout)
	return d
}

func (c *checker) jobRun(j *Job, p func(...any) []any) {
	switch j.Overlap {
	case "":
		j.Overlap = OverlapForbid
	case OverlapAllow, OverlapForbid, OverlapReplace:
	default:
		c.add(fmt.Sprintf("%q: want allow, forbid or replace", j.Overlap), p("overlap")...)
	}
	if j.Timeout != "" {
		d, err := time.ParseDuration(j.Timeout)
		if err != nil || d <= 0 {
			c.add(fmt.Sprintf("%q is not a positive duration; write e.g. 2h, 90m or 45s", j.Timeout), p("timeout")...)
		}
	}
	if j.Retries < 0 || j.Retries > 10 {
		c.add(fmt.Sprintf("%d: want 0 to 10", j.Retries), p("retries")...)
	}
	c.jobLaunch(j, p)
	c.jobNetwork(j, p)
	if o := j.Overrides; o != nil {
		if b, _ := json.Marshal(o); len(b) > maxOverrideChars {
			c.add(fmt.Sprintf("overrides are %d characters; AWS allows at most %d", len(b), maxOverrideChars), p("overrides")...)
		}
		switch {
		case o.Container != "" && len(j.Images) > 0:
			if _, ok := j.Images[o.Container]; !ok {
				c.add(fmt.Sprintf("container %q has no entry under images", o.Container), p("overrides", "container")...)
			}
		case o.Container == "" && len(j.Images) == 0 && (len(o.Command) > 0 || len(o.Environment) > 0):
			c.add("name the container to override: the job has no images: to take it from", p("overrides", "container")...)
		}
	}
}

// RunTask's limits on a capacity-provider strategy and an awsvpc
// configuration (InvalidParameterException beyond them).
const (
	maxCapacityProviders = 20
	maxSubnets           = 16
	maxSecurityGroups    = 5
)

// Fargate reports whether the job's launch is on Fargate: the FARGATE
// launch type, or a strategy of only FARGATE and FARGATE_SPOT. Without
// launch: it runs on the cluster's default strategy, which the manifest
// does not know (false).
func (l *Launch) Fargate() bool {
	if l == nil {
		return false
	}
	if l.LaunchType != "" {
		return l.LaunchType == "FARGATE"
	}
	for _, cp := range l.CapacityProviders {
		if cp.Provider != "FARGATE" && cp.Provider != "FARGATE_SPOT" {
			return false
		}
	}
	return len(l.CapacityProviders) > 0
}

// onEC2 reports whether the launch is known not to be Fargate.
func (l *Launch) onEC2() bool {
	return l != nil && (l.LaunchType == "EC2" || l.LaunchType == "EXTERNAL" ||
		len(l.CapacityProviders) > 0 && !slices.ContainsFunc(l.CapacityProviders, func(cp CapacityProvider) bool {
			return cp.Provider == "FARGATE" || cp.Provider == "FARGATE_SPOT"
		}))
}

// jobLaunch refuses launch settings RunTask refuses.
func (c *checker) jobLaunch(j *Job, p func(...any) []any) {
	l := j.Launch
	if l == nil {
		return
	}
	if l.LaunchType != "" && len(l.CapacityProviders) > 0 {
		c.add("use either launchType or capacityProviders, not both (RunTask refuses both)", p("launch")...)
	}
	switch l.LaunchType {
	case "", "FARGATE", "EC2", "EXTERNAL":
	default:
		c.add(fmt.Sprintf("%q: want FARGATE, EC2 or EXTERNAL", l.LaunchType), p("launch", "launchType")...)
	}
	if l.PlatformVersion != "" && l.onEC2() {
		c.add("platformVersion is for Fargate; RunTask refuses it on EC2 and EXTERNAL", p("launch", "platformVersion")...)
	}
	if n := len(l.CapacityProviders); n > maxCapacityProviders {
		c.add(fmt.Sprintf("%d capacity providers; a strategy may have at most %d", n, maxCapacityProviders), p("launch", "capacityProviders")...)
	}
	withBase, weighted := -1, false
	for k, cp := range l.CapacityProviders {
		c.required(cp.Provider, p("launch", "capacityProviders", k, "provider")...)
		if cp.Weight < 0 || cp.Weight > 1000 {
			c.add(fmt.Sprintf("weight %d: want 0 to 1000", cp.Weight), p("launch", "capacityProviders", k, "weight")...)
		}
		weighted = weighted || cp.Weight > 0
		if cp.Base > 0 {
			if withBase >= 0 {
				c.add(fmt.Sprintf("only one capacity provider of a strategy may have a base; capacityProviders[%d] has one too", withBase), p("launch", "capacityProviders", k, "base")...)
			}
			withBase = k
		}
	}
	if len(l.CapacityProviders) > 1 && !weighted {
		c.add("at least one capacity provider needs a weight above 0; RunTask refuses a strategy whose weights are all 0", p("launch", "capacityProviders")...)
	}
}

// jobNetwork refuses awsvpc settings RunTask refuses.
func (c *checker) jobNetwork(j *Job, p func(...any) []any) {
	n := j.Network
	if n == nil {
		return
	}
	if len(n.Subnets) == 0 {
		c.add("at least one subnet is required, e.g. `subnets: [subnet-0123456789abcdef0]`", p("network", "subnets")...)
	}
	if len(n.Subnets) > maxSubnets {
		c.add(fmt.Sprintf("%d subnets; RunTask takes at most %d", len(n.Subnets), maxSubnets), p("network", "subnets")...)
	}
	if len(n.SecurityGroups) > maxSecurityGroups {
		c.add(fmt.Sprintf("%d security groups; RunTask takes at most %d", len(n.SecurityGroups), maxSecurityGroups), p("network", "securityGroups")...)
	}
	switch n.AssignPublicIP {
	case "", "DISABLED":
	case "ENABLED":
		if j.Launch.onEC2() {
			c.add("a public IP is for Fargate tasks; RunTask refuses ENABLED on EC2 and EXTERNAL (\"Assign public IP is not supported for this launch type\")", p("network", "assignPublicIp")...)
		}
	default:
		c.add(fmt.Sprintf("%q: want ENABLED or DISABLED", n.AssignPublicIP), p("network", "assignPublicIp")...)
	}
}
