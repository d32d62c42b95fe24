package retention_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

const manifestYAML = `version: 1
retention: { keep: 3 }
services:
  - name: web
    cluster: prod
    service: web
    template: web.json
    images: { web: { repository: web, tags: "semver:*" } }
`

// family registers n revisions of family web on the sandbox: tags(i) gives
// revision i's tags (nil: none).
func family(t *testing.T, client *ecs.Client, n int, tags func(i int) revision.Tags) {
	t.Helper()
	for i := 1; i <= n; i++ {
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String(fmt.Sprintf("web:%d", i)), Memory: aws.Int32(128)}}}
		if tg := tags(i); tg != nil {
			in.Tags = tg.ECS()
		}
		if _, err := client.RegisterTaskDefinition(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
}

func arn(sb *sandbox.Sandbox, rev int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/web:%d", sb.Region(), sb.Account(), rev)
}

// TestBindingKeepsNAndEveryProtectedRevision registers 30 revisions of a
// binding's family (one not Deckhand's, one another binding's, one pending
// approval), serves revision 25 and starts a deployment of 27, and prunes
// with keep 3: exactly the revisions no rule protects are deregistered and
// deleted, and the rest stay ACTIVE.
func TestBindingKeepsNAndEveryProtectedRevision(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := t.Context()
	client := ecs.NewFromConfig(sb.AWSConfig())
	family(t, client, 30, func(i int) revision.Tags {
		switch i {
		case 5:
			return nil // registered by someone else
		case 12:
			return revision.Tags{revision.TagBinding: "web-canary"}
		case 20:
			return revision.Tags{revision.TagBinding: "web", revision.TagApproval: revision.ApprovalPending}
		}
		return revision.Tags{revision.TagBinding: "web"}
	})
	sb.ECS().CreateCluster("prod")
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:25"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	sb.Clock().Advance(2 * time.Minute)
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"),
		TaskDefinition: aws.String("web:27")}); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("deckhand.yaml", []byte(manifestYAML))
	if err != nil {
		t.Fatal(err)
	}
	p := &retention.Pruner{ECS: client, Limit: revision.Unlimited(), MaxRemovals: -1}
	results, err := p.Run(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("results = %+v, want one binding", results)
	}
	res := results[0]
	kept := map[int]string{}
	for _, k := range res.Kept {
		kept[k.Revision] = k.Why
	}
	wantKept := map[int]string{
		30: "among the newest 3", 29: "among the newest 3", 28: "among the newest 3",
		27: "the serving revision",
		26: "deckhand rollback's target (the binding's newest revision older than the serving one)",
		25: "run by the service's ACTIVE deployment",
		20: "its approval is pending",
	}
	for rev, why := range wantKept {
		if got := kept[rev]; len(got) < len(why) || got[:len(why)] != why {
			t.Errorf("revision %d kept because %q; want %q…", rev, got, why)
		}
	}
	if len(kept) != len(wantKept) {
		t.Errorf("kept %v; want exactly revisions %v", kept, wantKept)
	}
	var removed, wantRemoved []int
	for _, r := range res.Removed {
		removed = append(removed, r.Revision)
		if !r.Deregistered || !r.Deleted || r.Error != "" {
			t.Errorf("revision %d: deregistered %v, deleted %v, error %q; want both done", r.Revision, r.Deregistered, r.Deleted, r.Error)
		}
	}
	for i := 1; i <= 24; i++ {
		if i != 5 && i != 12 && i != 20 {
			wantRemoved = append(wantRemoved, i)
		}
	}
	if diff := cmp.Diff(wantRemoved, removed); diff != "" {
		t.Errorf("removed revisions, oldest first (-want +got):\n%s", diff)
	}
	// What ECS says now: the removed revisions are gone, every other one
	// is ACTIVE.
	left := map[int]string{}
	for _, td := range sb.ECS().TaskDefinitions("web") {
		left[int(td.Revision)] = td.Status
	}
	for i := 1; i <= 30; i++ {
		_, isKept := wantKept[i]
		want := ""
		if isKept || i == 5 || i == 12 {
			want = "ACTIVE"
		}
		if left[i] != want {
			t.Errorf("revision %d is %q after pruning; want %q (\"\": deleted)", i, left[i], want)
		}
	}
	// A second pass finds nothing more to remove.
	again, err := p.Run(ctx, m)
	if err != nil || retention.Removals(again) != 0 {
		t.Errorf("second pass removed %d (%v); want 0", retention.Removals(again), err)
	}
}

// TestDryRunWritesNothing: a dry run reports the same removals and makes
// no write.
func TestDryRunWritesNothing(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := t.Context()
	client := ecs.NewFromConfig(sb.AWSConfig())
	family(t, client, 8, func(int) revision.Tags { return revision.Tags{revision.TagBinding: "web"} })
	sb.ECS().CreateCluster("prod")
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:8"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("deckhand.yaml", []byte(manifestYAML))
	if err != nil {
		t.Fatal(err)
	}
	sb.ResetCalls()
	res, err := (&retention.Pruner{ECS: client, DryRun: true}).Run(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	var would []int
	for _, r := range res[0].Removed {
		would = append(would, r.Revision)
	}
	// 8, 7, 6 are the newest 3 (8 serves, 7 is rollback's target).
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, would); diff != "" {
		t.Errorf("dry run would remove (-want +got):\n%s", diff)
	}
	for _, op := range []string{"DeregisterTaskDefinition", "DeleteTaskDefinitions"} {
		if n := sb.CountCalls(sandbox.ServiceECS, op); n != 0 {
			t.Errorf("%s called %d times in a dry run", op, n)
		}
	}
	if got := sb.ECS().TaskDefinitions("web"); len(got) != 8 || got[0].Status != "ACTIVE" {
		t.Errorf("after a dry run %d revisions, the first %s; want 8 ACTIVE", len(got), got[0].Status)
	}
}

// TestMaxRemovalsDefersTheRest: a pass removes at most MaxRemovals
// revisions, the oldest first, and says how many it left.
func TestMaxRemovalsDefersTheRest(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := t.Context()
	client := ecs.NewFromConfig(sb.AWSConfig())
	family(t, client, 12, func(int) revision.Tags { return revision.Tags{revision.TagBinding: "web"} })
	sb.ECS().CreateCluster("prod")
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:12"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	m, _ := manifest.Parse("deckhand.yaml", []byte(manifestYAML))
	p := &retention.Pruner{ECS: client, Limit: revision.Unlimited(), MaxRemovals: 5}
	res, err := p.Run(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	// 12, 11, 10 kept: 1–9 past keep, 5 now, 4 later.
	if got := res[0]; len(got.Removed) != 5 || got.Removed[0].ARN != arn(sb, 1) || got.Deferred != 4 {
		t.Errorf("first pass removed %d from %v, deferred %d; want 5 from revision 1, 4 deferred", len(got.Removed), got.Removed, got.Deferred)
	}
	res, err = p.Run(ctx, m)
	if err != nil || len(res[0].Removed) != 4 || res[0].Removed[0].ARN != arn(sb, 6) || res[0].Deferred != 0 {
		t.Errorf("second pass removed %v, deferred %d (%v); want the 4 left, from revision 6", res[0].Removed, res[0].Deferred, err)
	}
}

// TestSweepDeletesWhatAnEarlierDeleteLeftInactive: a revision deregistered
// whose delete failed is INACTIVE; a pass leaves it (it lists ACTIVE
// revisions), a Sweep deletes it.
func TestSweepDeletesWhatAnEarlierDeleteLeftInactive(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := t.Context()
	client := ecs.NewFromConfig(sb.AWSConfig())
	family(t, client, 4, func(int) revision.Tags { return revision.Tags{revision.TagBinding: "web"} })
	sb.ECS().CreateCluster("prod")
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web:4"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	m, _ := manifest.Parse("deckhand.yaml", []byte(manifestYAML))
	// Every DeleteTaskDefinitions fails with a 500, more often than the
	// pacer retries.
	sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "DeleteTaskDefinitions", Kind: sandbox.Fault500, Count: 100})
	p := &retention.Pruner{ECS: client, Limit: revision.Unlimited(), Pacer: revision.Pacer{Attempts: 1}}
	res, err := p.Run(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0].Removed; len(r) != 1 || !r[0].Deregistered || r[0].Deleted || r[0].Error == "" {
		t.Fatalf("with deletes failing: %+v; want revision 1 deregistered, not deleted, with the error", r)
	}
	sb.ClearFaults()
	if res, _ := p.Run(ctx, m); retention.Removals(res) != 0 {
		t.Errorf("a pass over ACTIVE revisions removed %v; want nothing (revision 1 is INACTIVE)", res[0].Removed)
	}
	p.Sweep = true
	res, err = p.Run(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0].Removed; len(r) != 1 || r[0].Revision != 1 || !r[0].Deleted {
		t.Errorf("sweep: %+v; want revision 1 deleted", r)
	}
	for _, td := range sb.ECS().TaskDefinitions("web") {
		if td.Revision == 1 {
			t.Errorf("revision 1 is still %s after the sweep", td.Status)
		}
	}
}
