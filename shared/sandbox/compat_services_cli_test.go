package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// controlPost calls the sandbox's control API and decodes its answer.
func controlPost(t *testing.T, endpoint, path string, body any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(endpoint+"/_sandbox/"+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_sandbox/%s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

// withEnv returns a copy of the CLI runner whose environment overrides
// some variables (credentials, Region).
func (a awsCLI) withEnv(t *testing.T, kv ...string) *awsCLI {
	a.t = t
	env := append([]string(nil), a.env...)
	for i := 0; i+1 < len(kv); i += 2 {
		for j, e := range env {
			if strings.HasPrefix(e, kv[i]+"=") {
				env = append(env[:j], env[j+1:]...)
				break
			}
		}
		env = append(env, kv[i]+"="+kv[i+1])
	}
	a.env = env
	return &a
}

// TestAWSCLIServices drives the STS, IAM, SSM, Secrets Manager, CloudWatch
// Logs and ECR scanning subsets with the AWS CLI (v1, botocore): a client
// Deckhand did not write. Each case is named after the AWS behaviour it
// pins.
func TestAWSCLIServices(t *testing.T) {
	c := start(t)
	cli := newAWSCLI(t, c.sb.Endpoint())
	ep := c.sb.Endpoint()

	// https://docs.aws.amazon.com/cli/latest/reference/sts/assume-role.html
	// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
	t.Run("aws sts assume-role, then ECS calls with the returned credentials land in the role's account", func(t *testing.T) {
		cli := cli.withEnv(t)
		controlPost(t, ep, "roles", map[string]any{"arn": targetRole, "trustAccounts": []string{"123456789012"}, "externalId": targetExtID, "tagSession": true})
		if stderr := cli.fail("sts", "assume-role", "--role-arn", targetRole, "--role-session-name", "cli", "--external-id", "wrong"); !strings.Contains(stderr, "AccessDenied") {
			t.Errorf("assume-role with a wrong external id: %s, want AccessDenied", stderr)
		}
		out := cli.json("sts", "assume-role", "--role-arn", targetRole, "--role-session-name", "cli", "--external-id", targetExtID,
			"--tags", "Key=deckhand:binding,Value=web", "--duration-seconds", "900")
		creds := out["Credentials"].(map[string]any)
		as := cli.withEnv(t, "AWS_ACCESS_KEY_ID", creds["AccessKeyId"].(string), "AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"].(string),
			"AWS_SESSION_TOKEN", creds["SessionToken"].(string), "AWS_DEFAULT_REGION", "eu-central-1", "AWS_REGION", "eu-central-1")
		who := as.json("sts", "get-caller-identity")
		if who["Account"] != targetAccount || who["Arn"] != "arn:aws:sts::210987654321:assumed-role/deckhand-target/cli" {
			t.Errorf("get-caller-identity with the session = %v", who)
		}
		cluster := as.json("ecs", "create-cluster", "--cluster-name", "prod")
		if got := path(t, cluster, "cluster", "clusterArn"); got != "arn:aws:ecs:eu-central-1:210987654321:cluster/prod" {
			t.Errorf("create-cluster with the session made %v", got)
		}
		if n := len(c.sb.ECSIn(targetAccount, "eu-central-1").Tasks()); n != 0 {
			t.Errorf("%d tasks in the target", n)
		}
		if got := strs(t, path(t, cli.json("ecs", "list-clusters"), "clusterArns")); len(got) != 0 {
			t.Errorf("the default credentials list %v, want none of the target's clusters", got)
		}
		c.sb.Clock().Advance(15 * time.Minute)
		if stderr := as.fail("ecs", "list-clusters"); !strings.Contains(stderr, "ExpiredTokenException") {
			t.Errorf("list-clusters after the 900 seconds: %s, want ExpiredTokenException", stderr)
		}
	})

	// https://docs.aws.amazon.com/cli/latest/reference/iam/get-role.html (the CLI decodes the policy document)
	t.Run("iam get-role answers the trust policy and a missing role is NoSuchEntity", func(t *testing.T) {
		cli := cli.withEnv(t)
		controlPost(t, ep, "roles", map[string]any{"arn": "arn:aws:iam::123456789012:role/web-task", "trustService": "ecs-tasks.amazonaws.com"})
		role := cli.json("iam", "get-role", "--role-name", "web-task")
		if got := path(t, role, "Role", "AssumeRolePolicyDocument", "Statement", 0, "Principal", "Service"); got != "ecs-tasks.amazonaws.com" {
			t.Errorf("trust policy principal %v, want ecs-tasks.amazonaws.com", got)
		}
		if stderr := cli.fail("iam", "get-role", "--role-name", "nope"); !strings.Contains(stderr, "(NoSuchEntity)") {
			t.Errorf("get-role of a missing role: %s", stderr)
		}
	})

	// https://docs.aws.amazon.com/cli/latest/reference/ssm/get-parameters.html
	// https://docs.aws.amazon.com/cli/latest/reference/secretsmanager/describe-secret.html
	t.Run("ssm get-parameters lists the missing and secretsmanager describe-secret finds a partial ARN", func(t *testing.T) {
		cli := cli.withEnv(t)
		param := controlPost(t, ep, "ssm-parameters", map[string]any{"name": "/web/db-url", "type": "SecureString", "value": "postgres://db"})
		got := cli.json("ssm", "get-parameters", "--names", "/web/db-url", "/web/nope", "--with-decryption")
		if path(t, got, "Parameters", 0, "ARN") != param["arn"] || path(t, got, "Parameters", 0, "Value") != "postgres://db" ||
			!cmp.Equal(strs(t, got["InvalidParameters"]), []string{"/web/nope"}) {
			t.Errorf("get-parameters = %v", got)
		}
		if stderr := cli.fail("ssm", "get-parameter", "--name", "/web/nope"); !strings.Contains(stderr, "(ParameterNotFound)") {
			t.Errorf("get-parameter of a missing parameter: %s", stderr)
		}
		secret := controlPost(t, ep, "secrets", map[string]any{"name": "web/api-key", "value": "k"})
		arn := secret["arn"].(string)
		desc := cli.json("secretsmanager", "describe-secret", "--secret-id", arn[:len(arn)-7])
		if desc["ARN"] != arn || desc["Name"] != "web/api-key" {
			t.Errorf("describe-secret by partial ARN = %v, want %s", desc, arn)
		}
		if stderr := cli.fail("secretsmanager", "describe-secret", "--secret-id", "web/nope"); !strings.Contains(stderr, "(ResourceNotFoundException)") {
			t.Errorf("describe-secret of a missing secret: %s", stderr)
		}
	})

	// https://docs.aws.amazon.com/cli/latest/reference/logs/get-log-events.html
	// https://docs.aws.amazon.com/cli/latest/reference/logs/filter-log-events.html
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
	t.Run("logs get-log-events and filter-log-events read what a task's awslogs container wrote", func(t *testing.T) {
		cli := cli.withEnv(t)
		cli.json("logs", "create-log-group", "--log-group-name", "/cli/report")
		def := fmt.Sprintf(`{"family":"cli-report","containerDefinitions":[{"name":"report","image":"repo/report:1","essential":true,` +
			`"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/cli/report","awslogs-region":"us-west-2","awslogs-stream-prefix":"job"}}}]}`)
		cli.json("ecs", "create-cluster", "--cluster-name", "logs")
		cli.json("ecs", "register-task-definition", "--cli-input-json", def)
		c.sb.ECS().ScriptImage("repo/report:1", ecssim.TaskScript{RunFor: 10 * time.Second})
		controlPost(t, ep, "script-logs", map[string]any{"image": "repo/report:1", "lines": []map[string]any{
			{"afterSeconds": 1, "message": "rows: 42"}, {"afterSeconds": 2, "message": "ERROR disk full"}, {"afterSeconds": 3, "message": "done"}}})
		task := path(t, cli.json("ecs", "run-task", "--cluster", "logs", "--task-definition", "cli-report"), "tasks", 0, "taskArn").(string)
		c.sb.Clock().Advance(time.Minute)
		stream := "job/report/" + task[strings.LastIndex(task, "/")+1:]
		got := cli.json("logs", "get-log-events", "--log-group-name", "/cli/report", "--log-stream-name", stream, "--start-from-head")
		var lines []string
		for _, e := range got["events"].([]any) {
			lines = append(lines, e.(map[string]any)["message"].(string))
		}
		if !cmp.Equal(lines, []string{"rows: 42", "ERROR disk full", "done"}) {
			t.Errorf("get-log-events %s = %q", stream, lines)
		}
		hits := cli.json("logs", "filter-log-events", "--log-group-name", "/cli/report", "--filter-pattern", "ERROR")
		if n := len(hits["events"].([]any)); n != 1 || path(t, hits, "events", 0, "logStreamName") != stream {
			t.Errorf("filter-log-events ERROR = %v, want the one line of %s", hits, stream)
		}
	})

	// https://docs.aws.amazon.com/cli/latest/reference/ecr/describe-image-scan-findings.html
	// https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-basic.html
	t.Run("ecr scan on push: describe-image-scan-findings is IN_PROGRESS, then COMPLETE with the scripted counts", func(t *testing.T) {
		cli := cli.withEnv(t)
		cli.json("ecr", "create-repository", "--repository-name", "scanned")
		cli.json("ecr", "put-image-scanning-configuration", "--repository-name", "scanned", "--image-scanning-configuration", "scanOnPush=true")
		controlPost(t, ep, "scan-findings", map[string]any{"repository": "scanned", "severities": map[string]int{"CRITICAL": 1, "HIGH": 3}, "delaySeconds": 120})
		digest := controlPost(t, ep, "push-image", map[string]any{"repository": "scanned", "tag": "1.0.0"})["digest"].(string)
		id := "imageDigest=" + digest
		if got := path(t, cli.json("ecr", "describe-image-scan-findings", "--repository-name", "scanned", "--image-id", id), "imageScanStatus", "status"); got != "IN_PROGRESS" {
			t.Errorf("status right after the push: %v", got)
		}
		c.sb.Clock().Advance(2 * time.Minute)
		got := cli.json("ecr", "describe-image-scan-findings", "--repository-name", "scanned", "--image-id", id)
		if path(t, got, "imageScanStatus", "status") != "COMPLETE" || len(path(t, got, "imageScanFindings", "findings").([]any)) != 4 ||
			!cmp.Equal(path(t, got, "imageScanFindings", "findingSeverityCounts"), map[string]any{"CRITICAL": 1.0, "HIGH": 3.0}) {
			t.Errorf("after the scripted 120 s: %v", got)
		}
		if stderr := cli.fail("ecr", "start-image-scan", "--repository-name", "scanned", "--image-id", id); !strings.Contains(stderr, "(LimitExceededException)") {
			t.Errorf("a manual scan within a day of the last: %s", stderr)
		}
	})
}
