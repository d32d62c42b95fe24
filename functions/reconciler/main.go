// Command reconciler is the periodic catch-up Lambda function. EventBridge
// Scheduler invokes it at a rate with {}; it enqueues synthetic pushes for
// services behind ECR into the deploy FIFO queue and stops job runs past
// their timeout (shared/engine/reconcile, DESIGN §7).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/engine/reconcile"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

func main() {
	p, err := wire.Function(os.Getenv, config.NeedQueue)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p.Queue = queue.New(p.AWS, p.Config.QueueURL)
	r := wire.Reconciler(p, wire.Jobs(p))
	// The promotions it sends name Deckhand's account; without
	// DECKHAND_ACCOUNT it is read from the function's ARN.
	lambda.Start(wire.Handler(&r.Account, handler(r)))
}

// handler runs one pass. The input ({} from Scheduler) is ignored.
func handler(r *reconcile.Reconciler) func(context.Context, json.RawMessage) (reconcile.Report, error) {
	return func(ctx context.Context, _ json.RawMessage) (reconcile.Report, error) {
		return r.Run(ctx)
	}
}
