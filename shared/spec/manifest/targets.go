package manifest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Regions are the AWS Regions a target may name: the commercial, China and
// GovCloud (US) Regions listed on "AWS Regions and Availability Zones"
// (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
// A Region AWS opens later is added here.
var Regions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
	"eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
	"mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1",
	"us-west-1", "us-west-2",
}

// RoleAccount returns the account id in a role ARN.
func RoleAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// targets checks every target: a name as for bindings, a 12-digit account,
// a known Region and a role in the target's own account.
func (c *checker) targets(m *Manifest) {
	for _, name := range sortedKeys(m.Targets) {
		t := m.Targets[name]
		if !validName(name) {
			c.add(fmt.Sprintf("target name %q: use letters, digits, '.', '_' or '-' (at most 63)", name), "targets", name)
		}
		if c.required(t.Account, "targets", name, "account") && !accountRe.MatchString(t.Account) {
			c.add(fmt.Sprintf("%q is not a 12-digit account id (quote it: account: \"012345678901\")", t.Account), "targets", name, "account")
		}
		if c.required(t.Region, "targets", name, "region") && !slices.Contains(Regions, t.Region) {
			c.add(fmt.Sprintf("unknown Region %q; want one such as eu-central-1 or us-east-1", t.Region), "targets", name, "region")
		}
		if !c.required(t.Role, "targets", name, "role") {
			continue
		}
		if !validRole(t.Role) {
			c.add(fmt.Sprintf("%q is not an IAM role ARN (arn:aws:iam::123456789012:role/name)", t.Role), "targets", name, "role")
		} else if acct := RoleAccount(t.Role); accountRe.MatchString(t.Account) && acct != t.Account {
			c.add(fmt.Sprintf("role %s is in account %s, not in the target's account %s", t.Role, acct, t.Account), "targets", name, "role")
		}
	}
}

// targetRef checks a service's or job's target: names a defined target.
func (c *checker) targetRef(m *Manifest, target string, list string, i int) {
	if target == "" {
		return
	}
	if _, ok := m.Targets[target]; !ok {
		known := "none defined under targets:"
		if len(m.Targets) > 0 {
			known = "known: " + strings.Join(sortedKeys(m.Targets), ", ")
		}
		c.add(fmt.Sprintf("target %q not found; %s", target, known), list, i, "target")
	}
}

// targetLimits refuses what Deckhand does not yet do for a binding in a
// target: gates and promotion read and tag revisions and scans through the
// hub's own ECS and ECR clients, and deployment alarms are checked in the
// hub's CloudWatch, so in a target account they would judge the wrong
// account. A clear refusal beats a gate that silently looks elsewhere.
func (c *checker) targetLimits(s *Service, i int) {
	if s.Target == "" {
		return
	}
	if s.Gates != nil {
		c.add(fmt.Sprintf("gates on a binding with target %q are not supported yet (gates run in Deckhand's own account)", s.Target), "services", i, "gates")
	}
	for _, name := range sortedKeys(s.Images) {
		if s.Images[name].PromoteFrom != "" {
			c.add(fmt.Sprintf("promoteFrom on a binding with target %q is not supported yet (promotion runs in Deckhand's own account)", s.Target), "services", i, "images", name, "promoteFrom")
		}
	}
	if s.Deployment != nil && len(s.Deployment.Alarms) > 0 {
		c.add(fmt.Sprintf("deployment alarms on a binding with target %q are not supported yet (Deckhand checks alarms in its own account's CloudWatch)", s.Target), "services", i, "deployment", "alarms")
	}
}

// placeKey is an ECS cluster where it lives: "" account and Region for
// Deckhand's own.
type placeKey struct{ account, region, cluster string }

func (k placeKey) String() string {
	if k.account == "" {
		return fmt.Sprintf("cluster %q in Deckhand's own account and Region", k.cluster)
	}
	return fmt.Sprintf("cluster %q in account %s, %s", k.cluster, k.account, k.region)
}

// places refuses what makes a cluster or a service ambiguous:
//
//   - one cluster reached through two roles: targets may share an account
//     and Region (aliases, or teams with roles of their own), but a cluster
//     used through one of them must not also be used through another with a
//     different role, or two roles would write to it;
//   - one ECS service bound twice: two bindings deploying the same service
//     of the same cluster in the same place would race each other.
//
// A cluster name reused in another account or Region is another cluster,
// and fine.
func (c *checker) places(m *Manifest) {
	type use struct {
		role string
		path []any
	}
	clusters := map[placeKey]use{}
	services := map[string][]any{}
	at := func(target, cluster string, path []any) {
		t, ok := m.Targets[target]
		if target != "" && !ok || cluster == "" {
			return
		}
		k := placeKey{t.Account, t.Region, cluster}
		prev, seen := clusters[k]
		if !seen {
			clusters[k] = use{t.Role, path}
			return
		}
		if prev.role != t.Role {
			c.add(fmt.Sprintf("%s is also used through role %s (at %s); one cluster through two roles is ambiguous: use one target for it", k, prev.role, c.where(prev.path...)), append(slices.Clone(path), "cluster")...)
		}
	}
	for i, s := range m.Services {
		path := []any{"services", i}
		at(s.Target, s.Cluster, path)
		t := m.Targets[s.Target]
		key := placeKey{t.Account, t.Region, s.Cluster}.String() + " service " + s.Service
		if prev, dup := services[key]; dup && s.Service != "" && s.Cluster != "" {
			c.add(fmt.Sprintf("ECS service %q of %s is already bound at %s; two bindings of one service would race", s.Service, placeKey{t.Account, t.Region, s.Cluster}, c.where(prev...)), "services", i, "service")
			continue
		}
		services[key] = path
	}
	for i, j := range m.Jobs {
		at(j.Target, j.Cluster, []any{"jobs", i})
	}
}

// TargetNames returns the names of the manifest's targets, sorted.
func (m *Manifest) TargetNames() []string { return sortedKeys(m.Targets) }

// ClustersIn returns the distinct clusters of the services and jobs that
// run in target, sorted; target "" is Deckhand's own account and Region.
func (m *Manifest) ClustersIn(target string) []string {
	set := map[string]bool{}
	for _, s := range m.Services {
		if s.Target == target {
			set[s.Cluster] = true
		}
	}
	for _, j := range m.Jobs {
		if j.Target == target {
			set[j.Cluster] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// RolesIn returns the manifest's roles: (PassRole's allow-list) in account.
func (m *Manifest) RolesIn(account string) []string {
	var out []string
	for _, r := range m.Roles {
		if RoleAccount(r) == account {
			out = append(out, r)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
