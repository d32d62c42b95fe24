package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/deckhand-ecs/deckhand/shared/aws/alarms"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/aws/ecrimages"
	"github.com/deckhand-ecs/deckhand/shared/aws/refs"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// IAMAPI is the part of the IAM client verify uses.
type IAMAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// LogGroupsAPI is the part of the CloudWatch Logs client verify uses.
type LogGroupsAPI interface {
	DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
}

var (
	_ IAMAPI       = (*iam.Client)(nil)
	_ LogGroupsAPI = (*cloudwatchlogs.Client)(nil)
)

// VerifyClients are the clients verify reads with beyond the Env's.
type VerifyClients struct {
	IAM     IAMAPI
	SSM     refs.SSMAPI
	Secrets refs.SecretsAPI
	Logs    LogGroupsAPI
}

// NewVerifyClients builds them on cfg. It makes no call.
func NewVerifyClients(cfg aws.Config) VerifyClients {
	return VerifyClients{IAM: iam.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg),
		Secrets: secretsmanager.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg)}
}

// VerifyRequest is what `deckhand verify` checks.
type VerifyRequest struct {
	// Bindings are service bindings or jobs (all of the manifest's when
	// empty).
	Bindings []string
	Clients  VerifyClients
}

// The checks verify makes, as VerifyProblem.Check names them.
const (
	CheckCluster  = "cluster"
	CheckService  = "service"
	CheckImage    = "image"
	CheckTemplate = "template"
	CheckRole     = "role"
	CheckSecret   = "secret"
	CheckLogGroup = "log group"
)

// VerifyProblem is one thing a deploy needs that the account does not
// have.
type VerifyProblem struct {
	Binding string `json:"binding"`
	Check   string `json:"check"`
	// Subject is what was checked: a cluster, role ARN, repository,
	// valueFrom or log group.
	Subject string `json:"subject"`
	// Field is the template's JSON path the subject comes from, if any.
	Field string `json:"field,omitempty"`
	Msg   string `json:"message"`
}

func (p VerifyProblem) String() string {
	s := fmt.Sprintf("%s: %s %s: %s", p.Binding, p.Check, p.Subject, p.Msg)
	if p.Field != "" {
		s += " (" + p.Field + ")"
	}
	return s
}

// VerifyReport is every check verify made and every problem it found.
type VerifyReport struct {
	Bindings []string        `json:"bindings"`
	Checks   int             `json:"checks"`
	Problems []VerifyProblem `json:"problems"`
	// Notes say what was not checked, and why.
	Notes []string `json:"notes"`
}

// ErrVerifyFailed is matched by errors.Is when verify found a problem (the
// CLI exits 1).
var ErrVerifyFailed = errors.New("the account lacks what a deploy needs")

// Verify checks, against the account, what deploying each binding needs
// (DESIGN §13): its cluster and service exist; each bound repository
// exists and holds an image its tag policy accepts; the template renders,
// its {{ ssm }} and {{ secret }} references exist; every role it names
// exists and trusts ecs-tasks.amazonaws.com; every secrets[].valueFrom
// (SSM parameter or Secrets Manager secret) and awslogs log group exists.
// Every problem is listed; the error wraps ErrVerifyFailed when there is
// one, and is another error only when a check could not be made.
func (e *Env) Verify(ctx context.Context, req VerifyRequest) (*VerifyReport, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	targets, err := verifyTargets(m, req.Bindings)
	if err != nil {
		return nil, err
	}
	v := &verifier{env: e, m: m, c: req.Clients, rep: &VerifyReport{Bindings: []string{}, Problems: []VerifyProblem{}, Notes: []string{}}}
	for _, t := range targets {
		v.rep.Bindings = append(v.rep.Bindings, t.name)
		if t.target != "" {
			v.note("%s %s runs in target %s: verify checks Deckhand's own account and Region only", t.kind, t.name, t.target)
			continue
		}
		if err := v.binding(ctx, t.renderTarget); err != nil {
			return v.rep, fmt.Errorf("verify %s: %w", t.name, err)
		}
	}
	if len(v.rep.Problems) > 0 {
		return v.rep, fmt.Errorf("%d problem(s): %w", len(v.rep.Problems), ErrVerifyFailed)
	}
	return v.rep, nil
}

// verifyTarget is a binding or job to verify and the target it runs in.
type verifyTarget struct {
	renderTarget
	target string
}

func verifyTargets(m *manifest.Manifest, names []string) ([]verifyTarget, error) {
	var out []verifyTarget
	if len(names) == 0 {
		for i := range m.Services {
			out = append(out, verifyTarget{serviceTarget(&m.Services[i]), m.Services[i].Target})
		}
		for i := range m.Jobs {
			out = append(out, verifyTarget{jobTarget(&m.Jobs[i]), m.Jobs[i].Target})
		}
		return out, nil
	}
	for _, name := range names {
		if j, ok := m.Job(name); ok {
			out = append(out, verifyTarget{jobTarget(j), j.Target})
			continue
		}
		b, err := Binding(m, name)
		if err != nil {
			return nil, err
		}
		out = append(out, verifyTarget{serviceTarget(b), b.Target})
	}
	return out, nil
}

// verifier collects the problems of one Verify.
type verifier struct {
	env *Env
	m   *manifest.Manifest
	c   VerifyClients
	rep *VerifyReport
	t   renderTarget // the binding being checked
}

func (v *verifier) problem(check, subject, field, format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, VerifyProblem{Binding: v.t.name, Check: check, Subject: subject, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (v *verifier) note(format string, args ...any) {
	v.rep.Notes = append(v.rep.Notes, fmt.Sprintf(format, args...))
}

// binding runs every check of one binding or job.
func (v *verifier) binding(ctx context.Context, t renderTarget) error {
	v.t = t
	clusterOK, err := v.cluster(ctx)
	if err != nil {
		return err
	}
	if t.kind == "service" && clusterOK {
		if err := v.service(ctx); err != nil {
			return err
		}
	}
	images, err := v.images(ctx)
	if err != nil {
		return err
	}
	r, known, err := v.render(ctx, images)
	if err != nil || r == nil {
		return err
	}
	if err := v.roles(ctx, r); err != nil {
		return err
	}
	if err := v.valueFroms(ctx, r, known); err != nil {
		return err
	}
	if err := v.logGroups(ctx, r); err != nil {
		return err
	}
	return v.alarms(ctx)
}

// alarms checks that a service binding's deployment alarms exist in
// CloudWatch (DESIGN §10): the deployer refuses a deploy whose alarms do
// not, so verify says so first.
func (v *verifier) alarms(ctx context.Context) error {
	if v.t.kind != "service" {
		return nil
	}
	b, ok := v.m.Service(v.t.name)
	if !ok || b.Deployment == nil || len(b.Deployment.Alarms) == 0 {
		return nil
	}
	if v.env.Alarms == nil {
		v.note("%s: deployment alarms not checked (no CloudWatch client)", v.t.name)
		return nil
	}
	missing, err := alarms.Missing(ctx, v.env.Alarms, b.Deployment.Alarms)
	if err != nil {
		return fmt.Errorf("describe alarms: %w", err)
	}
	for _, a := range missing {
		v.problem("alarm", a, "deployment.alarms", "CloudWatch alarm %s does not exist in account %s, Region %s", a, v.env.Account, v.env.Region)
	}
	return nil
}

func (v *verifier) cluster(ctx context.Context) (bool, error) {
	v.rep.Checks++
	out, err := v.env.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{v.t.cluster}})
	if err != nil {
		return false, fmt.Errorf("describe cluster %s: %w", v.t.cluster, err)
	}
	if len(out.Clusters) == 0 || aws.ToString(out.Clusters[0].Status) == "INACTIVE" {
		v.problem(CheckCluster, v.t.cluster, "", "does not exist in account %s, Region %s", v.env.Account, v.env.Region)
		return false, nil
	}
	return true, nil
}

func (v *verifier) service(ctx context.Context) error {
	v.rep.Checks++
	out, err := v.env.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(v.t.cluster), Services: []string{v.t.service}})
	if err != nil {
		return fmt.Errorf("describe service %s: %w", v.t.service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		v.problem(CheckService, v.t.service, "", "does not exist in cluster %s (deckhand deploys to a service IaC created)", v.t.cluster)
	}
	return nil
}

// images finds each bound repository's newest image the policy accepts;
// a container whose repository or image is missing renders with a
// placeholder, so the template's other checks still run.
func (v *verifier) images(ctx context.Context) (map[string]taskdef.Image, error) {
	registry := taskdef.Registry(v.env.Account, v.env.Region)
	out := map[string]taskdef.Image{}
	for _, c := range sortedKeys(v.t.images) {
		src := v.t.images[c]
		out[c] = Placeholder(src, registry).Image
		if src.Repository == "" {
			continue // fromService: the image the service binding runs
		}
		v.rep.Checks++
		img, err := ecrimages.Newest(ctx, v.env.ECR, v.env.Region, src.Repository, src.Policy())
		switch {
		case errors.Is(err, ecrimages.ErrNoEligibleImage):
			v.problem(CheckImage, src.Repository, "", "container %s: no image has a tag the policy %q accepts; push one first", c, src.Tags)
		case awserr.RepositoryNotFound(err):
			v.problem(CheckImage, src.Repository, "", "container %s: the repository does not exist in account %s, Region %s", c, v.env.Account, v.env.Region)
		case err != nil:
			return nil, err
		default:
			out[c] = img
		}
	}
	return out, nil
}
