package track

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
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
	tagged     []types.Tag
}

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	svc := types.Service{
		ServiceName: aws.String("web"), ServiceArn: aws.String("arn:aws:ecs:us-west-2:123456789012:service/prod/web"),
		Deployments:             []types.Deployment{{Id: aws.String(depID), Status: aws.String("ACTIVE"), TaskDefinition: aws.String(rev7)}},
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: f.rollback}},
	}
	failedAt := time.Date(2026, 11, 16, 2, 4, 10, 0, time.UTC) // the failed fixture's updatedAt
	if f.rollback {
		svc.Deployments = append(svc.Deployments, types.Deployment{Id: aws.String("ecs-svc/9876543210987654321"), Status: aws.String("PRIMARY"),
			TaskDefinition: aws.String(rev6), CreatedAt: aws.Time(failedAt)})
	}
	if f.redeployed {
		svc.Deployments[len(svc.Deployments)-1].Status = aws.String("ACTIVE")
		svc.Deployments = append(svc.Deployments, types.Deployment{Id: aws.String("ecs-svc/5555555555555555555"), Status: aws.String("PRIMARY"),
			TaskDefinition: aws.String("arn:aws:ecs:us-west-2:123456789012:task-definition/web:8"), CreatedAt: aws.Time(failedAt.Add(time.Minute))})
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
	f.tagged = append(f.tagged, in.Tags...)
	return &ecs.TagResourceOutput{}, nil
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
		fixture    string
		ecs        fakeECS
		wantStatus []events.DeploymentStatus
		wantTagged int
		wantOld    string
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
			fixture: "ecs-deployment-state-change-failed.json", ecs: fakeECS{ours: true, latest: rev7},
			wantStatus: []events.DeploymentStatus{events.StatusFailed},
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
			for range 2 { // the second delivery is a duplicate
				if _, err := h.Invoke(context.Background(), fixture(t, tc.fixture)); err != nil {
					t.Fatalf("Invoke: %v", err)
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
