package sandbox_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// The services deckhand verify reads (DESIGN §13): IAM roles and their
// trust, SSM parameters and Secrets Manager secrets named in valueFrom.

// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html (AssumeRolePolicyDocument is URL-encoded)
func TestIAMGetRoleAnswersTheTrustPolicyURLEncoded(t *testing.T) {
	sb := sandboxtest.Start(t)
	if err := sb.PutRole(sandbox.RoleSpec{ARN: "arn:aws:iam::123456789012:role/app/web-task", TrustService: "ecs-tasks.amazonaws.com"}); err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(sb.AWSConfig())
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web-task")})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if got := aws.ToString(r.Arn) + " " + aws.ToString(r.Path); got != "arn:aws:iam::123456789012:role/app/web-task /app/" {
		t.Errorf("Arn and Path = %s", got)
	}
	raw := aws.ToString(r.AssumeRolePolicyDocument)
	if strings.ContainsAny(raw, `{" `) {
		t.Errorf("AssumeRolePolicyDocument %q is not URL-encoded", raw)
	}
	doc, err := url.QueryUnescape(raw)
	if err != nil {
		t.Fatal(err)
	}
	var trust struct {
		Statement []struct {
			Effect    string
			Principal map[string]string
			Action    string
		}
	}
	if err := json.Unmarshal([]byte(doc), &trust); err != nil {
		t.Fatalf("decoded trust policy %s: %v", doc, err)
	}
	if len(trust.Statement) != 1 || trust.Statement[0].Principal["Service"] != "ecs-tasks.amazonaws.com" || trust.Statement[0].Action != "sts:AssumeRole" {
		t.Errorf("trust policy %s, want ecs-tasks.amazonaws.com allowed sts:AssumeRole", doc)
	}
	_, err = client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
	if errorCode(err) != "NoSuchEntity" {
		t.Errorf("GetRole of a missing role: %v, want NoSuchEntity", err)
	}
	other := iam.NewFromConfig(as(sb, static(targetAccount, "x", ""), ""))
	if _, err := other.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web-task")}); errorCode(err) != "NoSuchEntity" {
		t.Errorf("GetRole from another account: %v, want NoSuchEntity (roles belong to an account)", err)
	}
}

// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html (InvalidParameters)
func TestSSMGetParametersAnswersARNsAndListsTheMissing(t *testing.T) {
	sb := sandboxtest.Start(t)
	arn, err := sb.PutParameter("", "", "/web/database-url", "SecureString", "postgres://db")
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:ssm:us-west-2:123456789012:parameter/web/database-url"; arn != want {
		t.Errorf("parameter ARN %s, want %s", arn, want)
	}
	client := ssm.NewFromConfig(sb.AWSConfig())
	one, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetParameter by ARN: %v", err)
	}
	if got := aws.ToString(one.Parameter.Name) + " " + aws.ToString(one.Parameter.Value) + " " + aws.ToString(one.Parameter.ARN); got != "/web/database-url postgres://db "+arn {
		t.Errorf("GetParameter = %s", got)
	}
	enc, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/web/database-url")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(enc.Parameter.Value) == "postgres://db" {
		t.Errorf("a SecureString without WithDecryption answered its plain value")
	}
	many, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/web/database-url", "/web/missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(many.Parameters) != 1 || !cmp.Equal(many.InvalidParameters, []string{"/web/missing"}) {
		t.Errorf("GetParameters = %d parameters, InvalidParameters %v; want 1 and [/web/missing]", len(many.Parameters), many.InvalidParameters)
	}
	if _, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/web/missing")}); errorCode(err) != "ParameterNotFound" {
		t.Errorf("GetParameter of a missing parameter: %v, want ParameterNotFound", err)
	}
	eu := ssm.NewFromConfig(as(sb, sb.AWSConfig().Credentials, "eu-central-1"))
	if _, err := eu.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/web/database-url")}); errorCode(err) != "ParameterNotFound" {
		t.Errorf("GetParameter in another Region: %v, want ParameterNotFound (parameters are per Region)", err)
	}
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen (the six-character suffix)
func TestSecretsManagerDescribeSecretByNameFullOrPartialARN(t *testing.T) {
	sb := sandboxtest.Start(t)
	arn, err := sb.CreateSecret("", "", "prod/web/db", "s3cr3t")
	if err != nil {
		t.Fatal(err)
	}
	partial, suffix, _ := strings.Cut(arn, "prod/web/db-")
	partial += "prod/web/db"
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/web/db-") || len(suffix) != 6 {
		t.Fatalf("secret ARN %s, want the name, a hyphen and six characters", arn)
	}
	client := secretsmanager.NewFromConfig(sb.AWSConfig())
	for _, id := range []string{"prod/web/db", arn, partial} {
		out, err := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		if err != nil {
			t.Errorf("DescribeSecret %s: %v", id, err)
			continue
		}
		if aws.ToString(out.ARN) != arn || aws.ToString(out.Name) != "prod/web/db" {
			t.Errorf("DescribeSecret %s = %s %s", id, aws.ToString(out.ARN), aws.ToString(out.Name))
		}
	}
	if _, err := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/web/missing")}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeSecret of a missing secret: %v, want ResourceNotFoundException", err)
	}
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/web/db"), SecretString: aws.String("x")}); errorCode(err) != "ResourceExistsException" {
		t.Errorf("CreateSecret of an existing name: %v, want ResourceExistsException", err)
	}
}
