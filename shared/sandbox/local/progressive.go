package local

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// What the seed gives a binding with a deployment: block (DESIGN §10), as
// the service's own IaC would: a load balancer with an alternate target
// group and a production listener rule (ECS's blue/green resources) for
// a blueGreen, linear or canary binding, and its deployment alarms in
// CloudWatch, in OK.

// loadBalancers are b's service's load balancers: one with
// advancedConfiguration for a progressive strategy, none otherwise.
func (st *Stack) loadBalancers(b *manifest.Service) []types.LoadBalancer {
	if !b.Deployment.Progressive() {
		return nil
	}
	elb := func(resource string) *string {
		return aws.String(fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", st.SB.Region(), st.SB.Account(), resource))
	}
	return []types.LoadBalancer{{
		TargetGroupArn: elb("targetgroup/" + b.Service + "-blue/0123456789abcdef"),
		ContainerName:  aws.String(revision.ServicePrimary(b)), ContainerPort: aws.Int32(80),
		AdvancedConfiguration: &types.AdvancedConfiguration{
			AlternateTargetGroupArn: elb("targetgroup/" + b.Service + "-green/fedcba9876543210"),
			ProductionListenerRule:  elb("listener-rule/app/" + b.Cluster + "/0123456789abcdef/0123456789abcdef/0123456789abcdef"),
			RoleArn:                 aws.String(fmt.Sprintf("arn:aws:iam::%s:role/ecs-infrastructure", st.SB.Account())),
		},
	}}
}

// Alarms are the deployment alarms the manifest names, sorted.
func Alarms(m *manifest.Manifest) []string {
	var out []string
	for _, b := range m.Services {
		if b.Deployment != nil {
			for _, a := range b.Deployment.Alarms {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// seedAlarms creates the manifest's deployment alarms, in OK.
func (st *Stack) seedAlarms(ctx context.Context) error {
	for _, name := range Alarms(st.Manifest) {
		if _, err := st.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), Namespace: aws.String("Deckhand/Sandbox"), MetricName: aws.String(name),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		}); err != nil {
			return fmt.Errorf("seed alarm %s: %w", name, err)
		}
		if err := st.SB.SetAlarmState(name, "OK", "seeded"); err != nil {
			return fmt.Errorf("seed alarm %s: %w", name, err)
		}
	}
	return nil
}
