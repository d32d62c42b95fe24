package local

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ExternalID is the sts:ExternalId the seeded target roles require of the
// hub: the CDK app's default for a hub in the sandbox's account and Region
// (infra/config.go), "deckhand-<account>-<region>".
func ExternalID(sb *sandbox.Sandbox) string {
	return "deckhand-" + sb.Account() + "-" + sb.Region()
}

// seedAccounts creates what the platform and the CDK app's target stacks
// create around Deckhand in AWS: every role the manifest names, trusting
// ECS tasks (what deckhand verify checks), and every target's role, which
// the hub's account may assume with ExternalID and session tags; and it
// forwards each target's ECS deployment events (and the task events of
// Deckhand's jobs) of the target's clusters to the sandbox's own bus, as
// the target stacks' rules do.
//
// In AWS a target role trusts only the hub's function roles
// (aws:PrincipalArn); in the sandbox the functions sign with the hub
// account's root credentials, so the seeded role trusts the hub account.
func seedAccounts(sb *sandbox.Sandbox, m *manifest.Manifest) error {
	for _, arn := range m.Roles {
		if err := sb.PutRole(sandbox.RoleSpec{ARN: arn, TrustService: "ecs-tasks.amazonaws.com"}); err != nil {
			return fmt.Errorf("seed roles: %w", err)
		}
	}
	forwarded := map[[2]string][]string{}
	for _, name := range m.TargetNames() {
		t := m.Targets[name]
		err := sb.PutRole(sandbox.RoleSpec{ARN: t.Role, TrustAccounts: []string{sb.Account()}, ExternalID: ExternalID(sb), TagSession: true})
		if err != nil {
			return fmt.Errorf("seed target %s: %w", name, err)
		}
		place := [2]string{t.Account, t.Region}
		forwarded[place] = append(forwarded[place], m.ClustersIn(name)...)
	}
	for place, clusters := range forwarded {
		sb.ForwardTarget(sandbox.Target{Account: place[0], Region: place[1], Clusters: clusters, TaskStartedBy: jobs.StartedByPrefix})
	}
	return nil
}

// ecsIn returns an ECS client in a target's account and Region as that
// account's administrator (the sandbox takes a 12-digit access key id for
// that account's root), or the stack's own for target "": what IaC in the
// target account uses to create its clusters and services.
func (st *Stack) ecsIn(target string) *ecs.Client {
	t, ok := st.Manifest.Targets[target]
	if !ok {
		return st.ECS
	}
	cfg := st.SB.AWSConfig()
	cfg.Region, cfg.Credentials = t.Region, credentials.NewStaticCredentialsProvider(t.Account, "sandbox", "")
	return ecs.NewFromConfig(cfg)
}

// seedReferences creates what the manifest's templates name and the
// platform would have created around them: the SSM parameters and Secrets
// Manager secrets of their {{ ssm }} and {{ secret }} references (with
// placeholder values; a secret that exists is kept) and the awslogs log
// groups they write to, so that pushes deploy and `deckhand verify`
// finds nothing missing.
func seedReferences(sb *sandbox.Sandbox, dir string, m *manifest.Manifest) error {
	for _, key := range templateKeys(m) {
		body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		if err != nil {
			return fmt.Errorf("seed references: %w", err)
		}
		refs, err := taskdef.References(body, key)
		if err != nil {
			return fmt.Errorf("seed references: %w", err)
		}
		for _, r := range refs {
			switch r.Kind {
			case taskdef.RefSSM:
				if _, err := sb.PutParameter("", "", r.Name, "SecureString", "seeded by deckhand sandbox"); err != nil {
					return fmt.Errorf("seed parameter %s: %w", r.Name, err)
				}
			case taskdef.RefSecret:
				if _, err := sb.CreateSecret("", "", r.Name, "seeded by deckhand sandbox"); err != nil && !strings.Contains(err.Error(), "already exists") {
					return fmt.Errorf("seed secret %s: %w", r.Name, err)
				}
			}
		}
		for _, g := range logGroups(body) {
			if err := sb.CreateLogGroup("", "", g); err != nil {
				return fmt.Errorf("seed log group %s: %w", g, err)
			}
		}
	}
	return nil
}

// logGroups are the literal awslogs-group options of a template.
func logGroups(tmpl []byte) []string {
	var doc any
	if json.Unmarshal(tmpl, &doc) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				if s, ok := e.(string); ok && k == "awslogs-group" && !strings.Contains(s, "{{") && !strings.Contains(s, "@@") {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(doc)
	return out
}
