package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ecsTasks is the service principal a task's roles must trust.
const ecsTasks = "ecs-tasks.amazonaws.com"

// render renders the template with the images found and its references
// resolved; a reference that does not exist is a problem, and renders
// offline so the rest is still checked. known are the valueFrom values
// the references gave (checked already). A template that does not render
// is a problem and gives a nil result.
func (v *verifier) render(ctx context.Context, images map[string]taskdef.Image) (*taskdef.Rendered, map[string]bool, error) {
	t := v.t
	v.rep.Checks++
	tmpl, err := v.env.Source.Template(ctx, t.template)
	if err != nil {
		v.problem(CheckTemplate, t.template, "", "%v", err)
		return nil, nil, nil
	}
	data := taskdef.Data{Account: v.env.Account, Region: v.env.Region, Cluster: t.cluster, Service: t.service,
		Images: images, Primary: t.primary, Vars: t.vars, Refs: taskdef.Refs{}}
	list, err := taskdef.References(tmpl.Body, t.template)
	if err != nil {
		v.templateProblems(err)
		return nil, nil, nil
	}
	var found taskdef.Refs
	if len(list) > 0 {
		if v.env.Refs == nil {
			return nil, nil, fmt.Errorf("template %s names SSM parameters or secrets and there is no client to look them up", t.template)
		}
		if found, err = v.env.Refs.Resolve(ctx, list); err != nil {
			return nil, nil, err
		}
	}
	known := map[string]bool{}
	for _, r := range list {
		v.rep.Checks++
		arn, ok := found[r]
		if !ok {
			v.problem(CheckSecret, r.String(), "", "%s not found in account %s, Region %s", r.What(), v.env.Account, v.env.Region)
			arn = taskdef.OfflineARN(v.env.Account, v.env.Region, r)
		}
		data.Refs[r], known[arn] = arn, true
	}
	rendered, err := taskdef.Render(tmpl.Body, data, t.options(v.m))
	if err != nil {
		v.templateProblems(err)
		return nil, nil, nil
	}
	return rendered, known, nil
}

func (v *verifier) templateProblems(err error) {
	problems := taskdef.Problems(err)
	if len(problems) == 0 {
		v.problem(CheckTemplate, v.t.template, "", "%v", err)
	}
	for _, te := range problems {
		v.problem(CheckTemplate, v.t.template, te.Path, "%v", te.Err)
	}
}

// roles checks the task and execution roles: each exists and its trust
// policy lets ecs-tasks.amazonaws.com assume it.
func (v *verifier) roles(ctx context.Context, r *taskdef.Rendered) error {
	for _, f := range []struct{ field, arn string }{
		{"$.executionRoleArn", aws.ToString(r.Input.ExecutionRoleArn)},
		{"$.taskRoleArn", aws.ToString(r.Input.TaskRoleArn)},
	} {
		if f.arn == "" {
			continue
		}
		parts := strings.SplitN(f.arn, ":", 6)
		if len(parts) != 6 || !strings.HasPrefix(parts[5], "role/") {
			v.problem(CheckRole, f.arn, f.field, "is not an IAM role ARN")
			continue
		}
		if parts[4] != v.env.Account {
			v.note("%s: role %s is in another account (%s); not checked", v.t.name, f.arn, parts[4])
			continue
		}
		name := parts[5][strings.LastIndex(parts[5], "/")+1:]
		v.rep.Checks++
		out, err := v.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if awserr.RoleNotFound(err) {
			v.problem(CheckRole, f.arn, f.field, "does not exist")
			continue
		}
		if err != nil {
			return fmt.Errorf("get role %s: %w", name, err)
		}
		if ok, why := trustsECSTasks(aws.ToString(out.Role.AssumeRolePolicyDocument)); !ok {
			v.problem(CheckRole, f.arn, f.field, "does not trust %s, so ECS cannot assume it (%s)", ecsTasks, why)
		}
	}
	return nil
}

// trustsECSTasks reports whether a trust policy (as IAM returns it,
// URL-encoded) allows ecs-tasks.amazonaws.com sts:AssumeRole, and if not,
// which services it does trust.
func trustsECSTasks(doc string) (bool, string) {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var policy struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &policy); err != nil {
		return false, "its trust policy does not parse: " + err.Error()
	}
	type statement struct {
		Effect    string
		Principal any
		Action    any
	}
	var stmts []statement
	if err := json.Unmarshal(policy.Statement, &stmts); err != nil {
		var one statement
		if err := json.Unmarshal(policy.Statement, &one); err != nil {
			return false, "its trust policy has no statements"
		}
		stmts = []statement{one}
	}
	var trusted []string
	for _, s := range stmts {
		if s.Effect != "Allow" {
			continue
		}
		services := strings1(s.Principal, "Service")
		trusted = append(trusted, services...)
		actions := strings1(s.Action, "")
		if slices.Contains(services, ecsTasks) && (slices.Contains(actions, "sts:AssumeRole") || slices.Contains(actions, "sts:*") || slices.Contains(actions, "*")) {
			return true, ""
		}
	}
	if len(trusted) == 0 {
		return false, "it trusts no service"
	}
	return false, "it trusts " + strings.Join(trusted, ", ")
}

// strings1 reads a policy element that is a string or a list of strings,
// or (key != "") such an element under key of an object.
func strings1(v any, key string) []string {
	if m, ok := v.(map[string]any); ok && key != "" {
		v = m[key]
	}
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// valueFroms checks every secrets[].valueFrom the references did not give:
// a Secrets Manager ARN with DescribeSecret, anything else as an SSM
// parameter name or ARN with GetParameters.
func (v *verifier) valueFroms(ctx context.Context, r *taskdef.Rendered, known map[string]bool) error {
	type ref struct{ value, field string }
	var params []ref
	for i, c := range r.Input.ContainerDefinitions {
		var secrets []ecstypes.Secret
		secrets = append(secrets, c.Secrets...)
		if c.LogConfiguration != nil {
			secrets = append(secrets, c.LogConfiguration.SecretOptions...)
		}
		for j, s := range secrets {
			value := aws.ToString(s.ValueFrom)
			field := fmt.Sprintf("$.containerDefinitions[%d].secrets[%d].valueFrom", i, j)
			if j >= len(c.Secrets) {
				field = fmt.Sprintf("$.containerDefinitions[%d].logConfiguration.secretOptions[%d].valueFrom", i, j-len(c.Secrets))
			}
			if known[value] {
				continue
			}
			if parts := strings.SplitN(value, ":", 7); len(parts) == 7 && parts[0] == "arn" && parts[4] != v.env.Account {
				v.note("%s: %s is in another account (%s); not checked", v.t.name, value, parts[4])
				continue
			}
			if !strings.Contains(value, ":secretsmanager:") {
				params = append(params, ref{value, field})
				continue
			}
			v.rep.Checks++
			// arn:aws:secretsmanager:region:account:secret:name-AbCdEf[:json-key:version-stage:version-id]
			id := value
			if parts := strings.Split(value, ":"); len(parts) > 7 {
				id = strings.Join(parts[:7], ":")
			}
			out, err := v.c.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
			switch {
			case awserr.SecretNotFound(err):
				v.problem(CheckSecret, value, field, "Secrets Manager has no such secret in account %s, Region %s", v.env.Account, v.env.Region)
			case err != nil:
				return fmt.Errorf("describe secret %s: %w", id, err)
			case out.DeletedDate != nil:
				v.problem(CheckSecret, value, field, "the secret is scheduled for deletion")
			}
		}
	}
	for batch := range slices.Chunk(params, 10) {
		names := make([]string, len(batch))
		for i, p := range batch {
			names[i] = p.value
		}
		v.rep.Checks += len(batch)
		out, err := v.c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(false)})
		if err != nil {
			return fmt.Errorf("get SSM parameters %v: %w", names, err)
		}
		for _, p := range batch {
			if slices.Contains(out.InvalidParameters, p.value) {
				v.problem(CheckSecret, p.value, p.field, "SSM has no such parameter in account %s, Region %s", v.env.Account, v.env.Region)
			}
		}
	}
	return nil
}

// logGroups checks the awslogs log group of every container: ECS cannot
// start a task whose log group is missing, unless awslogs-create-group
// lets it create one.
func (v *verifier) logGroups(ctx context.Context, r *taskdef.Rendered) error {
	for i, c := range r.Input.ContainerDefinitions {
		lc := c.LogConfiguration
		if lc == nil || lc.LogDriver != ecstypes.LogDriverAwslogs {
			continue
		}
		group, field := lc.Options["awslogs-group"], fmt.Sprintf("$.containerDefinitions[%d].logConfiguration.options.awslogs-group", i)
		if group == "" || lc.Options["awslogs-create-group"] == "true" {
			continue
		}
		if region := lc.Options["awslogs-region"]; region != "" && region != v.env.Region {
			v.note("%s: log group %s is in Region %s; not checked", v.t.name, group, region)
			continue
		}
		v.rep.Checks++
		found := false
		p := cloudwatchlogs.NewDescribeLogGroupsPaginator(v.c.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
		for p.HasMorePages() && !found {
			out, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("describe log groups %s: %w", group, err)
			}
			for _, g := range out.LogGroups {
				found = found || aws.ToString(g.LogGroupName) == group
			}
		}
		if !found {
			v.problem(CheckLogGroup, group, field, "does not exist in Region %s, so tasks of container %s cannot start; create it or set awslogs-create-group", v.env.Region, aws.ToString(c.Name))
		}
	}
	return nil
}
