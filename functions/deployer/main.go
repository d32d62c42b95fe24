// Command deployer is the deploy-on-push Lambda function: ECR push events,
// delivered through the per-group SQS FIFO queue (or directly), go through
// the deploy engine in shared/engine/deploy.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/deckhand-ecs/deckhand/shared/engine/deploy"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

func main() {
	p, err := wire.Function(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	engine := wire.Deployer(p)
	lambda.Start(wire.Handler(&engine.Account, (&deploy.Handler{Engine: engine}).Handle))
}
