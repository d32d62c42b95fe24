package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestDeploymentIDsAreUniqueAcrossAccounts: ECS's deployment ids are
// unique, so the same first deployment in two accounts and Regions has two
// ids (the tracker and the chaos suite tell deployments apart by them);
// the sandbox's own account keeps the ids it always had.
func TestDeploymentIDsAreUniqueAcrossAccounts(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, where := range [][2]string{{"123456789012", "us-west-2"}, {"210987654321", "eu-central-1"}, {"210987654321", "us-east-1"}} {
		c := ecs.NewFromConfig(as(sb, static(where[0], "x", ""), where[1]))
		if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
			t.Fatal(err)
		}
		td, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("web@sha256:1")}}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.Service.Deployments[0].Id)
		if prev, dup := ids[id]; dup {
			t.Errorf("%s/%s and %s both name their first deployment %s", where[0], where[1], prev, id)
		}
		ids[id] = where[0] + "/" + where[1]
		if where[0] == sb.Account() && where[1] == sb.Region() && !strings.HasPrefix(id, "ecs-svc/4000000000000000") {
			t.Errorf("the sandbox's own account's deployment id is %s, want ecs-svc/4000000000000000…", id)
		}
	}
}
