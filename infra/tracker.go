package main

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

// jobStartedByPrefix is the startedBy the runner sets on job tasks
// (`deckhand/<job>`, DESIGN §3 and §7).
const jobStartedByPrefix = "deckhand/"

// ECS event detail types the tracker follows.
const (
	ecsDeploymentChange = "ECS Deployment State Change"
	ecsTaskChange       = "ECS Task State Change"
)

// addTracker routes ECS deployment and task state changes of the hub's own
// clusters, and those the target stacks forward to the hub's bus, to the
// tracker.
func (s *stack) addTracker() {
	dlq := s.newDLQ("TrackerRuleDLQ", false)
	target := awseventstargets.NewLambdaFunction(s.fns["tracker"], &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: dlq,
		RetryAttempts:   jsii.Number(targetRetryAttempts),
		MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(targetMaxEventAgeSec)),
	})
	clusters := s.m.ClustersIn("")
	ruleID := func(base string, i int) string {
		if i == 0 {
			return base
		}
		return fmt.Sprintf("%s%d", base, i)
	}

	// Deployment events name the service in resources[]; services of a
	// cluster share the ARN prefix service/<cluster>/.
	deploymentSizing := func(cs []string) map[string]any {
		var prefixes []map[string]string
		for _, c := range cs {
			prefixes = append(prefixes, map[string]string{"prefix": sizingARN("ecs", "service", c+"/")})
		}
		return map[string]any{"source": []string{"aws.ecs"}, "detail-type": []string{ecsDeploymentChange}, "resources": prefixes}
	}
	for i, cs := range packPatterns(clusters, deploymentSizing) {
		var prefixes []any
		for _, c := range cs {
			prefixes = append(prefixes, awsevents.Match_Prefix(s.arn("ecs", "service", c+"/")))
		}
		awsevents.NewRule(s.Stack, jsii.String(ruleID("EcsDeployments", i)), &awsevents.RuleProps{
			Description: jsii.String("Deckhand: ECS deployment state changes of the manifest's clusters, to the tracker"),
			EventPattern: &awsevents.EventPattern{
				Source:     strs([]string{"aws.ecs"}),
				DetailType: strs([]string{ecsDeploymentChange}),
				Resources:  awsevents.Match_AnyOf(prefixes...),
			},
			Targets: &[]awsevents.IRuleTarget{target},
		})
	}

	// Task events carry the cluster ARN. Only job tasks matter to the
	// tracker (service tasks are judged by deployment events), and service
	// tasks are by far the most events, so the rule keeps job tasks only.
	taskSizing := func(cs []string) map[string]any {
		var arns []string
		for _, c := range cs {
			arns = append(arns, sizingARN("ecs", "cluster", c))
		}
		return map[string]any{"source": []string{"aws.ecs"}, "detail-type": []string{ecsTaskChange},
			"detail": map[string]any{"clusterArn": arns, "startedBy": []map[string]string{{"prefix": jobStartedByPrefix}}}}
	}
	for i, cs := range packPatterns(clusters, taskSizing) {
		var arns []any
		for _, c := range cs {
			arns = append(arns, s.arn("ecs", "cluster", c))
		}
		awsevents.NewRule(s.Stack, jsii.String(ruleID("EcsTasks", i)), &awsevents.RuleProps{
			Description: jsii.String("Deckhand: ECS task state changes of Deckhand jobs in the manifest's clusters, to the tracker"),
			EventPattern: &awsevents.EventPattern{
				Source:     strs([]string{"aws.ecs"}),
				DetailType: strs([]string{ecsTaskChange}),
				Detail: &map[string]any{
					"clusterArn": arns,
					"startedBy":  awsevents.Match_Prefix(jsii.String(jobStartedByPrefix)),
				},
			},
			Targets: &[]awsevents.IRuleTarget{target},
		})
	}
	s.addTargetTracker(target)
}

// sizingARN is an ARN of this stack's kind at its longest, for sizing
// patterns whose ARNs resolve at deploy time.
func sizingARN(service, resource, name string) string {
	return "arn:" + sizingPartition + ":" + service + ":" + sizingRegion + ":" + sizingAccount + ":" + resource + "/" + name
}

// addTargetTracker routes the ECS events target stacks forward to the hub's
// bus to the tracker. The target stacks forward only their clusters'
// deployment events and Deckhand's job tasks, so the hub matches by
// account. Events of the hub's own account reach its default bus natively
// too, so targets in the hub's account (other Regions) are matched by
// Region as well, and the hub's own events stay with the rules above.
func (s *stack) addTargetTracker(target awsevents.IRuleTarget) {
	if len(s.m.Targets) == 0 {
		return
	}
	var accounts, hubRegions []string
	for _, name := range s.m.TargetNames() {
		t := s.m.Targets[name]
		switch {
		case t.Account == s.cfg.HubAccount:
			if !slices.Contains(hubRegions, t.Region) {
				hubRegions = append(hubRegions, t.Region)
			}
		case !slices.Contains(accounts, t.Account):
			accounts = append(accounts, t.Account)
		}
	}
	slices.Sort(accounts)
	slices.Sort(hubRegions)
	pattern := func(accts, regions []string) map[string]any {
		p := map[string]any{"source": []string{"aws.ecs"}, "detail-type": []string{ecsDeploymentChange, ecsTaskChange}, "account": accts}
		if regions != nil {
			p["region"] = regions
		}
		return p
	}
	n := 0
	add := func(accts, regions []string) {
		ep := &awsevents.EventPattern{
			Source:     strs([]string{"aws.ecs"}),
			DetailType: strs([]string{ecsDeploymentChange, ecsTaskChange}),
			Account:    strs(accts),
		}
		if regions != nil {
			ep.Region = strs(regions)
		}
		awsevents.NewRule(s.Stack, jsii.String(fmt.Sprintf("TargetEcsEvents%d", n)), &awsevents.RuleProps{
			Description:  jsii.String("Deckhand: ECS deployment and job task state changes forwarded by the target stacks, to the tracker"),
			EventBus:     s.bus,
			EventPattern: ep,
			Targets:      &[]awsevents.IRuleTarget{target},
		})
		n++
	}
	for _, accts := range packPatterns(accounts, func(a []string) map[string]any { return pattern(a, nil) }) {
		add(accts, nil)
	}
	if len(hubRegions) > 0 {
		add([]string{s.cfg.HubAccount}, hubRegions)
	}
	s.addBusPolicy(append(slices.Clone(accounts), func() []string {
		if len(hubRegions) > 0 {
			return []string{s.cfg.HubAccount}
		}
		return nil
	}()...))
}

// addBusPolicy lets exactly the target accounts put ECS events on the hub's
// bus (DESIGN §12): one statement naming each account, limited to the ECS
// event types the target stacks forward.
func (s *stack) addBusPolicy(accounts []string) {
	var principals []string
	for _, a := range accounts {
		principals = append(principals, "arn:"+*awscdk.Aws_PARTITION()+":iam::"+a+":root")
	}
	awsevents.NewCfnEventBusPolicy(s.Stack, jsii.String("TargetAccountsPolicy"), &awsevents.CfnEventBusPolicyProps{
		EventBusName: s.bus.EventBusName(),
		StatementId:  jsii.String("DeckhandTargets"),
		Statement: map[string]any{
			"Sid":       "DeckhandTargets",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": principals},
			"Action":    "events:PutEvents",
			"Resource":  s.bus.EventBusArn(),
			"Condition": map[string]any{
				"StringEquals": map[string]any{
					"events:source":      []string{"aws.ecs"},
					"events:detail-type": []string{ecsDeploymentChange, ecsTaskChange},
				},
			},
		},
	})
}
