package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// TestEventPattern (EventBridge) answers whether an event matches a rule's
// event pattern, so rules written for Deckhand's events (docs/gates.md)
// are tested against the events Deckhand emits, with the SDK or
// `aws events test-event-pattern --endpoint-url`. The pattern language is
// EventBridge's, in the part rules on Deckhand's events need: nested
// objects; arrays of exact values (strings, numbers, booleans, null),
// matched against a value or any element of an array value; and the
// filters prefix, suffix, equals-ignore-case, anything-but (a value, a list
// or a prefix), exists and numeric. Other filters (wildcard, cidr, $or) are
// refused with InvalidEventPatternException naming them, never matched
// loosely.

type testEventPatternInput struct {
	EventPattern *string `json:"EventPattern"`
	Event        *string `json:"Event"`
}

// eventMandatory are the fields TestEventPattern requires of the event.
var eventMandatory = []string{"id", "account", "source", "time", "region", "resources", "detail-type"}

func testEventPattern(body []byte) (any, error) {
	var in testEventPatternInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "SerializationException", "decode TestEventPattern: %v", err)
	}
	if in.EventPattern == nil || in.Event == nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException", "TestEventPattern needs both EventPattern and Event")
	}
	var event map[string]any
	if err := json.Unmarshal([]byte(*in.Event), &event); err != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException", "Parameter Event is not valid: %v", err)
	}
	for _, f := range eventMandatory {
		if _, ok := event[f]; !ok {
			return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException", "Parameter Event is not valid: the event has no %q field", f)
		}
	}
	if len(*in.EventPattern) > 4096 {
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException", "EventPattern is longer than 4096 characters")
	}
	var pattern map[string]any
	if err := json.Unmarshal([]byte(*in.EventPattern), &pattern); err != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "InvalidEventPatternException", "Event pattern is not valid. Reason: %v", err)
	}
	ok, err := matchObject(pattern, event, "")
	if err != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "InvalidEventPatternException", "Event pattern is not valid. Reason: %v", err)
	}
	return struct {
		Result bool `json:"Result"`
	}{ok}, nil
}

// matchObject matches every field of pattern against event (nil when the
// event has no such object).
func matchObject(pattern, event map[string]any, path string) (bool, error) {
	result := true
	for _, k := range slices.Sorted(maps.Keys(pattern)) {
		at := strings.TrimPrefix(path+"."+k, ".")
		v, present := event[k]
		var ok bool
		var err error
		switch p := pattern[k].(type) {
		case map[string]any:
			sub, _ := v.(map[string]any)
			ok, err = matchObject(p, sub, at)
		case []any:
			ok, err = matchValues(p, v, present, at)
		default:
			return false, fmt.Errorf("%s: match values must be in an array or an object, got %v", at, pattern[k])
		}
		if err != nil {
			return false, err
		}
		result = result && ok // go on: every field of the pattern is checked for validity
	}
	return result, nil
}

// matchValues reports whether any of the pattern's values matches the
// event's value (any element of it, when it is an array).
func matchValues(pattern []any, v any, present bool, path string) (bool, error) {
	values := []any{v}
	if arr, ok := v.([]any); ok {
		values = arr
	}
	for _, p := range pattern {
		for _, x := range values {
			ok, err := matchOne(p, x, present, path)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		if len(values) == 0 { // an empty array matches exists:false only
			if f, ok := p.(map[string]any); ok && f["exists"] == false {
				return true, nil
			}
		}
	}
	return false, nil
}

// matchOne matches one pattern value (an exact value or a filter) against
// one event value.
func matchOne(p, v any, present bool, path string) (bool, error) {
	f, isFilter := p.(map[string]any)
	if !isFilter {
		if _, isArr := p.([]any); isArr {
			return false, fmt.Errorf("%s: nested arrays are not a match value", path)
		}
		return present && equalJSON(p, v), nil
	}
	if len(f) != 1 {
		return false, fmt.Errorf("%s: a filter has exactly one key, got %d", path, len(f))
	}
	for name, arg := range f {
		switch name {
		case "exists":
			want, ok := arg.(bool)
			if !ok {
				return false, fmt.Errorf("%s: exists takes true or false", path)
			}
			return present == want, nil
		case "prefix", "suffix", "equals-ignore-case":
			s, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("%s: %s takes a string", path, name)
			}
			got, isString := v.(string)
			switch {
			case !present || !isString:
				return false, nil
			case name == "prefix":
				return strings.HasPrefix(got, s), nil
			case name == "suffix":
				return strings.HasSuffix(got, s), nil
			}
			return strings.EqualFold(got, s), nil
		case "anything-but":
			if !present {
				return false, nil
			}
			switch a := arg.(type) {
			case []any:
				for _, x := range a {
					if equalJSON(x, v) {
						return false, nil
					}
				}
				return true, nil
			case map[string]any:
				pre, ok := a["prefix"].(string)
				if len(a) != 1 || !ok {
					return false, fmt.Errorf("%s: anything-but takes a value, a list or {\"prefix\": …}", path)
				}
				got, isString := v.(string)
				return !isString || !strings.HasPrefix(got, pre), nil
			default:
				return !equalJSON(a, v), nil
			}
		case "numeric":
			return matchNumeric(arg, v, present, path)
		default:
			return false, fmt.Errorf("%s: the sandbox does not support the %q filter", path, name)
		}
	}
	return false, nil
}

// matchNumeric applies a numeric filter: ["<", 10, ">=", 2, …].
func matchNumeric(arg, v any, present bool, path string) (bool, error) {
	ops, ok := arg.([]any)
	if !ok || len(ops) == 0 || len(ops)%2 != 0 {
		return false, fmt.Errorf("%s: numeric takes operator and number pairs", path)
	}
	got, isNumber := v.(float64)
	result := present && isNumber
	for i := 0; i < len(ops); i += 2 {
		op, _ := ops[i].(string)
		n, isNum := ops[i+1].(float64)
		if !isNum {
			return false, fmt.Errorf("%s: numeric %s needs a number", path, op)
		}
		var holds bool
		switch op {
		case "<":
			holds = got < n
		case "<=":
			holds = got <= n
		case "=":
			holds = got == n
		case ">=":
			holds = got >= n
		case ">":
			holds = got > n
		default:
			return false, fmt.Errorf("%s: unknown numeric operator %q", path, op)
		}
		result = result && holds
	}
	return result, nil
}

// equalJSON compares two decoded JSON scalars (numbers by value).
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any, []any:
		return false
	case nil:
		return b == nil
	default:
		return x == b
	}
}
