package taskdef

// The functions a placeholder may call: Deckhand's own (funcs) and the
// subset of text/template's builtins that DESIGN §4's placeholders need
// (builtins). The evaluator in exec.go calls them without reflection. Each
// that makes a string has a bound: how long its result can be, computed
// from its arguments before it runs, so that no call allocates more than a
// rendered definition may hold (bounds.go). The others (and, or, not, eq,
// ne, index) return a value they were given.

import (
	"errors"
	"fmt"
	"strings"
)

// funcs are Deckhand's template functions. They never panic; failures are
// errors. Each must have a signature wrapFunc knows and a bound in
// funcBounds.
var funcs = map[string]any{
	"default": func(def string, v any) string {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
		if v != nil {
			if s := fmt.Sprint(v); s != "" && s != "<nil>" {
				return s
			}
		}
		return def
	},
	// number marks a whole-value placeholder whose result is a JSON number.
	"number":     func(v any) string { return fmt.Sprint(v) },
	"upper":      strings.ToUpper,
	"lower":      strings.ToLower,
	"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
	"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
	"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
}

// funcBounds bound the result of each of funcs from its arguments.
var funcBounds = map[string]func(args []any) int{
	"default":    sumSizes,
	"number":     sumSizes,
	"upper":      func(a []any) int { return 3 * sumSizes(a) }, // a byte of invalid UTF-8 becomes U+FFFD
	"lower":      func(a []any) int { return 3 * sumSizes(a) },
	"replace":    replaceBound,
	"trimPrefix": sumSizes,
	"trimSuffix": sumSizes,
}

// builtinNames are text/template's builtin functions, given to the parser
// with funcs so that it accepts and rejects exactly the names text/template
// does. The evaluated ones are in builtins; checkSupported rejects the rest
// as unsupported.
var builtinNames = map[string]any{
	"and": true, "call": true, "html": true, "index": true, "slice": true, "js": true,
	"len": true, "not": true, "or": true, "print": true, "printf": true, "println": true,
	"urlquery": true, "eq": true, "ge": true, "gt": true, "le": true, "lt": true, "ne": true,
}

// builtins are the builtins placeholders support: choosing a value (and,
// or, not, eq, ne, index on the maps) and formatting one (print, printf).
var builtins = map[string]function{
	"and":   {params: []argKind{argAny, argAny}, variadic: true}, // evalCall evaluates and and or
	"or":    {params: []argKind{argAny, argAny}, variadic: true},
	"not":   {params: []argKind{argAny}, call: func(v []any) (any, error) { return !truth(v[0]), nil }},
	"index": {params: []argKind{argAny, argAny}, variadic: true, call: func(v []any) (any, error) { return index(v[0], v[1:]...) }},
	"print": {params: []argKind{argAny}, variadic: true, bound: printBound, call: func(v []any) (any, error) { return fmt.Sprint(v...), nil }},
	"printf": {params: []argKind{argString, argAny}, variadic: true, bound: func(v []any) int { return printfBound(v[0].(string), v[1:]) },
		call: func(v []any) (any, error) { return fmt.Sprintf(v[0].(string), v[1:]...), nil }},
	"eq": {params: []argKind{argAny, argAny}, variadic: true, call: func(v []any) (any, error) { return eq(v[0], v[1:]...) }},
	"ne": {params: []argKind{argAny, argAny}, call: func(v []any) (any, error) {
		equal, err := eq(v[0], v[1])
		return !equal, err
	}},
}

// ourFuncs are funcs, callable without reflection.
var ourFuncs = wrapFuncs(funcs)

func wrapFuncs(m map[string]any) map[string]function {
	out := make(map[string]function, len(m))
	for name, f := range m {
		fn := wrapFunc(name, f)
		fn.bound = funcBounds[name]
		out[name] = fn
	}
	return out
}

// wrapFunc adapts a function of funcs. A signature it does not know becomes
// a function that fails (TestFuncsAreCallable catches it).
func wrapFunc(name string, f any) function {
	s, a := argString, argAny
	switch f := f.(type) {
	case func(string) string:
		return function{params: []argKind{s}, call: func(v []any) (any, error) {
			return f(v[0].(string)), nil
		}}
	case func(any) string:
		return function{params: []argKind{a}, call: func(v []any) (any, error) {
			return f(v[0]), nil
		}}
	case func(string, any) string:
		return function{params: []argKind{s, a}, call: func(v []any) (any, error) {
			return f(v[0].(string), v[1]), nil
		}}
	case func(string, string) string:
		return function{params: []argKind{s, s}, call: func(v []any) (any, error) {
			return f(v[0].(string), v[1].(string)), nil
		}}
	case func(string, string, string) string:
		return function{params: []argKind{s, s, s}, call: func(v []any) (any, error) {
			return f(v[0].(string), v[1].(string), v[2].(string)), nil
		}}
	}
	err := fmt.Errorf("template function %s has a signature (%T) the evaluator does not know", name, f)
	return function{params: nil, variadic: true, call: func([]any) (any, error) { return nil, err }}
}

// index is the index builtin on the maps a placeholder sees (a missing key
// gives the zero value, as in text/template).
func index(item any, indexes ...any) (any, error) {
	if item == nil {
		return nil, errors.New("index of untyped nil")
	}
	for _, idx := range indexes {
		switch it := item.(type) {
		case string:
			return nil, unsupported("indexing a string")
		case map[string]string:
			k, err := mapKey(idx)
			if err != nil {
				return nil, err
			}
			item = it[k]
		case map[string]Image:
			k, err := mapKey(idx)
			if err != nil {
				return nil, err
			}
			item = it[k]
		default:
			return nil, fmt.Errorf("can't index item of type %T", item)
		}
	}
	return item, nil
}

// mapKey is text/template's prepareArg for our maps' string keys.
func mapKey(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case nil:
		return "", errors.New("value is nil; should be of type string")
	}
	return "", fmt.Errorf("value has type %T; should be string", v)
}

// Comparison, as in text/template's funcs.go, for the basic values a
// placeholder holds: bool, int, float64 and string.

var errNoComparison = errors.New("missing argument for comparison")

type kind int

const (
	invalidKind kind = iota
	boolKind
	intKind
	floatKind
	stringKind
)

func basicKind(v any) kind {
	switch v.(type) {
	case bool:
		return boolKind
	case int:
		return intKind
	case float64:
		return floatKind
	case string:
		return stringKind
	}
	return invalidKind
}

// isNil reports whether v is no value or a nil map.
func isNil(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]string:
		return v == nil
	case map[string]Image:
		return v == nil
	}
	return false
}

// reflectKind is the reflect.Kind class of a non-basic value: 0 for no
// value, 1 for maps, 2 for structs.
func reflectKind(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case map[string]string, map[string]Image:
		return 1
	}
	return 2
}

func eq(arg1 any, arg2 ...any) (bool, error) {
	if len(arg2) == 0 {
		return false, errNoComparison
	}
	k1 := basicKind(arg1)
	for _, arg := range arg2 {
		k2 := basicKind(arg)
		truth := false
		switch {
		case k1 != k2:
			if arg1 != nil && arg != nil {
				return false, fmt.Errorf("incompatible types for comparison: %T and %T", arg1, arg)
			}
		case k1 != invalidKind:
			truth = arg1 == arg // the same basic type
		default:
			k1, k2 := reflectKind(arg1), reflectKind(arg)
			if k1 != k2 && k1 != 0 && k2 != 0 {
				return false, fmt.Errorf("non-comparable types %s: %v, %s: %v", arg1, typeName(arg1), typeName(arg), arg)
			}
			if isNil(arg1) || isNil(arg) {
				truth = isNil(arg) == isNil(arg1)
			} else {
				if _, ok := arg.(Image); !ok { // a view or a map
					return false, fmt.Errorf("non-comparable type %s: %v", arg, typeName(arg))
				}
				truth = arg1 == arg // two images
			}
		}
		if truth {
			return true, nil
		}
	}
	return false, nil
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
