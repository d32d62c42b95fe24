package taskdef

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTemplate is matched by errors.Is for every rendering error. Such errors
// are permanent: retrying cannot fix a template.
var ErrTemplate = errors.New("bad task-definition template")

// Error is a rendering or validation error located in the template.
type Error struct {
	Key         string // template key (S3 key or file name)
	Path        string // JSON path, e.g. $.containerDefinitions[0].image
	Placeholder string // the offending string or placeholder, if any
	Err         error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "template %s", e.Key)
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	if e.Placeholder != "" {
		p := e.Placeholder
		if len(p) > 100 {
			p = p[:97] + "..."
		}
		fmt.Fprintf(&b, ": %q", p)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap lets errors.Is match ErrTemplate and the cause.
func (e *Error) Unwrap() []error { return []error{ErrTemplate, e.Err} }

// Reason is a short machine-friendly cause for FAILED events.
func (e *Error) Reason() string { return "BadTemplate" }

// Retryable reports false: a template error needs a human.
func (e *Error) Retryable() bool { return false }
