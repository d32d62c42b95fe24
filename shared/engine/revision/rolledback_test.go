package revision

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
)

func TestMovedBackFrom(t *testing.T) {
	const (
		s5 = "arn:aws:ecs:us-west-2:123456789012:task-definition/web:5"
		l6 = "arn:aws:ecs:us-west-2:123456789012:task-definition/web:6"
	)
	t0 := time.Date(2026, 11, 16, 1, 0, 0, 0, time.UTC)
	latest := func(binding string) *ecs.DescribeTaskDefinitionOutput {
		return &ecs.DescribeTaskDefinitionOutput{
			TaskDefinition: &types.TaskDefinition{TaskDefinitionArn: aws.String(l6), RegisteredAt: aws.Time(t0)},
			Tags:           Tags{TagBinding: binding, TagChanged: "web", TagDigest + "web": "sha256:bad", TagDigest + "proxy": "sha256:kept"}.ECS(),
		}
	}
	dep := func(td, status string, state types.DeploymentRolloutState, created time.Duration) types.Deployment {
		return types.Deployment{TaskDefinition: aws.String(td), Status: aws.String(status), RolloutState: state, CreatedAt: aws.Time(t0.Add(created))}
	}
	service := func(deps ...types.Deployment) *types.Service {
		return &types.Service{TaskDefinition: aws.String(s5), Deployments: deps}
	}
	bad := Tags{TagRolledBack + "web": "sha256:bad"}
	tests := map[string]struct {
		svc    *types.Service
		latest *ecs.DescribeTaskDefinitionOutput
		want   Tags
	}{
		"the newest revision's deployment failed and the service serves an older one": {
			svc:    service(dep(s5, "PRIMARY", types.DeploymentRolloutStateInProgress, time.Minute), dep(l6, "ACTIVE", types.DeploymentRolloutStateFailed, time.Second)),
			latest: latest("web"), want: bad,
		},
		"the failed deployment is gone, and the serving one was created after the newest revision": {
			svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Minute)), latest: latest("web"), want: bad,
		},
		"registered but never deployed (a crash before UpdateService): deploy it": {
			svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, -time.Hour)), latest: latest("web"),
		},
		"the newest revision is in flight": {
			svc:    service(dep(s5, "PRIMARY", types.DeploymentRolloutStateInProgress, time.Minute), dep(l6, "ACTIVE", types.DeploymentRolloutStateInProgress, time.Second)),
			latest: latest("web"),
		},
		"the newest revision serves": {
			svc:    &types.Service{TaskDefinition: aws.String(l6), Deployments: []types.Deployment{dep(l6, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Second)}},
			latest: latest("web"),
		},
		"another binding's revision is not evidence": {
			svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Minute)), latest: latest("api"),
		},
		"a revision not registered by Deckhand is not evidence": {
			svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Minute)), latest: latest(""),
		},
		"no latest revision read is no evidence": {svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Minute))},
		"a revision pending approval was never deployed (DESIGN §11)": {
			svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Minute)), latest: gatedLatest(latest("web"), ApprovalPending),
		},
		"a rejected revision was never deployed": {
			svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Minute)), latest: gatedLatest(latest("web"), ApprovalRejected),
		},
		"an approved revision the service went back from is evidence": {
			svc: service(dep(s5, "PRIMARY", types.DeploymentRolloutStateCompleted, time.Minute)), latest: gatedLatest(latest("web"), ApprovalApproved), want: bad,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := MovedBackFrom(tc.svc, tc.latest, "web")
			if ok != (tc.want != nil) {
				t.Fatalf("MovedBackFrom = %v, %v; want %v", got, ok, tc.want)
			}
			if diff := cmp.Diff(tc.want, got); tc.want != nil && diff != "" {
				t.Errorf("marks (-want +got):\n%s", diff)
			}
		})
	}
}

// gatedLatest is latest with an approval state.
func gatedLatest(latest *ecs.DescribeTaskDefinitionOutput, state string) *ecs.DescribeTaskDefinitionOutput {
	tags := TagsOf(latest.Tags)
	tags[TagApproval] = state
	latest.Tags = tags.ECS()
	return latest
}

func TestFailedRevisions(t *testing.T) {
	const (
		s5 = "arn:aws:ecs:us-west-2:123456789012:task-definition/web:5"
		f6 = "arn:aws:ecs:us-west-2:123456789012:task-definition/web:6"
		f7 = "arn:aws:ecs:us-west-2:123456789012:task-definition/web:7"
		o3 = "arn:aws:ecs:us-west-2:123456789012:task-definition/other:3"
	)
	dep := func(td, status string, state types.DeploymentRolloutState) types.Deployment {
		return types.Deployment{TaskDefinition: aws.String(td), Status: aws.String(status), RolloutState: state}
	}
	tests := map[string]struct {
		deps []types.Deployment
		want []string
	}{
		"every failed deployment listed beside the rollback, once each, in list order": {
			deps: []types.Deployment{dep(s5, "PRIMARY", types.DeploymentRolloutStateInProgress), dep(f7, "ACTIVE", types.DeploymentRolloutStateFailed),
				dep(f6, "ACTIVE", types.DeploymentRolloutStateFailed), dep(f7, "ACTIVE", types.DeploymentRolloutStateFailed)},
			want: []string{f7, f6},
		},
		"a failed deployment of the serving revision (no rollback) is not moved back from": {
			deps: []types.Deployment{dep(s5, "PRIMARY", types.DeploymentRolloutStateFailed)},
		},
		"deployments in flight or completed are not evidence": {
			deps: []types.Deployment{dep(s5, "PRIMARY", types.DeploymentRolloutStateInProgress), dep(f6, "ACTIVE", types.DeploymentRolloutStateCompleted)},
		},
		"another family's revision is not evidence": {
			deps: []types.Deployment{dep(s5, "PRIMARY", types.DeploymentRolloutStateInProgress), dep(o3, "ACTIVE", types.DeploymentRolloutStateFailed)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := FailedRevisions(&types.Service{TaskDefinition: aws.String(s5), Deployments: tc.deps})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FailedRevisions (-want +got):\n%s", diff)
			}
		})
	}
}
