package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// maxListedRefs bounds the parameters (and the secrets) a statement names
// one by one; beyond it the grant is on every parameter (secret) of the
// account and Region, so a fleet's policies stay within IAM's size quota
// (docs/quotas.md).
const maxListedRefs = 20

// templateRefs are the {{ ssm }} and {{ secret }} references of the
// templates of the manifest's services (jobs false) or jobs (jobs true),
// read at synth time from the files the stack uploads. A template whose
// references do not parse stops the synth: the functions could not render
// it either.
func (s *stack) templateRefs(jobs bool) []taskdef.Ref {
	keys := map[string]bool{}
	if jobs {
		for _, j := range s.m.Jobs {
			keys[j.Template] = true
		}
	} else {
		for _, svc := range s.m.Services {
			keys[svc.Template] = true
		}
	}
	dir := filepath.Dir(s.cfg.ManifestPath)
	seen := map[taskdef.Ref]bool{}
	for key := range keys {
		body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		if err != nil {
			panic(fmt.Errorf("read template %s for its references: %w", key, err))
		}
		refs, err := taskdef.References(body, key)
		if err != nil {
			panic(fmt.Errorf("template references: %w", err))
		}
		for _, r := range refs {
			seen[r] = true
		}
	}
	out := make([]taskdef.Ref, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b taskdef.Ref) int { return strings.Compare(string(a.Kind)+a.Name, string(b.Kind)+b.Name) })
	return out
}

// readParameters: the ARNs of the SSM parameters the templates name
// (shared/aws/refs reads them with GetParameters, without decryption), in
// the stack's account and Region.
func (p policies) readParameters(refs []taskdef.Ref) awsiam.PolicyStatement {
	var names []string
	for _, r := range refs {
		if r.Kind == taskdef.RefSSM {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	if len(names) > maxListedRefs {
		names = []string{"/*"}
	}
	var arns []*string
	for _, n := range names {
		if strings.HasPrefix(n, "arn:") {
			arns = append(arns, jsii.String(n))
			continue
		}
		arns = append(arns, p.s.arn("ssm", "parameter", strings.TrimPrefix(n, "/")))
	}
	return allow([]string{"ssm:GetParameters"}, arns, nil)
}

// describeSecrets: the secrets the templates name (shared/aws/refs reads
// their ARN with DescribeSecret, metadata only, never the value). A name
// matches the secret's ARN with Secrets Manager's six-character suffix.
func (p policies) describeSecrets(refs []taskdef.Ref) awsiam.PolicyStatement {
	var names []string
	for _, r := range refs {
		if r.Kind == taskdef.RefSecret {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	var arns []*string
	if len(names) > maxListedRefs {
		return allow([]string{"secretsmanager:DescribeSecret"}, []*string{p.secretARN("*")}, nil)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "arn:") {
			arns = append(arns, jsii.String(n), jsii.String(n+"-??????"))
			continue
		}
		arns = append(arns, p.secretARN(n+"-??????"))
	}
	return allow([]string{"secretsmanager:DescribeSecret"}, arns, nil)
}

// secretARN is arn:…:secretsmanager:<region>:<account>:secret:<name>.
func (p policies) secretARN(name string) *string {
	return p.s.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("secretsmanager"), Resource: jsii.String("secret"), ResourceName: jsii.String(name),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}
