package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

func TestLoadNamesMakeBuildWhenBinariesAreMissing(t *testing.T) {
	cfg := variants["example"].cfg
	cfg.DistDir = t.TempDir()
	_, err := Load(cfg)
	if !errors.Is(err, ErrMissingBootstrap) {
		t.Fatalf("Load without dist: got %v, want ErrMissingBootstrap", err)
	}
	for _, fn := range Functions {
		if want := filepath.Join(cfg.DistDir, fn, "bootstrap"); !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	if !strings.Contains(err.Error(), "make build") {
		t.Errorf("error does not name `make build`:\n%v", err)
	}
}

func TestLoadReportsEveryInputProblem(t *testing.T) {
	dir := t.TempDir()
	manifestPath := filepath.Join(dir, "deckhand.yaml")
	data, err := os.ReadFile(filepath.Join("testdata", "groups.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifestPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{ManifestPath: manifestPath, DistDir: testDist, EventBus: "default", ReconcileSchedule: "every 5 minutes", LogRetentionDays: 31}
	_, err = Load(cfg)
	for _, want := range []string{"templates/app.json", ctxReconcileSchedule, ctxLogRetentionDays} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: got %v, want an error naming %s", err, want)
		}
	}
	cfg = variants["example"].cfg
	cfg.DistDir = testDist
	cfg.ManifestPath = filepath.Join(dir, "missing.yaml")
	if _, err := Load(cfg); err == nil {
		t.Error("Load of a missing manifest: got nil error")
	}
}

func TestConstructID(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"a plain name is capitalized":        {"web", "Web"},
		"dashes and slashes are dropped":     {"team/web-api", "TeamWebApi"},
		"digits and underscores are handled": {"job_2-nightly", "Job2Nightly"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, constructID(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBucket(t *testing.T) {
	s := synth(t, "example")
	check(t, "bucket properties", func() {
		s.template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"VersioningConfiguration": map[string]any{"Status": "Enabled"},
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
				map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
			}},
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Status":                      "Enabled",
					"NoncurrentVersionExpiration": map[string]any{"NoncurrentDays": noncurrentVersionDays},
				}),
			})},
		})
	})
	check(t, "bucket policy denies requests without TLS", func() {
		s.template.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Effect":    "Deny",
					"Action":    "s3:*",
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}),
			})},
		})
	})
	check(t, "the manifest and templates are uploaded", func() {
		s.template.ResourceCountIs(jsii.String("Custom::CDKBucketDeployment"), jsii.Number(1))
	})
	var got []string
	for _, u := range (&stack{cfg: s.cfg, m: mustLoad(t, s.cfg)}).uploads() {
		got = append(got, u.key)
	}
	want := []string{"deckhand.yaml", "templates/api.json", "templates/cache-warm.json", "templates/checkout.json", "templates/report.json",
		"templates/search.json", "templates/web.json", "templates/worker.json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("uploaded keys (-want +got):\n%s", diff)
	}
}

func mustLoad(t *testing.T, cfg Config) *manifest.Manifest {
	t.Helper()
	m, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFunctions(t *testing.T) {
	for _, name := range []string{"example", "groups"} {
		s := synth(t, name)
		bucket := "${" + s.logicalID(t, "AWS::S3::Bucket", "Bucket") + "}"
		queueURL := "${" + s.logicalID(t, "AWS::SQS::Queue", "DeployQueue") + "}"
		jobQueueURL := "${" + s.logicalID(t, "AWS::SQS::Queue", "JobQueue") + "}"
		fns := s.resources("AWS::Lambda::Function")
		for _, fn := range Functions {
			t.Run(name+"/"+fn, func(t *testing.T) {
				p := props(fns[s.logicalID(t, "AWS::Lambda::Function", constructID(fn))])
				got := map[string]any{
					"Architectures": flatList(p["Architectures"]),
					"Runtime":       p["Runtime"],
					"Handler":       p["Handler"],
					"LogFormat":     p["LoggingConfig"].(map[string]any)["LogFormat"],
					"MemorySize":    p["MemorySize"],
					"Timeout":       p["Timeout"],
				}
				sz := sizes[fn]
				want := map[string]any{
					"Architectures": []string{"arm64"},
					"Runtime":       "provided.al2023",
					"Handler":       "bootstrap",
					"LogFormat":     "JSON",
					"MemorySize":    sz.memoryMB,
					"Timeout":       sz.timeoutSec,
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("function properties (-want +got):\n%s", diff)
				}
				env := map[string]string{}
				for k, v := range p["Environment"].(map[string]any)["Variables"].(map[string]any) {
					env[k] = flat(v)
				}
				wantEnv := map[string]string{
					"DECKHAND_BUCKET":       bucket,
					"DECKHAND_MANIFEST_KEY": "deckhand.yaml",
					"DECKHAND_EVENT_BUS":    s.cfg.EventBus,
				}
				switch fn {
				case "reconciler":
					wantEnv["DECKHAND_QUEUE_URL"] = queueURL
				case "tracker":
					wantEnv["DECKHAND_JOB_QUEUE_URL"] = jobQueueURL
				}
				if fn == "deployer" {
					wantEnv["DECKHAND_DLQ_URL"] = "${" + s.logicalID(t, "AWS::SQS::Queue", "DeployDLQ") + "}"
					wantEnv["DECKHAND_MANIFEST_PARTS"] = PartsPrefix
					wantEnv["DECKHAND_SNAPSHOT"] = snapshotMount
				}
				if diff := cmp.Diff(wantEnv, env); diff != "" {
					t.Errorf("environment (-want +got):\n%s", diff)
				}
				logGroup := flat(p["LoggingConfig"].(map[string]any)["LogGroup"])
				if want := "${" + s.logicalID(t, "AWS::Logs::LogGroup", constructID(fn)+"Logs") + "}"; logGroup != want {
					t.Errorf("log group: got %s, want %s", logGroup, want)
				}
			})
		}
	}
}

func TestLogRetention(t *testing.T) {
	for _, name := range []string{"example", "groups"} {
		s := synth(t, name)
		groups := s.resources("AWS::Logs::LogGroup")
		if len(groups) < len(Functions)+2 {
			t.Errorf("%s: %d log groups, want one per function, the upload function and the event log", name, len(groups))
		}
		for id, r := range groups {
			if got := props(r)["RetentionInDays"]; got != float64(s.cfg.LogRetentionDays) {
				t.Errorf("%s: log group %s retention %v, want %d", name, id, got, s.cfg.LogRetentionDays)
			}
		}
		// Every function, including CDK's upload function, logs to an
		// explicit log group (never an implicit one without retention).
		for id, r := range s.resources("AWS::Lambda::Function") {
			lc, _ := props(r)["LoggingConfig"].(map[string]any)
			if lc == nil || lc["LogGroup"] == nil {
				t.Errorf("%s: function %s has no explicit log group", name, id)
			}
		}
	}
}

func TestDeployQueue(t *testing.T) {
	s := synth(t, "example")
	queues := s.resources("AWS::SQS::Queue")
	q := props(queues[s.logicalID(t, "AWS::SQS::Queue", "DeployQueue")])
	dlq := s.logicalID(t, "AWS::SQS::Queue", "DeployDLQ")
	got := map[string]any{
		"FifoQueue":                 q["FifoQueue"],
		"ContentBasedDeduplication": q["ContentBasedDeduplication"],
		"maxReceiveCount":           q["RedrivePolicy"].(map[string]any)["maxReceiveCount"],
		"deadLetterTargetArn":       flat(q["RedrivePolicy"].(map[string]any)["deadLetterTargetArn"]),
		"DLQ FifoQueue":             props(queues[dlq])["FifoQueue"],
		"VisibilityTimeout":         q["VisibilityTimeout"],
	}
	want := map[string]any{
		"FifoQueue":                 true,
		"ContentBasedDeduplication": true,
		"maxReceiveCount":           float64(deployMaxReceiveCount),
		"deadLetterTargetArn":       "${" + dlq + ".Arn}",
		"DLQ FifoQueue":             true,
		"VisibilityTimeout":         float64(6 * deployerTimeoutSec),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deploy queue (-want +got):\n%s", diff)
	}
	check(t, "deployer subscribed with ReportBatchItemFailures", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"EventSourceArn":        map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "AWS::SQS::Queue", "DeployQueue"), "Arn"}},
			"FunctionName":          map[string]any{"Ref": s.logicalID(t, "AWS::Lambda::Function", "Deployer")},
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		})
	})
}

// TestJobQueue: the job FIFO queue deduplicates by content (Scheduler
// requires it of a FIFO target), dead-letters after jobMaxReceiveCount, is
// encrypted and refuses plain HTTP, and the runner consumes it with partial
// batch responses.
func TestJobQueue(t *testing.T) {
	for _, name := range []string{"example", "groups"} {
		s := synth(t, name)
		queues := s.resources("AWS::SQS::Queue")
		id := s.logicalID(t, "AWS::SQS::Queue", "JobQueue")
		q := props(queues[id])
		dlq := s.logicalID(t, "AWS::SQS::Queue", "JobDLQ")
		got := map[string]any{
			"FifoQueue":                 q["FifoQueue"],
			"ContentBasedDeduplication": q["ContentBasedDeduplication"],
			"SqsManagedSseEnabled":      q["SqsManagedSseEnabled"],
			"maxReceiveCount":           q["RedrivePolicy"].(map[string]any)["maxReceiveCount"],
			"deadLetterTargetArn":       flat(q["RedrivePolicy"].(map[string]any)["deadLetterTargetArn"]),
			"DLQ FifoQueue":             props(queues[dlq])["FifoQueue"],
			"VisibilityTimeout":         q["VisibilityTimeout"],
		}
		want := map[string]any{
			"FifoQueue":                 true,
			"ContentBasedDeduplication": true,
			"SqsManagedSseEnabled":      true,
			"maxReceiveCount":           float64(jobMaxReceiveCount),
			"deadLetterTargetArn":       "${" + dlq + ".Arn}",
			"DLQ FifoQueue":             true,
			"VisibilityTimeout":         float64(6 * runnerTimeoutSec),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: job queue (-want +got):\n%s", name, diff)
		}
		check(t, name+": runner subscribed with ReportBatchItemFailures", func() {
			s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
				"EventSourceArn":        map[string]any{"Fn::GetAtt": []any{id, "Arn"}},
				"FunctionName":          map[string]any{"Ref": s.logicalID(t, "AWS::Lambda::Function", "Runner")},
				"BatchSize":             float64(10),
				"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			})
		})
		check(t, name+": the job queue refuses plain HTTP", func() {
			s.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
				"Queues": []any{map[string]any{"Ref": id}},
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
					"Action": "sqs:*", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
					"Resource":  map[string]any{"Fn::GetAtt": []any{id, "Arn"}},
				}})},
			})
		})
	}
}

// pushRule is what a repository group's rule does, flattened for cmp.
type pushRule struct {
	Repositories   []string
	MessageGroupID string
	Target         string
	DLQ            string
	DLQIsStandard  bool
	RetryAttempts  float64
	MaxEventAge    float64
	Pattern        map[string]any
}

func (s *synthesized) pushRules(t *testing.T) []pushRule {
	t.Helper()
	queues := s.resources("AWS::SQS::Queue")
	var out []pushRule
	for _, r := range s.resources("AWS::Events::Rule") {
		p := props(r)
		pattern := p["EventPattern"].(map[string]any)
		if !contains(flatList(pattern["source"]), "aws.ecr") {
			continue
		}
		detail := pattern["detail"].(map[string]any)
		targets := p["Targets"].([]any)
		if len(targets) != 1 {
			t.Fatalf("push rule with %d targets", len(targets))
		}
		tg := targets[0].(map[string]any)
		dlq := flat(tg["DeadLetterConfig"].(map[string]any)["Arn"])
		dlqID := strings.TrimSuffix(strings.TrimPrefix(dlq, "${"), ".Arn}")
		rp := tg["RetryPolicy"].(map[string]any)
		out = append(out, pushRule{
			Repositories:   flatList(detail["repository-name"]),
			MessageGroupID: tg["SqsParameters"].(map[string]any)["MessageGroupId"].(string),
			Target:         flat(tg["Arn"]),
			DLQ:            constructOf(dlqID),
			DLQIsStandard:  props(queues[dlqID])["FifoQueue"] == nil,
			RetryAttempts:  rp["MaximumRetryAttempts"].(float64),
			MaxEventAge:    rp["MaximumEventAgeInSeconds"].(float64),
			Pattern: map[string]any{
				"source":      pattern["source"],
				"detail-type": pattern["detail-type"],
				"action-type": detail["action-type"],
				"result":      detail["result"],
				"image-tag":   detail["image-tag"],
			},
		})
	}
	sortBy(out, func(r pushRule) string { return r.MessageGroupID })
	return out
}

func TestPushRulesPerRepositoryGroup(t *testing.T) {
	pattern := map[string]any{
		"source":      []any{"aws.ecr"},
		"detail-type": []any{"ECR Image Action"},
		"action-type": []any{"PUSH"},
		"result":      []any{"SUCCESS"},
		"image-tag":   []any{map[string]any{"exists": true}},
	}
	rule := func(s *synthesized, groupID string, repos ...string) pushRule {
		return pushRule{
			Repositories: repos, MessageGroupID: groupID,
			Target: "${" + s.logicalID(t, "AWS::SQS::Queue", "DeployQueue") + ".Arn}",
			DLQ:    "PushRuleDLQ", DLQIsStandard: true,
			RetryAttempts: targetRetryAttempts, MaxEventAge: targetMaxEventAgeSec,
			Pattern: pattern,
		}
	}
	tests := map[string]struct {
		variant string
		want    func(s *synthesized) []pushRule
	}{
		"two services sharing a repository form one group; the unrelated one its own": {
			variant: "groups",
			want: func(s *synthesized) []pushRule {
				return []pushRule{
					rule(s, "checkout", "checkout", "envoy", "storefront"),
					rule(s, "team/reports", "team/reports"),
				}
			},
		},
		"the example: web and api share proxy; worker, checkout and search stand alone": {
			variant: "example",
			want: func(s *synthesized) []pushRule {
				return []pushRule{
					rule(s, "api", "api", "proxy", "web"),
					rule(s, "checkout", "checkout"),
					rule(s, "search", "search"),
					rule(s, "worker", "worker"),
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.variant)
			if diff := cmp.Diff(tc.want(s), s.pushRules(t)); diff != "" {
				t.Errorf("push rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrackerRules(t *testing.T) {
	s := synth(t, "groups")
	tracker := "${" + s.logicalID(t, "AWS::Lambda::Function", "Tracker") + ".Arn}"
	dlq := "${" + s.logicalID(t, "AWS::SQS::Queue", "TrackerRuleDLQ") + ".Arn}"
	rules := s.resources("AWS::Events::Rule")
	type target struct{ Arn, DLQ string }
	targetOf := func(p map[string]any) []target {
		var out []target
		for _, x := range p["Targets"].([]any) {
			tg := x.(map[string]any)
			out = append(out, target{Arn: flat(tg["Arn"]), DLQ: flat(tg["DeadLetterConfig"].(map[string]any)["Arn"])})
		}
		return out
	}
	deployments := props(rules[s.logicalID(t, "AWS::Events::Rule", "EcsDeployments")])
	var prefixes []string
	for _, r := range deployments["EventPattern"].(map[string]any)["resources"].([]any) {
		prefixes = append(prefixes, flat(r.(map[string]any)["prefix"]))
	}
	if diff := cmp.Diff([]string{ecsARN("service", "batch/"), ecsARN("service", "shop/")}, prefixes); diff != "" {
		t.Errorf("deployment rule resources (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"ECS Deployment State Change"}, deployments["EventPattern"].(map[string]any)["detail-type"]); diff != "" {
		t.Errorf("deployment rule detail-type (-want +got):\n%s", diff)
	}
	tasks := props(rules[s.logicalID(t, "AWS::Events::Rule", "EcsTasks")])
	detail := tasks["EventPattern"].(map[string]any)["detail"].(map[string]any)
	wantClusters := []string{
		"arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/batch",
		"arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/shop",
	}
	if diff := cmp.Diff(wantClusters, flatList(detail["clusterArn"])); diff != "" {
		t.Errorf("task rule clusterArn (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"ECS Task State Change"}, tasks["EventPattern"].(map[string]any)["detail-type"]); diff != "" {
		t.Errorf("task rule detail-type (-want +got):\n%s", diff)
	}
	for rule, p := range map[string]map[string]any{"deployments": deployments, "tasks": tasks} {
		if diff := cmp.Diff([]target{{Arn: tracker, DLQ: dlq}}, targetOf(p)); diff != "" {
			t.Errorf("%s rule targets (-want +got):\n%s", rule, diff)
		}
	}
}

// schedule is a Scheduler schedule, flattened for cmp.
type schedule struct {
	Expression, Timezone, Input, Target, Role, DLQ, Group string
	// MessageGroup is the FIFO message group of an SQS target.
	MessageGroup               string
	RetryAttempts, MaxEventAge float64
}

func (s *synthesized) schedules() map[string]schedule {
	out := map[string]schedule{}
	for id, r := range s.resources("AWS::Scheduler::Schedule") {
		p := props(r)
		tg := p["Target"].(map[string]any)
		rp := tg["RetryPolicy"].(map[string]any)
		out[id] = schedule{
			Expression: p["ScheduleExpression"].(string), Timezone: p["ScheduleExpressionTimezone"].(string),
			Input: tg["Input"].(string), Target: flat(tg["Arn"]), Role: flat(tg["RoleArn"]),
			DLQ: flat(tg["DeadLetterConfig"].(map[string]any)["Arn"]), Group: flat(p["GroupName"]),
			RetryAttempts: rp["MaximumRetryAttempts"].(float64), MaxEventAge: rp["MaximumEventAgeInSeconds"].(float64),
		}
		if sqs, ok := tg["SqsParameters"].(map[string]any); ok {
			sc := out[id]
			sc.MessageGroup = sqs["MessageGroupId"].(string)
			out[id] = sc
		}
	}
	return out
}

func TestSchedules(t *testing.T) {
	tests := map[string]struct {
		variant string
		want    func(s *synthesized, sched func(target, expr, tz, input string) schedule) map[string]schedule
	}{
		"one schedule per job with its time zone, into the job queue in the job's group, and the reconciler's rate": {
			variant: "example",
			want: func(s *synthesized, sched func(target, expr, tz, input string) schedule) map[string]schedule {
				job := func(name, expr, tz string) schedule {
					sc := sched("JobQueue", expr, tz, `{"job":"`+name+`","scheduledTime":"<aws.scheduler.scheduled-time>"}`)
					sc.MessageGroup = name
					return sc
				}
				return map[string]schedule{
					"Job0NightlyReport": job("nightly-report", "cron(0 3 * * ? *)", "Europe/Berlin"),
					"Job1CacheWarm":     job("cache-warm", "rate(15 minutes)", "UTC"),
					"Reconcile":         sched("Reconciler", "rate(5 minutes)", "UTC", "{}"),
				}
			},
		},
		"no jobs: only the reconciler, at the configured rate": {
			variant: "groups",
			want: func(s *synthesized, sched func(target, expr, tz, input string) schedule) map[string]schedule {
				return map[string]schedule{"Reconcile": sched("Reconciler", "rate(10 minutes)", "UTC", "{}")}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := synth(t, tc.variant)
			group := s.resources("AWS::Scheduler::ScheduleGroup")
			if len(group) != 1 {
				t.Fatalf("%d schedule groups, want 1", len(group))
			}
			var groupName string
			for _, g := range group {
				groupName = flat(props(g)["Name"])
			}
			sched := func(target, expr, tz, input string) schedule {
				var arn, role string
				if target == "JobQueue" {
					arn, role = "${"+s.logicalID(t, "AWS::SQS::Queue", target)+".Arn}", "JobScheduleRole"
				} else {
					arn, role = "${"+s.logicalID(t, "AWS::Lambda::Function", target)+".Arn}", target+"ScheduleRole"
				}
				return schedule{
					Expression: expr, Timezone: tz, Input: input,
					Target:        arn,
					Role:          "${" + s.logicalID(t, "AWS::IAM::Role", role) + ".Arn}",
					DLQ:           "${" + s.logicalID(t, "AWS::SQS::Queue", "ScheduleDLQ") + ".Arn}",
					Group:         groupName,
					RetryAttempts: scheduleRetryAttempts, MaxEventAge: scheduleMaxEventAge,
				}
			}
			if diff := cmp.Diff(tc.want(s, sched), s.schedules()); diff != "" {
				t.Errorf("schedules (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryTargetHasADLQ: rule targets, schedules and asynchronously
// invoked functions all end in a dead-letter queue, and every DLQ alarms.
func TestEveryTargetHasADLQ(t *testing.T) {
	s := synth(t, "example")
	for id, r := range s.resources("AWS::Events::Rule") {
		for _, x := range props(r)["Targets"].([]any) {
			tg := x.(map[string]any)
			if tg["DeadLetterConfig"] == nil || tg["RetryPolicy"] == nil {
				t.Errorf("rule %s target %v has no DLQ or retry policy", id, tg["Id"])
			}
		}
	}
	for id, sc := range s.schedules() {
		if sc.DLQ == "" {
			t.Errorf("schedule %s has no DLQ", id)
		}
	}
	var async []string
	for _, r := range s.resources("AWS::Lambda::Function") {
		if dlc, ok := props(r)["DeadLetterConfig"].(map[string]any); ok {
			async = append(async, constructOf(strings.TrimSuffix(strings.TrimPrefix(flat(dlc["TargetArn"]), "${"), ".Arn}")))
		}
	}
	if diff := cmp.Diff([]string{"ReconcilerAsyncDLQ", "RunnerAsyncDLQ", "TrackerAsyncDLQ"}, sorted(async)); diff != "" {
		t.Errorf("function async DLQs (-want +got):\n%s", diff)
	}

	alarmed := map[string]bool{}
	for _, r := range s.resources("AWS::CloudWatch::Alarm") {
		p := props(r)
		if p["MetricName"] != "ApproximateNumberOfMessagesVisible" {
			continue
		}
		if p["Threshold"] != float64(0) || p["ComparisonOperator"] != "GreaterThanThreshold" || len(flatList(p["AlarmActions"])) != 1 {
			t.Errorf("DLQ alarm %v: want depth > 0 notifying the topic", p)
		}
		for _, d := range p["Dimensions"].([]any) {
			alarmed[constructOf(strings.TrimSuffix(strings.TrimPrefix(flat(d.(map[string]any)["Value"]), "${"), ".QueueName}"))] = true
		}
	}
	var got []string
	for q := range alarmed {
		got = append(got, q)
	}
	want := []string{"DeployDLQ", "JobDLQ", "OpsRuleDLQ", "PushRuleDLQ", "ReconcilerAsyncDLQ", "RunnerAsyncDLQ", "ScheduleDLQ", "TrackerAsyncDLQ", "TrackerRuleDLQ"}
	if diff := cmp.Diff(want, sorted(got)); diff != "" {
		t.Errorf("DLQs with a depth alarm (-want +got):\n%s", diff)
	}
	// Every queue but the deploy and job queues is a DLQ, and every DLQ
	// alarms.
	var queues []string
	for id := range s.resources("AWS::SQS::Queue") {
		if q := constructOf(id); q != "DeployQueue" && q != "JobQueue" {
			queues = append(queues, q)
		}
	}
	if diff := cmp.Diff(want, sorted(queues)); diff != "" {
		t.Errorf("dead-letter queues (-want +got):\n%s", diff)
	}
}

func TestOperations(t *testing.T) {
	s := synth(t, "example")
	topic := "${" + s.logicalID(t, "AWS::SNS::Topic", "Alarms") + "}"
	var fnAlarms []string
	for _, r := range s.resources("AWS::CloudWatch::Alarm") {
		p := props(r)
		if p["Namespace"] != "AWS/Lambda" {
			continue
		}
		fnAlarms = append(fnAlarms, p["MetricName"].(string)+" "+flat(p["Dimensions"].([]any)[0].(map[string]any)["Value"]))
		if diff := cmp.Diff([]string{topic}, flatList(p["AlarmActions"])); diff != "" {
			t.Errorf("alarm actions (-want +got):\n%s", diff)
		}
	}
	var want []string
	for _, fn := range Functions {
		ref := "${" + s.logicalID(t, "AWS::Lambda::Function", constructID(fn)) + "}"
		want = append(want, "Errors "+ref, "Throttles "+ref)
	}
	if diff := cmp.Diff(sorted(want), sorted(fnAlarms)); diff != "" {
		t.Errorf("function alarms (-want +got):\n%s", diff)
	}
	check(t, "email subscription from context", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": "platform@example.com", "TopicArn": map[string]any{"Ref": s.logicalID(t, "AWS::SNS::Topic", "Alarms")},
		})
	})
	check(t, "no email subscription without context", func() {
		synth(t, "groups").template.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
	})
	notify := props(s.resources("AWS::Events::Rule")[s.logicalID(t, "AWS::Events::Rule", "Notify")])
	wantPattern := map[string]any{
		"source":      []any{"deckhand"},
		"detail-type": []any{"Deckhand Deployment State Change", "Deckhand Job State Change"},
		"detail":      map[string]any{"status": []any{"FAILED", "ROLLED_BACK", "TIMED_OUT"}},
	}
	if diff := cmp.Diff(wantPattern, notify["EventPattern"]); diff != "" {
		t.Errorf("notification pattern (-want +got):\n%s", diff)
	}
	if got := flat(notify["Targets"].([]any)[0].(map[string]any)["Arn"]); got != topic {
		t.Errorf("notification target %s, want %s", got, topic)
	}
	var metrics []string
	dims := map[string]any{}
	for _, r := range s.resources("AWS::Logs::MetricFilter") {
		for _, mt := range props(r)["MetricTransformations"].([]any) {
			mt := mt.(map[string]any)
			metrics = append(metrics, mt["MetricNamespace"].(string)+"/"+mt["MetricName"].(string))
			dims[mt["MetricName"].(string)] = mt["Dimensions"]
		}
	}
	if diff := cmp.Diff([]string{"Deckhand/DeploymentDuration", "Deckhand/Deployments", "Deckhand/DeploymentsByStrategy", "Deckhand/JobDuration",
		"Deckhand/JobRuns", "Deckhand/RollbacksByCause"}, sorted(metrics)); diff != "" {
		t.Errorf("metric filters (-want +got):\n%s", diff)
	}
	wantDims := map[string]any{
		"DeploymentsByStrategy": []any{map[string]any{"Key": "Strategy", "Value": "$.detail.strategy"}},
		"RollbacksByCause":      []any{map[string]any{"Key": "Cause", "Value": "$.detail.cause"}},
	}
	for m, want := range wantDims {
		if diff := cmp.Diff(want, dims[m]); diff != "" {
			t.Errorf("%s's dimensions (-want +got):\n%s", m, diff)
		}
	}
	check(t, "dashboard", func() {
		s.template.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
	})
	body, _ := json.Marshal(props(s.resources("AWS::CloudWatch::Dashboard")[s.logicalID(t, "AWS::CloudWatch::Dashboard", "Dashboard")])["DashboardBody"])
	for _, want := range []string{`Deployments by strategy`, `Rollbacks by cause`, `SEARCH('{Deckhand,Strategy} MetricName=\\\"DeploymentsByStrategy\\\"'`, `SEARCH('{Deckhand,Cause} MetricName=\\\"RollbacksByCause\\\"'`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("dashboard lacks %s:\n%s", want, body)
		}
	}
	check(t, "topic encrypted and TLS-only", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{
			"KmsMasterKeyId": assertions.Match_AnyValue(),
		})
	})
}

func TestNagAwsSolutions(t *testing.T) {
	for _, name := range []string{"example", "groups", "targets"} {
		s := synth(t, name)
		errs := assertions.Annotations_FromStack(s.stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, msg := range *errs {
			// Marshalled whole: the message type's fields are deprecated
			// in the Go bindings.
			data, _ := json.Marshal(msg)
			t.Errorf("%s: unsuppressed cdk-nag error: %s", name, data)
		}
		// The pack ran: suppressions are recorded on the resources.
		if n := strings.Count(fmt.Sprint(s.json), "AwsSolutions-IAM5"); n == 0 {
			t.Errorf("%s: no cdk-nag suppression metadata in the template; did the AwsSolutions pack run?", name)
		}
	}
}

func sortBy[T any](s []T, key func(T) string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && key(s[j]) < key(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
