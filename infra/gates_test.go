package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestScanRulesIntoTheDeployQueue: the scan results of the scan-gated
// repositories (ECR's basic scans, Inspector's initial enhanced scans)
// reach the deploy queue in the repository's message group; nothing else
// does.
func TestScanRulesIntoTheDeployQueue(t *testing.T) {
	s := synth(t, "gates")
	queue := "${" + s.logicalID(t, "AWS::SQS::Queue", "DeployQueue") + ".Arn}"
	type rule struct {
		Source, DetailType, Status, Repository, Queue, Group string
	}
	var got []rule
	for id, r := range s.resources("AWS::Events::Rule") {
		if !strings.HasPrefix(id, "Scan") {
			continue
		}
		p := props(r)
		pat := p["EventPattern"].(map[string]any)
		detail := pat["detail"].(map[string]any)
		target := p["Targets"].([]any)[0].(map[string]any)
		got = append(got, rule{Source: flatList(pat["source"])[0], DetailType: flatList(pat["detail-type"])[0],
			Status: strings.Join(flatList(detail["scan-status"]), ","), Repository: strings.Join(flatList(detail["repository-name"]), ","),
			Queue: flat(target["Arn"]), Group: flat(target["SqsParameters"].(map[string]any)["MessageGroupId"])})
	}
	want := []rule{
		{Source: "aws.ecr", DetailType: "ECR Image Scan", Status: "COMPLETE,FAILED", Repository: "shop", Queue: queue, Group: "shop"},
		{Source: "aws.inspector2", DetailType: "Inspector2 Scan", Status: "INITIAL_SCAN_COMPLETE",
			Repository: "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/shop", Queue: queue, Group: "shop"},
	}
	less := func(a, b rule) bool { return a.Source < b.Source }
	if diff := cmp.Diff(want, got, cmpSortRules(less)); diff != "" {
		t.Errorf("scan rules (-want +got):\n%s", diff)
	}
	if n := len(s.resources("AWS::Events::Rule")); n == 0 {
		t.Fatal("no rules")
	}
	for id := range synth(t, "example").resources("AWS::Events::Rule") {
		if strings.HasPrefix(id, "Scan") {
			t.Errorf("the example manifest has no scan gate, yet the stack has scan rule %s", id)
		}
	}
}

// TestGateGrants: each grant the gates add, per function and property:
// scan findings of the scan-gated repositories only; approval tags on
// revisions with only the keys each function writes; the blocked mark on
// services; service-deployment records for promotions. No function may
// call STS: GetCallerIdentity (the CLI's, for approvals) needs no
// permission, and nothing else asks who it is.
func TestGateGrants(t *testing.T) {
	s := synth(t, "gates")
	var services, records []string
	for _, c := range []string{"prod", "staging"} {
		services = append(services, ecsARN("service", c+"/*"))
	}
	records = append(records, services...)
	for _, r := range []string{"service-deployment", "service-revision"} {
		for _, c := range []string{"prod", "staging"} {
			records = append(records, ecsARN(r, c+"/*"))
		}
	}
	shop := "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/shop"
	taskDefs := []string{ecsARN("task-definition", "*")}
	tagKeys := func(keys ...string) map[string]map[string][]string {
		return map[string]map[string][]string{"ForAllValues:StringEquals": {"aws:TagKeys": keys}}
	}
	createOnly := map[string]map[string][]string{"StringEquals": {"ecs:CreateAction": {"RegisterTaskDefinition"}}}
	tests := map[string]struct {
		fn, action string
		want       []statement
	}{
		"the deployer reads scan findings of the scan-gated repositories only": {fn: "deployer", action: "ecr:DescribeImageScanFindings", want: []statement{
			{Actions: []string{"ecr:DescribeImageScanFindings"}, Resources: []string{shop}}}},
		"the reconciler reads scan findings of the scan-gated repositories only": {fn: "reconciler", action: "ecr:DescribeImageScanFindings", want: []statement{
			{Actions: []string{"ecr:DescribeImageScanFindings"}, Resources: []string{shop}}}},
		"the deployer tags revisions on register, approval keys after, and blocked marks on services": {fn: "deployer", action: "ecs:TagResource", want: []statement{
			{Actions: []string{"ecs:TagResource"}, Resources: taskDefs, Conditions: createOnly},
			{Actions: []string{"ecs:TagResource"}, Resources: taskDefs,
				Conditions: tagKeys("deckhand:approval", "deckhand:approval-expires", "deckhand:decided-at", "deckhand:decision-reason")},
			{Actions: []string{"ecs:TagResource"}, Resources: services,
				Conditions: map[string]map[string][]string{"ForAllValues:StringLike": {"aws:TagKeys": {"deckhand:blocked:*"}}}}}},
		"the reconciler tags rolled-back marks, and revisions only to expire them": {fn: "reconciler", action: "ecs:TagResource", want: []statement{
			{Actions: []string{"ecs:TagResource"}, Resources: services,
				Conditions: map[string]map[string][]string{"ForAllValues:StringLike": {"aws:TagKeys": {"deckhand:rolled-back:*"}}}},
			{Actions: []string{"ecs:TagResource"}, Resources: taskDefs, Conditions: tagKeys("deckhand:approval", "deckhand:decided-at")}}},
		"the deployer confirms a promotion's source with the records of the manifest's clusters": {fn: "deployer", action: "ecs:ListServiceDeployments", want: []statement{
			{Actions: []string{"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"}, Resources: records}}},
		"the reconciler reads a promotion's source the same way": {fn: "reconciler", action: "ecs:DescribeServiceRevisions", want: []statement{
			{Actions: []string{"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"}, Resources: records}}},
		"the reconciler lists a family's revisions to find a gated one": {fn: "reconciler", action: "ecs:ListTaskDefinitions", want: []statement{
			{Actions: []string{"ecs:ListTaskDefinitions"}, Resources: []string{"*"}}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := withAction(s.fnStatements(t, tc.fn), tc.action)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, variant := range []string{"gates", "example"} {
		for role, stmts := range synth(t, variant).statementsByRole() {
			for _, st := range stmts {
				for _, a := range st.Actions {
					if strings.HasPrefix(a, "sts:") && a != "sts:AssumeRole" && a != "sts:TagSession" {
						t.Errorf("%s: role %s grants %s; GetCallerIdentity needs no permission", variant, role, a)
					}
				}
			}
		}
	}
	for _, fn := range Functions {
		if got := withAction(synth(t, "example").fnStatements(t, fn), "ecr:DescribeImageScanFindings"); len(got) > 0 {
			t.Errorf("example (no scan gate): %s reads scan findings: %v", fn, got)
		}
	}
}

// TestScanRulesMayReachTheDeployQueue: the deploy queue's policy admits
// the scan rules (by their name prefix), as it admits the push rules.
func TestScanRulesMayReachTheDeployQueue(t *testing.T) {
	s := synth(t, "gates")
	queue := s.logicalID(t, "AWS::SQS::Queue", "DeployQueue")
	var sources []string
	for _, p := range s.resources("AWS::SQS::QueuePolicy") {
		pp := props(p)
		if !contains(flatList(pp["Queues"]), "${"+queue+"}") {
			continue
		}
		for _, raw := range pp["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := raw.(map[string]any)
			if c, ok := st["Condition"].(map[string]any)["ArnLike"].(map[string]any); ok {
				sources = append(sources, flat(c["aws:SourceArn"]))
			}
		}
	}
	want := []string{"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/Deckhand-push-*",
		"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/Deckhand-scan-*"}
	if diff := cmp.Diff(want, sorted(sources)); diff != "" {
		t.Errorf("rules the deploy queue admits (-want +got):\n%s", diff)
	}
}

func cmpSortRules[T any](less func(a, b T) bool) cmp.Option {
	return cmpopts.SortSlices(less)
}
