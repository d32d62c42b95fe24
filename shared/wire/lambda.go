package wire

import (
	"context"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
)

// Function reads a Lambda function's configuration from its environment
// (config.Setup) and returns its parts (FromAWS) with the Lambda logger,
// which adds the request id to every line. It makes no network call.
func Function(getenv func(string) string, needs ...config.Need) (*Parts, error) {
	cfg, awsCfg, err := config.Setup(getenv, needs...)
	if err != nil {
		return nil, err
	}
	p := FromAWS(cfg, awsCfg)
	p.Logger = lambdacontext.NewLogger()
	return p, nil
}

// Handler wraps a Lambda handler so that, when the configuration names no
// account (DECKHAND_ACCOUNT unset), *account is read from the invoked
// function's ARN on the first invocation: no STS call at init.
func Handler[In, Out any](account *string, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		if *account == "" {
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				*account = config.AccountFromARN(lc.InvokedFunctionArn)
			}
		}
		return h(ctx, in)
	}
}
