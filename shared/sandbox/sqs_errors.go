package sandbox

import (
	"net/http"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

func sqsError(code, format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, code, format, args...)
}

// sqsQueryCodes maps SQS JSON error codes to the codes the awsQuery-compatible
// x-amzn-query-error header carries.
var sqsQueryCodes = map[string]string{
	"BatchEntryIdsNotDistinct":     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
	"BatchRequestTooLong":          "AWS.SimpleQueueService.BatchRequestTooLong",
	"EmptyBatchRequest":            "AWS.SimpleQueueService.EmptyBatchRequest",
	"InvalidBatchEntryId":          "AWS.SimpleQueueService.InvalidBatchEntryId",
	"MessageNotInflight":           "AWS.SimpleQueueService.MessageNotInflight",
	"PurgeQueueInProgress":         "AWS.SimpleQueueService.PurgeQueueInProgress",
	"QueueDoesNotExist":            "AWS.SimpleQueueService.NonExistentQueue",
	"QueueNameExists":              "QueueAlreadyExists",
	"TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
	"UnsupportedOperation":         "AWS.SimpleQueueService.UnsupportedOperation",
}

func sqsQueryCode(code string) string {
	if c, ok := sqsQueryCodes[code]; ok {
		return c
	}
	return code
}
