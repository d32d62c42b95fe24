package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/engine/delivery"
)

// deliverySearch is a CloudWatch SEARCH over the tracker's delivery
// metric name, one line per binding: the bindings the tracker has seen,
// however many the fleet has, with nothing listed at synth.
func deliverySearch(metric, stat string) string {
	return fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', '%s', 86400)`, delivery.Namespace, delivery.Dimension, metric, stat)
}

// deliveryWidgets plot the delivery metrics the tracker prints in embedded
// metric format (shared/engine/delivery, DESIGN §13), per binding and day:
// deployments, failures and rollbacks; the change failure rate (the daily
// average of Failures, which is 1 for a failed or rolled-back deployment
// and 0 for a successful one); the median lead time push → SUCCEEDED and
// time to restore rollback → next SUCCEEDED.
func (s *stack) deliveryWidgets() []*[]awscloudwatch.IWidget {
	search := func(metric, stat, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression:   jsii.String(deliverySearch(metric, stat)),
			UsingMetrics: &map[string]awscloudwatch.IMetric{},
			Label:        jsii.String(label),
			Period:       awscdk.Duration_Days(jsii.Number(1)),
		})
	}
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &metrics, Width: jsii.Number(12), Height: jsii.Number(6),
		})
	}
	return []*[]awscloudwatch.IWidget{
		{graph("Delivery: deployments per day, by binding", search(delivery.MetricDeployments, "Sum", "deployments")),
			graph("Delivery: failures and rollbacks per day, by binding",
				search(delivery.MetricFailures, "Sum", "failures"), search(delivery.MetricRollbacks, "Sum", "rollbacks"))},
		{graph("Delivery: change failure rate (0–1), by binding", search(delivery.MetricFailures, "Average", "failure rate")),
			graph("Delivery: lead time push → SUCCEEDED and time to restore (median, ms)",
				search(delivery.MetricLeadTime, "p50", "lead time"), search(delivery.MetricTimeToRestore, "p50", "time to restore"))},
	}
}
