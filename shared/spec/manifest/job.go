package manifest

import (
	"encoding/json"
	"fmt"
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
	if l := j.Launch; l != nil {
		if l.LaunchType != "" && len(l.CapacityProviders) > 0 {
			c.add("use either launchType or capacityProviders, not both", p("launch")...)
		}
		switch l.LaunchType {
		case "", "FARGATE", "EC2", "EXTERNAL":
		default:
			c.add(fmt.Sprintf("%q: want FARGATE, EC2 or EXTERNAL", l.LaunchType), p("launch", "launchType")...)
		}
		for k, cp := range l.CapacityProviders {
			c.required(cp.Provider, p("launch", "capacityProviders", k, "provider")...)
			if cp.Weight < 0 || cp.Weight > 1000 {
				c.add(fmt.Sprintf("weight %d: want 0 to 1000", cp.Weight), p("launch", "capacityProviders", k, "weight")...)
			}
		}
	}
	if n := j.Network; n != nil {
		if len(n.Subnets) == 0 {
			c.add("at least one subnet is required, e.g. `subnets: [subnet-0123456789abcdef0]`", p("network", "subnets")...)
		}
		switch n.AssignPublicIP {
		case "", "ENABLED", "DISABLED":
		default:
			c.add(fmt.Sprintf("%q: want ENABLED or DISABLED", n.AssignPublicIP), p("network", "assignPublicIp")...)
		}
	}
	if o := j.Overrides; o != nil {
		if b, _ := json.Marshal(o); len(b) > maxOverrideChars {
			c.add(fmt.Sprintf("overrides are %d characters; AWS allows at most %d", len(b), maxOverrideChars), p("overrides")...)
		}
		if o.Container != "" {
			if _, ok := j.Images[o.Container]; !ok {
				c.add(fmt.Sprintf("container %q has no entry under images", o.Container), p("overrides", "container")...)
			}
		}
	}
}
