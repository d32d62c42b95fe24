package retention

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

func rev(n int) string {
	return fmt.Sprintf("arn:aws:ecs:us-west-2:123456789012:task-definition/web:%d", n)
}

// revs are Deckhand's revisions from..to of binding web, newest first.
func revs(to, from int) []owned {
	var out []owned
	for n := to; n >= from; n-- {
		out = append(out, owned{arn: rev(n), revision: n, tags: revision.Tags{revision.TagBinding: "web"}})
	}
	return out
}

func deployment(status string, n int, state types.DeploymentRolloutState) types.Deployment {
	return types.Deployment{Id: aws.String("ecs-svc/" + status), Status: aws.String(status), TaskDefinition: aws.String(rev(n)), RolloutState: state}
}

func TestDecide(t *testing.T) {
	tests := map[string]struct {
		svc        types.Service
		revs       []owned
		keep       int
		wantRemove []int
	}{
		"the newest keep stay, the serving one with them": {
			svc:  types.Service{TaskDefinition: aws.String(rev(10)), Deployments: []types.Deployment{deployment("PRIMARY", 10, types.DeploymentRolloutStateCompleted)}},
			revs: revs(10, 1), keep: 3, wantRemove: []int{1, 2, 3, 4, 5, 6, 7},
		},
		"a serving revision older than keep stays, and so does the one before it": {
			svc:  types.Service{TaskDefinition: aws.String(rev(4)), Deployments: []types.Deployment{deployment("PRIMARY", 4, types.DeploymentRolloutStateCompleted)}},
			revs: revs(10, 1), keep: 2, wantRemove: []int{1, 2, 5, 6, 7, 8},
		},
		"an in-flight deployment and the one it would roll back to stay": {
			svc: types.Service{TaskDefinition: aws.String(rev(6)), Deployments: []types.Deployment{
				deployment("PRIMARY", 6, types.DeploymentRolloutStateInProgress), deployment("ACTIVE", 3, types.DeploymentRolloutStateCompleted)}},
			revs: revs(10, 1), keep: 1, wantRemove: []int{1, 2, 4, 7, 8, 9},
		},
		"a failed deployment still listed stays": {
			svc: types.Service{TaskDefinition: aws.String(rev(5)), Deployments: []types.Deployment{
				deployment("PRIMARY", 5, types.DeploymentRolloutStateInProgress), deployment("ACTIVE", 8, types.DeploymentRolloutStateFailed)}},
			revs: revs(10, 1), keep: 1, wantRemove: []int{1, 2, 3, 6, 7, 9},
		},
		"a pending approval stays whatever its age": {
			svc: types.Service{TaskDefinition: aws.String(rev(10))},
			revs: func() []owned {
				r := revs(10, 1)
				r[7].tags = revision.Tags{revision.TagBinding: "web", revision.TagApproval: revision.ApprovalPending} // revision 3
				return r
			}(),
			keep: 1, wantRemove: []int{1, 2, 4, 5, 6, 7, 8},
		},
		"a revision INACTIVE already is deleted, and does not count towards keep": {
			svc: types.Service{TaskDefinition: aws.String(rev(10))},
			revs: func() []owned {
				r := revs(10, 1)
				r[0].inactive = true // revision 10: deregistered by hand, yet serving
				r[1].inactive = true // revision 9
				return r
			}(),
			keep: 2, wantRemove: []int{1, 2, 3, 4, 5, 6, 9},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, serving := splitRev(aws.ToString(tc.svc.TaskDefinition))
			p := decide(tc.revs, tc.keep, protections(&tc.svc, serving, tc.revs))
			var got []int
			for _, r := range p.remove {
				got = append(got, r.revision)
			}
			if diff := cmp.Diff(tc.wantRemove, got); diff != "" {
				t.Errorf("removed, oldest first (-want +got):\n%s", diff)
			}
			if len(p.kept)+len(p.remove) != len(tc.revs) {
				t.Errorf("kept %d + removed %d != %d revisions: one was lost", len(p.kept), len(p.remove), len(tc.revs))
			}
		})
	}
}

func splitRev(arn string) (string, int) {
	var n int
	fmt.Sscanf(arn[len(rev(0))-1:], "%d", &n)
	return "web", n
}
