package taskdef

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

var inputType = reflect.TypeOf(ecs.RegisterTaskDefinitionInput{})

// checkShape checks a rendered document against RegisterTaskDefinitionInput
// before decoding it, so an unknown field or a wrong type is reported with
// its JSON path (encoding/json would only name the Go field).
func checkShape(doc any) error {
	return shapeOf(doc, inputType, "$")
}

func shapeOf(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil
	}
	bad := func(want string) error {
		return &Error{Path: path, Err: fmt.Errorf("want %s, got %s", want, jsonKind(v))}
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("an object")
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fieldFold(t, k)
			if !ok {
				return &Error{Path: path + "." + k, Err: fmt.Errorf("unknown field %q for %s", k, shortType(t))}
			}
			if err := shapeOf(obj[k], f.Type, path+"."+k); err != nil {
				return err
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return bad("an array")
		}
		for i, e := range arr {
			if err := shapeOf(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("an object")
		}
		for k, e := range obj {
			if err := shapeOf(e, t.Elem(), path+"."+k); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return bad("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return bad("true or false")
		}
	case reflect.Int32, reflect.Int64, reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			return bad("an integer (use \"{{ … | number }}\" to render one)")
		}
		if _, err := n.Int64(); err != nil {
			return bad("an integer")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return bad("a number")
		}
	}
	return nil
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
