package local

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestSeedCreatesTheManifestsRolesAndTheTargetsForwarding: deckhand
// sandbox --seed gives the manifest's roles (trusting ECS tasks, for
// deckhand verify) and each target's role (assumable by the hub with the
// external id), and forwards the targets' ECS events to the hub's bus.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
func TestSeedCreatesTheManifestsRolesAndTheTargetsForwarding(t *testing.T) {
	raw, err := os.ReadFile("../../../examples/deckhand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withTargets := []byte(strings.Replace(string(raw), "services:\n", `targets:
  prod-eu: { account: "210987654321", region: eu-central-1, role: "arn:aws:iam::210987654321:role/deckhand-target" }
services:
  - { name: web-eu, target: prod-eu, cluster: eu, service: web, template: templates/web.json,
      images: { web: { repository: web, tags: "semver:*" }, proxy: { repository: proxy, tags: "glob:stable-*" } } }
`, 1))
	sb := sandboxtest.Start(t)
	if _, err := New(context.Background(), sb, Options{Dir: "../../../examples", Manifest: withTargets, InitialTags: ExampleTags}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	ctx := context.Background()
	if _, err := iam.NewFromConfig(sb.AWSConfig()).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web-task")}); err != nil {
		t.Errorf("GetRole of a manifest role: %v", err)
	}
	out, err := sts.NewFromConfig(sb.AWSConfig()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::210987654321:role/deckhand-target"), RoleSessionName: aws.String("deckhand"),
		ExternalId: aws.String(ExternalID(sb))})
	if err != nil {
		t.Fatalf("AssumeRole of the target role with the external id: %v", err)
	}
	cfg := sb.AWSConfig()
	cfg.Region = "eu-central-1"
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	target := ecs.NewFromConfig(cfg)
	if _, err := target.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("eu")}); err != nil {
		t.Fatal(err)
	}
	td, err := target.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("web@sha256:1")}}})
	if err != nil {
		t.Fatal(err)
	}
	before := len(sb.Events())
	if _, err := target.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("eu"), ServiceName: aws.String("web"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sb.Clock().Advance(time.Minute)
	forwarded := 0
	for _, ev := range sb.Events()[before:] {
		if ev.DetailType == events.DetailTypeDeploymentStateChange && ev.Account == "210987654321" {
			forwarded++
		}
	}
	if forwarded == 0 {
		t.Errorf("no deployment state change of the target's cluster reached the hub's bus")
	}
}
