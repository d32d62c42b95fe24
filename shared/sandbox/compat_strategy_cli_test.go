package sandbox_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// cliLB is a load balancer with the advanced configuration native
// blue/green, linear and canary deployments need, in the AWS CLI's
// shorthand.
const cliLB = "targetGroupArn=arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/blue/1,containerName=app,containerPort=8080," +
	"advancedConfiguration={alternateTargetGroupArn=arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/green/2," +
	"productionListenerRule=arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/web/1/2/3,roleArn=arn:aws:iam::123456789012:role/ecs-infra}"

// TestAWSCLIProgressiveDeployments drives DESIGN §10's sandbox with the AWS
// CLI v1: every parameter it needs is in this CLI's model (aws ecs
// update-service help lists strategy, linearConfiguration,
// canaryConfiguration and advancedConfiguration), so nothing goes through
// boto3 or the Go SDK.
func TestAWSCLIProgressiveDeployments(t *testing.T) {
	c := start(t)
	cli := newAWSCLI(t, c.sb.Endpoint())
	advance := func(d time.Duration) { c.sb.Clock().Advance(d) }
	cli.json("ecs", "create-cluster", "--cluster-name", "prod")
	for _, image := range []string{"repo/web@sha256:one", "repo/web@sha256:two", "repo/web@sha256:three"} {
		cli.json("ecs", "register-task-definition", "--cli-input-json", cliTaskDef("web", image))
	}
	cli.json("ecs", "create-service", "--cluster", "prod", "--service-name", "web", "--task-definition", "web:1",
		"--desired-count", "2", "--launch-type", "FARGATE", "--network-configuration", cliNetwork, "--load-balancers", cliLB)
	advance(time.Hour)
	newest := func(t *testing.T) (string, any) {
		t.Helper()
		list := cli.json("ecs", "list-service-deployments", "--cluster", "prod", "--service", "web")
		arn := path(t, list, "serviceDeployments", 0, "serviceDeploymentArn").(string)
		return arn, path(t, cli.json("ecs", "describe-service-deployments", "--service-deployment-arns", arn), "serviceDeployments", 0)
	}

	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-linear.html
	t.Run("update-service --deployment-configuration strategy=LINEAR shifts traffic step by step", func(t *testing.T) {
		cli := *cli
		cli.t = t
		cli.json("ecs", "update-service", "--cluster", "prod", "--service", "web", "--task-definition", "web:2",
			"--deployment-configuration", "strategy=LINEAR,bakeTimeInMinutes=3,linearConfiguration={stepPercent=50.0,stepBakeTimeInMinutes=2}")
		var got []string
		for _, d := range []time.Duration{40 * time.Second, 2 * time.Minute, 3 * time.Minute} {
			advance(d)
			_, sd := newest(t)
			got = append(got, strings.Join([]string{path(t, sd, "status").(string), path(t, sd, "lifecycleStage").(string),
				ftoa(path(t, sd, "targetServiceRevision", "requestedProductionTrafficWeight")),
				ftoa(path(t, sd, "sourceServiceRevisions", 0, "requestedProductionTrafficWeight"))}, " "))
		}
		want := []string{"IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT 50 50", "IN_PROGRESS BAKE_TIME 100 0", "SUCCESSFUL CLEAN_UP 100 0"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("linear steps:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		_, sd := newest(t)
		rev := path(t, sd, "targetServiceRevision", "arn").(string)
		revs := cli.json("ecs", "describe-service-revisions", "--service-revision-arns", rev)
		if td := path(t, revs, "serviceRevisions", 0, "taskDefinition").(string); !strings.HasSuffix(td, "web:2") {
			t.Errorf("describe-service-revisions: task definition %s", td)
		}
		if d := path(t, revs, "serviceRevisions", 0, "containerImages", 0, "imageDigest"); d != "sha256:two" {
			t.Errorf("describe-service-revisions: image digest %v", d)
		}
	})

	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
	t.Run("a CANARY deployment is rolled back when cloudwatch set-alarm-state puts its alarm in ALARM", func(t *testing.T) {
		cli := *cli
		cli.t = t
		cli.json("cloudwatch", "put-metric-alarm", "--alarm-name", "web-5xx", "--metric-name", "HTTPCode_Target_5XX_Count",
			"--namespace", "AWS/ApplicationELB", "--statistic", "Sum", "--period", "60", "--threshold", "5",
			"--comparison-operator", "GreaterThanThreshold", "--evaluation-periods", "1")
		cli.json("ecs", "update-service", "--cluster", "prod", "--service", "web", "--task-definition", "web:3",
			"--deployment-configuration", "strategy=CANARY,bakeTimeInMinutes=10,canaryConfiguration={canaryPercent=10.0,canaryBakeTimeInMinutes=5},"+
				"alarms={alarmNames=[web-5xx],enable=true,rollback=true}")
		advance(time.Minute)
		cli.json("cloudwatch", "set-alarm-state", "--alarm-name", "web-5xx", "--state-value", "ALARM", "--state-reason", "5xx above 5")
		alarms := cli.json("cloudwatch", "describe-alarms", "--alarm-names", "web-5xx")
		if s := path(t, alarms, "MetricAlarms", 0, "StateValue"); s != "ALARM" {
			t.Errorf("describe-alarms: %v", s)
		}
		_, sd := newest(t)
		if got := path(t, sd, "status").(string) + " " + path(t, sd, "alarms", "triggeredAlarmNames", 0).(string); got != "ROLLBACK_IN_PROGRESS web-5xx" {
			t.Errorf("after set-alarm-state: %s", got)
		}
		advance(time.Minute)
		if _, sd := newest(t); path(t, sd, "status") != "ROLLBACK_SUCCESSFUL" {
			t.Errorf("after the rollback: %v", path(t, sd, "status"))
		}
		cli.json("cloudwatch", "set-alarm-state", "--alarm-name", "web-5xx", "--state-value", "OK", "--state-reason", "recovered")
		if msg := cli.fail("cloudwatch", "set-alarm-state", "--alarm-name", "nope", "--state-value", "OK", "--state-reason", "x"); !strings.Contains(msg, "ResourceNotFound") {
			t.Errorf("set-alarm-state on an unknown alarm: %s", msg)
		}
	})

	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
	t.Run("stop-service-deployment rolls a BLUE_GREEN deployment back", func(t *testing.T) {
		cli := *cli
		cli.t = t
		cli.json("ecs", "update-service", "--cluster", "prod", "--service", "web", "--task-definition", "web:3",
			"--deployment-configuration", "strategy=BLUE_GREEN,bakeTimeInMinutes=5")
		advance(20 * time.Second)
		arn, _ := newest(t)
		out := cli.json("ecs", "stop-service-deployment", "--service-deployment-arn", arn, "--stop-type", "ROLLBACK")
		if path(t, out, "serviceDeploymentArn") != arn {
			t.Errorf("stop-service-deployment answered %v", out)
		}
		if _, sd := newest(t); path(t, sd, "status") != "ROLLBACK_REQUESTED" {
			t.Errorf("right after the stop: %v", path(t, sd, "status"))
		}
		advance(time.Minute)
		if _, sd := newest(t); path(t, sd, "status") != "ROLLBACK_SUCCESSFUL" {
			t.Errorf("a minute later: %v", path(t, sd, "status"))
		}
		if msg := cli.fail("ecs", "stop-service-deployment", "--service-deployment-arn", arn); !strings.Contains(msg, "ConflictException") {
			t.Errorf("stopping a finished deployment: %s", msg)
		}
	})

	t.Run("update-service refuses a canary percent outside 0.1-100.0", func(t *testing.T) {
		cli := *cli
		cli.t = t
		msg := cli.fail("ecs", "update-service", "--cluster", "prod", "--service", "web",
			"--deployment-configuration", "strategy=CANARY,canaryConfiguration={canaryPercent=150.0}")
		if !strings.Contains(msg, "InvalidParameterException") || !strings.Contains(msg, "canaryPercent must be a multiple of 0.1 from 0.1 to 100.0") {
			t.Errorf("update-service: %s", msg)
		}
	})

	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/delete-task-definition.html
	t.Run("deregister-task-definition then delete-task-definitions", func(t *testing.T) {
		cli := *cli
		cli.t = t
		if s := path(t, cli.json("ecs", "deregister-task-definition", "--task-definition", "web:1"), "taskDefinition", "status"); s != "INACTIVE" {
			t.Errorf("deregister-task-definition: %v", s)
		}
		if n := len(path(t, cli.json("ecs", "list-task-definitions", "--family-prefix", "web", "--status", "INACTIVE"), "taskDefinitionArns").([]any)); n != 1 {
			t.Errorf("INACTIVE revisions: %d", n)
		}
		out := cli.json("ecs", "delete-task-definitions", "--task-definitions", "web:1", "web:2")
		if s := path(t, out, "taskDefinitions", 0, "status"); s != "DELETE_IN_PROGRESS" {
			t.Errorf("delete-task-definitions web:1: %v", s)
		}
		if r := path(t, out, "failures", 0, "reason").(string); !strings.Contains(r, "ACTIVE status") {
			t.Errorf("delete-task-definitions web:2 (ACTIVE): %s", r)
		}
		if msg := cli.fail("ecs", "describe-task-definition", "--task-definition", "web:1"); !strings.Contains(msg, "ClientException") {
			t.Errorf("describe-task-definition of a deleted revision: %s", msg)
		}
		reg := cli.json("ecs", "register-task-definition", "--cli-input-json", cliTaskDef("web", "repo/web@sha256:four"))
		if r := path(t, reg, "taskDefinition", "revision"); r != 4.0 {
			t.Errorf("next revision %v, want 4", r)
		}
	})
}

// ftoa prints a JSON number as briefly as it can.
func ftoa(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "<none>"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
