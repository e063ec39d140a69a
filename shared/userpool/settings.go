package userpool

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/middleware"
)

// A configuration is compared as its leaves: "Policies.PasswordPolicy.
// MinimumLength" -> "12". Lists of named things are keyed by name
// (SchemaAttributes[custom:kakao_id].Mutable), so an added attribute does
// not shift the others; lists of plain values are one leaf.

// settings flattens v into its leaves. Nil pointers, empty strings (unset
// enums), empty lists and maps are absent; zero booleans and numbers are
// values, so that true -> false is a change.
func settings(v any) map[string]string {
	out := map[string]string{}
	flatten(reflect.ValueOf(v), "", out)
	return out
}

var (
	metadataType = reflect.TypeFor[middleware.Metadata]()
	timeType     = reflect.TypeFor[time.Time]()
)

func flatten(v reflect.Value, path string, out map[string]string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == metadataType:
		return
	case v.Type() == timeType:
		out[path] = v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			flatten(v.Field(i), join(path, f.Name), out)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			return
		}
		if leaf, ok := scalarList(v); ok {
			out[path] = leaf
			return
		}
		for i := range v.Len() {
			flatten(v.Index(i), fmt.Sprintf("%s[%s]", path, elementKey(v.Index(i), i)), out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			flatten(v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k.Interface()), out)
		}
	case reflect.String:
		if v.String() != "" {
			out[path] = v.String()
		}
	default:
		out[path] = fmt.Sprint(v.Interface())
	}
}

// scalarList is a list of strings, numbers or booleans as one value.
func scalarList(v reflect.Value) (string, bool) {
	parts := make([]string, v.Len())
	for i := range v.Len() {
		e := v.Index(i)
		switch e.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
			parts[i] = fmt.Sprint(e.Interface())
		default:
			return "", false
		}
	}
	return "[" + strings.Join(parts, ", ") + "]", true
}

// elementKey names a list element by its Name field when it has one.
func elementKey(e reflect.Value, i int) string {
	for e.Kind() == reflect.Pointer {
		if e.IsNil() {
			return fmt.Sprint(i)
		}
		e = e.Elem()
	}
	if e.Kind() == reflect.Struct {
		if f := e.FieldByName("Name"); f.IsValid() {
			for f.Kind() == reflect.Pointer && !f.IsNil() {
				f = f.Elem()
			}
			if f.Kind() == reflect.String && f.String() != "" {
				return f.String()
			}
		}
	}
	return fmt.Sprint(i)
}

// Change is one leaf that differs; "" is absent.
type Change struct {
	Setting, Before, After string
}

// diff lists the leaves that differ, by path, skipping those ignore says.
func diff(before, after map[string]string, ignore func(path string) bool) []Change {
	var out []Change
	seen := map[string]bool{}
	for _, m := range []map[string]string{before, after} {
		for p := range m {
			if seen[p] || (ignore != nil && ignore(p)) {
				continue
			}
			seen[p] = true
			if before[p] != after[p] {
				out = append(out, Change{Setting: p, Before: before[p], After: after[p]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Setting < out[j].Setting })
	return out
}

// volatile are leaves that change without anyone changing a setting.
func volatile(path string) bool {
	switch path {
	case "LastModifiedDate", "EstimatedNumberOfUsers",
		"EmailConfigurationFailure", "SmsConfigurationFailure":
		return true
	}
	return false
}
