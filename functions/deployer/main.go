// Command deployer is the deploy-on-push Lambda function: ECR push events,
// delivered through the per-group SQS FIFO queue (or directly), go through
// the deploy engine in shared/engine/deploy; a push that fails for good goes
// to the queue's DLQ at once (DECKHAND_DLQ_URL).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/aws/refs"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

func main() {
	p, err := wire.Function(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p.Refs = refs.New(p.AWS)
	if p.Config.DLQURL != "" {
		p.DLQ = queue.New(p.AWS, p.Config.DLQURL)
	}
	p.Alarms = cloudwatch.NewFromConfig(p.AWS) // deployment alarms must exist (DESIGN §10)
	h := wire.DeployHandler(p)
	lambda.Start(wire.Handler(&h.Engine.Account, h.Handle))
}
