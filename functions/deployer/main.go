// Command deployer is the deploy-on-push Lambda function: ECR push events,
// delivered through the per-group SQS FIFO queue (or directly), go through
// the deploy engine in shared/engine/deploy.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
)

func main() {
	cfg, awsCfg, err := config.Setup(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	engine := &deploy.Engine{
		ECS:     ecs.NewFromConfig(awsCfg),
		ECR:     ecr.NewFromConfig(awsCfg),
		Source:  store.NewS3(s3.NewFromConfig(awsCfg, config.S3Options(cfg.Endpoint)), cfg.Bucket, cfg.ManifestKey),
		Events:  &emit.Bus{Client: eventbridge.NewFromConfig(awsCfg), BusName: cfg.EventBus},
		Account: cfg.Account,
		Region:  cfg.Region,
		Logger:  lambdacontext.NewLogger(),
	}
	h := &deploy.Handler{Engine: engine}
	lambda.Start(func(ctx context.Context, payload json.RawMessage) (any, error) {
		if engine.Account == "" {
			// The account is read from the invoked function's ARN on the
			// first invocation: no STS call at init.
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				engine.Account = config.AccountFromARN(lc.InvokedFunctionArn)
			}
		}
		return h.Handle(ctx, payload)
	})
}
