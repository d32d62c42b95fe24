package retention_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// oneClient hands every target binding the same client.
type oneClient struct{ c *ecs.Client }

func (o oneClient) ECS(context.Context, string, manifest.Target, string) (targets.ECS, error) {
	return o.c, nil
}

// TestRetentionInATargetPrunesTheTargetsRevisions: a binding with a
// target is pruned in the target's account and Region, through its
// session's client; the same family in Deckhand's own account is left
// alone.
func TestRetentionInATargetPrunesTheTargetsRevisions(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := t.Context()
	home := ecs.NewFromConfig(sb.AWSConfig())
	cfg := sb.AWSConfig()
	cfg.Region, cfg.Credentials = "eu-central-1", credentials.NewStaticCredentialsProvider("210987654321", "sandbox", "")
	eu := ecs.NewFromConfig(cfg)
	deckhands := func(int) revision.Tags { return revision.Tags{revision.TagBinding: "web"} }
	family(t, home, 8, deckhands)
	family(t, eu, 8, deckhands)
	if _, err := eu.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eu.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:8"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("deckhand.yaml", []byte(`version: 1
retention: { keep: 3 }
targets:
  eu: { account: "210987654321", region: eu-central-1, role: "arn:aws:iam::210987654321:role/deckhand-target" }
services:
  - { name: web, target: eu, cluster: prod, service: web, template: web.json, images: { web: { repository: web, tags: "semver:*" } } }
`))
	if err != nil {
		t.Fatal(err)
	}
	bctx, err := targets.In(ctx, oneClient{eu}, m, "eu", "web")
	if err != nil {
		t.Fatal(err)
	}
	out, err := eu.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	budget := retention.DefaultMaxRemovals
	res, err := (&retention.Pruner{ECS: home, Limit: revision.Unlimited()}).Binding(bctx, m, &m.Services[0], &out.Services[0], &budget)
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, r := range res.Removed {
		removed = append(removed, r.ARN)
	}
	// 8, 7, 6 are the newest 3 (8 serves): the target's 1 to 5 go.
	var want []string
	for rev := 1; rev <= 5; rev++ {
		want = append(want, fmt.Sprintf("arn:aws:ecs:eu-central-1:210987654321:task-definition/web:%d", rev))
	}
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	active := func(c *ecs.Client) int {
		l, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), Status: types.TaskDefinitionStatusActive})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.TaskDefinitionArns)
	}
	if got := active(home); got != 8 {
		t.Errorf("Deckhand's own account has %d ACTIVE revisions of web, want all 8 (retention ran in the target)", got)
	}
	if got := active(eu); got != 3 {
		t.Errorf("the target has %d ACTIVE revisions of web, want 3", got)
	}
}
