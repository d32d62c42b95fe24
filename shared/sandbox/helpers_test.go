package sandbox_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// clients are real SDK v2 clients aimed at one sandbox.
type clients struct {
	sb     *sandbox.Sandbox
	ecr    *ecr.Client
	sqs    *sqs.Client
	s3     *s3.Client
	events *eventbridge.Client
}

func start(t *testing.T) clients {
	t.Helper()
	sb := sandboxtest.Start(t)
	cfg := sb.AWSConfig()
	return clients{
		sb:     sb,
		ecr:    ecr.NewFromConfig(cfg),
		sqs:    sqs.NewFromConfig(cfg),
		s3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		events: eventbridge.NewFromConfig(cfg),
	}
}

var ctx = context.Background()

func readFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../events/testdata/" + name)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode fixture %s: %v", name, err)
	}
	return v
}

func toMap(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// noRetry turns the SDK retryer off for one call.
var noRetry = struct {
	ecr    func(*ecr.Options)
	sqs    func(*sqs.Options)
	s3     func(*s3.Options)
	events func(*eventbridge.Options)
}{
	ecr:    func(o *ecr.Options) { o.Retryer = aws.NopRetryer{} },
	sqs:    func(o *sqs.Options) { o.Retryer = aws.NopRetryer{} },
	s3:     func(o *s3.Options) { o.Retryer = aws.NopRetryer{} },
	events: func(o *eventbridge.Options) { o.Retryer = aws.NopRetryer{} },
}
