package sandbox_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

func TestDispatchByTarget(t *testing.T) {
	c := start(t)
	tests := map[string]struct {
		target, contentType string
		wantStatus          int
		wantType            string
	}{
		"ECS answers JSON 1.1 errors":        {"AmazonEC2ContainerServiceV20141113.DescribeServices", "application/x-amz-json-1.1", 400, "application/x-amz-json-1.1"},
		"ECR rejects unknown operations":     {"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "application/x-amz-json-1.1", 400, "application/x-amz-json-1.1"},
		"SQS answers JSON 1.0":               {"AmazonSQS.ListQueues", "application/x-amz-json-1.0", 200, "application/x-amz-json-1.0"},
		"EventBridge validates its entries":  {"AWSEvents.PutEvents", "application/x-amz-json-1.1", 400, "application/x-amz-json-1.1"},
		"no target goes to S3 (ListBuckets)": {"", "", 200, "text/xml; charset=utf-8"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, c.sb.Endpoint()+"/", strings.NewReader("{}"))
			if tc.target == "" {
				req.Method = http.MethodGet
			}
			req.Header.Set("X-Amz-Target", tc.target)
			req.Header.Set("Content-Type", tc.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := []any{resp.StatusCode, resp.Header.Get("Content-Type")}
			if diff := cmp.Diff([]any{tc.wantStatus, tc.wantType}, got); diff != "" {
				t.Errorf("status, content type (-want +got):\n%s", diff)
			}
		})
	}
}

func TestECSThroughTheSDK(t *testing.T) {
	c := start(t)
	client := ecs.NewFromConfig(c.sb.AWSConfig())
	_, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"web"}})
	var nf *ecstypes.ClusterNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeServices on a missing cluster: err = %v, want ClusterNotFoundException", err)
	}
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if err := registerTaskDefinition(client); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("web"),
		TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	c.sb.Clock().Advance(2 * time.Minute)
	var names []string
	for _, ev := range c.sb.Events() {
		if ev.Source != events.SourceECS || ev.Account != c.sb.Account() || ev.Region != c.sb.Region() || len(ev.Resources) == 0 {
			t.Errorf("ECS event envelope = %+v", ev)
		}
		if ev.DetailType == events.DetailTypeDeploymentStateChange {
			d, err := events.Decode[events.ECSDeploymentStateChange](ev.Detail, "detail")
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, d.EventName)
		}
	}
	if len(names) == 0 || names[len(names)-1] != events.DeploymentCompleted {
		t.Errorf("deployment events = %v, want ending %s", names, events.DeploymentCompleted)
	}
}

func TestAfter500SimulatesACrashAfterAWrite(t *testing.T) {
	c := start(t)
	client := ecs.NewFromConfig(c.sb.AWSConfig())
	c.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Op: "RegisterTaskDefinition", Kind: sandbox.FaultAfter500, Count: 1})
	err := registerTaskDefinition(client, func(o *ecs.Options) { o.Retryer = aws.NopRetryer{} })
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ServerException" {
		t.Fatalf("err = %v, want ServerException", err)
	}
	out, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")})
	if err != nil || len(out.TaskDefinitionArns) != 1 {
		t.Errorf("task definitions after the crash = %v, %v; want the write to have happened", out, err)
	}
}
