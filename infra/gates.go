package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// What the gates of DESIGN §11 add to the hub: the rules that bring scan
// results to the deployer, and the grants the gates need, each only when
// the manifest has the gate. Nothing else is needed: the soak, a freeze's
// end and an approval's expiry are the reconciler's (it runs on its rate
// schedule already), an approval is the CLI's, and sts:GetCallerIdentity,
// which records who approved, needs no permission at all.

// scanPattern is a scan rule's event pattern for repositories: ECR's basic
// scan results (COMPLETE or FAILED) and Inspector's initial enhanced scans,
// whose repository-name is the repository's ARN.
func (s *stack) scanPattern(repositories []string) []map[string]any {
	var arns []*string
	for _, r := range repositories {
		arns = append(arns, s.arn("ecr", "repository", r))
	}
	return []map[string]any{
		{
			"source":      []string{"aws.ecr"},
			"detail-type": []string{"ECR Image Scan"},
			"detail":      map[string]any{"scan-status": []string{"COMPLETE", "FAILED"}, "repository-name": repositories},
		},
		{
			"source":      []string{"aws.inspector2"},
			"detail-type": []string{"Inspector2 Scan"},
			"detail":      map[string]any{"scan-status": []string{"INITIAL_SCAN_COMPLETE"}, "repository-name": arns},
		},
	}
}

func (s *stack) scanRulePrefix() string {
	name := *s.StackName()
	if len(name) > 48 {
		name = name[:48]
	}
	return name + "-scan-"
}

// addScanRules routes the scan results of the repositories whose images a
// binding's scan gate judges into the deploy queue, in the repository's
// message group, so a result and the pushes it decides are never handled
// at once. One pair of rules (ECR, Inspector) per message group; a missed
// result is made up for by the reconciler, which asks ECR.
func (s *stack) addScanRules(dlq awssqs.Queue) {
	byGroup := map[string][]string{}
	var groups []string
	for _, r := range s.m.Repositories() {
		g, ok := s.m.ScanGroupOf(r)
		if !ok {
			continue
		}
		if byGroup[g] == nil {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], r)
	}
	n := 0
	for _, g := range groups {
		for _, repos := range packPatterns(byGroup[g], func(rs []string) map[string]any { return s.sizing(rs) }) {
			for i, pattern := range s.scanPattern(repos) {
				kind := []string{"ECR", "Inspector"}[i]
				name := fmt.Sprintf("%s%03d", s.scanRulePrefix(), n)
				awsevents.NewCfnRule(s.Stack, jsii.String(fmt.Sprintf("Scan%s%d%s", kind, n, constructID(g))), &awsevents.CfnRuleProps{
					Name:         jsii.String(name),
					Description:  jsii.String(fmt.Sprintf("Deckhand: %s scan results of %d scan-gated repositories of message group %s into the deploy queue", kind, len(repos), g)),
					EventPattern: pattern,
					State:        jsii.String("ENABLED"),
					Targets: &[]*awsevents.CfnRule_TargetProperty{{
						Id:               jsii.String("DeployQueue"),
						Arn:              s.deployQueue.QueueArn(),
						SqsParameters:    &awsevents.CfnRule_SqsParametersProperty{MessageGroupId: jsii.String(g)},
						DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
						RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
							MaximumRetryAttempts:     jsii.Number(targetRetryAttempts),
							MaximumEventAgeInSeconds: jsii.Number(targetMaxEventAgeSec),
						},
					}},
				})
				n++
			}
		}
	}
	if n == 0 {
		return
	}
	rules := s.FormatArn(&awscdk.ArnComponents{Service: jsii.String("events"), Resource: jsii.String("rule"), ResourceName: jsii.String(s.scanRulePrefix() + "*")})
	for _, q := range []awssqs.Queue{s.deployQueue, dlq} {
		q.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
			Actions:    strs([]string{"sqs:SendMessage"}),
			Resources:  &[]*string{q.QueueArn()},
			Conditions: &map[string]any{"ArnLike": map[string]any{"aws:SourceArn": rules}},
		}))
	}
}

// sizing is the larger of a chunk's two scan patterns (the Inspector one,
// with ARNs at their worst-case length), for packPatterns.
func (s *stack) sizing(repos []string) map[string]any {
	var arns []string
	for _, r := range repos {
		arns = append(arns, fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", sizingPartition, sizingRegion, sizingAccount, r))
	}
	return map[string]any{"source": []string{"aws.inspector2"}, "detail-type": []string{"Inspector2 Scan"},
		"detail": map[string]any{"scan-status": []string{"INITIAL_SCAN_COMPLETE"}, "repository-name": arns}}
}

// gatesIn are the gates the manifest uses.
type gatesIn struct{ promotions, approvals, scans bool }

func (s *stack) gatesIn() gatesIn {
	var g gatesIn
	for _, b := range s.m.Services {
		g.promotions = g.promotions || b.PromoteFrom() != ""
		g.approvals = g.approvals || b.Gates.ApprovalRequired()
		g.scans = g.scans || len(b.Gates.ScanBlocks()) > 0
	}
	return g
}

// scanFindings: the scan gate reads the findings of the repositories its
// images come from, only those.
func (p policies) scanFindings() awsiam.PolicyStatement {
	var arns []*string
	for _, r := range p.s.m.ScanRepositories() {
		arns = append(arns, p.s.arn("ecr", "repository", r))
	}
	return allow([]string{"ecr:DescribeImageScanFindings"}, arns, nil)
}

// promotionSources: a promotion's source is confirmed with ECS's
// service-deployment records (the revision it reached SUCCESSFUL with),
// on the manifest's clusters only.
func (p policies) promotionSources() awsiam.PolicyStatement {
	if !p.s.gatesIn().promotions {
		return nil
	}
	return p.serviceDeploymentRecords()
}

// gatedRevisions: the approval state of a gated revision is a tag on it,
// written after it was registered: ecs:TagResource on task-definition
// revisions, with only the keys given.
func (p policies) gatedRevisions(keys ...string) awsiam.PolicyStatement {
	if !p.s.gatesIn().approvals {
		return nil
	}
	return allow([]string{"ecs:TagResource"}, p.ecs.taskDefinitionARNs(), map[string]any{
		"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": keys},
	})
}

// listRevisions: finding a binding's gated revision behind another one
// looks back over the family (ListTaskDefinitions supports no resource).
func (p policies) listRevisions() awsiam.PolicyStatement {
	if !p.s.gatesIn().approvals || p.retention {
		return nil // retireRevisions lists them too
	}
	return allow([]string{"ecs:ListTaskDefinitions"}, anyResource, nil)
}

// markBlocked: the scan gate notes the digest it blocked on the service
// (deckhand:blocked:<container>), only those keys, on the manifest's
// clusters' services.
func (p policies) markBlocked() awsiam.PolicyStatement {
	if !p.s.gatesIn().scans {
		return nil
	}
	return allow([]string{"ecs:TagResource"}, p.ecs.inClusters("service"), map[string]any{
		"ForAllValues:StringLike": map[string]any{"aws:TagKeys": []string{revision.TagBlocked + "*"}},
	})
}

// Tag keys each function writes on gated revisions.
var (
	deployerGateKeys   = []string{revision.TagApproval, revision.TagApprovalExpires, revision.TagDecidedAt, revision.TagDecisionReason}
	reconcilerGateKeys = []string{revision.TagApproval, revision.TagDecidedAt}
)
