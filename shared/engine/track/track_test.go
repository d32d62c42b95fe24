package track

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

const (
	depID    = "ecs-svc/1234567890123456789" // the fixtures' deployment
	rev7     = "arn:aws:ecs:us-west-2:123456789012:task-definition/web:7"
	rev6     = "arn:aws:ecs:us-west-2:123456789012:task-definition/web:6"
	digestWb = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678"
)

// fakeECS serves one service whose deployment depID runs rev7.
type fakeECS struct {
	rollback bool
	// redeployed: Deckhand deployed web:8 after ECS rolled back to web:6.
	redeployed bool
	ours       bool // rev7 carries Deckhand's tags
	latest     string
	// rollout is depID's rolloutState ("" derives it: FAILED with
	// rollback, else COMPLETED); unlisted drops depID from the service.
	rollout  types.DeploymentRolloutState
	unlisted bool
	// records are ECS's service-deployment records (recordsErr answers
	// ListServiceDeployments instead).
	records    []types.ServiceDeployment
	recordsErr error
	// marked: the service carries the rolled-back mark already;
	// markedBefore: it carries a mark of earlier rollbacks (this value).
	marked       bool
	markedBefore string
	// tagFails fails that many TagResource calls (throttled).
	tagFails int
	tagCalls int
	tagged   []types.Tag
}

const (
	serviceARN = "arn:aws:ecs:us-west-2:123456789012:service/prod/web"
	sdARN      = "arn:aws:ecs:us-west-2:123456789012:service-deployment/prod/web/Xk3kQ1"
	srARN7     = "arn:aws:ecs:us-west-2:123456789012:service-revision/prod/web/1234567890123456789"
	srARN6     = "arn:aws:ecs:us-west-2:123456789012:service-revision/prod/web/9876543210987654321"
)

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	rollout := f.rollout
	if rollout == "" {
		rollout = types.DeploymentRolloutStateCompleted
		if f.rollback {
			rollout = types.DeploymentRolloutStateFailed
		}
	}
	failedAt := time.Date(2026, 11, 16, 2, 4, 10, 0, time.UTC) // the failed fixture's updatedAt
	svc := types.Service{
		ServiceName: aws.String("web"), ServiceArn: aws.String(serviceARN),
		Deployments: []types.Deployment{{Id: aws.String(depID), Status: aws.String("ACTIVE"), TaskDefinition: aws.String(rev7),
			RolloutState: rollout, RolloutStateReason: aws.String("ECS says: " + string(rollout)), UpdatedAt: aws.Time(failedAt)}},
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: f.rollback}},
	}
	if f.marked {
		svc.Tags = []types.Tag{{Key: aws.String(revision.TagRolledBack + "web"), Value: aws.String(digestWb)}}
	}
	if f.markedBefore != "" {
		svc.Tags = []types.Tag{{Key: aws.String(revision.TagRolledBack + "web"), Value: aws.String(f.markedBefore)}}
	}
	if f.rollback {
		svc.Deployments = append(svc.Deployments, types.Deployment{Id: aws.String("ecs-svc/9876543210987654321"), Status: aws.String("PRIMARY"),
			TaskDefinition: aws.String(rev6), CreatedAt: aws.Time(failedAt), RolloutState: types.DeploymentRolloutStateInProgress})
	}
	if f.redeployed {
		svc.Deployments[len(svc.Deployments)-1].Status = aws.String("ACTIVE")
		svc.Deployments = append(svc.Deployments, types.Deployment{Id: aws.String("ecs-svc/5555555555555555555"), Status: aws.String("PRIMARY"),
			TaskDefinition: aws.String("arn:aws:ecs:us-west-2:123456789012:task-definition/web:8"), CreatedAt: aws.Time(failedAt.Add(time.Minute))})
	}
	if f.unlisted {
		svc.Deployments = svc.Deployments[1:]
	}
	return &ecs.DescribeServicesOutput{Services: []types.Service{svc}}, nil
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	arn := aws.ToString(in.TaskDefinition)
	if arn == "web" {
		arn = f.latest
	}
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &types.TaskDefinition{TaskDefinitionArn: aws.String(arn), Family: aws.String("web")}}
	if f.ours {
		out.Tags = revision.Tags{revision.TagBinding: "web", revision.TagTrigger: "push", revision.TagEventID: "ev-1",
			revision.TagDigest + "web": digestWb, revision.TagImageTag + "web": "1.4.0", revision.TagChanged: "web"}.ECS()
	}
	if arn == "" {
		return nil, &smithy.GenericAPIError{Code: "ClientException"}
	}
	return out, nil
}

func (f *fakeECS) TagResource(_ context.Context, in *ecs.TagResourceInput, _ ...func(*ecs.Options)) (*ecs.TagResourceOutput, error) {
	f.tagCalls++
	if f.tagFails > 0 {
		f.tagFails--
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	}
	f.tagged = append(f.tagged, in.Tags...)
	return &ecs.TagResourceOutput{}, nil
}

func (f *fakeECS) ListServiceDeployments(_ context.Context, in *ecs.ListServiceDeploymentsInput, _ ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error) {
	if f.recordsErr != nil {
		return nil, f.recordsErr
	}
	out := &ecs.ListServiceDeploymentsOutput{}
	for _, r := range f.records {
		out.ServiceDeployments = append(out.ServiceDeployments, types.ServiceDeploymentBrief{ServiceDeploymentArn: r.ServiceDeploymentArn,
			Status: r.Status, TargetServiceRevisionArn: r.TargetServiceRevision.Arn})
	}
	return out, nil
}

func (f *fakeECS) DescribeServiceDeployments(_ context.Context, in *ecs.DescribeServiceDeploymentsInput, _ ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error) {
	out := &ecs.DescribeServiceDeploymentsOutput{}
	for _, r := range f.records {
		if slices.Contains(in.ServiceDeploymentArns, aws.ToString(r.ServiceDeploymentArn)) {
			out.ServiceDeployments = append(out.ServiceDeployments, r)
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeServiceRevisions(_ context.Context, in *ecs.DescribeServiceRevisionsInput, _ ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error) {
	td := map[string]string{srARN7: rev7, srARN6: rev6}
	out := &ecs.DescribeServiceRevisionsOutput{}
	for _, arn := range in.ServiceRevisionArns {
		out.ServiceRevisions = append(out.ServiceRevisions, types.ServiceRevision{ServiceRevisionArn: aws.String(arn), TaskDefinition: aws.String(td[arn])})
	}
	return out, nil
}

// record is ECS's service-deployment record of depID (target rev7) with a
// status; rolled-back ones name rev6's service revision.
func record(status types.ServiceDeploymentStatus) []types.ServiceDeployment {
	r := types.ServiceDeployment{ServiceDeploymentArn: aws.String(sdARN), Status: status, StatusReason: aws.String("record says " + string(status)),
		TargetServiceRevision: &types.ServiceRevisionSummary{Arn: aws.String(srARN7)}}
	if strings.HasPrefix(string(status), "ROLLBACK") {
		r.Rollback = &types.Rollback{ServiceRevisionArn: aws.String(srARN6)}
	}
	return []types.ServiceDeployment{r}
}

type recorder struct {
	evs []events.DeploymentStateChange
}

func (r *recorder) Put(_ context.Context, evs ...emit.Event) error {
	for _, e := range evs {
		r.evs = append(r.evs, e.Detail.(events.DeploymentStateChange))
	}
	return nil
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerdicts(t *testing.T) {
	tests := map[string]struct {
		fixture     string
		ecs         fakeECS
		wantStatus  []events.DeploymentStatus
		wantTagged  int
		wantOld     string
		wantIgnored string // part of the reason the event was ignored
	}{
		"completion of Deckhand's deployment is SUCCEEDED": {
			fixture: "ecs-deployment-state-change-completed.json", ecs: fakeECS{ours: true, latest: rev7},
			wantStatus: []events.DeploymentStatus{events.StatusSucceeded},
		},
		"a failure with rollback is ROLLED_BACK and marks the digest": {
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7, rollback: true},
			wantStatus: []events.DeploymentStatus{events.StatusRolledBack}, wantTagged: 1, wantOld: rev6,
		},
		"the rollback target is ECS's rollback deployment, not a newer primary": {
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7, rollback: true, redeployed: true},
			wantStatus: []events.DeploymentStatus{events.StatusRolledBack}, wantTagged: 1, wantOld: rev6,
		},
		"a failure without rollback is FAILED": {
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7, rollout: types.DeploymentRolloutStateFailed},
			wantStatus: []events.DeploymentStatus{events.StatusFailed},
		},
		"a forged FAILED for a deployment ECS says completed decides nothing (issue 10.5)": {
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7, rollout: types.DeploymentRolloutStateCompleted},
			wantIgnored: "is COMPLETED",
		},
		"a forged COMPLETED for a deployment ECS says failed decides nothing": {
			fixture: "ecs-deployment-state-change-completed.json", ecs: fakeECS{ours: true, latest: rev7, rollback: true},
			wantIgnored: "is FAILED",
		},
		"a FAILED event for a deployment still in progress decides nothing": {
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7, rollout: types.DeploymentRolloutStateInProgress},
			wantIgnored: "is IN_PROGRESS",
		},
		"a stale FAILED for a deployment only ECS's record knows, and it succeeded, decides nothing": {
			fixture:     "ecs-deployment-state-change-failed.json",
			ecs:         fakeECS{ours: true, latest: rev7, unlisted: true, records: record(types.ServiceDeploymentStatusSuccessful)},
			wantIgnored: "is COMPLETED (ECS's service-deployment record",
		},
		"a failure only ECS's record knows is ROLLED_BACK to the record's revision": {
			fixture:    "ecs-deployment-state-change-failed.json",
			ecs:        fakeECS{ours: true, latest: rev7, unlisted: true, records: record(types.ServiceDeploymentStatusRollbackSuccessful)},
			wantStatus: []events.DeploymentStatus{events.StatusRolledBack}, wantTagged: 1, wantOld: rev6,
		},
		"a completion only ECS's record knows is SUCCEEDED": {
			fixture:    "ecs-deployment-state-change-completed.json",
			ecs:        fakeECS{ours: true, latest: rev7, unlisted: true, records: record(types.ServiceDeploymentStatusSuccessful)},
			wantStatus: []events.DeploymentStatus{events.StatusSucceeded},
		},
		"a deployment neither listed nor recorded decides nothing": {
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7, unlisted: true},
			wantIgnored: "neither listed on the service nor in ECS's service-deployment records",
		},
		"records ECS refuses to give leave the deployment unconfirmed": {
			fixture: "ecs-deployment-state-change-failed.json",
			ecs: fakeECS{ours: true, latest: rev7, unlisted: true, recordsErr: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}},
				Err:      &smithy.GenericAPIError{Code: "UnknownOperationException"}}},
			wantIgnored: "records unreadable",
		},
		"a rollback the service records already is reported without writing the mark again": {
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7, rollback: true, marked: true},
			wantStatus: []events.DeploymentStatus{events.StatusRolledBack}, wantOld: rev6,
		},
		"completion of an older Deckhand revision (a rollback) is never success": {
			fixture: "ecs-deployment-state-change-completed.json", ecs: fakeECS{ours: true, latest: "arn:aws:ecs:us-west-2:123456789012:task-definition/web:8"},
		},
		"a deployment Deckhand did not start is ignored": {
			fixture: "ecs-deployment-state-change-completed.json", ecs: fakeECS{latest: rev7},
		},
		"in-progress events carry no verdict": {
			fixture: "ecs-deployment-state-change-in-progress.json", ecs: fakeECS{ours: true, latest: rev7},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			f := tc.ecs
			h := lambda.NewHandler((&Handler{Deployments: &Deployments{ECS: &f, Events: rec}}).Handle)
			for i := range 2 { // the second delivery is a duplicate
				out, err := h.Invoke(context.Background(), fixture(t, tc.fixture))
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				var v Verdict
				if err := json.Unmarshal(out, &v); err != nil {
					t.Fatal(err)
				}
				if i == 0 && tc.wantIgnored != "" && !strings.Contains(v.Ignored, tc.wantIgnored) {
					t.Errorf("ignored because %q, want it to say %q", v.Ignored, tc.wantIgnored)
				}
			}
			var got []events.DeploymentStatus
			for _, e := range rec.evs {
				got = append(got, e.Status)
				if e.OldRevision != tc.wantOld {
					t.Errorf("old revision = %q, want %q", e.OldRevision, tc.wantOld)
				}
				if e.DeploymentID != depID || e.Binding != "web" || e.Containers["web"].NewDigest != digestWb {
					t.Errorf("verdict lacks the deployment, binding or digest: %+v", e)
				}
			}
			if diff := cmp.Diff(tc.wantStatus, got); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
			if len(f.tagged) != tc.wantTagged {
				t.Errorf("tagged %v, want %d tag(s)", f.tagged, tc.wantTagged)
			}
			if tc.wantTagged > 0 && (aws.ToString(f.tagged[0].Key) != revision.TagRolledBack+"web" || aws.ToString(f.tagged[0].Value) != digestWb) {
				t.Errorf("rolled-back mark = %s=%s", aws.ToString(f.tagged[0].Key), aws.ToString(f.tagged[0].Value))
			}
		})
	}
}

func TestMalformedInputIsAnError(t *testing.T) {
	h := lambda.NewHandler((&Handler{Deployments: &Deployments{ECS: &fakeECS{}}}).Handle)
	// Truncated JSON is refused by aws-lambda-go before the handler runs.
	if _, err := h.Invoke(context.Background(), []byte(`{"source": "aws.ecs",`)); err == nil {
		t.Error("truncated JSON was accepted")
	}
	for name, payload := range map[string]string{
		"another source":     `{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}`,
		"no service ARN":     strings.Replace(string(fixture(t, "ecs-deployment-state-change-completed.json")), `"arn:aws:ecs:us-west-2:123456789012:service/prod/web"`, ``, 1),
		"a wrong field type": `{"source": "aws.ecs", "detail-type": "ECS Deployment State Change", "detail": {"eventName": 5}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.Invoke(context.Background(), []byte(payload))
			if err == nil || !strings.Contains(err.Error(), "$") && !strings.Contains(err.Error(), "offset") {
				t.Errorf("err = %v, want an error naming the JSON path", err)
			}
		})
	}
}
