package asl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// TaskFunc is the in-process stand-in for a Lambda function: it gets the
// task's payload as JSON and returns its result as JSON (nil means null).
// An error fails the attempt with the name the Machine's error namer
// gives it; a panic fails it like a crashed Go Lambda.
type TaskFunc func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// DefaultStateMachineARN names the machine unless WithStateMachineARN
// says otherwise; it shows in $$.StateMachine and execution ids.
const DefaultStateMachineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:local"

// Machine is a loaded, validated state machine. Bind its resources, then
// Run it as many times as needed, concurrently if wished.
type Machine struct {
	def       *definition
	arn       string
	name      string
	errorName func(error) string

	mu    sync.RWMutex
	tasks map[string]TaskFunc // replaced, never mutated, by Bind
}

// LoadOption configures Load.
type LoadOption func(*Machine)

// WithStateMachineARN sets the machine's ARN
// (arn:aws:states:<region>:<account>:stateMachine:<name>).
func WithStateMachineARN(arn string) LoadOption {
	return func(m *Machine) { m.arn = arn }
}

// WithErrorName sets how a TaskFunc's error is named for Retry and Catch.
// The default, DefaultErrorName, is what aws-lambda-go reports.
func WithErrorName(fn func(error) string) LoadOption {
	return func(m *Machine) { m.errorName = fn }
}

// Load fills the definition's ${Name} placeholders from substitutions,
// as SAM's DefinitionSubstitutions do, then parses and validates it. It
// refuses, with a *DefinitionError naming the state and field, anything
// this executor does not implement.
func Load(definition []byte, substitutions map[string]string, opts ...LoadOption) (*Machine, error) {
	m := &Machine{arn: DefaultStateMachineARN, errorName: DefaultErrorName, tasks: map[string]TaskFunc{}}
	for _, o := range opts {
		o(m)
	}
	_, name, ok := strings.Cut(m.arn, ":stateMachine:")
	if !ok || !strings.HasPrefix(m.arn, "arn:") || name == "" || strings.Contains(name, ":") {
		return nil, fmt.Errorf("asl: %q is not a state machine ARN", m.arn)
	}
	m.name = name
	if m.errorName == nil {
		m.errorName = DefaultErrorName
	}
	raw, err := substitute(definition, substitutions)
	if err != nil {
		return nil, err
	}
	if m.def, err = parseDefinition(raw); err != nil {
		return nil, err
	}
	return m, nil
}

// Bind makes fn the implementation of a Task resource: a Lambda function
// ARN, or the FunctionName of a lambda:invoke task. Bind before Run; a
// later Bind affects only runs started after it.
func (m *Machine) Bind(resource string, fn TaskFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := make(map[string]TaskFunc, len(m.tasks)+1)
	for k, v := range m.tasks {
		next[k] = v
	}
	next[resource] = fn
	m.tasks = next
}

// Resources lists, sorted, every function the definition's Tasks invoke:
// each must be bound before Run.
func (m *Machine) Resources() []string {
	return append([]string(nil), m.def.resources...)
}

// ARN is the state machine's ARN.
func (m *Machine) ARN() string { return m.arn }

func (m *Machine) boundTasks() (map[string]TaskFunc, error) {
	m.mu.RLock()
	tasks := m.tasks
	m.mu.RUnlock()
	var missing []string
	for _, r := range m.def.resources {
		if tasks[r] == nil {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("asl: unbound task resources: %s", strings.Join(missing, ", "))
	}
	return tasks, nil
}

// executionARN is the id of an Express execution:
// arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>.
func (m *Machine) executionARN(name, runID string) string {
	prefix, _, _ := strings.Cut(m.arn, ":stateMachine:")
	return prefix + ":express:" + m.name + ":" + name + ":" + runID
}
