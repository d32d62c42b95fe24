package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// ECS tag-on-create actions Deckhand uses. ecs:TagResource is allowed only
// as part of them (DESIGN §9), never on an existing resource.
const (
	createRegister = "RegisterTaskDefinition"
	createRunTask  = "RunTask"
)

// grantAll gives each function exactly what DESIGN §7 and §9 name. ARNs are
// built from the manifest and from construct attributes; "*" appears only
// for the ECS actions that support no resource-level permission
// (RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions) and
// for ListTasks, which AWS authorizes through the ecs:cluster condition key.
//
// Sources: AWS Service Authorization Reference, "Actions, resources, and
// condition keys for Amazon Elastic Container Service"; ECS Developer
// Guide, "Identity-based policy examples" (RunTask is authorized on the
// task-definition resource and scoped to clusters with ecs:cluster) and
// "Grant permission to tag resources on creation" (ecs:CreateAction).
func (s *stack) grantAll() {
	p := s.policies()
	for name, stmts := range map[string][]awsiam.PolicyStatement{
		"deployer": {
			p.readObjects(),
			p.describeServices(),
			p.updateServices(),
			p.taskDefinitions(),
			p.listTags(),
			p.tagOnCreate(createRegister),
			p.passRole(),
			p.putEvents(),
			p.describeImages(), // catch-up during bursts (shared/engine/deploy/catchup.go)
			p.sendToDeployDLQ(),
		},
		"runner": {
			p.readObjects(),
			p.describeServices(),
			p.taskDefinitions(),
			p.listTags(),
			p.runTask(),
			p.tasks("ecs:DescribeTasks", "ecs:StopTask"),
			p.listTasks(),
			p.tagOnCreate(createRunTask, createRegister),
			p.passRole(),
			p.putEvents(),
			p.describeImages(),
		},
		"tracker": {
			p.readObjects(),
			p.describeServices(),
			p.describeTaskDefinitions(),
			p.listTags(),
			p.runTask(),
			p.tasks("ecs:DescribeTasks", "ecs:StopTask"),
			p.listTasks(),
			p.tagOnCreate(createRunTask),
			p.markRolledBack(),
			p.serviceDeploymentRecords(),
			p.passRole(),
			p.putEvents(),
		},
		"reconciler": {
			p.readObjects(),
			p.describeServices(),
			p.describeTaskDefinitions(),
			p.listTags(),
			p.tasks("ecs:DescribeTasks", "ecs:StopTask"),
			p.listTasks(),
			p.describeImages(),
			p.putEvents(),
			p.sendToDeployQueue(),
			p.markRolledBack(), // repairs a mark the tracker could not write
		},
	} {
		for _, st := range stmts {
			if st != nil {
				s.fns[name].AddToRolePolicy(st)
			}
		}
	}
}

// policies builds the statements the functions share.
type policies struct{ s *stack }

func (s *stack) policies() policies { return policies{s} }

func allow(actions []string, resources []*string, conditions map[string]any) awsiam.PolicyStatement {
	if len(resources) == 0 {
		return nil // nothing in the manifest to grant on
	}
	props := &awsiam.PolicyStatementProps{
		Effect:    awsiam.Effect_ALLOW,
		Actions:   strs(actions),
		Resources: &resources,
	}
	if conditions != nil {
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props)
}

var anyResource = []*string{jsii.String("*")}

// readObjects: the manifest and templates, objects of this bucket only.
func (p policies) readObjects() awsiam.PolicyStatement {
	return allow([]string{"s3:GetObject"}, []*string{p.s.bucket.ArnForObjects(jsii.String("*"))}, nil)
}

// describeServices: services of the manifest's clusters.
func (p policies) describeServices() awsiam.PolicyStatement {
	return allow([]string{"ecs:DescribeServices"}, p.s.inClusters("service"), nil)
}

// updateServices: the only ECS service write, on the manifest's clusters.
func (p policies) updateServices() awsiam.PolicyStatement {
	return allow([]string{"ecs:UpdateService"}, p.s.inClusters("service"), nil)
}

// taskDefinitions: register, describe and list revisions. None of the
// three supports resource-level permissions, so AWS requires "*".
func (p policies) taskDefinitions() awsiam.PolicyStatement {
	return allow([]string{"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:RegisterTaskDefinition"}, anyResource, nil)
}

// describeTaskDefinitions: read-only subset of taskDefinitions.
func (p policies) describeTaskDefinitions() awsiam.PolicyStatement {
	return allow([]string{"ecs:DescribeTaskDefinition"}, anyResource, nil)
}

// listTags: revision tags (DESIGN §5) and the service hold tag.
func (p policies) listTags() awsiam.PolicyStatement {
	return allow([]string{"ecs:ListTagsForResource"}, append(p.s.taskDefinitionARNs(), p.s.inClusters("service")...), nil)
}

// tagOnCreate: ecs:TagResource only while creating with one of actions.
func (p policies) tagOnCreate(actions ...string) awsiam.PolicyStatement {
	resources := p.s.taskDefinitionARNs()
	for _, a := range actions {
		if a == createRunTask {
			resources = append(resources, p.s.inClusters("task")...)
		}
	}
	return allow([]string{"ecs:TagResource"}, resources, map[string]any{
		"StringEquals": map[string]any{"ecs:CreateAction": actions},
	})
}

// markRolledBack: the tracker records a digest the circuit breaker rolled
// back as a tag on the service (deckhand:rolled-back:<container>), so the
// deployer and the reconciler do not deploy it again on their own; the
// reconciler repairs a mark the tracker could not write (issue 10 item 2).
// This is the one ecs:TagResource on an existing resource: services of the
// manifest's clusters only, and only keys under deckhand:rolled-back:.
func (p policies) markRolledBack() awsiam.PolicyStatement {
	return allow([]string{"ecs:TagResource"}, p.s.inClusters("service"), map[string]any{
		"ForAllValues:StringLike": map[string]any{"aws:TagKeys": []string{revision.TagRolledBack + "*"}},
	})
}

// serviceDeploymentRecords: the tracker confirms a verdict with ECS's
// record of a service deployment once the service no longer lists it
// (DESIGN §10): ListServiceDeployments on the manifest's services,
// DescribeServiceDeployments and DescribeServiceRevisions on those
// services' deployment and revision records, read-only.
func (p policies) serviceDeploymentRecords() awsiam.PolicyStatement {
	resources := p.s.inClusters("service")
	resources = append(resources, p.s.inClusters("service-deployment")...)
	resources = append(resources, p.s.inClusters("service-revision")...)
	return allow([]string{"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"}, resources, nil)
}

// runTask: any task definition, but only on the manifest's clusters.
func (p policies) runTask() awsiam.PolicyStatement {
	if len(p.s.m.Clusters()) == 0 {
		return nil
	}
	return allow([]string{"ecs:RunTask"}, p.s.taskDefinitionARNs(), map[string]any{
		"ArnEquals": map[string]any{"ecs:cluster": p.s.clusterARNs()},
	})
}

// tasks: task-level actions on tasks of the manifest's clusters.
func (p policies) tasks(actions ...string) awsiam.PolicyStatement {
	return allow(actions, p.s.inClusters("task"), nil)
}

// listTasks: ListTasks is authorized on container instances ("*" here)
// and scoped by the ecs:cluster condition key.
func (p policies) listTasks() awsiam.PolicyStatement {
	if len(p.s.m.Clusters()) == 0 {
		return nil
	}
	return allow([]string{"ecs:ListTasks"}, anyResource, map[string]any{
		"ArnEquals": map[string]any{"ecs:cluster": p.s.clusterARNs()},
	})
}

// passRole: only the manifest's roles, and only to ECS tasks.
func (p policies) passRole() awsiam.PolicyStatement {
	return allow([]string{"iam:PassRole"}, *jsii.Strings(p.s.m.Roles...), map[string]any{
		"StringEquals": map[string]any{"iam:PassedToService": "ecs-tasks.amazonaws.com"},
	})
}

// putEvents: the configured bus only.
func (p policies) putEvents() awsiam.PolicyStatement {
	return allow([]string{"events:PutEvents"}, []*string{p.s.bus.EventBusArn()}, nil)
}

// describeImages: the manifest's repositories only.
func (p policies) describeImages() awsiam.PolicyStatement {
	return allow([]string{"ecr:DescribeImages"}, p.s.repositoryARNs(), nil)
}

// sendToDeployDLQ: the deployer's pushes that failed for good, put on the
// deploy queue's DLQ at once; that queue only.
func (p policies) sendToDeployDLQ() awsiam.PolicyStatement {
	return allow([]string{"sqs:SendMessage"}, []*string{p.s.deployDLQ.QueueArn()}, nil)
}

// sendToDeployQueue: the reconciler's synthetic pushes.
func (p policies) sendToDeployQueue() awsiam.PolicyStatement {
	return allow([]string{"sqs:SendMessage"}, []*string{p.s.deployQueue.QueueArn()}, nil)
}
