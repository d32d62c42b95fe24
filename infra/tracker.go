package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

// jobStartedByPrefix is the startedBy the runner sets on job tasks
// (`deckhand/<job>`, DESIGN §3 and §7).
const jobStartedByPrefix = "deckhand/"

// addTracker routes ECS deployment and task state changes of the manifest's
// clusters to the tracker.
func (s *stack) addTracker() {
	dlq := s.newDLQ("TrackerRuleDLQ", false)
	target := awseventstargets.NewLambdaFunction(s.fns["tracker"], &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: dlq,
		RetryAttempts:   jsii.Number(targetRetryAttempts),
		MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(targetMaxEventAgeSec)),
	})

	// Deployment events name the service in resources[]; services of a
	// cluster share the ARN prefix service/<cluster>/.
	var servicePrefixes []any
	for _, c := range s.m.Clusters() {
		servicePrefixes = append(servicePrefixes, awsevents.Match_Prefix(s.arn("ecs", "service", c+"/")))
	}
	awsevents.NewRule(s.Stack, jsii.String("EcsDeployments"), &awsevents.RuleProps{
		Description: jsii.String("Deckhand: ECS deployment state changes of the manifest's clusters, to the tracker"),
		EventPattern: &awsevents.EventPattern{
			Source:     strs([]string{"aws.ecs"}),
			DetailType: strs([]string{"ECS Deployment State Change"}),
			Resources:  awsevents.Match_AnyOf(servicePrefixes...),
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})

	// Task events carry the cluster ARN. Only job tasks matter to the
	// tracker (service tasks are judged by deployment events), and service
	// tasks are by far the most events, so the rule keeps job tasks only.
	var clusters []any
	for _, c := range s.clusterARNs() {
		clusters = append(clusters, c)
	}
	awsevents.NewRule(s.Stack, jsii.String("EcsTasks"), &awsevents.RuleProps{
		Description: jsii.String("Deckhand: ECS task state changes of Deckhand jobs in the manifest's clusters, to the tracker"),
		EventPattern: &awsevents.EventPattern{
			Source:     strs([]string{"aws.ecs"}),
			DetailType: strs([]string{"ECS Task State Change"}),
			Detail: &map[string]any{
				"clusterArn": clusters,
				"startedBy":  awsevents.Match_Prefix(jsii.String(jobStartedByPrefix)),
			},
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})
}
