package taskdef

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

var inputType = reflect.TypeOf(ecs.RegisterTaskDefinitionInput{})

// checkShape checks a rendered document against RegisterTaskDefinitionInput
// before decoding it, so an unknown field or a wrong type is reported with
// its JSON path (encoding/json would only name the Go field). It reports
// every one.
func checkShape(doc any) []*Error {
	var errs []*Error
	shapeOf(doc, inputType, "$", &errs)
	return errs
}

func shapeOf(v any, t reflect.Type, path string, errs *[]*Error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return
	}
	bad := func(want string) {
		*errs = append(*errs, &Error{Path: path, Err: fmt.Errorf("want %s, got %s", want, jsonKind(v))})
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fieldFold(t, k)
			if !ok {
				*errs = append(*errs, &Error{Path: path + "." + k, Err: fmt.Errorf("unknown field %q for %s", k, shortType(t))})
				continue
			}
			shapeOf(obj[k], f.Type, path+"."+k, errs)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			bad("an array")
			return
		}
		for i, e := range arr {
			shapeOf(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			shapeOf(obj[k], t.Elem(), path+"."+k, errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("true or false")
		}
	case reflect.Int32, reflect.Int64, reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			bad("an integer (use \"{{ … | number }}\" to render one)")
		} else if _, err := n.Int64(); err != nil {
			bad("an integer")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			bad("a number")
		}
	}
}

func fieldFold(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.IsExported() && strings.EqualFold(f.Name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func shortType(t reflect.Type) string {
	name := t.Name()
	name = strings.TrimSuffix(name, "Input")
	return name
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%T", v)
}
