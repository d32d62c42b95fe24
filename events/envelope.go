package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Envelope is the EventBridge event envelope with a typed detail.
type Envelope[D any] struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     D         `json:"detail"`
}

// Raw is an envelope whose detail is not decoded yet. Use it to route an
// event by source and detail-type before decoding the detail.
type Raw = Envelope[json.RawMessage]

// ErrMalformed is wrapped by every decoding error in this package, so callers
// can tell bad input (never worth retrying) from other failures.
var ErrMalformed = errors.New("malformed event")

// DecodeError reports where in a JSON document decoding failed.
type DecodeError struct {
	What   string // what was being decoded, e.g. "ECR Image Action event"
	Path   string // JSON path of the offending value, e.g. "$.detail.image-tag"
	Offset int64  // byte offset in the input, when known
	Err    error
}

func (e *DecodeError) Error() string {
	loc := e.Path
	if loc == "" {
		loc = fmt.Sprintf("offset %d", e.Offset)
	}
	return fmt.Sprintf("decode %s: %s at %s: %v", e.What, ErrMalformed, loc, e.Err)
}

// Unwrap lets errors.Is match ErrMalformed and the underlying JSON error.
func (e *DecodeError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

// Decode parses data as a JSON value of type T. what names the document in
// errors. Errors are *DecodeError and carry the JSON path where one is known.
func Decode[T any](data []byte, what string) (T, error) {
	var v T
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return v, &DecodeError{What: what, Path: "$", Err: errors.New("empty document")}
	}
	if err := json.Unmarshal(data, &v); err != nil {
		de := decodeError(what, err)
		if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input") {
			de.Offset, de.Err = int64(len(data)), errors.New("truncated JSON: the document ends early")
		}
		return v, de
	}
	return v, nil
}

func decodeError(what string, err error) *DecodeError {
	de := &DecodeError{What: what, Err: err}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		de.Offset = syn.Offset - 1 // Offset counts the offending byte
	case errors.As(err, &typ):
		de.Offset = typ.Offset
		de.Path = "$"
		if typ.Field != "" {
			de.Path = "$." + typ.Field
		}
		de.Err = fmt.Errorf("cannot use JSON %s as %s", typ.Value, typ.Type)
	}
	return de
}

// Kind reads only source and detail-type, to route an event.
func Kind(data []byte) (source, detailType string, err error) {
	head, err := Decode[struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}](data, "EventBridge event")
	if err != nil {
		return "", "", err
	}
	return head.Source, head.DetailType, nil
}
