package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// adoptWorld is a sandbox with three running things Deckhand did not
// register, each shaped differently: shop (an app, an ECR sidecar, two
// sidecars from public registries, firelens, strings that look like
// placeholders), billing (one container pinned by digest, SSM and Secrets
// Manager secrets, an awslogs log configuration, roles, a health check)
// and the report job's family (Fargate, awsvpc, a command).
type adoptWorld struct {
	sb      *sandbox.Sandbox
	ecs     *ecs.Client
	digests map[string]string // repo:tag → digest
	dir     string
}

func (w *adoptWorld) args(extra ...string) []string {
	return append(extra, "--endpoint-url", w.sb.Endpoint(), "--region", "us-west-2", "--dir", w.dir)
}

func (w *adoptWorld) local(extra ...string) []string {
	return append(extra, "--manifest", filepath.Join(w.dir, "deckhand.yaml"), "--region", "us-west-2", "--account", w.sb.Account())
}

func seedAdopt(t *testing.T) *adoptWorld {
	t.Helper()
	ctx := context.Background()
	sb := sandboxtest.Start(t)
	w := &adoptWorld{sb: sb, ecs: ecs.NewFromConfig(sb.AWSConfig()), digests: map[string]string{}, dir: t.TempDir()}
	if _, err := w.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"shop:1.4.2", "envoy:v1.29.1", "billing:release-42", "report:0.9.3"} {
		repo, tag, _ := strings.Cut(ref, ":")
		w.digests[ref] = sb.PushImage(repo, tag)
	}
	param, err := sb.PutParameter("", "", "/billing/db-url", "SecureString", "postgres://db")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := sb.CreateSecret("", "", "prod/billing/stripe", "sk_test")
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.CreateLogGroup("", "", "/ecs/billing"); err != nil {
		t.Fatal(err)
	}
	reg := "123456789012.dkr.ecr.us-west-2.amazonaws.com/"
	w.register(t, "shop", `{
	  "family": "shop", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "1024", "memory": "2048",
	  "containerDefinitions": [
	    {"name": "shop", "image": "`+reg+`shop:1.4.2", "essential": true, "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
	     "dependsOn": [{"containerName": "envoy", "condition": "HEALTHY"}],
	     "environment": [{"name": "GREETING", "value": "Hello {{ .Name }}, see @@IMAGE@@ & <b>"}, {"name": "MODE", "value": "shop"}],
	     "dockerLabels": {"com.example.template": "{{json .}}"},
	     "logConfiguration": {"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}}},
	    {"name": "envoy", "image": "`+reg+`envoy:v1.29.1", "essential": true,
	     "healthCheck": {"command": ["CMD-SHELL", "curl -s localhost:9901/ready"], "interval": 5, "retries": 3}},
	    {"name": "datadog", "image": "datadog/agent:7", "essential": false, "cpu": 64, "memoryReservation": 256},
	    {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "essential": true,
	     "firelensConfiguration": {"type": "fluentbit"}}
	  ]}`)
	w.register(t, "billing", `{
	  "family": "billing", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
	  "taskRoleArn": "arn:aws:iam::123456789012:role/billing-task",
	  "executionRoleArn": "arn:aws:iam::123456789012:role/ecs-execution",
	  "containerDefinitions": [
	    {"name": "app", "image": "`+reg+`billing@`+w.digests["billing:release-42"]+`", "essential": true,
	     "secrets": [{"name": "DATABASE_URL", "valueFrom": "`+param+`"}, {"name": "STRIPE_KEY", "valueFrom": "`+secret+`"}],
	     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/billing", "awslogs-region": "us-west-2", "awslogs-stream-prefix": "billing"}},
	     "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
	     "stopTimeout": 120}
	  ],
	  "tags": [{"key": "team", "value": "payments"}]}`)
	w.register(t, "report", `{
	  "family": "report", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
	  "containerDefinitions": [
	    {"name": "report", "image": "`+reg+`report:0.9.3", "essential": true, "command": ["./report", "--since", "24h"]}
	  ]}`)
	for _, name := range []string{"shop", "billing"} {
		if _, err := w.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String(name), DesiredCount: aws.Int32(1),
			TaskDefinition: aws.String(name), LaunchType: ecstypes.LaunchTypeFargate,
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
		}); err != nil {
			t.Fatalf("create service %s: %v", name, err)
		}
	}
	sb.Clock().Advance(60e9)
	return w
}

// register registers a revision from its JSON, as a person's tooling did.
func (w *adoptWorld) register(t *testing.T, family, doc string) {
	t.Helper()
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		t.Fatalf("%s: %v", family, err)
	}
	if _, err := w.ecs.RegisterTaskDefinition(context.Background(), &in); err != nil {
		t.Fatalf("register %s: %v", family, err)
	}
}

// running is the revision ECS describes, in RegisterTaskDefinition's shape
// as the SDK's types hold it, with the images of the containers named
// blanked; images returns them.
func (w *adoptWorld) running(t *testing.T, ref string, blank ...string) (map[string]any, map[string]string) {
	t.Helper()
	out, err := w.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out.TaskDefinition) // Go field names, which RegisterTaskDefinitionInput shares
	if err != nil {
		t.Fatal(err)
	}
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	return registeredShape(t, &in, blank)
}

// rendered is `deckhand render -o json`'s task definition in the same
// shape.
func rendered(t *testing.T, stdout string, blank ...string) (map[string]any, map[string]string) {
	t.Helper()
	var out struct {
		TaskDefinition json.RawMessage `json:"taskDefinition"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("render -o json: %v", err)
	}
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(out.TaskDefinition, &in); err != nil {
		t.Fatal(err)
	}
	return registeredShape(t, &in, blank)
}

func registeredShape(t *testing.T, in *ecs.RegisterTaskDefinitionInput, blank []string) (map[string]any, map[string]string) {
	t.Helper()
	images := map[string]string{}
	for i, c := range in.ContainerDefinitions {
		images[aws.ToString(c.Name)] = aws.ToString(c.Image)
		for _, b := range blank {
			if aws.ToString(c.Name) == b {
				in.ContainerDefinitions[i].Image = nil
			}
		}
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, images
}
