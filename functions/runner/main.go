// Command runner is the scheduled-job Lambda function. EventBridge Scheduler
// invokes it with {"job": "<name>", "scheduledTime": "<RFC 3339>"}; the run
// engine in shared/engine/jobs starts the job's task (DESIGN §3, §7).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
)

func main() {
	cfg, awsCfg, err := config.Setup(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(handler(newEngine(cfg, awsCfg, lambdacontext.NewLogger())))
}

// newEngine builds the run engine and its AWS clients once per container.
func newEngine(cfg config.Config, awsCfg aws.Config, log *slog.Logger) *jobs.Engine {
	return &jobs.Engine{
		ECS:      ecs.NewFromConfig(awsCfg),
		ECR:      ecr.NewFromConfig(awsCfg),
		Events:   eventbridge.NewFromConfig(awsCfg),
		Source:   store.NewS3(s3.NewFromConfig(awsCfg, config.S3Options(cfg.Endpoint)), cfg.Bucket, cfg.ManifestKey),
		Account:  cfg.Account,
		Region:   cfg.Region,
		EventBus: cfg.EventBus,
		Log:      log,
	}
}

// handler runs one scheduled invocation. Without DECKHAND_ACCOUNT the
// account is read from the invoked function's ARN on the first invocation.
func handler(e *jobs.Engine) func(context.Context, jobs.Invocation) (jobs.Result, error) {
	return func(ctx context.Context, inv jobs.Invocation) (jobs.Result, error) {
		if e.Account == "" {
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				e.Account = config.AccountFromARN(lc.InvokedFunctionArn)
			}
		}
		return e.Run(ctx, inv)
	}
}
