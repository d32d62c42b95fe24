package sandbox_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

func repoCount(t *testing.T, c clients) int {
	t.Helper()
	out, err := c.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Repositories)
}

func statuses(sb *sandbox.Sandbox, service, op string) []int {
	out := []int{}
	for _, c := range sb.Calls() {
		if c.Service == service && c.Op == op {
			out = append(out, c.Status)
		}
	}
	return out
}

func TestFaults(t *testing.T) {
	tests := map[string]struct {
		kind         sandbox.FaultKind
		count        int
		retry        bool
		wantCode     string // "" = success
		wantRepos    int
		wantStatuses []int
	}{
		"throttle surfaces as ThrottlingException without retries": {
			kind: sandbox.FaultThrottle, count: 1, wantCode: "ThrottlingException", wantRepos: 0, wantStatuses: []int{400}},
		"one throttle is retried by the standard retryer": {
			kind: sandbox.FaultThrottle, count: 1, retry: true, wantRepos: 1, wantStatuses: []int{400, 200}},
		"two 500s are retried": {
			kind: sandbox.Fault500, count: 2, retry: true, wantRepos: 1, wantStatuses: []int{500, 500, 200}},
		"500 without retries changes nothing": {
			kind: sandbox.Fault500, count: 1, wantCode: "ServerException", wantRepos: 0, wantStatuses: []int{500}},
		"a reset connection is retried like a timeout": {
			kind: sandbox.FaultReset, count: 1, retry: true, wantRepos: 1, wantStatuses: []int{0, 200}},
		"after500 writes and then fails": {
			kind: sandbox.FaultAfter500, count: 1, wantCode: "ServerException", wantRepos: 1, wantStatuses: []int{500}},
		"latency only delays": {
			kind: sandbox.FaultLatency, count: 1, wantRepos: 1, wantStatuses: []int{200}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := start(t)
			c.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECR, Op: "CreateRepository", Kind: tc.kind,
				Count: tc.count, Latency: time.Millisecond})
			var opts []func(*ecr.Options)
			if !tc.retry {
				opts = append(opts, noRetry.ecr)
			}
			_, err := c.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")}, opts...)
			code := ""
			var api smithy.APIError
			if errors.As(err, &api) {
				code = api.ErrorCode()
			} else if err != nil {
				code = err.Error()
			}
			if code != tc.wantCode {
				t.Errorf("error code = %q, want %q", code, tc.wantCode)
			}
			if got := repoCount(t, c); got != tc.wantRepos {
				t.Errorf("repositories = %d, want %d", got, tc.wantRepos)
			}
			if diff := cmp.Diff(tc.wantStatuses, statuses(c.sb, "ecr", "CreateRepository")); diff != "" {
				t.Errorf("recorded statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFaultProbabilityIsSeededAndClearable(t *testing.T) {
	run := func() []int {
		c := start(t)
		q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")})
		if err != nil {
			t.Fatal(err)
		}
		c.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceSQS, Op: "GetQueueAttributes", Kind: sandbox.FaultThrottle, Probability: 0.5})
		for range 40 {
			c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl}, noRetry.sqs)
		}
		c.sb.ClearFaults()
		if _, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl}, noRetry.sqs); err != nil {
			t.Errorf("after ClearFaults: %v", err)
		}
		return statuses(c.sb, "sqs", "GetQueueAttributes")
	}
	a, b := run(), run()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different faults (-first +second):\n%s", diff)
	}
	throttled := 0
	for _, s := range a {
		if s == http.StatusBadRequest {
			throttled++
		}
	}
	if throttled < 5 || throttled > 35 {
		t.Errorf("%d of 40 calls throttled at probability 0.5", throttled)
	}
}

func TestSQSFaultCarriesQueryErrorHeader(t *testing.T) {
	c := start(t)
	c.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceSQS, Kind: sandbox.FaultThrottle, Count: 1})
	_, err := c.sqs.ListQueues(ctx, &sqs.ListQueuesInput{}, noRetry.sqs)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Errorf("err = %v, want ThrottlingException", err)
	}
}

func registerTaskDefinition(c *ecs.Client, opts ...func(*ecs.Options)) error {
	_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"),
			Image: aws.String("123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.0"), Essential: aws.Bool(true)}},
	}, opts...)
	return err
}

func TestThrottleBucketsRefillOnlyOnTheVirtualClock(t *testing.T) {
	c := start(t)
	client := ecs.NewFromConfig(c.sb.AWSConfig())
	noRetryECS := func(o *ecs.Options) { o.Retryer = aws.NopRetryer{} }
	c.sb.EnableThrottling(true)
	for i := range 20 {
		if err := registerTaskDefinition(client, noRetryECS); err != nil {
			t.Fatalf("call %d within the burst of 20: %v", i+1, err)
		}
	}
	isThrottled := func(err error) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == "ThrottlingException"
	}
	if err := registerTaskDefinition(client, noRetryECS); !isThrottled(err) {
		t.Fatalf("21st call: err = %v, want ThrottlingException", err)
	}
	c.sb.Clock().Advance(999 * time.Millisecond)
	if err := registerTaskDefinition(client, noRetryECS); !isThrottled(err) {
		t.Errorf("before a full second: err = %v, want ThrottlingException", err)
	}
	c.sb.Clock().Advance(time.Millisecond)
	if err := registerTaskDefinition(client, noRetryECS); err != nil {
		t.Errorf("after one virtual second: %v", err)
	}
	c.sb.SetRate(sandbox.ServiceECS, "RegisterTaskDefinition", 0, 0)
	if err := registerTaskDefinition(client, noRetryECS); err != nil {
		t.Errorf("with the bucket removed: %v", err)
	}
	c.sb.EnableThrottling(false)
	c.sb.SetRate(sandbox.ServiceECS, "RegisterTaskDefinition", 1, 1)
	for range 3 {
		if err := registerTaskDefinition(client, noRetryECS); err != nil {
			t.Errorf("with throttling off: %v", err)
		}
	}
}
