package asl

import (
	"fmt"
	"reflect"
)

// Step Functions' own error names (the "States." namespace).
const (
	ErrorAll                    = "States.ALL"
	ErrorRuntime                = "States.Runtime"
	ErrorTimeout                = "States.Timeout"
	ErrorTaskFailed             = "States.TaskFailed"
	ErrorNoChoiceMatched        = "States.NoChoiceMatched"
	ErrorDataLimitExceeded      = "States.DataLimitExceeded"
	ErrorResultPathMatchFailure = "States.ResultPathMatchFailure"
)

// ErrorUnknown is reported when a task error or panic has no type name
// to report (an unnamed type); it is what Step Functions reports for a
// Lambda that failed without a usable error.
const ErrorUnknown = "Lambda.Unknown"

// knownStatesErrors are the "States." names an ErrorEquals may list: a
// misspelt one would silently never match, so anything else is refused.
// Some of them are never raised by this executor (Permissions,
// HeartbeatTimeout, ...): listing them is legal and harmless.
var knownStatesErrors = map[string]bool{
	ErrorAll:                                 true,
	ErrorTimeout:                             true,
	ErrorTaskFailed:                          true,
	ErrorNoChoiceMatched:                     true,
	ErrorDataLimitExceeded:                   true,
	ErrorResultPathMatchFailure:              true,
	"States.Permissions":                     true,
	"States.HeartbeatTimeout":                true,
	"States.ParameterPathFailure":            true,
	"States.IntrinsicFailure":                true,
	"States.BranchFailed":                    true,
	"States.ExceedToleratedFailureThreshold": true,
	"States.ItemReaderFailed":                true,
	"States.ResultWriterFailed":              true,
	"States.QueryEvaluationError":            true,
}

// DefinitionError says why Load refused a definition: which state (empty
// for the top level) and which field.
type DefinitionError struct {
	State  string
	Field  string
	Reason string
}

func (e *DefinitionError) Error() string {
	switch {
	case e.State != "" && e.Field != "":
		return fmt.Sprintf("asl: state %q, field %q: %s", e.State, e.Field, e.Reason)
	case e.State != "":
		return fmt.Sprintf("asl: state %q: %s", e.State, e.Reason)
	case e.Field != "":
		return fmt.Sprintf("asl: field %q: %s", e.Field, e.Reason)
	default:
		return "asl: " + e.Reason
	}
}

func defErr(state, field, format string, args ...any) *DefinitionError {
	return &DefinitionError{State: state, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// failure is an error raised while a state runs: what Step Functions
// reports as Error and Cause. abort marks the end of the whole run
// (machine timeout, caller cancellation), which no Retry or Catch sees.
type failure struct {
	name  string
	cause string
	abort bool
}

func runtimeFailure(format string, args ...any) *failure {
	return &failure{name: ErrorRuntime, cause: fmt.Sprintf(format, args...)}
}

// typeName is the name aws-lambda-go reports as errorType for a returned
// error or a panic value: the type's name, one pointer stripped.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// DefaultErrorName mirrors aws-lambda-go: the error's top-level type name
// (pointer stripped), so wrapped errors report the wrapper's type.
func DefaultErrorName(err error) string { return typeName(err) }

// matchesError reports whether an ErrorEquals list matches name, with
// Step Functions' rules: States.Runtime is never caught or retried;
// States.DataLimitExceeded only when named; States.TaskFailed matches
// everything else but States.Timeout; States.ALL matches everything else.
func matchesError(list []string, name string) bool {
	if name == ErrorRuntime {
		return false
	}
	for _, e := range list {
		if e == name {
			return true
		}
		if name == ErrorDataLimitExceeded {
			continue
		}
		if e == ErrorAll || (e == ErrorTaskFailed && name != ErrorTimeout) {
			return true
		}
	}
	return false
}
