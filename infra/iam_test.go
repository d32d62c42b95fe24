package main

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// statement is an IAM statement with intrinsics flattened by flat.
type statement struct {
	Actions    []string
	Resources  []string
	Conditions map[string]map[string][]string
}

// statementsByRole collects every inline-policy statement of every role.
func (s *synthesized) statementsByRole() map[string][]statement {
	out := map[string][]statement{}
	for _, p := range s.resources("AWS::IAM::Policy") {
		pp := props(p)
		var stmts []statement
		for _, raw := range pp["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := raw.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			x := statement{Actions: flatList(st["Action"]), Resources: flatList(st["Resource"])}
			if c, ok := st["Condition"].(map[string]any); ok {
				x.Conditions = map[string]map[string][]string{}
				for op, kv := range c {
					x.Conditions[op] = map[string][]string{}
					for k, v := range kv.(map[string]any) {
						x.Conditions[op][k] = flatList(v)
					}
				}
			}
			stmts = append(stmts, x)
		}
		for _, r := range pp["Roles"].([]any) {
			role := flat(r)
			role = strings.TrimSuffix(strings.TrimPrefix(role, "${"), "}")
			out[role] = append(out[role], stmts...)
		}
	}
	return out
}

// fnStatements returns the statements of a function's role.
func (s *synthesized) fnStatements(t *testing.T, fn string) []statement {
	t.Helper()
	return s.statementsByRole()[s.logicalID(t, "AWS::IAM::Role", constructID(fn)+"Role")]
}

// withAction returns the statements that grant action.
func withAction(stmts []statement, action string) []statement {
	var out []statement
	for _, st := range stmts {
		for _, a := range st.Actions {
			if a == action {
				out = append(out, st)
				break
			}
		}
	}
	return out
}

func TestNoWildcardActionsOrFullAccessPolicies(t *testing.T) {
	for _, name := range []string{"example", "groups"} {
		s := synth(t, name)
		for role, stmts := range s.statementsByRole() {
			for _, st := range stmts {
				for _, a := range st.Actions {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s: role %s grants wildcard action %q", name, role, a)
					}
				}
			}
		}
		for id, r := range s.resources("AWS::IAM::Role") {
			for _, arn := range flatList(props(r)["ManagedPolicyArns"]) {
				if strings.Contains(arn, "FullAccess") {
					t.Errorf("%s: role %s has managed policy %s", name, id, arn)
				}
				if !strings.HasPrefix(id, "CustomCDKBucketDeployment") {
					t.Errorf("%s: role %s has managed policy %s; Deckhand's roles use inline least-privilege policies", name, id, arn)
				}
			}
		}
	}
}

// TestFunctionActions pins each function's exact set of actions: a new
// permission must be added here on purpose.
func TestFunctionActions(t *testing.T) {
	common := []string{"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "events:PutEvents", "ecs:DescribeServices", "ecs:ListTagsForResource"}
	asyncDLQ := []string{"sqs:SendMessage"}
	tests := map[string]struct {
		fn   string
		want []string
	}{
		"the deployer renders, registers and updates services": {fn: "deployer", want: append([]string{
			"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:RegisterTaskDefinition",
			"ecs:UpdateService", "ecs:TagResource", "iam:PassRole",
			"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
			"ecr:DescribeImages", "sqs:SendMessage", "cloudwatch:DescribeAlarms", "ssm:GetParameters",
		}, common...)},
		"the runner consumes the job queue, registers and runs job tasks": {fn: "runner", want: append(append([]string{
			"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:RegisterTaskDefinition",
			"ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask", "ecs:ListTasks", "ecs:TagResource",
			"iam:PassRole", "ecr:DescribeImages",
			"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
		}, common...), asyncDLQ...)},
		"the tracker judges job tasks, queues their re-runs and reads deployment records": {fn: "tracker", want: append(append([]string{
			"ecs:DescribeTaskDefinition", "ecs:DescribeTasks", "ecs:TagResource",
			"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions",
		}, common...), asyncDLQ...)},
		"the reconciler reads and enqueues synthetic pushes (no retention: in the example, so no deregistering)": {fn: "reconciler", want: append(append([]string{
			"ecs:DescribeTaskDefinition", "ecs:DescribeTasks", "ecs:StopTask", "ecs:ListTasks", "ecr:DescribeImages", "ecs:TagResource",
		}, common...), asyncDLQ...)},
	}
	s := synth(t, "example")
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			set := map[string]bool{}
			for _, st := range s.fnStatements(t, tc.fn) {
				for _, a := range st.Actions {
					set[a] = true
				}
			}
			var got []string
			for a := range set {
				got = append(got, a)
			}
			want := map[string]bool{}
			for _, a := range tc.want {
				want[a] = true
			}
			var wantList []string
			for a := range want {
				wantList = append(wantList, a)
			}
			if diff := cmp.Diff(sorted(wantList), sorted(got)); diff != "" {
				t.Errorf("%s actions (-want +got):\n%s", tc.fn, diff)
			}
		})
	}
}

func TestPassRole(t *testing.T) {
	for _, name := range []string{"example", "groups"} {
		s := synth(t, name)
		m, _ := Load(s.cfg)
		want := []statement{{
			Actions:    []string{"iam:PassRole"},
			Resources:  m.Roles,
			Conditions: map[string]map[string][]string{"StringEquals": {"iam:PassedToService": {"ecs-tasks.amazonaws.com"}}},
		}}
		if got := withAction(s.fnStatements(t, "tracker"), "iam:PassRole"); len(got) > 0 {
			t.Errorf("%s: the tracker, which starts no task, passes roles: %v", name, got)
		}
		for _, fn := range []string{"deployer", "runner"} {
			got := withAction(s.fnStatements(t, fn), "iam:PassRole")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: %s PassRole (-want +got):\n%s", name, fn, diff)
			}
		}
		// No other role may pass roles at all.
		for role, stmts := range s.statementsByRole() {
			for _, st := range withAction(stmts, "iam:PassRole") {
				if diff := cmp.Diff(want[0], st); diff != "" {
					t.Errorf("%s: role %s PassRole (-want +got):\n%s", name, role, diff)
				}
			}
		}
	}
}

// TestScopedResources checks the resources and conditions of every grant
// DESIGN §9 scopes.
// exampleRoles are examples/deckhand.yaml's roles.
var exampleRoles = []string{"arn:aws:iam::123456789012:role/web-task", "arn:aws:iam::123456789012:role/web-execution",
	"arn:aws:iam::123456789012:role/api-task", "arn:aws:iam::123456789012:role/ecs-execution", "arn:aws:iam::123456789012:role/report-task"}

func TestScopedResources(t *testing.T) {
	s := synth(t, "example")
	bucket := s.logicalID(t, "AWS::S3::Bucket", "Bucket")
	queue := s.logicalID(t, "AWS::SQS::Queue", "DeployQueue")
	cluster := "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/prod"
	services := []string{ecsARN("service", "prod/*")}
	tasks := []string{ecsARN("task", "prod/*")}
	taskDefs := []string{ecsARN("task-definition", "*")}
	var repos []string
	for _, r := range []string{"api", "checkout", "proxy", "report", "search", "web", "worker"} {
		repos = append(repos, "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/"+r)
	}
	byCluster := map[string]map[string][]string{"ArnEquals": {"ecs:cluster": {cluster}}}
	tests := map[string]struct {
		fn, action string
		want       []statement
	}{
		"deployer reads objects of the bucket only": {fn: "deployer", action: "s3:GetObject", want: []statement{
			{Actions: []string{"s3:GetObject"}, Resources: []string{"${" + bucket + ".Arn}/*"}}}},
		"deployer updates services of the manifest's clusters only": {fn: "deployer", action: "ecs:UpdateService", want: []statement{
			{Actions: []string{"ecs:UpdateService"}, Resources: services}}},
		"deployer tags only while registering": {fn: "deployer", action: "ecs:TagResource", want: []statement{
			{Actions: []string{"ecs:TagResource"}, Resources: taskDefs,
				Conditions: map[string]map[string][]string{"StringEquals": {"ecs:CreateAction": {"RegisterTaskDefinition"}}}}}},
		"deployer registers on * because AWS requires it": {fn: "deployer", action: "ecs:RegisterTaskDefinition", want: []statement{
			{Actions: []string{"ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:RegisterTaskDefinition"}, Resources: []string{"*"}}}},
		"deployer puts events on the configured bus only": {fn: "deployer", action: "events:PutEvents", want: []statement{
			{Actions: []string{"events:PutEvents"}, Resources: []string{"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}}}},
		"runner runs tasks on the manifest's clusters only": {fn: "runner", action: "ecs:RunTask", want: []statement{
			{Actions: []string{"ecs:RunTask"}, Resources: taskDefs, Conditions: byCluster}}},
		"runner lists tasks of the manifest's clusters only": {fn: "runner", action: "ecs:ListTasks", want: []statement{
			{Actions: []string{"ecs:ListTasks"}, Resources: []string{"*"}, Conditions: byCluster}}},
		"runner stops tasks of the manifest's clusters only": {fn: "runner", action: "ecs:StopTask", want: []statement{
			{Actions: []string{"ecs:DescribeTasks", "ecs:StopTask"}, Resources: tasks}}},
		"runner tags only while running or registering": {fn: "runner", action: "ecs:TagResource", want: []statement{
			{Actions: []string{"ecs:TagResource"}, Resources: append(append([]string{}, taskDefs...), tasks...),
				Conditions: map[string]map[string][]string{"StringEquals": {"ecs:CreateAction": {"RunTask", "RegisterTaskDefinition"}}}}}},
		"runner describes images of the manifest's repositories only": {fn: "runner", action: "ecr:DescribeImages", want: []statement{
			{Actions: []string{"ecr:DescribeImages"}, Resources: repos}}},
		"deployer describes images of the manifest's repositories only": {fn: "deployer", action: "ecr:DescribeImages", want: []statement{
			{Actions: []string{"ecr:DescribeImages"}, Resources: repos}}},
		"runner consumes the job queue only": {fn: "runner", action: "sqs:ReceiveMessage", want: []statement{
			{Actions: []string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
				Resources: []string{"${" + s.logicalID(t, "AWS::SQS::Queue", "JobQueue") + ".Arn}"}}}},
		"tracker runs no task": {fn: "tracker", action: "ecs:RunTask"},
		"tracker tags services only, with rolled-back marks": {fn: "tracker", action: "ecs:TagResource", want: []statement{
			{Actions: []string{"ecs:TagResource"}, Resources: services,
				Conditions: map[string]map[string][]string{"ForAllValues:StringLike": {"aws:TagKeys": {"deckhand:rolled-back:*"}}}}}},
		"tracker sends re-runs to the job queue": {fn: "tracker", action: "sqs:SendMessage", want: []statement{
			{Actions: []string{"sqs:SendMessage"}, Resources: []string{"${" + s.logicalID(t, "AWS::SQS::Queue", "TrackerAsyncDLQ") + ".Arn}"}},
			{Actions: []string{"sqs:SendMessage"}, Resources: []string{"${" + s.logicalID(t, "AWS::SQS::Queue", "JobQueue") + ".Arn}"}}}},
		"deployer sends to the deploy DLQ only (dead letters at once)": {fn: "deployer", action: "sqs:SendMessage", want: []statement{
			{Actions: []string{"sqs:SendMessage"}, Resources: []string{"${" + s.logicalID(t, "AWS::SQS::Queue", "DeployDLQ") + ".Arn}"}}}},
		"tracker reads service-deployment records of the manifest's clusters only": {fn: "tracker", action: "ecs:ListServiceDeployments", want: []statement{
			{Actions: []string{"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"},
				Resources: append(append(append([]string{}, services...), ecsARN("service-deployment", "prod/*")), ecsARN("service-revision", "prod/*"))}}},
		"reconciler sends to the deploy queue": {fn: "reconciler", action: "sqs:SendMessage", want: []statement{
			{Actions: []string{"sqs:SendMessage"}, Resources: []string{"${" + s.logicalID(t, "AWS::SQS::Queue", "ReconcilerAsyncDLQ") + ".Arn}"}},
			{Actions: []string{"sqs:SendMessage"}, Resources: []string{"${" + queue + ".Arn}"}}}},
		"reconciler tags services only with rolled-back marks (repairs)": {fn: "reconciler", action: "ecs:TagResource", want: []statement{
			{Actions: []string{"ecs:TagResource"}, Resources: services,
				Conditions: map[string]map[string][]string{"ForAllValues:StringLike": {"aws:TagKeys": {"deckhand:rolled-back:*"}}}}}},
		"deployer describes the manifest's deployment alarms only": {fn: "deployer", action: "cloudwatch:DescribeAlarms", want: []statement{
			{Actions: []string{"cloudwatch:DescribeAlarms"}, Resources: []string{"arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:checkout-5xx"}}}},
		"deployer passes only the manifest's task roles (no ECS infrastructure role)": {fn: "deployer", action: "iam:PassRole", want: []statement{
			{Actions: []string{"iam:PassRole"}, Resources: exampleRoles,
				Conditions: map[string]map[string][]string{"StringEquals": {"iam:PassedToService": {"ecs-tasks.amazonaws.com"}}}}}},
		"no function stops service deployments": {fn: "tracker", action: "ecs:StopServiceDeployment"},
		"reconciler describes services of the manifest's clusters only": {fn: "reconciler", action: "ecs:DescribeServices", want: []statement{
			{Actions: []string{"ecs:DescribeServices"}, Resources: services}}},
		"without retention: the reconciler deregisters nothing": {fn: "reconciler", action: "ecs:DeregisterTaskDefinition"},
		"without retention: the reconciler deletes nothing":     {fn: "reconciler", action: "ecs:DeleteTaskDefinitions"},
		"only the reconciler deregisters revisions":             {fn: "deployer", action: "ecs:DeregisterTaskDefinition"},
		"deployer reads exactly the SSM parameters the service templates name": {fn: "deployer", action: "ssm:GetParameters", want: []statement{
			{Actions: []string{"ssm:GetParameters"}, Resources: []string{"arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/web/database-url"}}}},
		"no template of the example names a secret":    {fn: "deployer", action: "secretsmanager:DescribeSecret"},
		"the runner's job templates name no parameter": {fn: "runner", action: "ssm:GetParameters"},
		"the runner deletes no revision":               {fn: "runner", action: "ecs:DeleteTaskDefinitions"},
		"the tracker deletes no revision":              {fn: "tracker", action: "ecs:DeleteTaskDefinitions"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := withAction(s.fnStatements(t, tc.fn), tc.action)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWildcardResources allows Resource "*" only for the ECS actions
// without resource-level permissions, and ListTasks only with ecs:cluster.
func TestWildcardResources(t *testing.T) {
	allowed := map[string]bool{
		"ecs:DescribeTaskDefinition": true, "ecs:ListTaskDefinitions": true,
		"ecs:RegisterTaskDefinition": true, "ecs:ListTasks": true, "ecs:DeregisterTaskDefinition": true,
	}
	for _, name := range []string{"example", "groups"} {
		s := synth(t, name)
		for _, fn := range Functions {
			for _, st := range s.fnStatements(t, fn) {
				if !contains(st.Resources, "*") {
					continue
				}
				for _, a := range st.Actions {
					if !allowed[a] {
						t.Errorf("%s: %s grants %s on *", name, fn, a)
					}
					if a == "ecs:ListTasks" && len(st.Conditions["ArnEquals"]["ecs:cluster"]) == 0 {
						t.Errorf("%s: %s grants ecs:ListTasks on * without an ecs:cluster condition", name, fn)
					}
				}
			}
		}
	}
}

// TestOnlyReconcilerSendsToDeployQueue: the deploy queue takes pushes from
// the group rules and the reconciler, nothing else.
func TestOnlyReconcilerSendsToDeployQueue(t *testing.T) {
	s := synth(t, "example")
	queue := "${" + s.logicalID(t, "AWS::SQS::Queue", "DeployQueue") + ".Arn}"
	var got []string
	for role, stmts := range s.statementsByRole() {
		for _, st := range withAction(stmts, "sqs:SendMessage") {
			if contains(st.Resources, queue) {
				got = append(got, constructOf(role))
			}
		}
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"ReconcilerRole"}, got); diff != "" {
		t.Errorf("roles that send to the deploy queue (-want +got):\n%s", diff)
	}
}

// TestSchedulerRolesReachOneTarget: the jobs' schedules may only send to
// the job queue, the reconciler's only invoke the reconciler; both may
// dead-letter.
func TestSchedulerRolesReachOneTarget(t *testing.T) {
	s := synth(t, "example")
	dlq := "${" + s.logicalID(t, "AWS::SQS::Queue", "ScheduleDLQ") + ".Arn}"
	for role, target := range map[string]statement{
		"JobScheduleRole": {Actions: []string{"sqs:SendMessage"}, Resources: []string{"${" + s.logicalID(t, "AWS::SQS::Queue", "JobQueue") + ".Arn}"}},
		"ReconcilerScheduleRole": {Actions: []string{"lambda:InvokeFunction"},
			Resources: []string{"${" + s.logicalID(t, "AWS::Lambda::Function", "Reconciler") + ".Arn}"}},
	} {
		got := s.statementsByRole()[s.logicalID(t, "AWS::IAM::Role", role)]
		want := []statement{target, {Actions: []string{"sqs:SendMessage"}, Resources: []string{dlq}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", role, diff)
		}
	}
}

// TestOnlySchedulesAndTrackerSendToJobQueue: the job queue takes the
// jobs' scheduled invocations and the tracker's re-runs, nothing else.
func TestOnlySchedulesAndTrackerSendToJobQueue(t *testing.T) {
	s := synth(t, "example")
	queue := "${" + s.logicalID(t, "AWS::SQS::Queue", "JobQueue") + ".Arn}"
	var got []string
	for role, stmts := range s.statementsByRole() {
		for _, st := range withAction(stmts, "sqs:SendMessage") {
			if contains(st.Resources, queue) {
				got = append(got, constructOf(role))
			}
		}
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"JobScheduleRole", "TrackerRole"}, got); diff != "" {
		t.Errorf("roles that send to the job queue (-want +got):\n%s", diff)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRetentionGrants: with retention: in the manifest (the groups
// variant), the reconciler may deregister (on *, because AWS requires it)
// and delete revisions of its own account and Region only.
func TestRetentionGrants(t *testing.T) {
	s := synth(t, "groups")
	taskDefs := []string{ecsARN("task-definition", "*")}
	tests := map[string]struct {
		fn, action string
		want       []statement
	}{
		"reconciler deregisters on * because AWS requires it": {fn: "reconciler", action: "ecs:DeregisterTaskDefinition", want: []statement{
			{Actions: []string{"ecs:ListTaskDefinitions", "ecs:DeregisterTaskDefinition"}, Resources: []string{"*"}}}},
		"reconciler deletes task-definition revisions of its account and Region only": {fn: "reconciler", action: "ecs:DeleteTaskDefinitions", want: []statement{
			{Actions: []string{"ecs:DeleteTaskDefinitions"}, Resources: taskDefs}}},
		"only the reconciler deregisters revisions": {fn: "deployer", action: "ecs:DeregisterTaskDefinition"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, withAction(s.fnStatements(t, tc.fn), tc.action)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
