package local

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/deckhand-ecs/deckhand/events"
)

// TestSeedCreatesTheManifestsRolesAndTheTargetsForwarding: deckhand
// sandbox --seed gives the manifest's roles (trusting ECS tasks, for
// deckhand verify) and each target's role (assumable by the hub with the
// external id), and forwards the targets' ECS events to the hub's bus.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
func TestSeedCreatesTheManifestsRolesAndTheTargetsForwarding(t *testing.T) {
	st := newTargetStack(t)
	sb := st.SB
	ctx := context.Background()
	if _, err := iam.NewFromConfig(sb.AWSConfig()).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web-task")}); err != nil {
		t.Errorf("GetRole of a manifest role: %v", err)
	}
	out, err := sts.NewFromConfig(sb.AWSConfig()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(euRole), RoleSessionName: aws.String("deckhand"),
		ExternalId: aws.String(ExternalID(sb))})
	if err != nil {
		t.Fatalf("AssumeRole of the target role with the external id: %v", err)
	}
	cfg := sb.AWSConfig()
	cfg.Region = euRegion
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	target := ecs.NewFromConfig(cfg)
	// The seed created the target's service in its account and Region.
	svcs, err := target.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil || len(svcs.Services) != 1 {
		t.Fatalf("DescribeServices prod/web in the target: %v (failures %v)", err, svcs)
	}
	if arn := aws.ToString(svcs.Services[0].TaskDefinition); !strings.Contains(arn, ":"+euRegion+":"+euAccount+":") {
		t.Errorf("the target's service runs %s, want a revision of the target's account", arn)
	}
	before := len(sb.Events())
	if _, err := target.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"),
		ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}
	sb.Clock().Advance(time.Minute)
	forwarded := 0
	for _, ev := range sb.Events()[before:] {
		if ev.DetailType == events.DetailTypeDeploymentStateChange && ev.Account == euAccount {
			forwarded++
		}
	}
	if forwarded == 0 {
		t.Errorf("no deployment state change of the target's cluster reached the hub's bus")
	}
}
