// Command runner is the scheduled-job Lambda function. EventBridge
// Scheduler sends each job's invocations, {"job": "<name>", "scheduledTime":
// "<RFC 3339>"}, into the job FIFO queue (message group = the job), and the
// runner consumes it with partial batch responses; the run engine in
// shared/engine/jobs starts the job's task (DESIGN §3, §7). A bare
// invocation is run at once.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/deckhand-ecs/deckhand/shared/aws/refs"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

func main() {
	p, err := wire.Function(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p.Refs = refs.New(p.AWS)
	lambda.Start(handler(wire.Jobs(p)))
}

// handler runs one SQS batch or one bare invocation. Without
// DECKHAND_ACCOUNT the account is read from the invoked function's ARN on
// the first invocation.
func handler(e *jobs.Engine) func(context.Context, json.RawMessage) (any, error) {
	return wire.Handler(&e.Account, wire.Runner(e).Handle)
}
