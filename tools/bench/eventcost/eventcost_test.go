package eventcost

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/tools/bench/coldstart"
)

func fixture(b *testing.B) *coldstart.Fixture {
	b.Helper()
	sb := sandboxtest.Start(b)
	f, err := coldstart.Setup(context.Background(), sb, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// cpu reports the process's user+system CPU per operation (the sandbox
// serves in-process, so its share of each call is included).
func cpu(b *testing.B, f func()) {
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	n := 0
	for b.Loop() {
		f()
		n++
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	used := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(float64(used.Nanoseconds())/float64(n), "cpu-ns/op")
}

// BenchmarkBaselineNoopHandler is a no-op Lambda handler decoding the same
// one-message SQS event.
func BenchmarkBaselineNoopHandler(b *testing.B) {
	f := fixture(b)
	payload := f.Batch(1)
	h := lambda.NewHandler(func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	b.ReportAllocs()
	cpu(b, func() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBaselineDescribeServices is one SDK round trip to the sandbox.
func BenchmarkBaselineDescribeServices(b *testing.B) {
	f := fixture(b)
	in := &ecs.DescribeServicesInput{Cluster: aws.String("bench"), Services: []string{"svc0"}}
	b.ReportAllocs()
	cpu(b, func() {
		if _, err := f.Stack.ECS.DescribeServices(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	})
}

func handler(f *coldstart.Fixture) lambda.Handler {
	return lambda.NewHandler((&deploy.Handler{Engine: f.Stack.Deployer}).Handle)
}

// BenchmarkDecisionDuplicate is the cheapest real decision: a redelivered
// push of the running image (ALREADY_DEPLOYED): S3 304s, DescribeServices,
// DescribeTaskDefinition, PutEvents.
func BenchmarkDecisionDuplicate(b *testing.B) {
	f := fixture(b)
	h := handler(f)
	payload := f.Batch(1)
	if _, err := h.Invoke(context.Background(), payload); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu(b, func() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDecisionNewImage deploys a new image each time (STARTED):
// S3 304s, DescribeServices, two DescribeTaskDefinition, Register,
// UpdateService, PutEvents. Building the push (outside the engine) is
// excluded from the time but not from cpu-ns/op.
func BenchmarkDecisionNewImage(b *testing.B) {
	f := fixture(b)
	h := handler(f)
	if _, err := h.Invoke(context.Background(), f.Batch(1)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu(b, func() {
		b.StopTimer()
		payload := f.Batch(1)
		b.StartTimer()
		out, err := h.Invoke(context.Background(), payload)
		if err != nil || string(out) != `{"batchItemFailures":null}` {
			b.Fatalf("%s %v", out, err)
		}
	})
}
