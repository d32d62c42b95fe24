package main

import (
	"encoding/json"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// TestVerify is issue 15's acceptance for verify: one run over web, api and
// a binding whose cluster and repository do not exist reports a missing
// role, a role without the ECS trust, a missing secret (a {{ secret }}
// reference and a literal SSM valueFrom), a missing log group, the missing
// cluster and repository; each named with the template's JSON path, and
// exit 1. Once the account has them all, verify passes (exit 0).
func TestVerify(t *testing.T) {
	w := seed(t)
	manifest := localManifest(t, `  - name: ghost
    cluster: staging
    service: ghost
    template: templates/worker.json
    images:
      worker: { repository: ghost, tags: "semver:*" }
`)
	dir := filepath.Dir(manifest)
	edit := func(name, old, new string) {
		p := filepath.Join(dir, "templates", name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s has no %q", name, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("web.json", `"{{ ssm \"/web/database-url\" }}"}`,
		`"{{ ssm \"/web/database-url\" }}"}, {"name": "API_KEY", "valueFrom": "{{ secret \"prod/web/api-key\" }}"}`)
	edit("api.json", `"essential": true,`, `"essential": true, "secrets": [{"name": "TOKEN", "valueFrom": "/api/token"}],`)

	role := func(name, service string) {
		t.Helper()
		if err := w.sb.PutRole(sandbox.RoleSpec{ARN: "arn:aws:iam::123456789012:role/" + name, TrustService: service}); err != nil {
			t.Fatal(err)
		}
	}
	role("web-execution", "ecs-tasks.amazonaws.com")
	role("web-task", "lambda.amazonaws.com") // exists, but ECS cannot assume it
	role("ecs-execution", "ecs-tasks.amazonaws.com")
	for _, g := range []string{"/ecs/api", "/ecs/worker"} {
		if err := w.sb.CreateLogGroup("", "", g); err != nil {
			t.Fatal(err)
		}
	}

	type problem struct{ Binding, Check, Subject, Field string }
	verify := func() (result, []problem) {
		t.Helper()
		r := deckhand(t, w.argsWith(manifest, "verify", "web", "api", "ghost", "-o", "json")...)
		var rep struct {
			Bindings []string
			Checks   int
			Problems []problem
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("verify -o json: %v\n%s", err, r.stdout)
		}
		if diff := cmp.Diff([]string{"web", "api", "ghost"}, rep.Bindings); diff != "" {
			t.Errorf("bindings verified (-want +got):\n%s", diff)
		}
		return r, rep.Problems
	}
	r, got := verify()
	want := []problem{
		{"web", "secret", `{{ secret "prod/web/api-key" }}`, ""},
		{"web", "role", "arn:aws:iam::123456789012:role/web-task", "$.taskRoleArn"},
		{"web", "log group", "/ecs/web", "$.containerDefinitions[0].logConfiguration.options.awslogs-group"},
		{"api", "role", "arn:aws:iam::123456789012:role/api-task", "$.taskRoleArn"},
		{"api", "secret", "/api/token", "$.containerDefinitions[0].secrets[0].valueFrom"},
		{"ghost", "cluster", "staging", ""},
		{"ghost", "image", "ghost", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if r.code != 1 {
		t.Errorf("verify with problems: exit %d, want 1", r.code)
	}
	text := deckhand(t, w.argsWith(manifest, "verify", "web", "api")...)
	for _, s := range []string{
		"does not trust ecs-tasks.amazonaws.com, so ECS cannot assume it (it trusts lambda.amazonaws.com)",
		"Secrets Manager secret prod/web/api-key not found in account 123456789012, Region us-west-2",
		"arn:aws:iam::123456789012:role/api-task  does not exist ($.taskRoleArn)",
		"5 problem(s) in",
	} {
		if !strings.Contains(text.stdout, s) {
			t.Errorf("verify's text output lacks %q:\n%s", s, text.stdout)
		}
	}

	// Give the account what was missing: web and api verify clean.
	role("web-task", "ecs-tasks.amazonaws.com")
	role("api-task", "ecs-tasks.amazonaws.com")
	if _, err := w.sb.CreateSecret("", "", "prod/web/api-key", "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.PutParameter("", "", "/api/token", "SecureString", "t"); err != nil {
		t.Fatal(err)
	}
	if err := w.sb.CreateLogGroup("", "", "/ecs/web"); err != nil {
		t.Fatal(err)
	}
	_, got = verify()
	if diff := cmp.Diff(want[5:], got); diff != "" {
		t.Errorf("problems once web's and api's are fixed (-want +got):\n%s", diff)
	}
	if ok := deckhand(t, w.argsWith(manifest, "verify", "web", "api")...); ok.code != 0 || !strings.Contains(ok.stdout, "no problem") {
		t.Errorf("verify web api with nothing missing: exit %d\n%s", ok.code, ok.stdout)
	}
	if nf := deckhand(t, w.argsWith(manifest, "verify", "wbe")...); nf.code != 3 {
		t.Errorf("verify of an unknown binding: exit %d, want 3", nf.code)
	}
}

// TestVerifyReportsMissingDeploymentAlarms: a binding whose deployment
// alarms CloudWatch does not have is a problem of verify (issue 12's bad
// input: reported before any deploy refuses it), and an alarm that exists
// is not.
func TestVerifyReportsMissingDeploymentAlarms(t *testing.T) {
	w := seed(t)
	manifest := localManifest(t, `  - name: alarmed
    cluster: prod
    service: alarmed
    template: templates/worker.json
    deployment: { strategy: rolling, alarms: [alarmed-5xx, alarmed-latency] }
    images:
      worker: { repository: worker, tags: "glob:release-*" }
`)
	if _, err := cloudwatch.NewFromConfig(w.sb.AWSConfig()).PutMetricAlarm(t.Context(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("alarmed-latency"), Namespace: aws.String("Test"), MetricName: aws.String("latency"),
		Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
	}); err != nil {
		t.Fatal(err)
	}
	r := deckhand(t, w.argsWith(manifest, "verify", "alarmed", "-o", "json")...)
	var rep struct {
		Problems []struct{ Binding, Check, Subject, Field string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify -o json: %v\n%s", err, r.stdout)
	}
	var got []string
	for _, p := range rep.Problems {
		if p.Check == "alarm" {
			got = append(got, p.Binding+" "+p.Subject+" "+p.Field)
		}
	}
	if diff := cmp.Diff([]string{"alarmed alarmed-5xx deployment.alarms"}, got); diff != "" {
		t.Errorf("alarm problems (-want +got):\n%s", diff)
	}
	if r.code != 1 {
		t.Errorf("verify with a missing alarm: exit %d, want 1", r.code)
	}
}
