// Package awserr is Deckhand's one place for the error codes AWS answers
// with and what they mean to it (DESIGN §5 rule 9): throttling, not found,
// conflicts and the client errors retrying cannot fix. Each service's codes
// are in its own file (ecs.go, ecr.go, s3.go); callers ask a question
// (awserr.Throttled, awserr.TaskDefinitionNotFound) instead of comparing
// codes themselves.
package awserr

import (
	"errors"
	"slices"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Code is err's AWS error code, or "" when err is not an API error.
func Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// Is reports whether err is an AWS API error with one of the codes.
func Is(err error, codes ...string) bool {
	c := Code(err)
	return c != "" && slices.Contains(codes, c)
}

// message is err's AWS error message, or "".
func message(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// throttleCodes are the codes AWS services answer a throttled call with.
var throttleCodes = []string{"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}

// Throttled reports whether AWS throttled the call.
func Throttled(err error) bool { return Is(err, throttleCodes...) }

// ClientFault reports whether AWS answered with a 4xx status other than
// throttling: the request itself was refused.
func ClientFault(err error) bool {
	var respErr *smithyhttp.ResponseError
	return errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 400 && respErr.HTTPStatusCode() < 500 && !Throttled(err)
}

// permanentCodes are AWS error codes retrying will not fix, with the short
// reason a FAILED event gives for each.
var permanentCodes = map[string]string{
	"ClientException":             "ClientException",
	"InvalidParameterException":   "InvalidParameter",
	"ServiceNotFoundException":    "ServiceNotFound",
	"ServiceNotActiveException":   "ServiceNotActive",
	"ClusterNotFoundException":    "ClusterNotFound",
	"AccessDeniedException":       "AccessDenied",
	"AccessDenied":                "AccessDenied",
	"UnsupportedFeatureException": "UnsupportedFeature",
	"PlatformUnknownException":    "PlatformUnknown",
}

// Permanent reports whether err's code is one retrying will not fix, and
// the short reason for it.
func Permanent(err error) (reason string, ok bool) {
	reason, ok = permanentCodes[Code(err)]
	return reason, ok
}
