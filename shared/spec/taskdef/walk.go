package taskdef

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var legacyRe = regexp.MustCompile(`@@([A-Za-z0-9_]+)@@`)

// renderer renders every string of a document on its own. A string that
// fails is recorded and rendered as null, so that one run reports every
// failing string.
type renderer struct {
	view   view
	data   Data
	budget *budget

	errs     []*Error
	failed   []string // JSON paths of the strings that failed
	tooLarge bool     // the budget ran out: stop
}

func (r *renderer) walk(v any, path string) any {
	if r.tooLarge {
		return nil
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out[k] = r.walk(t[k], path+"."+k)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = r.walk(e, fmt.Sprintf("%s[%d]", path, i))
		}
		return out
	case string:
		res, err := r.renderString(t)
		if err != nil {
			r.errs = append(r.errs, &Error{Path: path, Placeholder: t, Err: err})
			r.failed = append(r.failed, path)
			r.tooLarge = errors.Is(err, ErrTooLarge)
			return nil
		}
		return res
	default:
		return v
	}
}

// follows reports whether a validation problem at path may only follow
// from a string that failed to render (and is null now): it is at or below
// that string, or it is about the set of containers and a container's name
// failed.
func (r *renderer) follows(path string) bool {
	for _, f := range r.failed {
		if path == f || strings.HasPrefix(path, f+".") || strings.HasPrefix(path, f+"[") ||
			strings.HasSuffix(f, ".name") && strings.HasPrefix(f, path+"[") {
			return true
		}
	}
	return false
}

func (r *renderer) renderString(s string) (any, error) {
	src := s
	if strings.Contains(src, "@@") {
		var err error
		if src, err = r.legacy(src); err != nil {
			return nil, err
		}
	}
	if !strings.Contains(src, "{{") {
		if err := r.budget.spend(len(src)); err != nil {
			return nil, err
		}
		return src, nil
	}
	res, err := r.execute(src)
	if err != nil && !errors.Is(err, ErrTooLarge) {
		if hint := r.hint(src, err); hint != "" {
			err = fmt.Errorf("%w; %s", err, hint)
		}
	}
	return res, err
}

// legacy rewrites the seeds' @@NAME@@ placeholders into template actions,
// so that values are inserted by template execution and never parsed again
// (a value containing "{{" stays literal).
func (r *renderer) legacy(s string) (string, error) {
	var missing []string
	out := legacyRe.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		switch name {
		case "IMAGE":
			return "{{ .Image }}"
		case "IMAGE_TAG":
			return "{{ .Tag }}"
		case "IMAGE_DIGEST":
			return "{{ .Digest }}"
		case "REGION":
			return "{{ .Region }}"
		case "ACCOUNT":
			return "{{ .Account }}"
		case "CLUSTER":
			return "{{ .Cluster }}"
		case "SERVICE":
			return "{{ .Service }}"
		}
		if _, ok := r.view.Vars[name]; ok {
			return fmt.Sprintf("{{ index .Vars %q }}", name)
		}
		missing = append(missing, m)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("missing variable for placeholder %s (set it under vars:%s)", strings.Join(missing, ", "), varsHint(r.view.Vars, missing[0][2:len(missing[0])-2]))
	}
	return out, nil
}
