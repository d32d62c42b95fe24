package chaos

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/events"
)

// Progressive delivery (DESIGN §10, issue 12): every tenth service from
// the fourth deploys CANARY and every tenth from the eighth LINEAR, each
// watched by an alarm of its own; 0.5% of seconds put a random alarm in
// ALARM for 20 to 60 seconds, so deployments in flight are rolled back by their
// alarm while others complete. Invariant 12: a deployment whose alarm
// fired is never reported SUCCEEDED.

// InvAlarmNeverSucceeded is invariant 12.
const InvAlarmNeverSucceeded = "12 a deployment whose alarm fired is never SUCCEEDED"

// progressive gives service i of the world its deployment: block.
func (w *world) progressive(s *service, i int) {
	alarm := "chaos-" + s.name
	switch i % 10 {
	case 3:
		s.deployment = fmt.Sprintf("{strategy: canary, bake: 0m, canary: {percent: 20, bake: 1m}, alarms: [%s]}", alarm)
	case 7:
		s.deployment = fmt.Sprintf("{strategy: linear, bake: 0m, linear: {stepPercent: 50, stepBake: 1m}, alarms: [%s]}", alarm)
	default:
		return
	}
	w.alarms = append(w.alarms, alarm)
}

// flipAlarm turns a random alarm to ALARM for 20 to 60 seconds (calm
// turns it back), as a short burst of errors would.
func (r *runner) flipAlarm(step int) {
	if len(r.w.alarms) == 0 {
		return
	}
	a := r.w.alarms[r.rnd.IntN(len(r.w.alarms))]
	if r.firing[a] > 0 {
		return
	}
	if err := r.sb.SetAlarmState(a, "ALARM", "chaos"); err != nil {
		r.res.HarnessErrors = append(r.res.HarnessErrors, fmt.Errorf("set alarm %s ALARM: %w", a, err))
		return
	}
	r.firing[a] = step + 20 + r.rnd.IntN(41)
	r.res.AlarmFlips++
}

// calm turns the alarms whose burst ended at step back to OK.
func (r *runner) calm(step int) {
	for _, a := range r.w.alarms {
		if until := r.firing[a]; until > 0 && step >= until {
			if err := r.sb.SetAlarmState(a, "OK", "chaos"); err != nil {
				r.res.HarnessErrors = append(r.res.HarnessErrors, err)
			}
			r.firing[a] = 0
		}
	}
}

// calmAlarms turns every alarm back to OK before the final pushes.
func (r *runner) calmAlarms() {
	for _, a := range r.w.alarms {
		if r.firing[a] > 0 {
			if err := r.sb.SetAlarmState(a, "OK", "chaos ends"); err != nil {
				r.res.HarnessErrors = append(r.res.HarnessErrors, err)
			}
			r.firing[a] = 0
		}
	}
}

// alarmNeverSucceeded is invariant 12: no SUCCEEDED verdict names a
// deployment whose service-deployment record says an alarm fired. It
// counts the deployments whose alarm fired (Checked) and reads ECS's
// records through the sandbox's own API.
func (c *checker) alarmNeverSucceeded(ctx context.Context) (Row, error) {
	row := Row{Name: InvAlarmNeverSucceeded}
	api := ecs.NewFromConfig(c.res.sb.AWSConfig())
	fired := map[string]bool{} // deployment id
	for _, s := range c.w.services {
		if s.deployment == "" {
			continue
		}
		in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(s.name), MaxResults: aws.Int32(100)}
		list, err := api.ListServiceDeployments(ctx, in)
		if err != nil {
			return row, fmt.Errorf("list service deployments of %s: %w", s.name, err)
		}
		for chunk := range chunks(list.ServiceDeployments, 20) {
			var arns []string
			for _, b := range chunk {
				arns = append(arns, aws.ToString(b.ServiceDeploymentArn))
			}
			out, err := api.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: arns})
			if err != nil {
				return row, fmt.Errorf("describe service deployments of %s: %w", s.name, err)
			}
			for _, sd := range out.ServiceDeployments {
				if sd.Alarms != nil && len(sd.Alarms.TriggeredAlarmNames) > 0 && sd.TargetServiceRevision != nil {
					arn := aws.ToString(sd.TargetServiceRevision.Arn)
					fired["ecs-svc/"+lastPart(arn)] = true
				}
			}
		}
	}
	row.Checked = len(fired)
	for _, d := range c.res.Deployments {
		if d.Status == events.StatusSucceeded && fired[d.DeploymentID] {
			row.Violations = append(row.Violations, fmt.Sprintf("%s SUCCEEDED for deployment %s, whose alarm fired", d.Service, d.DeploymentID))
		}
	}
	return row, nil
}

func lastPart(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}

func chunks[T any](xs []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(xs) > 0 {
			k := min(n, len(xs))
			if !yield(xs[:k]) {
				return
			}
			xs = xs[k:]
		}
	}
}

// rolledBackByAlarm reports whether the digest's deployment on the
// service was ROLLED_BACK (or FAILED) by an alarm: a healthy image an
// alarm turned away is not the service's image to converge on.
func (c *checker) rolledBackByAlarm(svc, container, digest string) bool {
	for _, d := range c.res.Deployments {
		if d.Service == svc && (d.Status == events.StatusRolledBack || d.Status == events.StatusFailed) &&
			events.CauseKind(d.Cause) == "alarm" && d.Containers[container].NewDigest == digest {
			return true
		}
	}
	return false
}
