package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ecsARNFinding is how cdk-nag names an ECS ARN built by stack.arn: with
// the pseudo parameters of an environment-agnostic stack, or with the
// account and Region the hub is pinned to.
func (s *stack) ecsARNFinding(resource, name string) string {
	region, account := "<AWS::Region>", "<AWS::AccountId>"
	if !*awscdk.Token_IsUnresolved(s.Region()) {
		region, account = *s.Region(), *s.Account()
	}
	return "Resource::arn:<AWS::Partition>:ecs:" + region + ":" + account + ":" + resource + "/" + name
}

// suppressNag records, next to the code, why each remaining cdk-nag
// AwsSolutions finding is accepted. Suppressions name the exact finding
// (appliesTo), so a new wildcard still fails the synth and the tests.
func (s *stack) suppressNag() {
	// The function roles: every wildcard is one DESIGN §9 calls for.
	wildcards := []string{
		// Actions with no resource-level permissions: RegisterTaskDefinition,
		// DescribeTaskDefinition, ListTaskDefinitions; and ListTasks, which
		// is scoped by the ecs:cluster condition key instead.
		"Resource::*",
		// Revisions of any family: families come from the templates, which
		// the renderer validates; RunTask on them is limited by ecs:cluster
		// and TagResource by ecs:CreateAction.
		s.ecsARNFinding("task-definition", "*"),
	}
	for _, c := range s.m.ClustersIn("") {
		// Services and tasks of the manifest's clusters only, and the
		// deployment records of those services (read by the tracker).
		wildcards = append(wildcards, s.ecsARNFinding("service", c+"/*"), s.ecsARNFinding("task", c+"/*"),
			s.ecsARNFinding("service-deployment", c+"/*"), s.ecsARNFinding("service-revision", c+"/*"))
	}
	for _, name := range Functions {
		appliesTo := []any{
			// The manifest and templates: any object of the Deckhand bucket.
			map[string]any{"regex": `/^Resource::<Bucket[0-9A-F]{8}\.Arn>\/\*$/`},
			// A fleet's repositories, by namespace or all (repositoryARNs):
			// ecr:DescribeImages only.
			map[string]any{"regex": `/^Resource::arn:<AWS::Partition>:ecr:[^:]+:[^:]+:repository\/(.+\/)?\*$/`},
		}
		for _, w := range wildcards {
			appliesTo = append(appliesTo, w)
		}
		cdknag.NagSuppressions_AddResourceSuppressions(s.fns[name].Role(), &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("Least privilege per DESIGN §9: objects of the Deckhand bucket; ECS services, tasks and service-deployment records of the manifest's clusters; task-definition revisions (families come from templates); \"*\" only for ECS actions without resource-level permissions and for ListTasks scoped by ecs:cluster."),
			AppliesTo: &appliesTo,
		}}, jsii.Bool(true))
	}

	// Rule, schedule and ops DLQs are targets' dead-letter queues
	// themselves; cdk-nag only recognizes queues named in a redrive policy.
	for _, q := range s.dlqs {
		cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-SQS3"),
			Reason: jsii.String("This queue is a dead-letter queue (of an EventBridge target, a schedule or a function's async invocations); a DLQ has no DLQ of its own."),
		}}, jsii.Bool(false))
	}

	cdknag.NagSuppressions_AddResourceSuppressions(s.bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("The bucket holds only the manifest and templates, written by CloudFormation at deploy time; object versions and revision tags are the audit trail. Enable CloudTrail S3 data events for read auditing."),
	}}, jsii.Bool(false))

	// BucketDeployment's provider function is a stack-level singleton whose
	// id carries a hash; find it by prefix.
	for _, c := range *s.Node().Children() {
		id := *c.Node().Id()
		if !strings.HasPrefix(id, "Custom::CDKBucketDeployment") {
			continue
		}
		cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{
			{
				Id:     jsii.String("AwsSolutions-IAM4"),
				Reason: jsii.String("CDK's BucketDeployment provider uses AWSLambdaBasicExecutionRole for its own logs; it runs only during deployments."),
			},
			{
				Id:     jsii.String("AwsSolutions-IAM5"),
				Reason: jsii.String("CDK's BucketDeployment provider copies from the CDK asset bucket into the Deckhand bucket (s3:GetObject*/List*/DeleteObject* on those two buckets); granted by aws-cdk-lib."),
			},
			{
				Id:     jsii.String("AwsSolutions-L1"),
				Reason: jsii.String("The BucketDeployment provider's Python runtime is pinned by aws-cdk-lib and moves with its upgrades."),
			},
		}, jsii.Bool(true))
	}
}
