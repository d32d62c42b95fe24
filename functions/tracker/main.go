// Command tracker is the verdict Lambda function: ECS Deployment State
// Changes become Deckhand deployment verdicts (shared/engine/track), and ECS Task
// State Changes of Deckhand's jobs become job results and retries
// (shared/engine/jobs).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/deckhand-ecs/deckhand/shared/wire"
)

func main() {
	p, err := wire.Function(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jobs := wire.Jobs(p)
	lambda.Start(wire.Handler(&jobs.Account, wire.Tracker(p, jobs).Handle))
}
