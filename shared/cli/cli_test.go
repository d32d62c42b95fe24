package cli

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/events"
)

func dep(id, status, td string, state types.DeploymentRolloutState, reason string) types.Deployment {
	return types.Deployment{Id: aws.String(id), Status: aws.String(status), TaskDefinition: aws.String(td),
		RolloutState: state, RolloutStateReason: aws.String(reason)}
}

func TestJudge(t *testing.T) {
	tests := map[string]struct {
		deployments []types.Deployment
		want        events.DeploymentStatus // "" while in progress
	}{
		"a completed deployment succeeds": {
			deployments: []types.Deployment{dep("d2", "PRIMARY", "web:2", types.DeploymentRolloutStateCompleted, "done")},
			want:        events.StatusSucceeded},
		"an in-progress deployment has no verdict yet": {
			deployments: []types.Deployment{dep("d2", "PRIMARY", "web:2", types.DeploymentRolloutStateInProgress, ""),
				dep("d1", "ACTIVE", "web:1", types.DeploymentRolloutStateCompleted, "")},
			want: ""},
		"a failed deployment with a circuit-breaker rollback is ROLLED_BACK, never success": {
			deployments: []types.Deployment{
				dep("d3", "PRIMARY", "web:1", types.DeploymentRolloutStateInProgress, "ECS deployment circuit breaker: rolling back to deploymentId d1."),
				dep("d2", "ACTIVE", "web:2", types.DeploymentRolloutStateFailed, "ECS deployment circuit breaker: task failed to start.")},
			want: events.StatusRolledBack},
		"a rollback that already drained our deployment is ROLLED_BACK": {
			deployments: []types.Deployment{
				dep("d3", "PRIMARY", "web:1", types.DeploymentRolloutStateInProgress, "ECS deployment circuit breaker: rolling back to deploymentId d1.")},
			want: events.StatusRolledBack},
		"a failed deployment without rollback is FAILED": {
			deployments: []types.Deployment{dep("d2", "PRIMARY", "web:2", types.DeploymentRolloutStateFailed, "tasks failed")},
			want:        events.StatusFailed},
		"a deployment replaced by someone else's is FAILED": {
			deployments: []types.Deployment{dep("d9", "PRIMARY", "web:9", types.DeploymentRolloutStateInProgress, "")},
			want:        events.StatusFailed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			svc := &types.Service{Deployments: tc.deployments, DesiredCount: 2}
			_, v, done := judge(svc, &Rollout{DeploymentID: "d2", TaskDefinition: "web:2"})
			got := v.Status
			if !done {
				got = ""
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnifiedDiff(t *testing.T) {
	tests := map[string]struct {
		a, b, want string
	}{
		"equal texts give no diff": {a: "x\ny\n", b: "x\ny\n", want: ""},
		"a changed line is shown with context": {
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n",
			b:    "1\n2\n3\n4\nfive\n6\n7\n8\n",
			want: "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		"an added line at the end": {
			a: "1\n", b: "1\n2\n", want: "--- a\n+++ b\n@@ -1,1 +1,2 @@\n 1\n+2\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, UnifiedDiff("a", "b", tc.a, tc.b, 3)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseImageRef(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := map[string]struct {
		in      string
		want    ImageRef
		wantErr bool
	}{
		"a tag":                    {in: "web:1.4.0", want: ImageRef{Repository: "web", Tag: "1.4.0"}},
		"a digest":                 {in: "web@" + digest, want: ImageRef{Repository: "web", Digest: digest}},
		"a registry, path and tag": {in: "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/web:2", want: ImageRef{Registry: "123456789012.dkr.ecr.us-west-2.amazonaws.com", Repository: "team/web", Tag: "2"}},
		"neither tag nor digest":   {in: "web", wantErr: true},
		"a digest that is not one": {in: "web@sha256:xyz", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseImageRef(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeOverride(t *testing.T) {
	kv := func(k, v string) types.KeyValuePair {
		return types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)}
	}
	base := &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("report"),
		Command: []string{"./report", "--since", "24h"}, Environment: []types.KeyValuePair{kv("A", "1"), kv("B", "2")}}}}
	over := &types.TaskOverride{Cpu: aws.String("512"), ContainerOverrides: []types.ContainerOverride{
		{Name: aws.String("report"), Environment: []types.KeyValuePair{kv("B", "20"), kv("C", "3")}},
		{Name: aws.String("sidecar"), Command: []string{"sleep"}}}}
	got := mergeOverride(base, over)
	want := &types.TaskOverride{Cpu: aws.String("512"), ContainerOverrides: []types.ContainerOverride{
		{Name: aws.String("report"), Command: []string{"./report", "--since", "24h"}, Environment: []types.KeyValuePair{kv("A", "1"), kv("B", "20"), kv("C", "3")}},
		{Name: aws.String("sidecar"), Command: []string{"sleep"}}}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(types.TaskOverride{}, types.ContainerOverride{}, types.KeyValuePair{})); diff != "" {
		t.Errorf("merged override (-want +got):\n%s", diff)
	}
	if len(base.ContainerOverrides[0].Environment) != 2 {
		t.Errorf("mergeOverride changed its base: %v", base.ContainerOverrides[0].Environment)
	}
}
