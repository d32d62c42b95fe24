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

// Errors is every problem Render found in one template, in the order it
// found them, when there is more than one. errors.As finds the first
// *Error in it; errors.Is matches ErrTemplate.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is and errors.As see each problem.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Reason is a short machine-friendly cause for FAILED events.
func (es Errors) Reason() string { return "BadTemplate" }

// Retryable reports false: a template error needs a human.
func (es Errors) Retryable() bool { return false }

// Problems lists the template problems in err: each of an Errors, the
// *Error, or none.
func Problems(err error) []*Error {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}

// problems collects the problems of one template under its key.
type problems struct {
	key  string
	list []*Error
}

func (p *problems) add(es ...*Error) {
	for _, e := range es {
		e.Key = p.key
		p.list = append(p.list, e)
	}
}

// err is nil, the one problem, or Errors.
func (p *problems) err() error {
	switch len(p.list) {
	case 0:
		return nil
	case 1:
		return p.list[0]
	}
	return Errors(p.list)
}
