package alarms

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestMissingAndFiring asks the sandbox's CloudWatch, through the real
// SDK client, more names than one call takes.
func TestMissingAndFiring(t *testing.T) {
	sb := sandboxtest.Start(t)
	cw := cloudwatch.NewFromConfig(sb.AWSConfig())
	ctx := context.Background()
	var names []string
	for i := range 120 {
		name := fmt.Sprintf("alarm-%03d", i)
		names = append(names, name)
		if i%40 == 7 {
			continue // never created
		}
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), MetricName: aws.String("5xx"),
			Namespace: aws.String("web"), Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
			Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.SetAlarmState("alarm-100", "ALARM", "5xx"); err != nil {
		t.Fatal(err)
	}
	missing, err := Missing(ctx, cw, names)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alarm-007", "alarm-047", "alarm-087"}, missing); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	states, err := States(ctx, cw, names)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alarm-100"}, Firing(states, names)); diff != "" {
		t.Errorf("firing (-want +got):\n%s", diff)
	}
	if m, err := Missing(ctx, cw, nil); err != nil || m != nil {
		t.Errorf("no names: %v, %v", m, err)
	}
}
