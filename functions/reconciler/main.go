// Command reconciler is the periodic catch-up Lambda function. EventBridge
// Scheduler invokes it at a rate with {}; it enqueues synthetic pushes for
// services behind ECR into the deploy FIFO queue and stops job runs past
// their timeout (shared/engine/reconcile, DESIGN §7).
package main

import (
	"context"
	"encoding/json"
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
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/reconcile"
)

func main() {
	cfg, awsCfg, err := config.Setup(os.Getenv, config.NeedQueue)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(handler(newReconciler(cfg, awsCfg, lambdacontext.NewLogger())))
}

// newReconciler builds the reconciler and its AWS clients once per container.
func newReconciler(cfg config.Config, awsCfg aws.Config, log *slog.Logger) *reconcile.Reconciler {
	ecsClient, ecrClient := ecs.NewFromConfig(awsCfg), ecr.NewFromConfig(awsCfg)
	src := store.NewS3(s3.NewFromConfig(awsCfg, config.S3Options(cfg.Endpoint)), cfg.Bucket, cfg.ManifestKey)
	return &reconcile.Reconciler{
		ECS: ecsClient, ECR: ecrClient, SQS: sqs.NewFromConfig(awsCfg), Source: src,
		Jobs: &jobs.Engine{ECS: ecsClient, ECR: ecrClient, Events: eventbridge.NewFromConfig(awsCfg), Source: src,
			Account: cfg.Account, Region: cfg.Region, EventBus: cfg.EventBus, Log: log},
		QueueURL: cfg.QueueURL, Region: cfg.Region, Log: log,
	}
}

// handler runs one pass. The input ({} from Scheduler) is ignored.
func handler(r *reconcile.Reconciler) func(context.Context, json.RawMessage) (reconcile.Report, error) {
	return func(ctx context.Context, _ json.RawMessage) (reconcile.Report, error) {
		return r.Run(ctx)
	}
}
