package main

import (
	"fmt"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/events"
)

// metricNamespace holds the metrics derived from Deckhand's events.
const metricNamespace = "Deckhand"

// Metric names published by the events log's metric filters.
const (
	metricDeployments        = "Deployments"
	metricJobRuns            = "JobRuns"
	metricDeploymentDuration = "DeploymentDuration"
	metricJobDuration        = "JobDuration"
)

// alertStatuses are the Deckhand statuses that notify people.
var alertStatuses = []string{
	string(events.StatusFailed), string(events.StatusRolledBack), string(events.JobTimedOut),
}

var (
	deploymentStatuses = []events.DeploymentStatus{
		events.StatusStarted, events.StatusSucceeded, events.StatusFailed, events.StatusRolledBack,
		events.StatusSkipped, events.StatusSuperseded, events.StatusHeld, events.StatusAlreadyDeployed,
	}
	jobStatuses = []events.JobStatus{
		events.JobStarted, events.JobSkippedOverlap, events.JobSucceeded,
		events.JobFailed, events.JobTimedOut, events.JobRetrying,
	}
)

// addOperations adds the alarm topic, the alarms, the notification rule and
// the dashboard (issue #5 §7).
func (s *stack) addOperations() {
	s.addTopic()
	opsDLQ := s.newDLQ("OpsRuleDLQ", false)
	s.addNotifications(opsDLQ)
	eventLog := s.addEventLog(opsDLQ)
	s.addMetricFilters(eventLog)
	s.addAlarms()
	s.addDashboard()
}

// addTopic creates the alarm topic. It is encrypted with a customer
// managed key because CloudWatch and EventBridge cannot publish to a topic
// under the AWS managed SNS key.
func (s *stack) addTopic() {
	key := awskms.NewKey(s.Stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Deckhand alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	for _, svc := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"} {
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc), nil)},
			Actions:    strs([]string{"kms:Decrypt", "kms:GenerateDataKey"}),
			Resources:  anyResourcePtr(), // in a key policy "*" is this key
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": s.Account()},
			},
		}), nil)
	}
	s.topic = awssns.NewTopic(s.Stack, jsii.String("Alarms"), &awssns.TopicProps{
		MasterKey:  key,
		EnforceSSL: jsii.Bool(true),
	})
	if s.cfg.AlarmEmail != "" {
		s.topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.cfg.AlarmEmail), nil))
	}
}

func anyResourcePtr() *[]*string { return &[]*string{jsii.String("*")} }

// addNotifications sends FAILED, ROLLED_BACK and TIMED_OUT to the topic.
func (s *stack) addNotifications(dlq awssqs.Queue) {
	awsevents.NewRule(s.Stack, jsii.String("Notify"), &awsevents.RuleProps{
		Description: jsii.String("Deckhand: failed, rolled-back and timed-out deployments and jobs, to the alarm topic"),
		EventBus:    s.bus,
		EventPattern: &awsevents.EventPattern{
			Source:     strs([]string{events.SourceDeckhand}),
			DetailType: strs([]string{events.DetailTypeDeckhandDeployment, events.DetailTypeDeckhandJob}),
			Detail:     &map[string]any{"status": alertStatuses},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(s.topic, &awseventstargets.SnsTopicProps{
			DeadLetterQueue: dlq,
			RetryAttempts:   jsii.Number(targetRetryAttempts),
			MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(targetMaxEventAgeSec)),
		})},
	})
}

// addAlarms: every DLQ's depth, and each function's errors and throttles.
func (s *stack) addAlarms() {
	action := awscloudwatchactions.NewSnsAction(s.topic)
	alarm := func(id, desc string, metric awscloudwatch.IMetric) {
		a := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(desc),
			Metric:             metric,
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
	}
	fiveMin := awscdk.Duration_Minutes(jsii.Number(5))
	for _, q := range s.dlqs {
		id := *q.Node().Id()
		alarm(id+"Depth", "Deckhand: messages in "+id+"; inspect and redrive them",
			q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period: fiveMin, Statistic: jsii.String("Maximum"),
			}))
	}
	for _, name := range Functions {
		fn := s.fns[name]
		id := constructID(name)
		alarm(id+"Errors", "Deckhand: "+name+" function errors",
			fn.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMin, Statistic: jsii.String("Sum")}))
		alarm(id+"Throttles", "Deckhand: "+name+" function throttles",
			fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: fiveMin, Statistic: jsii.String("Sum")}))
	}
}

// addEventLog records every Deckhand event in a log group, for the metric
// filters and for people. The rule is an L1 because the L2 CloudWatch Logs
// target installs its resource policy through a custom-resource Lambda;
// AWS::Logs::ResourcePolicy does the same natively.
func (s *stack) addEventLog(dlq awssqs.Queue) awslogs.LogGroup {
	lg := s.logGroup("EventLog")
	lgARN := s.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("logs"),
		Resource:     jsii.String("log-group"),
		ResourceName: lg.LogGroupName(),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	rule := awsevents.NewCfnRule(s.Stack, jsii.String("EventLogRule"), &awsevents.CfnRuleProps{
		Description:  jsii.String("Deckhand: record every Deckhand event for metrics and audit"),
		EventBusName: s.bus.EventBusName(),
		EventPattern: &map[string]any{"source": []string{events.SourceDeckhand}},
		State:        jsii.String("ENABLED"),
		Targets: &[]*awsevents.CfnRule_TargetProperty{{
			Id:               jsii.String("EventLog"),
			Arn:              lgARN,
			DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
			RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(targetRetryAttempts),
				MaximumEventAgeInSeconds: jsii.Number(targetMaxEventAgeSec),
			},
		}},
	})
	dlq.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    strs([]string{"sqs:SendMessage"}),
		Resources:  &[]*string{dlq.QueueArn()},
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": rule.AttrArn()}},
	}))
	policy := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": []string{"events.amazonaws.com", "delivery.logs.amazonaws.com"}},
			"Action":    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			"Resource":  lg.LogGroupArn(),
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": rule.AttrArn()}},
		}},
	}
	awslogs.NewCfnResourcePolicy(s.Stack, jsii.String("EventLogPolicy"), &awslogs.CfnResourcePolicyProps{
		PolicyName:     awscdk.Fn_Join(jsii.String("-"), &[]*string{s.StackName(), jsii.String("deckhand-events")}),
		PolicyDocument: s.ToJsonString(policy, nil),
	})
	return lg
}

// addMetricFilters turns the event log into metrics: counts by status and
// durations of finished deployments and job runs. Events are the source of
// truth (DESIGN §6), so the metrics need no code in the functions; the
// alternative, EMF lines from each function, would tie the dashboard to
// their log formats.
func (s *stack) addMetricFilters(lg awslogs.LogGroup) {
	fromDeckhand := awslogs.FilterPattern_StringValue(jsii.String("$.source"), jsii.String("="), jsii.String(events.SourceDeckhand))
	status := &map[string]*string{"Status": jsii.String("$.detail.status")}
	filter := func(id, metric, value, kindField string, unit awscloudwatch.Unit, extra ...awslogs.JsonPattern) {
		patterns := append([]awslogs.JsonPattern{fromDeckhand, awslogs.FilterPattern_Exists(jsii.String(kindField))}, extra...)
		awslogs.NewMetricFilter(s.Stack, jsii.String(id), &awslogs.MetricFilterProps{
			LogGroup:        lg,
			FilterPattern:   awslogs.FilterPattern_All(patterns...),
			MetricNamespace: jsii.String(metricNamespace),
			MetricName:      jsii.String(metric),
			MetricValue:     jsii.String(value),
			Dimensions:      status,
			Unit:            unit,
		})
	}
	// A deployment event always names its binding, a job event its job.
	filter("DeploymentsMetric", metricDeployments, "1", "$.detail.binding", awscloudwatch.Unit_COUNT)
	filter("JobRunsMetric", metricJobRuns, "1", "$.detail.job", awscloudwatch.Unit_COUNT)
	duration := awslogs.FilterPattern_Exists(jsii.String("$.detail.durationMs"))
	filter("DeploymentDurationMetric", metricDeploymentDuration, "$.detail.durationMs", "$.detail.binding", awscloudwatch.Unit_MILLISECONDS, duration)
	filter("JobDurationMetric", metricJobDuration, "$.detail.durationMs", "$.detail.job", awscloudwatch.Unit_MILLISECONDS, duration)
	// DESIGN §10: deployments started by strategy, rollbacks by cause.
	dimension := func(id, metric, field string, status events.DeploymentStatus) {
		awslogs.NewMetricFilter(s.Stack, jsii.String(id), &awslogs.MetricFilterProps{
			LogGroup: lg,
			FilterPattern: awslogs.FilterPattern_All(fromDeckhand, awslogs.FilterPattern_Exists(jsii.String(field)),
				awslogs.FilterPattern_StringValue(jsii.String("$.detail.status"), jsii.String("="), jsii.String(string(status)))),
			MetricNamespace: jsii.String(metricNamespace), MetricName: jsii.String(metric), MetricValue: jsii.String("1"),
			Dimensions: &map[string]*string{dimensionOf[metric]: jsii.String(field)}, Unit: awscloudwatch.Unit_COUNT,
		})
	}
	dimension("DeploymentsByStrategyMetric", metricByStrategy, "$.detail.strategy", events.StatusStarted)
	dimension("RollbacksByCauseMetric", metricByCause, "$.detail.cause", events.StatusRolledBack)
}

// Metrics of DESIGN §10 and the dimension each is split by.
const (
	metricByStrategy = "DeploymentsByStrategy"
	metricByCause    = "RollbacksByCause"
)

var dimensionOf = map[string]string{metricByStrategy: "Strategy", metricByCause: "Cause"}

// search graphs every value of a metric's dimension (a cause names its
// alarm or hook, so the values are not known at synth time).
func search(metric string) *[]awscloudwatch.IMetric {
	return &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("SEARCH('{%s,%s} MetricName=\"%s\"', 'Sum', 3600)", metricNamespace, dimensionOf[metric], metric)),
		Label:      jsii.String(""), Period: awscdk.Duration_Hours(jsii.Number(1)),
	})}
}

// addDashboard shows deployments and job runs by outcome, durations, DLQ
// depth and function health.
func (s *stack) addDashboard() {
	hour := awscdk.Duration_Hours(jsii.Number(1))
	byStatus := func(metric string, statuses []string) *[]awscloudwatch.IMetric {
		var out []awscloudwatch.IMetric
		for _, st := range statuses {
			out = append(out, awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:     jsii.String(metricNamespace),
				MetricName:    jsii.String(metric),
				DimensionsMap: &map[string]*string{"Status": jsii.String(st)},
				Statistic:     jsii.String("Sum"),
				Period:        hour,
				Label:         jsii.String(st),
			}))
		}
		return &out
	}
	var depStatuses, jobStats []string
	for _, st := range deploymentStatuses {
		depStatuses = append(depStatuses, string(st))
	}
	for _, st := range jobStatuses {
		jobStats = append(jobStats, string(st))
	}
	durations := func(metric, status string) *[]awscloudwatch.IMetric {
		var out []awscloudwatch.IMetric
		for _, stat := range []string{"p50", "p90", "Maximum"} {
			out = append(out, awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace:     jsii.String(metricNamespace),
				MetricName:    jsii.String(metric),
				DimensionsMap: &map[string]*string{"Status": jsii.String(status)},
				Statistic:     jsii.String(stat),
				Period:        hour,
				Label:         jsii.String(status + " " + stat),
			}))
		}
		return &out
	}
	var dlqDepth []awscloudwatch.IMetric
	for _, q := range s.dlqs {
		dlqDepth = append(dlqDepth, q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: q.Node().Id(),
		}))
	}
	var errs, throttles []awscloudwatch.IMetric
	for _, name := range Functions {
		errs = append(errs, s.fns[name].MetricErrors(&awscloudwatch.MetricOptions{Label: jsii.String(name + " errors"), Statistic: jsii.String("Sum")}))
		throttles = append(throttles, s.fns[name].MetricThrottles(&awscloudwatch.MetricOptions{Label: jsii.String(name + " throttles"), Statistic: jsii.String("Sum")}))
	}
	graph := func(title string, left *[]awscloudwatch.IMetric, stacked bool) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: left, Stacked: jsii.Bool(stacked),
			Width: jsii.Number(12), Height: jsii.Number(6),
		})
	}
	widgets := []*[]awscloudwatch.IWidget{
		{graph("Deployments by outcome", byStatus(metricDeployments, depStatuses), true),
			graph("Job runs by outcome", byStatus(metricJobRuns, jobStats), true)},
		{graph("Deployment duration (ms)", durations(metricDeploymentDuration, string(events.StatusSucceeded)), false),
			graph("Job duration (ms)", durations(metricJobDuration, string(events.JobSucceeded)), false)},
		{graph("Deployments by strategy", search(metricByStrategy), true),
			graph("Rollbacks by cause", search(metricByCause), true)},
		{graph("DLQ depth", &dlqDepth, false),
			graph("Function errors and throttles", concatMetrics(errs, throttles), false)},
	}
	widgets = append(widgets, s.deliveryWidgets()...) // delivery.go
	awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Days(jsii.Number(7)),
		Widgets:         &widgets,
	})
}

func concatMetrics(a, b []awscloudwatch.IMetric) *[]awscloudwatch.IMetric {
	out := append(append([]awscloudwatch.IMetric{}, a...), b...)
	return &out
}
