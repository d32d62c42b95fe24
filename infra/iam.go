package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
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
	serviceRefs, jobRefs := s.templateRefs(false), s.templateRefs(true)
	for name, stmts := range map[string][]awsiam.PolicyStatement{
		"deployer": {
			p.assumeTargetRoles(),
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
			p.describeAlarms(), // deployment alarms must exist (DESIGN §10)
			// the gates (DESIGN §11, gates.go)
			p.scanFindings(),
			p.promotionSources(),
			p.gatedRevisions(deployerGateKeys...),
			p.markBlocked(),
			p.readParameters(serviceRefs), // {{ ssm }} and {{ secret }} (shared/aws/refs)
			p.describeSecrets(serviceRefs),
		},
		"runner": {
			p.assumeTargetRoles(),
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
			p.readParameters(jobRefs),
			p.describeSecrets(jobRefs),
		},
		"tracker": {
			p.assumeTargetRoles(),
			p.readObjects(),
			p.describeServices(),
			p.describeTaskDefinitions(),
			p.listTags(),
			p.tasks("ecs:DescribeTasks"),
			p.markRolledBack(),
			p.serviceDeploymentRecords(),
			p.putEvents(),
			p.sendToJobQueue(), // re-runs; the runner starts them
		},
		"reconciler": {
			p.assumeTargetRoles(),
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
			// the gates' clock (DESIGN §11, gates.go)
			p.scanFindings(),
			p.promotionSources(),
			p.gatedRevisions(reconcilerGateKeys...),
			p.listRevisions(),
			p.retireRevisions(),
			p.deleteRevisions(), // retention (shared/engine/retention)
		},
	} {
		for _, st := range stmts {
			if st != nil {
				s.fns[name].AddToRolePolicy(st)
			}
		}
	}
}

// policies builds the statements the functions share. ECS statements are
// scoped by ecs: the hub's own clusters and roles, or (in a target stack)
// a target's.
type policies struct {
	s   *stack
	ecs ecsScope
	// retention: the manifest keeps revisions bounded (retention:), so the
	// reconciler may deregister and delete them; without it, it may not.
	retention bool
}

func (s *stack) policies() policies {
	return policies{s: s, ecs: s.hubScope(), retention: hasRetention(s.m)}
}

// hasRetention reports whether m sets retention: at the top or on any
// service binding.
func hasRetention(m *manifest.Manifest) bool {
	if m.Retention != nil {
		return true
	}
	for i := range m.Services {
		if m.Services[i].Retention != nil {
			return true
		}
	}
	return false
}

// ecsScope is where ECS grants apply: clusters in one account and Region
// (arn builds ARNs there) and the roles PassRole may pass.
type ecsScope struct {
	arn      func(service, resource, name string) *string
	clusters []string
	roles    []string
}

// clusterARNs are the ARNs of the scope's clusters.
func (e ecsScope) clusterARNs() []*string {
	var out []*string
	for _, c := range e.clusters {
		out = append(out, e.arn("ecs", "cluster", c))
	}
	return out
}

// inClusters returns one ARN pattern per cluster for an ECS resource type
// whose ARN carries the cluster name (service, task).
func (e ecsScope) inClusters(resource string) []*string {
	var out []*string
	for _, c := range e.clusters {
		out = append(out, e.arn("ecs", resource, c+"/*"))
	}
	return out
}

// taskDefinitionARNs matches every task-definition revision in the account
// and Region: families come from templates, not from the manifest.
func (e ecsScope) taskDefinitionARNs() []*string {
	return []*string{e.arn("ecs", "task-definition", "*")}
}

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
	return allow([]string{"ecs:DescribeServices"}, p.ecs.inClusters("service"), nil)
}

// updateServices: the only ECS service write, on the manifest's clusters.
func (p policies) updateServices() awsiam.PolicyStatement {
	return allow([]string{"ecs:UpdateService"}, p.ecs.inClusters("service"), nil)
}

// taskDefinitions: register, describe and list revisions. None of the
// three supports resource-level permissions, so AWS requires "*".
func (p policies) taskDefinitions() awsiam.PolicyStatement {
	return allow([]string{"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:RegisterTaskDefinition"}, anyResource, nil)
}

// retireRevisions: retention lists a family's revisions and deregisters
// the old ones. Neither action supports resource-level permissions (AWS
// Service Authorization Reference for ECS), so AWS requires "*".
func (p policies) retireRevisions() awsiam.PolicyStatement {
	if !p.retention {
		return nil
	}
	return allow([]string{"ecs:ListTaskDefinitions", "ecs:DeregisterTaskDefinition"}, anyResource, nil)
}

// deleteRevisions: retention deletes the revisions it deregistered.
// DeleteTaskDefinitions is authorized on the task-definition resource:
// revisions in this account and Region only.
func (p policies) deleteRevisions() awsiam.PolicyStatement {
	if !p.retention {
		return nil
	}
	return allow([]string{"ecs:DeleteTaskDefinitions"}, p.ecs.taskDefinitionARNs(), nil)
}

// describeTaskDefinitions: read-only subset of taskDefinitions.
func (p policies) describeTaskDefinitions() awsiam.PolicyStatement {
	return allow([]string{"ecs:DescribeTaskDefinition"}, anyResource, nil)
}

// listTags: revision tags (DESIGN §5) and the service hold tag.
func (p policies) listTags() awsiam.PolicyStatement {
	return allow([]string{"ecs:ListTagsForResource"}, append(p.ecs.taskDefinitionARNs(), p.ecs.inClusters("service")...), nil)
}

// tagOnCreate: ecs:TagResource only while creating with one of actions.
func (p policies) tagOnCreate(actions ...string) awsiam.PolicyStatement {
	resources := p.ecs.taskDefinitionARNs()
	for _, a := range actions {
		if a == createRunTask {
			resources = append(resources, p.ecs.inClusters("task")...)
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
	return allow([]string{"ecs:TagResource"}, p.ecs.inClusters("service"), map[string]any{
		"ForAllValues:StringLike": map[string]any{"aws:TagKeys": []string{revision.TagRolledBack + "*"}},
	})
}

// serviceDeploymentRecords: the tracker confirms a verdict with ECS's
// record of a service deployment once the service no longer lists it
// (DESIGN §10): ListServiceDeployments on the manifest's services,
// DescribeServiceDeployments and DescribeServiceRevisions on those
// services' deployment and revision records, read-only.
func (p policies) serviceDeploymentRecords() awsiam.PolicyStatement {
	resources := p.ecs.inClusters("service")
	resources = append(resources, p.ecs.inClusters("service-deployment")...)
	resources = append(resources, p.ecs.inClusters("service-revision")...)
	return allow([]string{"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"}, resources, nil)
}

// runTask: any task definition, but only on the manifest's clusters.
func (p policies) runTask() awsiam.PolicyStatement {
	if len(p.ecs.clusters) == 0 {
		return nil
	}
	return allow([]string{"ecs:RunTask"}, p.ecs.taskDefinitionARNs(), map[string]any{
		"ArnEquals": map[string]any{"ecs:cluster": p.ecs.clusterARNs()},
	})
}

// tasks: task-level actions on tasks of the manifest's clusters.
func (p policies) tasks(actions ...string) awsiam.PolicyStatement {
	return allow(actions, p.ecs.inClusters("task"), nil)
}

// listTasks: ListTasks is authorized on container instances ("*" here)
// and scoped by the ecs:cluster condition key.
func (p policies) listTasks() awsiam.PolicyStatement {
	if len(p.ecs.clusters) == 0 {
		return nil
	}
	return allow([]string{"ecs:ListTasks"}, anyResource, map[string]any{
		"ArnEquals": map[string]any{"ecs:cluster": p.ecs.clusterARNs()},
	})
}

// passRole: only the manifest's roles, and only to ECS tasks.
func (p policies) passRole() awsiam.PolicyStatement {
	return allow([]string{"iam:PassRole"}, *jsii.Strings(p.ecs.roles...), map[string]any{
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

// assumeTargetRoles: the targets' roles (DESIGN §12), with session tags;
// each target role's trust policy admits exactly the hub's function roles
// with the external id.
func (p policies) assumeTargetRoles() awsiam.PolicyStatement {
	var roles []*string
	for _, r := range targetRoles(p.s.m) {
		roles = append(roles, jsii.String(r))
	}
	return allow([]string{"sts:AssumeRole", "sts:TagSession"}, roles, nil)
}

// sendToJobQueue: the tracker's re-runs of job tasks that failed to start.
func (p policies) sendToJobQueue() awsiam.PolicyStatement {
	return allow([]string{"sqs:SendMessage"}, []*string{p.s.jobQueue.QueueArn()}, nil)
}

// describeAlarms: the deployer checks that the deployment alarms of the
// manifest's services (in Deckhand's own account and Region) exist before
// it deploys them (DESIGN §10); those alarms only. CloudWatch authorizes
// DescribeAlarms on alarm ARNs (AWS Service Authorization Reference,
// Amazon CloudWatch: DescribeAlarms, resource type alarm). Nothing else
// is needed for ECS's strategies: Deckhand's UpdateService names no load
// balancer, so it passes no infrastructure role (iam:PassRole stays on
// the manifest's task roles), and the tracker's record reads are
// serviceDeploymentRecords.
func (p policies) describeAlarms() awsiam.PolicyStatement {
	var arns []*string
	seen := map[string]bool{}
	for _, b := range p.s.m.Services {
		if b.Target != "" || b.Deployment == nil {
			continue
		}
		for _, a := range b.Deployment.Alarms {
			if !seen[a] {
				seen[a] = true
				arns = append(arns, p.s.FormatArn(&awscdk.ArnComponents{Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"),
					ResourceName: jsii.String(a), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME}))
			}
		}
	}
	return allow([]string{"cloudwatch:DescribeAlarms"}, arns, nil)
}
