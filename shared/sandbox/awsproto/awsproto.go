// Package awsproto holds what every emulated AWS service in the sandbox
// shares: the AWS error shape and its JSON-protocol encoding.
package awsproto

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error is an AWS API error as a service returns it: an error code such as
// ClientException or ThrottlingException, a message and an HTTP status.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// Common errors.
func ClientException(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "ClientException", format, args...)
}

// InvalidParameter is ECS's InvalidParameterException.
func InvalidParameter(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

// Throttling is the error every service returns when a rate is exceeded.
func Throttling(op string) *Error {
	return Errorf(http.StatusBadRequest, "ThrottlingException", "Rate exceeded for %s", op)
}

// WriteJSON writes v as an AWS JSON-protocol (1.0/1.1) success response.
func WriteJSON(w http.ResponseWriter, contentType string, v any) {
	if v == nil {
		v = struct{}{}
	}
	body, err := json.Marshal(v)
	if err != nil {
		WriteJSONError(w, contentType, Errorf(http.StatusInternalServerError, "InternalFailure", "encode response: %v", err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// WriteJSONError writes err in the AWS JSON-protocol error shape: the
// X-Amzn-Errortype header plus {"__type": code, "message": msg}. Errors that
// are not *Error become a 500 InternalFailure.
func WriteJSONError(w http.ResponseWriter, contentType string, err error) {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Code: "InternalFailure", Message: err.Error(), Status: http.StatusInternalServerError}
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Errortype", e.Code)
	w.WriteHeader(e.Status)
	body, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	_, _ = w.Write(body)
}
