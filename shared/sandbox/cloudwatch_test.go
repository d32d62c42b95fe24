package sandbox_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

func putAlarm(t *testing.T, cw *cloudwatch.Client, name string) {
	t.Helper()
	_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		EvaluationPeriods: aws.Int32(1), MetricName: aws.String("HTTPCode_Target_5XX_Count"), Namespace: aws.String("AWS/ApplicationELB"),
		Period: aws.Int32(60), Statistic: cwtypes.StatisticSum, Threshold: aws.Float64(5),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String("app/web/1")}},
	})
	if err != nil {
		t.Fatalf("PutMetricAlarm %s: %v", name, err)
	}
}

// TestCloudWatchGoSDK drives the alarms subset with the Go SDK's client,
// which speaks Smithy RPC v2 CBOR.
func TestCloudWatchGoSDK(t *testing.T) {
	sb := sandboxtest.Start(t)
	cw := cloudwatch.NewFromConfig(sb.AWSConfig())
	putAlarm(t, cw, "web-5xx")
	putAlarm(t, cw, "web-p99")
	sb.Clock().Advance(time.Minute)
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String("web-5xx"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("5xx above 5"),
	}); err != nil {
		t.Fatal(err)
	}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-5xx", "web-p99", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	type alarm struct {
		Name, State, Reason, ARN string
		Threshold                float64
		Period                   int32
		Dimensions               int
		Transitioned             time.Time
	}
	var got []alarm
	for _, a := range out.MetricAlarms {
		got = append(got, alarm{aws.ToString(a.AlarmName), string(a.StateValue), aws.ToString(a.StateReason), aws.ToString(a.AlarmArn),
			aws.ToFloat64(a.Threshold), aws.ToInt32(a.Period), len(a.Dimensions), aws.ToTime(a.StateTransitionedTimestamp)})
	}
	start := sb.Clock().Now().Add(-time.Minute)
	want := []alarm{
		{"web-5xx", "ALARM", "5xx above 5", "arn:aws:cloudwatch:us-west-2:123456789012:alarm:web-5xx", 5, 60, 1, start.Add(time.Minute)},
		{"web-p99", "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", "arn:aws:cloudwatch:us-west-2:123456789012:alarm:web-p99", 5, 60, 1, start},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DescribeAlarms (-want +got):\n%s", diff)
	}
	byState, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{StateValue: cwtypes.StateValueAlarm})
	if err != nil || len(byState.MetricAlarms) != 1 || aws.ToString(byState.MetricAlarms[0].AlarmName) != "web-5xx" {
		t.Errorf("DescribeAlarms by state: %+v %v", byState, err)
	}

	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("x")},
		func(o *cloudwatch.Options) { o.Retryer = aws.NopRetryer{} })
	var nf *cwtypes.ResourceNotFound
	if !errors.As(err, &nf) || nf.ErrorCode() != "ResourceNotFound" {
		t.Errorf("SetAlarmState on an unknown alarm: %v, want ResourceNotFound", err)
	}
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("bad"), EvaluationPeriods: aws.Int32(1), ComparisonOperator: "Sideways"},
		func(o *cloudwatch.Options) { o.Retryer = aws.NopRetryer{} })
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "ComparisonOperator") {
		t.Errorf("PutMetricAlarm with a bad operator: %v, want InvalidParameterValue naming ComparisonOperator", err)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-p99"}}); err != nil {
		t.Fatal(err)
	}
	left, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil || len(left.MetricAlarms) != 1 {
		t.Errorf("after DeleteAlarms: %+v %v", left, err)
	}
}

// TestCloudWatchQueryProtocol checks the awsQuery form of the API, which
// older SDKs use: the answer is CloudWatch's XML.
func TestCloudWatchQueryProtocol(t *testing.T) {
	sb := sandboxtest.Start(t)
	post := func(form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, sb.Endpoint(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261116/us-west-2/monitoring/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	status, body := post(url.Values{"Action": {"PutMetricAlarm"}, "Version": {"2010-08-01"}, "AlarmName": {"web-5xx"},
		"ComparisonOperator": {"GreaterThanThreshold"}, "EvaluationPeriods": {"1"}, "Threshold": {"5"}, "Period": {"60"},
		"MetricName": {"Errors"}, "Namespace": {"App"}, "Statistic": {"Sum"},
		"Dimensions.member.1.Name": {"Service"}, "Dimensions.member.1.Value": {"web"}})
	if status != 200 || !strings.Contains(body, "<PutMetricAlarmResponse") {
		t.Fatalf("PutMetricAlarm: %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"SetAlarmState"}, "AlarmName": {"web-5xx"}, "StateValue": {"ALARM"}, "StateReason": {"test"}})
	if status != 200 {
		t.Fatalf("SetAlarmState: %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"DescribeAlarms"}, "AlarmNames.member.1": {"web-5xx"}})
	for _, want := range []string{"<DescribeAlarmsResult>", "<MetricAlarms><member>", "<AlarmName>web-5xx</AlarmName>", "<StateValue>ALARM</StateValue>",
		"<Dimensions><member><Name>Service</Name><Value>web</Value></member></Dimensions>", "<Threshold>5</Threshold>"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("DescribeAlarms: %d, want %s in\n%s", status, want, body)
		}
	}
	status, body = post(url.Values{"Action": {"SetAlarmState"}, "AlarmName": {"nope"}, "StateValue": {"OK"}, "StateReason": {"x"}})
	if status != 404 || !strings.Contains(body, "<Code>ResourceNotFound</Code>") {
		t.Errorf("SetAlarmState on an unknown alarm: %d %s", status, body)
	}
}

// TestCanaryRolledBackByAnAlarmThroughTheAPIs is the DESIGN §10 story over
// real SDK clients: a CANARY deployment whose alarm goes to ALARM during
// the canary bake rolls back to ROLLBACK_SUCCESSFUL.
func TestCanaryRolledBackByAnAlarmThroughTheAPIs(t *testing.T) {
	sb := sandboxtest.Start(t)
	cfg := sb.AWSConfig()
	cw, client := cloudwatch.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	putAlarm(t, cw, "web-5xx")
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	for _, image := range []string{"web@sha256:one", "web@sha256:two"} {
		if _, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String(image), Memory: aws.Int32(128)}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"), DesiredCount: aws.Int32(3),
		LoadBalancers: []ecstypes.LoadBalancer{{
			TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/blue/1"), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80),
			AdvancedConfiguration: &ecstypes.AdvancedConfiguration{
				AlternateTargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/green/2"),
				ProductionListenerRule:  aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/web/1/2/3"),
				RoleArn:                 aws.String("arn:aws:iam::123456789012:role/ecs-infra"),
			},
		}},
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{
			Strategy: ecstypes.DeploymentStrategyCanary, BakeTimeInMinutes: aws.Int32(10),
			CanaryConfiguration: &ecstypes.CanaryConfiguration{CanaryPercent: aws.Float64(20), CanaryBakeTimeInMinutes: aws.Int32(5)},
			Alarms:              &ecstypes.DeploymentAlarms{AlarmNames: []string{"web-5xx"}, Enable: true, Rollback: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sb.Clock().Advance(time.Hour)
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")}); err != nil {
		t.Fatal(err)
	}
	newest := func() ecstypes.ServiceDeployment {
		t.Helper()
		list, err := client.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("web"), MaxResults: aws.Int32(1)})
		if err != nil || len(list.ServiceDeployments) != 1 {
			t.Fatalf("ListServiceDeployments: %+v %v", list, err)
		}
		out, err := client.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn)}})
		if err != nil || len(out.ServiceDeployments) != 1 {
			t.Fatalf("DescribeServiceDeployments: %+v %v", out, err)
		}
		return out.ServiceDeployments[0]
	}
	sb.Clock().Advance(2 * time.Minute)
	if sd := newest(); sd.LifecycleStage != ecstypes.ServiceDeploymentLifecycleStageProductionTrafficShift || aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight) != 20 {
		t.Fatalf("in the canary bake: %s at %v%%", sd.LifecycleStage, aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight))
	}
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("web-5xx"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("5xx")}); err != nil {
		t.Fatal(err)
	}
	if sd := newest(); sd.Status != ecstypes.ServiceDeploymentStatusRollbackInProgress || !slices.Equal(sd.Alarms.TriggeredAlarmNames, []string{"web-5xx"}) {
		t.Errorf("after the alarm: %s, triggered %v", sd.Status, sd.Alarms.TriggeredAlarmNames)
	}
	sb.Clock().Advance(time.Minute)
	sd := newest()
	if sd.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || sd.Rollback == nil {
		t.Errorf("a minute later: %s rollback %+v", sd.Status, sd.Rollback)
	}
	svc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || !strings.HasSuffix(aws.ToString(svc.Services[0].TaskDefinition), "web:1") {
		t.Errorf("service after the rollback: %+v %v", svc, err)
	}
}
