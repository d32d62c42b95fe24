package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/deckhand-ecs/deckhand/shared/aws/refs"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
)

// sandboxRegion is the sandbox's default Region, used with an endpoint
// override when no Region is configured.
const sandboxRegion = "us-west-2"

// awsConfig loads the SDK configuration from the standard chain, the
// flags and the endpoint override. It reports whether the endpoint is the
// Deckhand sandbox, whose clock waiting then advances.
func (a *app) awsConfig(ctx context.Context) (aws.Config, bool, error) {
	sandbox := a.sandboxClock
	if !sandbox {
		var err error
		if sandbox, err = cli.DetectSandbox(ctx, a.endpoint, a.http); err != nil {
			return aws.Config{}, false, err
		}
	}
	opts := []func(*awsconfig.LoadOptions) error{}
	if a.region != "" {
		opts = append(opts, awsconfig.WithRegion(a.region))
	}
	if a.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(a.profile))
	}
	if sandbox {
		if a.getenv("AWS_ACCESS_KEY_ID") == "" {
			opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
		}
		opts = append(opts, awsconfig.WithRetryer(func() aws.Retryer { return retry.NewStandard() }))
	} else {
		opts = append(opts, awsconfig.WithRetryer(func() aws.Retryer { return retry.NewAdaptiveMode() }))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, false, fmt.Errorf("load AWS configuration: %w", err)
	}
	if sandbox {
		// Plain HTTP on loopback: the invocation's own client, whose idle
		// connections are closed when the command ends (tests run many
		// commands against one sandbox in one process).
		cfg.HTTPClient = a.http
	}
	if a.endpoint != "" {
		cfg.BaseEndpoint = aws.String(a.endpoint)
		if cfg.Region == "" {
			cfg.Region = sandboxRegion
		}
	}
	if cfg.Region == "" {
		return aws.Config{}, false, &cli.UsageError{Msg: "no AWS Region: pass --region or set AWS_REGION (or use --endpoint-url for the sandbox)"}
	}
	return cfg, sandbox, nil
}

// source is where the manifest and templates come from: a local file
// (offline) or s3://bucket/key.
func (a *app) source(ctx context.Context, cfg *aws.Config) (store.Source, error) {
	rest, ok := strings.CutPrefix(a.manifest, "s3://")
	if !ok {
		return store.Dir{ManifestPath: a.manifest}, nil
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" || key == "" {
		return nil, &cli.UsageError{Msg: fmt.Sprintf("--manifest %q: want s3://bucket/key, e.g. s3://deckhand-config/deckhand.yaml", a.manifest)}
	}
	if cfg == nil {
		c, _, err := a.awsConfig(ctx)
		if err != nil {
			return nil, err
		}
		cfg = &c
	}
	client := s3.NewFromConfig(*cfg, func(o *s3.Options) {
		o.UsePathStyle = o.BaseEndpoint != nil || a.endpoint != ""
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return store.NewS3(client, bucket, key), nil
}

// env builds the clients for the online commands.
func (a *app) env(ctx context.Context) (*cli.Env, error) {
	cfg, sandbox, err := a.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	src, err := a.source(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	e := &cli.Env{
		ECS: ecs.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg), Alarms: cloudwatch.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		EventBus: a.eventBus, Source: src, Account: a.account, Region: cfg.Region, Logger: a.logger(),
		Refs: refs.New(cfg),
	}
	if sandbox {
		e.Clock = cli.SandboxClock{Endpoint: a.endpoint, Client: a.http}
	}
	if e.Account == "" {
		if e.Account, err = e.DiscoverAccount(ctx); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (a *app) logger() *slog.Logger {
	if !a.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(a.stderr, nil))
}
