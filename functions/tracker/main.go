// Command tracker is the verdict Lambda function: ECS Deployment State
// Changes become Deckhand deployment verdicts (shared/engine/track), and ECS Task
// State Changes of Deckhand's jobs become job results and re-runs
// (shared/engine/jobs), which it sends into the job FIFO queue
// (DECKHAND_JOB_QUEUE_URL).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/queue"
	"github.com/deckhand-ecs/deckhand/shared/wire"
)

func main() {
	p, err := wire.Function(os.Getenv, config.NeedJobQueue)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p.JobQueue = queue.New(p.AWS, p.Config.JobQueueURL)
	p.Metrics = os.Stdout // delivery metrics in embedded metric format: CloudWatch Logs makes them metrics
	jobs := wire.Jobs(p)
	lambda.Start(wire.Handler(&jobs.Account, wire.Tracker(p, jobs).Handle))
}
