package events

import (
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// SQSEvent and SQSEventResponse are the Lambda SQS event-source shapes.
// EventBridge delivers an event to an SQS target as the message body, so the
// deployer receives SQS records whose bodies are EventBridge envelopes.
type (
	SQSEvent         = lambdaevents.SQSEvent
	SQSMessage       = lambdaevents.SQSMessage
	SQSEventResponse = lambdaevents.SQSEventResponse
)

// WrapSQS wraps EventBridge event bodies as SQS records, the way an SQS FIFO
// queue hands them to Lambda. groupID becomes the MessageGroupId attribute.
func WrapSQS(queueARN, groupID string, bodies ...[]byte) SQSEvent {
	var ev SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, SQSMessage{
			MessageId:      fmt.Sprintf("msg-%d", i+1),
			ReceiptHandle:  fmt.Sprintf("rh-%d", i+1),
			Body:           string(b),
			EventSource:    "aws:sqs",
			EventSourceARN: queueARN,
			Attributes: map[string]string{
				"MessageGroupId":          groupID,
				"ApproximateReceiveCount": "1",
			},
		})
	}
	return ev
}
