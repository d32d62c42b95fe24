// Command tracker is the verdict Lambda function: ECS Deployment State
// Changes become Deckhand deployment verdicts (shared/engine/track), and ECS Task
// State Changes of Deckhand's jobs become job results and retries
// (shared/engine/jobs).
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
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/track"
)

func main() {
	cfg, awsCfg, err := config.Setup(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logger := lambdacontext.NewLogger()
	ecsClient, eb := ecs.NewFromConfig(awsCfg), eventbridge.NewFromConfig(awsCfg)
	src := store.NewS3(s3.NewFromConfig(awsCfg, config.S3Options(cfg.Endpoint)), cfg.Bucket, cfg.ManifestKey)
	jobEngine := jobs.NewEngine(ecsClient, ecr.NewFromConfig(awsCfg), eb, src)
	jobEngine.Account, jobEngine.Region, jobEngine.EventBus, jobEngine.Log = cfg.Account, cfg.Region, cfg.EventBus, logger
	h := &track.Handler{
		Deployments: &track.Deployments{ECS: ecsClient, Events: &emit.Bus{Client: eb, BusName: cfg.EventBus}, Logger: logger},
		Tasks:       jobs.NewTracker(jobEngine),
	}
	lambda.Start(func(ctx context.Context, payload json.RawMessage) (any, error) {
		if jobEngine.Account == "" {
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				jobEngine.Account = config.AccountFromARN(lc.InvokedFunctionArn)
			}
		}
		return h.Handle(ctx, payload)
	})
}
