package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// sessionTagKeys are the session tag keys the hub's functions may set when
// they assume a target's role: Deckhand's own, naming the binding or job.
const sessionTagKeys = "deckhand:*"

// place is an account and Region the manifest's targets name: one target
// stack each.
type place struct{ account, region string }

// places returns the manifest's target places, sorted.
func places(m *manifest.Manifest) []place {
	var out []place
	for _, name := range m.TargetNames() {
		t := m.Targets[name]
		if p := (place{t.Account, t.Region}); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b place) int { return strings.Compare(a.account+a.region, b.account+b.region) })
	return out
}

func targetStackID(p place) string { return "DeckhandTarget-" + p.account + "-" + p.region }

// targetRoles returns the distinct target roles, sorted.
func targetRoles(m *manifest.Manifest) []string {
	var out []string
	for _, t := range m.Targets {
		if !slices.Contains(out, t.Role) {
			out = append(out, t.Role)
		}
	}
	slices.Sort(out)
	return out
}

// roleHome is the place whose stack creates role: IAM is global to an
// account, so a role several Regions' targets share is created once, in
// the stack of the first of those Regions.
func roleHome(m *manifest.Manifest, role string) place {
	var home place
	for _, name := range m.TargetNames() {
		t := m.Targets[name]
		if t.Role == role && (home.region == "" || t.Region < home.region) {
			home = place{t.Account, t.Region}
		}
	}
	return home
}

// hubRoleName is the physical name of a hub function's role when the
// manifest has targets: the target stacks trust it by ARN.
func hubRoleName(cfg Config, fn string) string {
	return fmt.Sprintf("%s-%s-%s", StackID, fn, cfg.HubRegion)
}

// hubRoleARNs are the ARNs of the hub's function roles.
func hubRoleARNs(cfg Config) []string {
	var out []string
	for _, fn := range Functions {
		out = append(out, fmt.Sprintf("arn:%s:iam::%s:role/%s", *awscdk.Aws_PARTITION(), cfg.HubAccount, hubRoleName(cfg, fn)))
	}
	return out
}

// TargetStackProps configures NewTargetStack.
type TargetStackProps struct {
	awscdk.StackProps
	Config   Config
	Manifest *manifest.Manifest
	Place    place
}

// targetStack carries what a target stack's parts share.
type targetStack struct {
	awscdk.Stack
	cfg   Config
	m     *manifest.Manifest
	place place
}

// NewTargetStack builds what the hub needs in one target account and
// Region (DESIGN §12): the roles the hub's functions assume there (those
// whose home this place is), and rules forwarding the place's ECS events
// to the hub's bus.
func NewTargetStack(scope constructs.Construct, id string, props *TargetStackProps) awscdk.Stack {
	t := &targetStack{Stack: awscdk.NewStack(scope, &id, &props.StackProps), cfg: props.Config, m: props.Manifest, place: props.Place}
	for _, role := range targetRoles(t.m) {
		if roleHome(t.m, role) == t.place {
			t.addRole(role)
		}
	}
	t.addForwarding()
	return t.Stack
}

// clusters returns the clusters of the targets that use role (or, with
// role "", of every target at this place), by Region.
func (t *targetStack) clusters(role string) map[string][]string {
	out := map[string][]string{}
	for _, name := range t.m.TargetNames() {
		tg := t.m.Targets[name]
		if role != "" && tg.Role != role || role == "" && (place{tg.Account, tg.Region}) != t.place {
			continue
		}
		for _, c := range t.m.ClustersIn(name) {
			if !slices.Contains(out[tg.Region], c) {
				out[tg.Region] = append(out[tg.Region], c)
			}
		}
	}
	for r := range out {
		slices.Sort(out[r])
	}
	return out
}

// arnIn builds an ARN in this stack's account and the given Region.
func (t *targetStack) arnIn(region string) func(service, resource, name string) *string {
	return func(service, resource, name string) *string {
		return t.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String(service), Region: jsii.String(region), Account: jsii.String(t.place.account),
			Resource: jsii.String(resource), ResourceName: jsii.String(name),
		})
	}
}

// addRole creates a target role: assumed only by the hub's function roles,
// with the external id, and allowed what the functions do in ECS here:
// ECS writes only on its targets' clusters, PassRole only on the
// manifest's roles in this account, to ECS tasks.
func (t *targetStack) addRole(arn string) {
	_, rest, _ := strings.Cut(arn, ":role/")
	path, name := "/", rest
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		path, name = "/"+rest[:i+1], rest[i+1:]
	}
	hub := awsiam.NewAccountPrincipal(jsii.String(t.cfg.HubAccount))
	principalIsHub := map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": hubRoleARNs(t.cfg)}}
	role := awsiam.NewRole(t.Stack, jsii.String("Role"+constructID(name)), &awsiam.RoleProps{
		RoleName:    jsii.String(name),
		Path:        jsii.String(path),
		Description: jsii.String("Deckhand: assumed by the hub's functions (" + t.cfg.HubAccount + ", " + t.cfg.HubRegion + ") to deploy here"),
		AssumedBy: awsiam.NewPrincipalWithConditions(hub, &map[string]any{
			"ArnEquals":    principalIsHub["ArnEquals"],
			"StringEquals": map[string]any{"sts:ExternalId": t.cfg.externalID()},
		}),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{hub},
		Actions:    strs([]string{"sts:TagSession"}),
		Conditions: &map[string]any{
			"ArnEquals":               principalIsHub["ArnEquals"],
			"ForAllValues:StringLike": map[string]any{"aws:TagKeys": []string{sessionTagKeys}},
		},
	}))
	byRegion := t.clusters(arn)
	var wildcards []any
	for _, region := range slices.Sorted(maps.Keys(byRegion)) {
		p := policies{ecs: ecsScope{arn: t.arnIn(region), clusters: byRegion[region], roles: t.m.RolesIn(t.place.account)}, retention: hasRetention(t.m)}
		for _, st := range []awsiam.PolicyStatement{
			p.describeServices(), p.updateServices(), p.taskDefinitions(), p.listTags(),
			p.tagOnCreate(createRegister, createRunTask), p.markRolledBack(),
			p.runTask(), p.tasks("ecs:DescribeTasks", "ecs:StopTask"), p.listTasks(),
			p.retireRevisions(), p.deleteRevisions(),
		} {
			if st != nil {
				role.AddToPolicy(st)
			}
		}
		wildcards = append(wildcards, "Resource::*", fmt.Sprintf("Resource::arn:<AWS::Partition>:ecs:%s:%s:task-definition/*", region, t.place.account))
		for _, c := range byRegion[region] {
			for _, r := range []string{"service", "task"} {
				wildcards = append(wildcards, fmt.Sprintf("Resource::arn:<AWS::Partition>:ecs:%s:%s:%s/%s/*", region, t.place.account, r, c))
			}
		}
	}
	if st := (policies{ecs: ecsScope{roles: t.m.RolesIn(t.place.account)}}).passRole(); st != nil {
		role.AddToPolicy(st)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Least privilege per DESIGN §9 and §12: ECS services and tasks of this role's targets' clusters; task-definition revisions (families come from templates); \"*\" only for ECS actions without resource-level permissions and for ListTasks scoped by ecs:cluster."),
		AppliesTo: &wildcards,
	}}, jsii.Bool(true))
}

// addForwarding forwards this place's ECS deployment events of its
// targets' clusters, and the task events of Deckhand's jobs there, to the
// hub's bus, where the hub's tracker rules pick them up.
func (t *targetStack) addForwarding() {
	var clusters []string
	for _, cs := range t.clusters("") {
		clusters = append(clusters, cs...)
	}
	if len(clusters) == 0 {
		return
	}
	slices.Sort(clusters)
	busARN := fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", *awscdk.Aws_PARTITION(), t.cfg.HubRegion, t.cfg.HubAccount, t.cfg.EventBus)
	dlq := awssqs.NewQueue(t.Stack, jsii.String("ForwardDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the forwarding rules' dead-letter queue; a DLQ has no DLQ of its own."),
	}}, jsii.Bool(false))
	target := awseventstargets.NewEventBus(awsevents.EventBus_FromEventBusArn(t.Stack, jsii.String("HubBus"), jsii.String(busARN)), &awseventstargets.EventBusProps{
		DeadLetterQueue: dlq,
	})
	arn := func(resource, name string) string {
		return "arn:" + sizingPartition + ":ecs:" + t.place.region + ":" + t.place.account + ":" + resource + "/" + name
	}
	deployments := func(cs []string) map[string]any {
		var prefixes []map[string]string
		for _, c := range cs {
			prefixes = append(prefixes, map[string]string{"prefix": arn("service", c+"/")})
		}
		return map[string]any{"source": []string{"aws.ecs"}, "detail-type": []string{ecsDeploymentChange}, "resources": prefixes}
	}
	for i, cs := range packPatterns(clusters, deployments) {
		var prefixes []any
		for _, c := range cs {
			prefixes = append(prefixes, awsevents.Match_Prefix(t.arnIn(t.place.region)("ecs", "service", c+"/")))
		}
		awsevents.NewRule(t.Stack, jsii.String(fmt.Sprintf("ForwardDeployments%d", i)), &awsevents.RuleProps{
			Description: jsii.String("Deckhand: ECS deployment state changes of the manifest's clusters here, to the hub's bus"),
			EventPattern: &awsevents.EventPattern{
				Source: strs([]string{"aws.ecs"}), DetailType: strs([]string{ecsDeploymentChange}),
				Resources: awsevents.Match_AnyOf(prefixes...),
			},
			Targets: &[]awsevents.IRuleTarget{target},
		})
	}
	tasks := func(cs []string) map[string]any {
		var arns []string
		for _, c := range cs {
			arns = append(arns, arn("cluster", c))
		}
		return map[string]any{"source": []string{"aws.ecs"}, "detail-type": []string{ecsTaskChange},
			"detail": map[string]any{"clusterArn": arns, "startedBy": []map[string]string{{"prefix": jobStartedByPrefix}}}}
	}
	for i, cs := range packPatterns(clusters, tasks) {
		var arns []any
		for _, c := range cs {
			arns = append(arns, t.arnIn(t.place.region)("ecs", "cluster", c))
		}
		awsevents.NewRule(t.Stack, jsii.String(fmt.Sprintf("ForwardTasks%d", i)), &awsevents.RuleProps{
			Description: jsii.String("Deckhand: ECS task state changes of Deckhand jobs here, to the hub's bus"),
			EventPattern: &awsevents.EventPattern{
				Source: strs([]string{"aws.ecs"}), DetailType: strs([]string{ecsTaskChange}),
				Detail: &map[string]any{"clusterArn": arns, "startedBy": awsevents.Match_Prefix(jsii.String(jobStartedByPrefix))},
			},
			Targets: &[]awsevents.IRuleTarget{target},
		})
	}
}
