package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// targetTemplate returns a target stack's template as JSON.
func (s *synthesized) targetTemplate(t *testing.T, id string) (assertions.Template, map[string]any) {
	t.Helper()
	st, ok := s.stacks.Targets[id]
	if !ok {
		t.Fatalf("no target stack %s; have %v", id, slices.Sorted(maps.Keys(s.stacks.Targets)))
	}
	tpl := assertions.Template_FromStack(st, nil)
	return tpl, *tpl.ToJSON()
}

func resourcesOf(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

var hubRoles = []string{
	"arn:${AWS::Partition}:iam::123456789012:role/Deckhand-deployer-eu-west-1",
	"arn:${AWS::Partition}:iam::123456789012:role/Deckhand-runner-eu-west-1",
	"arn:${AWS::Partition}:iam::123456789012:role/Deckhand-tracker-eu-west-1",
	"arn:${AWS::Partition}:iam::123456789012:role/Deckhand-reconciler-eu-west-1",
}

func TestTargetStacksOnePerAccountAndRegion(t *testing.T) {
	s := synth(t, "targets")
	var got []string
	for id := range s.stacks.Targets {
		got = append(got, id)
	}
	want := []string{
		"DeckhandTarget-123456789012-us-east-1",
		"DeckhandTarget-210987654321-eu-central-1",
		"DeckhandTarget-210987654321-us-east-1",
		"DeckhandTarget-345678901234-eu-central-1",
	}
	if diff := cmp.Diff(want, sorted(got)); diff != "" {
		t.Errorf("target stacks (-want +got):\n%s", diff)
	}
	// A role two Regions share is created once, in its first Region's stack.
	roles := map[string]int{}
	for _, id := range want {
		_, tpl := s.targetTemplate(t, id)
		for _, r := range resourcesOf(tpl, "AWS::IAM::Role") {
			if name, ok := props(r)["RoleName"].(string); ok {
				roles[id+" "+props(r)["Path"].(string)+name]++
			}
		}
	}
	wantRoles := map[string]int{
		"DeckhandTarget-123456789012-us-east-1 /deckhand-target-us": 1,
		"DeckhandTarget-210987654321-eu-central-1 /deckhand/target": 1,
		"DeckhandTarget-345678901234-eu-central-1 /deckhand-target": 1,
	}
	if diff := cmp.Diff(wantRoles, roles); diff != "" {
		t.Errorf("target roles by stack (-want +got):\n%s", diff)
	}
}

// TestTargetRoleTrust: the target role trusts only the hub's four function
// roles, with the external id, and lets them tag the session with
// Deckhand's keys only.
func TestTargetRoleTrust(t *testing.T) {
	s := synth(t, "targets")
	tpl, _ := s.targetTemplate(t, "DeckhandTarget-345678901234-eu-central-1")
	hubRoot := map[string]any{"AWS": map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::123456789012:root"}}}}
	var roleARNs []any
	for _, fn := range Functions {
		roleARNs = append(roleARNs, map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::123456789012:role/Deckhand-" + fn + "-eu-west-1"}}})
	}
	check(t, "trust policy", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"RoleName": "deckhand-target",
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{
				map[string]any{
					"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": hubRoot,
					"Condition": map[string]any{
						"ArnEquals":    map[string]any{"aws:PrincipalArn": roleARNs},
						"StringEquals": map[string]any{"sts:ExternalId": "deckhand-123456789012-eu-west-1"},
					},
				},
				map[string]any{
					"Action": "sts:TagSession", "Effect": "Allow", "Principal": hubRoot,
					"Condition": map[string]any{
						"ArnEquals":               map[string]any{"aws:PrincipalArn": roleARNs},
						"ForAllValues:StringLike": map[string]any{"aws:TagKeys": []any{"deckhand:*"}},
					},
				},
			}},
		})
	})
}

// targetGrants flattens a target stack's role policies: action → resources
// (and conditions, rendered).
func targetGrants(t *testing.T, tpl map[string]any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range resourcesOf(tpl, "AWS::IAM::Policy") {
		if roles := fmt.Sprint(props(r)["Roles"]); !strings.Contains(roles, "Ref:Role") {
			continue // the forwarding rules' role, not a target role
		}
		for _, st := range props(r)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			cond := ""
			if c, ok := st["Condition"]; ok {
				data, _ := json.Marshal(c)
				cond = " if " + flatJSON(string(data))
			}
			for _, a := range flatList(st["Action"]) {
				for _, res := range flatList(st["Resource"]) {
					out[a] = append(out[a], res+cond)
				}
			}
		}
	}
	for a := range out {
		slices.Sort(out[a])
	}
	return out
}

// flatJSON shortens the partition reference in rendered conditions.
func flatJSON(s string) string {
	return strings.ReplaceAll(s, `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},"`, `{"arn:${AWS::Partition}`)
}

// TestTargetRoleGrants: ECS writes only on the clusters of the role's
// targets (across the Regions that share the role), PassRole only on the
// manifest's roles in the target's account, to ECS tasks.
func TestTargetRoleGrants(t *testing.T) {
	s := synth(t, "targets")
	_, tpl := s.targetTemplate(t, "DeckhandTarget-210987654321-eu-central-1")
	g := targetGrants(t, tpl)
	svc := func(region, cluster string) string {
		return "arn:${AWS::Partition}:ecs:" + region + ":210987654321:service/" + cluster + "/*"
	}
	if diff := cmp.Diff([]string{svc("eu-central-1", "prod"), svc("us-east-1", "prod-us")}, g["ecs:UpdateService"]); diff != "" {
		t.Errorf("UpdateService (-want +got):\n%s", diff)
	}
	wantPass := []string{`arn:aws:iam::210987654321:role/web-task if {"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}`}
	if diff := cmp.Diff(wantPass, g["iam:PassRole"]); diff != "" {
		t.Errorf("PassRole (-want +got):\n%s", diff)
	}
	for a, res := range g {
		if !strings.HasPrefix(a, "ecs:") && a != "iam:PassRole" {
			t.Errorf("target role has %s on %v; want ECS and PassRole only", a, res)
		}
		for _, r := range res {
			if strings.Contains(r, "345678901234") || strings.Contains(r, "/hub/") || strings.Contains(r, "batch") {
				t.Errorf("target role's %s reaches another target's or the hub's resource: %s", a, r)
			}
		}
	}
	// The payments stack's role runs its job's tasks only in its clusters.
	_, pay := s.targetTemplate(t, "DeckhandTarget-345678901234-eu-central-1")
	run := targetGrants(t, pay)["ecs:RunTask"]
	if len(run) != 1 || !strings.Contains(run[0], "cluster/batch") || !strings.Contains(run[0], "cluster/payments") {
		t.Errorf("RunTask = %v, want the task definitions if ecs:cluster is batch or payments", run)
	}
}

// TestForwardingToTheHub: each target stack forwards its clusters' ECS
// deployment events and Deckhand job tasks to the hub's bus, and only
// those.
func TestForwardingToTheHub(t *testing.T) {
	s := synth(t, "targets")
	_, tpl := s.targetTemplate(t, "DeckhandTarget-210987654321-us-east-1")
	rules := resourcesOf(tpl, "AWS::Events::Rule")
	var got []string
	for _, r := range rules {
		p := props(r)
		pattern := p["EventPattern"].(map[string]any)
		tg := p["Targets"].([]any)[0].(map[string]any)
		data, _ := json.Marshal(pattern)
		got = append(got, flat(tg["Arn"])+" <- "+flatJSON(string(data)))
	}
	bus := "arn:${AWS::Partition}:events:eu-west-1:123456789012:event-bus/default"
	want := []string{
		bus + ` <- {"detail":{"clusterArn":[{"arn:${AWS::Partition}:ecs:us-east-1:210987654321:cluster/prod-us"]]}],"startedBy":[{"prefix":"deckhand/"}]},"detail-type":["ECS Task State Change"],"source":["aws.ecs"]}`,
		bus + ` <- {"detail-type":["ECS Deployment State Change"],"resources":[{"prefix":{"arn:${AWS::Partition}:ecs:us-east-1:210987654321:service/prod-us/"]]}}],"source":["aws.ecs"]}`,
	}
	if diff := cmp.Diff(want, sorted(got)); diff != "" {
		t.Errorf("forwarding rules (-want +got):\n%s", diff)
	}
	// Deployable without `cdk bootstrap` in the target: no bootstrap
	// version parameter or rule.
	if tpl["Parameters"] != nil || tpl["Rules"] != nil {
		t.Errorf("target template has Parameters %v / Rules %v; want none (BootstraplessSynthesizer)", tpl["Parameters"], tpl["Rules"])
	}
	// No target role in the second Region's stack: the eu-central-1 stack
	// has it (the forwarding rules have roles of their own).
	for id, r := range resourcesOf(tpl, "AWS::IAM::Role") {
		if props(r)["RoleName"] != nil {
			t.Errorf("role %s (%v) in the us-east-1 stack; the role is the eu-central-1 stack's", id, props(r)["RoleName"])
		}
	}
}

// TestHubAssumesOnlyTargetRoles: every hub function may assume (and tag
// sessions of) exactly the targets' roles, knows the external id, and has
// a fixed role name the targets trust.
func TestHubAssumesOnlyTargetRoles(t *testing.T) {
	s := synth(t, "targets")
	want := []string{
		"arn:aws:iam::123456789012:role/deckhand-target-us",
		"arn:aws:iam::210987654321:role/deckhand/target",
		"arn:aws:iam::345678901234:role/deckhand-target",
	}
	fns := s.resources("AWS::Lambda::Function")
	roles := s.resources("AWS::IAM::Role")
	for _, fn := range Functions {
		g := s.grants(t, fn)
		for _, a := range []string{"sts:AssumeRole", "sts:TagSession"} {
			if diff := cmp.Diff(want, sorted(g[a])); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", fn, a, diff)
			}
		}
		p := props(fns[s.logicalID(t, "AWS::Lambda::Function", constructID(fn))])
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env["DECKHAND_EXTERNAL_ID"] != "deckhand-123456789012-eu-west-1" {
			t.Errorf("%s DECKHAND_EXTERNAL_ID = %v", fn, env["DECKHAND_EXTERNAL_ID"])
		}
		role := props(roles[s.logicalID(t, "AWS::IAM::Role", constructID(fn)+"Role")])
		if got, want := role["RoleName"], "Deckhand-"+fn+"-eu-west-1"; got != want {
			t.Errorf("%s role name %v, want %s", fn, got, want)
		}
		// The hub's own ECS grants stay on the hub's own cluster.
		if diff := cmp.Diff([]string{"arn:${AWS::Partition}:ecs:eu-west-1:123456789012:service/hub/*"}, g["ecs:DescribeServices"]); diff != "" {
			t.Errorf("%s DescribeServices (-want +got):\n%s", fn, diff)
		}
		// Only the deployer and the runner pass roles (the tracker's re-runs
		// go through the job queue); they pass only the hub's own role.
		switch pass := g["iam:PassRole"]; fn {
		case "deployer", "runner":
			if len(pass) != 1 || pass[0] != "arn:aws:iam::123456789012:role/hub-task" {
				t.Errorf("%s PassRole = %v, want only the hub's own role", fn, pass)
			}
		default:
			if len(pass) != 0 {
				t.Errorf("%s PassRole = %v, want none", fn, pass)
			}
		}
	}
	if diff := cmp.Diff(hubRoles, hubRoleARNsFlat()); diff != "" {
		t.Errorf("hub role ARNs (-want +got):\n%s", diff)
	}
}

func hubRoleARNsFlat() []string {
	var out []string
	for _, a := range hubRoleARNs(variants["targets"].cfg) {
		out = append(out, strings.Replace(a, a[strings.Index(a, ":")+1:strings.Index(a, ":iam")], "${AWS::Partition}", 1))
	}
	return out
}

// TestHubBusAcceptsOnlyTargetAccounts: the hub bus's resource policy names
// exactly the target accounts, for ECS's two event types; the tracker's
// rule for forwarded events matches them, the hub's own account only in
// its targets' Regions.
func TestHubBusAcceptsOnlyTargetAccounts(t *testing.T) {
	s := synth(t, "targets")
	policies := s.resources("AWS::Events::EventBusPolicy")
	if len(policies) != 1 {
		t.Fatalf("%d bus policies, want 1", len(policies))
	}
	for _, p := range policies {
		st := props(p)["Statement"].(map[string]any)
		principals := flatList(st["Principal"].(map[string]any)["AWS"])
		want := []string{"arn:${AWS::Partition}:iam::123456789012:root", "arn:${AWS::Partition}:iam::210987654321:root", "arn:${AWS::Partition}:iam::345678901234:root"}
		if diff := cmp.Diff(want, sorted(principals)); diff != "" {
			t.Errorf("bus policy principals (-want +got):\n%s", diff)
		}
		if st["Action"] != "events:PutEvents" || props(p)["EventBusName"] != "default" {
			t.Errorf("bus policy = %v", props(p))
		}
		cond := fmt.Sprint(st["Condition"])
		if !strings.Contains(cond, "aws.ecs") || !strings.Contains(cond, "ECS Deployment State Change") {
			t.Errorf("bus policy condition %s does not limit to ECS events", cond)
		}
	}
	var patterns []string
	for id, r := range s.resources("AWS::Events::Rule") {
		if strings.HasPrefix(id, "TargetEcsEvents") {
			data, _ := json.Marshal(props(r)["EventPattern"])
			patterns = append(patterns, string(data))
		}
	}
	want := []string{
		`{"account":["123456789012"],"detail-type":["ECS Deployment State Change","ECS Task State Change"],"region":["us-east-1"],"source":["aws.ecs"]}`,
		`{"account":["210987654321","345678901234"],"detail-type":["ECS Deployment State Change","ECS Task State Change"],"source":["aws.ecs"]}`,
	}
	if diff := cmp.Diff(want, sorted(patterns)); diff != "" {
		t.Errorf("tracker rules for forwarded events (-want +got):\n%s", diff)
	}
}

func TestTargetStacksNagClean(t *testing.T) {
	s := synth(t, "targets")
	for id, st := range s.stacks.Targets {
		errs := assertions.Annotations_FromStack(st).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, msg := range *errs {
			data, _ := json.Marshal(msg)
			t.Errorf("%s: unsuppressed cdk-nag error: %s", id, data)
		}
	}
}

func TestTargetsNeedTheHub(t *testing.T) {
	cfg := variants["targets"].cfg
	cfg.DistDir = testDist
	cfg.HubAccount, cfg.HubRegion = "", ""
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), ctxHubAccount) {
		t.Errorf("Load without the hub's account: %v, want an error naming %s", err, ctxHubAccount)
	}
	cfg.HubAccount, cfg.HubRegion = "210987654321", "eu-central-1"
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "target prod-eu is the hub's own account and Region") {
		t.Errorf("Load with a target in the hub's place: %v", err)
	}
}

// grants maps each action of a function's role to its resources.
func (s *synthesized) grants(t *testing.T, fn string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, st := range s.fnStatements(t, fn) {
		for _, a := range st.Actions {
			out[a] = append(out[a], st.Resources...)
		}
	}
	return out
}

// TestRepositoryGrantsCollapse: DescribeImages lists repositories one by
// one, then by namespace, then all, as the manifest grows, so the
// functions' policies stay small (docs/quotas.md).
func TestRepositoryGrantsCollapse(t *testing.T) {
	manifestWith := func(repos []string) *manifest.Manifest {
		var b strings.Builder
		b.WriteString("version: 1\nservices:\n")
		for i, r := range repos {
			fmt.Fprintf(&b, "  - {name: s%d, cluster: c, service: s%d, template: t, images: {x: {repository: %s, tags: \"*\"}}}\n", i, i, r)
		}
		m, err := manifest.Parse("m.yaml", []byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	names := func(prefix func(int) string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, prefix(i))
		}
		return out
	}
	tests := map[string]struct {
		repos []string
		want  []string
	}{
		"a few repositories are listed": {
			repos: []string{"api", "team/web"},
			want:  []string{"api", "team/web"},
		},
		"many repositories in few namespaces are granted by namespace": {
			repos: append(names(func(i int) string { return fmt.Sprintf("ns%d/app-%02d", i%3, i) }, 30), "plain"),
			want:  []string{"ns0/*", "ns1/*", "ns2/*", "plain"},
		},
		"many namespaces are granted as all repositories": {
			repos: names(func(i int) string { return fmt.Sprintf("ns%02d/app", i) }, maxListedRepositories+1),
			want:  []string{"*"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
			s := &stack{Stack: awscdk.NewStack(app, jsii.String("T"), nil), m: manifestWith(tc.repos)}
			var got []string
			for _, a := range s.repositoryARNs() {
				arn := flat(s.Resolve(a).(map[string]any))
				got = append(got, arn[strings.Index(arn, ":repository/")+len(":repository/"):])
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("repository grants (-want +got):\n%s", diff)
			}
		})
	}
}
