package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Scheduler's retry policy: a job invocation Scheduler cannot deliver to
// the job queue is retried for up to an hour (a nightly report an hour late is still
// useful; one a day late is not) and then goes to the schedule DLQ.
const (
	scheduleRetryAttempts = 10
	scheduleMaxEventAge   = 3600 // seconds
)

// schedulesPerStack is how many job schedules one stack holds. Up to it
// they live in the hub; beyond it, in nested stacks of this many each, so
// no stack nears CloudFormation's 500 resources.
const schedulesPerStack = 200

// defaultTimezone is Scheduler's own default, made explicit.
const defaultTimezone = "UTC"

// scheduledTimeAttr is Scheduler's context attribute for the scheduled time.
const scheduledTimeAttr = "<aws.scheduler.scheduled-time>"

// runnerInput is the runner's event (DESIGN §7).
type runnerInput struct {
	Job           string `json:"job"`
	ScheduledTime string `json:"scheduledTime"`
}

// jobInput renders a job's runner event. HTML escaping is off so the
// context attribute keeps its angle brackets.
func jobInput(job string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(runnerInput{Job: job, ScheduledTime: scheduledTimeAttr}); err != nil {
		panic(err) // a struct of two strings always encodes
	}
	return string(bytes.TrimSpace(b.Bytes()))
}

// addSchedules creates one schedule per job, sending its invocations into
// the job queue in the job's message group, and the reconciler's rate
// schedule, all in one schedule group.
func (s *stack) addSchedules() {
	group := awsscheduler.NewScheduleGroup(s.Stack, jsii.String("Schedules"), &awsscheduler.ScheduleGroupProps{})
	dlq := s.newDLQ("ScheduleDLQ", false)

	jobRole := s.schedulerRole("JobScheduleRole", "send only to the job queue",
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   strs([]string{"sqs:SendMessage"}),
			Resources: &[]*string{s.jobQueue.QueueArn()},
		}), dlq)
	scope := constructs.Construct(s.Stack)
	for i, j := range s.m.Jobs {
		if len(s.m.Jobs) > schedulesPerStack && i%schedulesPerStack == 0 {
			// A fleet's schedules go into nested stacks of their own: one
			// stack may hold 500 resources (docs/quotas.md).
			scope = awscdk.NewNestedStack(s.Stack, jsii.String(fmt.Sprintf("Schedules%d", i/schedulesPerStack)), &awscdk.NestedStackProps{
				Description: jsii.String("Deckhand job schedules"),
			})
		}
		tz := j.Timezone
		if tz == "" {
			tz = defaultTimezone
		}
		target := s.scheduleTarget(s.jobQueue.QueueArn(), jobRole, dlq, jobInput(j.Name))
		target.SqsParameters = &awsscheduler.CfnSchedule_SqsParametersProperty{MessageGroupId: jsii.String(j.Name)}
		awsscheduler.NewCfnSchedule(scope, jsii.String(fmt.Sprintf("Job%d%s", i, constructID(j.Name))), &awsscheduler.CfnScheduleProps{
			Description:                jsii.String("Deckhand job " + j.Name),
			GroupName:                  group.ScheduleGroupName(),
			ScheduleExpression:         jsii.String(j.Schedule),
			ScheduleExpressionTimezone: jsii.String(tz),
			FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
			State:                      jsii.String("ENABLED"),
			Target:                     target,
		})
	}

	reconciler := s.fns["reconciler"]
	reconcilerRole := s.schedulerRole("ReconcilerScheduleRole", "invoke only "+*reconciler.Node().Id(),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   strs([]string{"lambda:InvokeFunction"}),
			Resources: &[]*string{reconciler.FunctionArn()},
		}), dlq)
	awsscheduler.NewCfnSchedule(s.Stack, jsii.String("Reconcile"), &awsscheduler.CfnScheduleProps{
		Description:                jsii.String("Deckhand reconciler: catch up on missed pushes and stop jobs past their timeout"),
		GroupName:                  group.ScheduleGroupName(),
		ScheduleExpression:         jsii.String(s.cfg.ReconcileSchedule),
		ScheduleExpressionTimezone: jsii.String(defaultTimezone),
		FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		State:                      jsii.String("ENABLED"),
		Target:                     s.scheduleTarget(reconciler.FunctionArn(), reconcilerRole, dlq, "{}"),
	})
}

func (s *stack) scheduleTarget(arn *string, role awsiam.Role, dlq awssqs.Queue, input string) *awsscheduler.CfnSchedule_TargetProperty {
	return &awsscheduler.CfnSchedule_TargetProperty{
		Arn:     arn,
		RoleArn: role.RoleArn(),
		Input:   jsii.String(input),
		RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
			MaximumRetryAttempts:     jsii.Number(scheduleRetryAttempts),
			MaximumEventAgeInSeconds: jsii.Number(scheduleMaxEventAge),
		},
		DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
	}
}

// schedulerRole is the role Scheduler assumes to deliver to one target: it
// may do what target allows and send undeliverable invocations to the
// DLQ, nothing else. aws:SourceAccount keeps other accounts' schedules
// from using it.
func (s *stack) schedulerRole(id, what string, target awsiam.PolicyStatement, dlq awssqs.Queue) awsiam.Role {
	role := awsiam.NewRole(s.Stack, jsii.String(id), &awsiam.RoleProps{
		Description: jsii.String("EventBridge Scheduler: " + what),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": s.Account()},
			},
		}),
	})
	role.AddToPolicy(target)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   strs([]string{"sqs:SendMessage"}),
		Resources: &[]*string{dlq.QueueArn()},
	}))
	return role
}
