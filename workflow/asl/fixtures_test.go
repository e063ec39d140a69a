package asl_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

// A fixture file (testdata/run_*.json) holds cases that run a definition
// against scripted tasks. ${A}, ${B}, ... in a definition become the ARN
// of function A, B, ...; tasks are scripted by the same letters.
type runCase struct {
	Name       string                `json:"name"`
	Definition json.RawMessage       `json:"definition"`
	Input      json.RawMessage       `json:"input"`
	Tasks      map[string][]taskStep `json:"tasks"`
	Want       struct {
		Status        string                       `json:"status"`
		Output        json.RawMessage              `json:"output"`
		Error         string                       `json:"error"`
		Cause         *string                      `json:"cause"`
		CauseContains string                       `json:"causeContains"`
		Path          []string                     `json:"path"`
		Attempts      map[string]int               `json:"attempts"`
		TaskInputs    map[string][]json.RawMessage `json:"taskInputs"`
		Delays        []float64                    `json:"delays"` // seconds slept, in order
	} `json:"want"`
}

// taskStep is what a scripted task does on one call; the last step
// repeats for later calls.
type taskStep struct {
	Return  json.RawMessage `json:"return"`
	Echo    bool            `json:"echo"`  // return the input
	Error   string          `json:"error"` // fail with an error of this name
	Message string          `json:"message"`
}

// scriptedError carries the error name a fixture asks for.
type scriptedError struct{ name, msg string }

func (e *scriptedError) Error() string { return e.msg }

func scriptedName(err error) string {
	var se *scriptedError
	if errors.As(err, &se) {
		return se.name
	}
	return asl.DefaultErrorName(err)
}

const arnPrefix = "arn:aws:lambda:us-east-1:123456789012:function:"

var letters = []string{"A", "B", "C", "D"}

func substitutions() map[string]string {
	subs := map[string]string{}
	for _, l := range letters {
		subs[l] = arnPrefix + l
	}
	return subs
}

// fixedClock is the clock fixtures see: $$ times are deterministic.
var fixedClock = func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 250e6, time.UTC) }

const (
	fixtureExecName = "exec-1"
	fixtureExecID   = "arn:aws:states:us-east-1:123456789012:express:local:exec-1:run-1"
)

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/run_*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []runCase
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range cases {
			t.Run(strings.TrimSuffix(filepath.Base(file), ".json")+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				runFixture(t, c)
			})
		}
	}
}

func runFixture(t *testing.T, c runCase) {
	m, err := asl.Load(c.Definition, substitutions(), asl.WithErrorName(scriptedName))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var mu sync.Mutex
	inputs := map[string][]json.RawMessage{}
	calls := map[string]int{}
	for letter, script := range c.Tasks {
		m.Bind(arnPrefix+letter, func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
			mu.Lock()
			inputs[letter] = append(inputs[letter], append(json.RawMessage(nil), in...))
			n := calls[letter]
			calls[letter]++
			mu.Unlock()
			s := script[min(n, len(script)-1)]
			switch {
			case s.Error != "":
				return nil, &scriptedError{name: s.Error, msg: s.Message}
			case s.Echo:
				return in, nil
			default:
				return s.Return, nil
			}
		})
	}
	var slept []float64
	exec, err := m.Run(context.Background(), c.Input,
		asl.WithExecutionName(fixtureExecName),
		asl.WithExecutionID(fixtureExecID),
		asl.WithClock(fixedClock),
		asl.WithSleeper(func(_ context.Context, d time.Duration) error {
			slept = append(slept, d.Seconds())
			return nil
		}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if exec.Status != c.Want.Status {
		t.Fatalf("status %s (error %q, cause %q), want %s", exec.Status, exec.Error, exec.Cause, c.Want.Status)
	}
	if c.Want.Output != nil {
		assertJSONEqual(t, "output", exec.Output, c.Want.Output)
	}
	if exec.Error != c.Want.Error {
		t.Errorf("error %q, want %q", exec.Error, c.Want.Error)
	}
	if c.Want.Cause != nil && exec.Cause != *c.Want.Cause {
		t.Errorf("cause %q, want %q", exec.Cause, *c.Want.Cause)
	}
	if !strings.Contains(exec.Cause, c.Want.CauseContains) {
		t.Errorf("cause %q does not contain %q", exec.Cause, c.Want.CauseContains)
	}
	if c.Want.Path != nil && !reflect.DeepEqual(exec.Path, c.Want.Path) {
		t.Errorf("path %v, want %v", exec.Path, c.Want.Path)
	}
	if c.Want.Attempts != nil && !reflect.DeepEqual(exec.Attempts, c.Want.Attempts) {
		t.Errorf("attempts %v, want %v", exec.Attempts, c.Want.Attempts)
	}
	for letter, want := range c.Want.TaskInputs {
		got := inputs[letter]
		if len(got) != len(want) {
			t.Errorf("task %s got %d inputs, want %d", letter, len(got), len(want))
			continue
		}
		for i := range want {
			assertJSONEqual(t, "input of task "+letter, got[i], want[i])
		}
	}
	if c.Want.Delays != nil && (len(slept) != 0 || len(c.Want.Delays) != 0) && !reflect.DeepEqual(slept, c.Want.Delays) {
		t.Errorf("slept %v s, want %v s", slept, c.Want.Delays)
	}
}

func assertJSONEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: %q is not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: fixture %q is not JSON: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// A refusal fixture (testdata/refusals.json) is a definition Load must
// refuse, naming the state and field.
type refusalCase struct {
	Name       string            `json:"name"`
	Definition json.RawMessage   `json:"definition"`
	Subs       map[string]string `json:"subs"`
	State      string            `json:"state"`
	Field      string            `json:"field"`
	Contains   string            `json:"contains"`
}

func TestRefusals(t *testing.T) {
	raw, err := os.ReadFile("testdata/refusals.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []refusalCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			subs := substitutions()
			for k, v := range c.Subs {
				subs[k] = v
			}
			_, err := asl.Load(c.Definition, subs)
			var de *asl.DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Load = %v, want a *DefinitionError", err)
			}
			if de.State != c.State || de.Field != c.Field {
				t.Errorf("refused state %q field %q (%v), want state %q field %q", de.State, de.Field, err, c.State, c.Field)
			}
			if !strings.Contains(err.Error(), c.Contains) {
				t.Errorf("error %q does not contain %q", err, c.Contains)
			}
		})
	}
}
