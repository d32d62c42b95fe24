package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/alarms"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// Progressive is how far a deployment got, as ECS's service-deployment
// record says (DESIGN §10): for blue/green, linear and canary, the
// lifecycle stage, the share of production traffic on the new revision,
// the traffic step and the bake time left; for any strategy, the alarms
// that fired. In JSON, BakeLeft is "bakeLeftMs", in milliseconds.
type Progressive struct {
	Strategy string `json:"strategy"`
	// Status is the record's status (IN_PROGRESS, SUCCESSFUL, ...).
	Status string `json:"status,omitempty"`
	Stage  string `json:"stage,omitempty"`
	// Traffic is the new revision's share of production traffic (percent).
	Traffic float64 `json:"traffic"`
	// Step of Steps is the traffic step reached (0 before the first).
	Step  int `json:"step"`
	Steps int `json:"steps,omitempty"`
	// BakeLeft is what is left of the current bake (a canary's or a
	// linear step's, or the final bake time); 0 when not baking.
	BakeLeft time.Duration `json:"-"`
	// Triggered are the alarms that went into ALARM during the deployment.
	Triggered []string `json:"triggered,omitempty"`
	// Cause names what failed it (events.Cause*), once it failed.
	Cause string `json:"cause,omitempty"`
}

// MarshalJSON writes BakeLeft as bakeLeftMs.
func (p Progressive) MarshalJSON() ([]byte, error) {
	type plain Progressive
	return json.Marshal(struct {
		plain
		BakeLeftMS int64 `json:"bakeLeftMs,omitempty"`
	}{plain(p), p.BakeLeft.Milliseconds()})
}

// Shifting reports whether the strategy shifts traffic in steps.
func (p *Progressive) Shifting() bool {
	return p != nil && p.Strategy != string(types.DeploymentStrategyRolling)
}

// String is the progress for people: "LINEAR 50% (step 2/4), bake 1m left".
func (p *Progressive) String() string {
	if p == nil {
		return "-"
	}
	s := p.Strategy
	if p.Shifting() && p.Status != "" {
		s += fmt.Sprintf(" %g%%", p.Traffic)
		if p.Steps > 1 {
			s += fmt.Sprintf(" (step %d/%d)", p.Step, p.Steps)
		}
		if p.Stage != "" {
			s += " " + p.Stage
		}
	}
	if p.BakeLeft > 0 {
		s += ", bake " + p.BakeLeft.Round(time.Second).String() + " left"
	}
	if len(p.Triggered) > 0 {
		s += fmt.Sprintf(", alarm %v fired", p.Triggered)
	}
	return s
}

// DeploymentProgress reads the record of the service's deployment id (the PRIMARY
// deployment when id is empty) and says how far it got, at now. It makes
// two calls (ListServiceDeployments, DescribeServiceDeployments); nil when
// ECS keeps no record of it.
func (e *Env) DeploymentProgress(ctx context.Context, svc *types.Service, id string, now time.Time) (*Progressive, error) {
	if id == "" {
		for _, d := range svc.Deployments {
			if aws.ToString(d.Status) == "PRIMARY" {
				id = aws.ToString(d.Id)
			}
		}
	}
	list, err := e.ECS.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: svc.ClusterArn, Service: svc.ServiceName, MaxResults: aws.Int32(10)})
	if err != nil {
		return nil, fmt.Errorf("list service deployments of %s: %w", aws.ToString(svc.ServiceName), err)
	}
	brief := revision.RecordOf(list.ServiceDeployments, id)
	if brief == nil {
		return nil, nil
	}
	out, err := e.ECS.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(brief.ServiceDeploymentArn)}})
	if err != nil || len(out.ServiceDeployments) == 0 {
		return nil, err
	}
	return progressFrom(&out.ServiceDeployments[0], now), nil
}

// progressFrom reads a service-deployment record.
func progressFrom(sd *types.ServiceDeployment, now time.Time) *Progressive {
	p := &Progressive{Strategy: string(types.DeploymentStrategyRolling), Status: string(sd.Status), Stage: string(sd.LifecycleStage)}
	cfg := sd.DeploymentConfiguration
	if cfg != nil && cfg.Strategy != "" {
		p.Strategy = string(cfg.Strategy)
	}
	if t := sd.TargetServiceRevision; t != nil && t.RequestedProductionTrafficWeight != nil {
		p.Traffic = *t.RequestedProductionTrafficWeight
	}
	steps := trafficSteps(cfg)
	p.Steps = len(steps)
	for i, w := range steps {
		if p.Traffic >= w-1e-9 {
			p.Step = i + 1
		}
	}
	if sd.Alarms != nil {
		p.Triggered = sd.Alarms.TriggeredAlarmNames
	}
	p.Cause = revision.CauseOf(sd)
	if sd.Status == types.ServiceDeploymentStatusInProgress && cfg != nil {
		var bake int32
		switch {
		case sd.LifecycleStage == types.ServiceDeploymentLifecycleStageBakeTime:
			bake = aws.ToInt32(cfg.BakeTimeInMinutes)
		case sd.LifecycleStage == types.ServiceDeploymentLifecycleStageProductionTrafficShift && p.Traffic < 100:
			bake = stepBakeMinutes(cfg)
		}
		if left := time.Duration(bake)*time.Minute - now.Sub(aws.ToTime(sd.UpdatedAt)); bake > 0 && left > 0 {
			p.BakeLeft = left
		}
	}
	return p
}

// trafficSteps are the production weights a deployment of cfg shifts to,
// with ECS's defaults (canary 5%, linear 10% a step).
func trafficSteps(cfg *types.DeploymentConfiguration) []float64 {
	if cfg == nil {
		return nil
	}
	switch cfg.Strategy {
	case types.DeploymentStrategyBlueGreen:
		return []float64{100}
	case types.DeploymentStrategyCanary:
		pct := 5.0
		if c := cfg.CanaryConfiguration; c != nil && c.CanaryPercent != nil {
			pct = *c.CanaryPercent
		}
		if pct >= 100 {
			return []float64{100}
		}
		return []float64{pct, 100}
	case types.DeploymentStrategyLinear:
		step := 10.0
		if l := cfg.LinearConfiguration; l != nil && l.StepPercent != nil {
			step = *l.StepPercent
		}
		var out []float64
		for i := 1; ; i++ {
			if w := math.Round(float64(i)*step*10) / 10; w < 100 {
				out = append(out, w)
				continue
			}
			return append(out, 100)
		}
	}
	return nil
}

// stepBakeMinutes is the bake after a canary or linear step (ECS's
// defaults: 10 and 6 minutes).
func stepBakeMinutes(cfg *types.DeploymentConfiguration) int32 {
	switch cfg.Strategy {
	case types.DeploymentStrategyCanary:
		if c := cfg.CanaryConfiguration; c != nil && c.CanaryBakeTimeInMinutes != nil {
			return *c.CanaryBakeTimeInMinutes
		}
		return 10
	case types.DeploymentStrategyLinear:
		if l := cfg.LinearConfiguration; l != nil && l.StepBakeTimeInMinutes != nil {
			return *l.StepBakeTimeInMinutes
		}
		return 6
	}
	return 0
}

// firingAlarms are the named alarms in ALARM now (nil without a CloudWatch
// client or names).
func (e *Env) firingAlarms(ctx context.Context, names []string) ([]string, error) {
	if e.Alarms == nil || len(names) == 0 {
		return nil, nil
	}
	states, err := alarms.States(ctx, e.Alarms, names)
	if err != nil {
		return nil, err
	}
	return alarms.Firing(states, names), nil
}

// AlarmProblem is a deployment alarm a binding names that CloudWatch does
// not have.
type AlarmProblem struct {
	Binding string `json:"binding"`
	Alarm   string `json:"alarm"`
	Region  string `json:"region"`
}

func (p AlarmProblem) String() string {
	return fmt.Sprintf("binding %s: deployment.alarms names %s, which CloudWatch does not have in %s", p.Binding, p.Alarm, p.Region)
}

// CheckAlarms lists the deployment alarms of the named bindings (all when
// none) that CloudWatch does not have: the deployer would refuse their
// deploys (AlarmNotFound). `deckhand verify` and `validate --remote` call
// it. It needs Env.Alarms.
func (e *Env) CheckAlarms(ctx context.Context, bindings ...string) ([]AlarmProblem, error) {
	if e.Alarms == nil {
		return nil, fmt.Errorf("check alarms: no CloudWatch client")
	}
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	var out []AlarmProblem
	for i := range m.Services {
		b := &m.Services[i]
		if len(bindings) > 0 && !slices.Contains(bindings, b.Name) || b.Deployment == nil {
			continue
		}
		missing, err := alarms.Missing(ctx, e.Alarms, b.Deployment.Alarms)
		if err != nil {
			return nil, fmt.Errorf("binding %s: %w", b.Name, err)
		}
		for _, a := range missing {
			out = append(out, AlarmProblem{Binding: b.Name, Alarm: a, Region: e.Region})
		}
	}
	return out, nil
}
