// Command runner is the scheduled-job Lambda function. EventBridge Scheduler
// invokes it with {"job": "<name>", "scheduledTime": "<RFC 3339>"}; the run
// engine in shared/engine/jobs starts the job's task (DESIGN §3, §7).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

func main() {
	p, err := wire.Function(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(handler(wire.Jobs(p)))
}

// handler runs one scheduled invocation. Without DECKHAND_ACCOUNT the
// account is read from the invoked function's ARN on the first invocation.
func handler(e *jobs.Engine) func(context.Context, jobs.Invocation) (jobs.Result, error) {
	return wire.Handler(&e.Account, e.Run)
}
