package asl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Execution statuses, as StartSyncExecution reports them.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
)

// MaxPayloadBytes is Step Functions' payload quota (256 KiB) for
// execution input, task input and result, and every state's output.
const MaxPayloadBytes = 262144

// Execution is the outcome of one Run, shaped like StartSyncExecution's
// answer plus what tests want to see.
type Execution struct {
	ID              string // an Express execution ARN
	Name            string
	StateMachineARN string
	Status          string // StatusSucceeded, StatusFailed or StatusTimedOut
	Output          json.RawMessage
	Error           string
	Cause           string
	StartTime       time.Time
	StopTime        time.Time
	// Path lists every state entered, in order, re-entries included.
	Path []string
	// Attempts counts task invocations per state name, retries included.
	Attempts map[string]int
}

// EventType names what an Event reports.
type EventType string

// Event types.
const (
	EventStateEntered   EventType = "StateEntered"
	EventStateExited    EventType = "StateExited"
	EventTaskFailed     EventType = "TaskFailed"     // one attempt failed
	EventRetryScheduled EventType = "RetryScheduled" // a retrier matched; Delay follows
	EventErrorCaught    EventType = "ErrorCaught"    // a catcher matched; Next is its target
	EventWaiting        EventType = "Waiting"        // a Wait state waits Delay
)

// Event is one step of an execution, for observers. It carries no
// payloads, so it is safe to log.
type Event struct {
	Type  EventType
	State string
	Time  time.Time
	// RetryCount is $$.State.RetryCount of the failed attempt
	// (TaskFailed) or of the attempt about to run (RetryScheduled).
	RetryCount int
	Error      string
	Cause      string
	// Delay is the wait Step Functions would make, before WithTimeScale.
	Delay time.Duration
	// Next is the state that follows (StateExited, ErrorCaught); "" at the end.
	Next string
}

// RunOption configures one Run.
type RunOption func(*runConfig)

type runConfig struct {
	name     string
	id       string
	scale    float64
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	random   func() float64
	observer func(Event)
}

// WithExecutionName names the execution (default: a random UUID).
func WithExecutionName(name string) RunOption { return func(c *runConfig) { c.name = name } }

// WithExecutionID sets $$.Execution.Id (default: an Express execution ARN).
func WithExecutionID(id string) RunOption { return func(c *runConfig) { c.id = id } }

// WithTimeScale multiplies every duration the executor waits on: Retry
// delays, Wait states and TimeoutSeconds (task and machine). Tests use
// e.g. 0.001 so that a 2 s backoff takes 2 ms.
func WithTimeScale(f float64) RunOption { return func(c *runConfig) { c.scale = f } }

// WithClock sets the clock for StartTime, EnteredTime, event times and
// Wait Timestamps.
func WithClock(now func() time.Time) RunOption { return func(c *runConfig) { c.now = now } }

// WithSleeper replaces the timer used for Retry delays and Wait states;
// it gets the scaled duration. A sleeper that returns at once makes
// retries instantaneous; an error it returns ends the run with that error.
func WithSleeper(fn func(ctx context.Context, d time.Duration) error) RunOption {
	return func(c *runConfig) { c.sleep = fn }
}

// WithRandom sets the source of FULL jitter, a number in [0, 1).
func WithRandom(fn func() float64) RunOption { return func(c *runConfig) { c.random = fn } }

// WithObserver receives every Event, synchronously, in order.
func WithObserver(fn func(Event)) RunOption { return func(c *runConfig) { c.observer = fn } }

var errMachineTimeout = errors.New("state machine TimeoutSeconds elapsed")

// Run executes the machine on input ("" or empty means {}), like
// StartSyncExecution: a failed or timed-out execution is a normal
// *Execution. The error is for what StartSyncExecution would refuse
// (invalid or oversized input, bad options), unbound resources, and a
// ctx cancelled before the execution ended.
func (m *Machine) Run(ctx context.Context, input json.RawMessage, opts ...RunOption) (*Execution, error) {
	cfg := runConfig{scale: 1, now: time.Now, random: rand.Float64}
	for _, o := range opts {
		o(&cfg)
	}
	if !(cfg.scale > 0) || math.IsInf(cfg.scale, 0) {
		return nil, fmt.Errorf("asl: time scale must be positive, got %v", cfg.scale)
	}
	if len(bytes.TrimSpace(input)) == 0 {
		input = json.RawMessage("{}")
	}
	if len(input) > MaxPayloadBytes {
		return nil, fmt.Errorf("asl: input is %d bytes; the limit is %d", len(input), MaxPayloadBytes)
	}
	in, err := decodeJSON(input)
	if err != nil {
		return nil, fmt.Errorf("asl: input is not valid JSON: %w", err)
	}
	tasks, err := m.boundTasks()
	if err != nil {
		return nil, err
	}
	if cfg.name == "" {
		cfg.name = uuid.NewString()
	}
	if len(cfg.name) > 80 {
		return nil, fmt.Errorf("asl: execution names are at most 80 characters")
	}
	if cfg.id == "" {
		cfg.id = m.executionARN(cfg.name, uuid.NewString())
	}
	r := &run{m: m, cfg: cfg, tasks: tasks, input: in, exec: &Execution{
		ID:              cfg.id,
		Name:            cfg.name,
		StateMachineARN: m.arn,
		Attempts:        map[string]int{},
	}}
	return r.execute(ctx)
}

// run is the state of one execution.
type run struct {
	m     *Machine
	cfg   runConfig
	tasks map[string]TaskFunc
	input any
	exec  *Execution

	// The current state, for $$.State.
	stateName  string
	entered    time.Time
	retryCount int
}

func (r *run) execute(ctx context.Context) (*Execution, error) {
	r.exec.StartTime = r.cfg.now()
	runCtx, cancel := context.WithCancel(ctx)
	if t := r.m.def.timeoutSeconds; t > 0 {
		cancel()
		runCtx, cancel = context.WithTimeoutCause(ctx, r.scaled(seconds(t)), errMachineTimeout)
	}
	defer cancel()

	cur, data := r.m.def.startAt, r.input
	for {
		if runCtx.Err() != nil {
			return r.aborted(ctx, runCtx, nil)
		}
		st := r.m.def.states[cur]
		r.stateName, r.entered, r.retryCount = st.name, r.cfg.now(), 0
		r.exec.Path = append(r.exec.Path, st.name)
		r.emit(Event{Type: EventStateEntered, State: st.name})

		out, next, f := r.step(runCtx, st, data)
		var encoded []byte
		if f == nil {
			encoded, f = r.checkSize(out, "the output of state '"+st.name+"'")
		}
		if f != nil {
			if f.abort {
				return r.aborted(ctx, runCtx, f)
			}
			return r.finish(StatusFailed, nil, f.name, f.cause), nil
		}
		r.emit(Event{Type: EventStateExited, State: st.name, Next: next})
		if next == "" {
			return r.finish(StatusSucceeded, encoded, "", ""), nil
		}
		cur, data = next, out
	}
}

func (r *run) finish(status string, output []byte, errName, cause string) *Execution {
	r.exec.Status, r.exec.Output, r.exec.Error, r.exec.Cause = status, output, errName, cause
	r.exec.StopTime = r.cfg.now()
	return r.exec
}

// aborted ends a run whose context ended: the machine's own timeout is a
// TIMED_OUT execution; the caller's cancellation is an error.
func (r *run) aborted(ctx, runCtx context.Context, f *failure) (*Execution, error) {
	if ctx.Err() == nil && errors.Is(context.Cause(runCtx), errMachineTimeout) {
		return r.finish(StatusTimedOut, nil, ErrorTimeout, fmt.Sprintf("The execution exceeded TimeoutSeconds (%d)", r.m.def.timeoutSeconds)), nil
	}
	if ctx.Err() != nil || f == nil {
		return nil, fmt.Errorf("asl: execution %s stopped: %w", r.exec.Name, context.Cause(runCtx))
	}
	return nil, fmt.Errorf("asl: execution %s stopped: %s", r.exec.Name, f.cause)
}

func (r *run) emit(e Event) {
	if r.cfg.observer == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = r.cfg.now()
	}
	r.cfg.observer(e)
}

func (r *run) checkSize(v any, what string) ([]byte, *failure) {
	b, err := encodeJSON(v)
	if err != nil {
		return nil, runtimeFailure("%s cannot be encoded as JSON", what)
	}
	if len(b) > MaxPayloadBytes {
		return nil, &failure{name: ErrorDataLimitExceeded, cause: fmt.Sprintf("%s is %d bytes, over the %d-byte payload quota", what, len(b), MaxPayloadBytes)}
	}
	return b, nil
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

func (r *run) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * r.cfg.scale)
}

func (r *run) sleep(ctx context.Context, d time.Duration) *failure {
	d = r.scaled(d)
	var err error
	if r.cfg.sleep != nil {
		err = r.cfg.sleep(ctx, d)
	} else {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			err = ctx.Err()
		}
	}
	if err != nil {
		return &failure{abort: true, cause: err.Error()}
	}
	return nil
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// contextObject is $$ for the current state.
func (r *run) contextObject() any {
	return map[string]any{
		"Execution": map[string]any{
			"Id":           r.exec.ID,
			"Input":        r.input,
			"Name":         r.exec.Name,
			"StartTime":    r.exec.StartTime.UTC().Format(isoMillis),
			"RedriveCount": json.Number("0"),
		},
		"State": map[string]any{
			"EnteredTime": r.entered.UTC().Format(isoMillis),
			"Name":        r.stateName,
			"RetryCount":  json.Number(strconv.Itoa(r.retryCount)),
		},
		"StateMachine": map[string]any{
			"Id":   r.m.arn,
			"Name": r.m.name,
		},
	}
}

func (r *run) scope(input any) scope { return scope{input: input, context: r.contextObject} }

// step runs one state on its raw input and returns its output and the
// next state ("" when the execution ends there).
func (r *run) step(ctx context.Context, st *state, raw any) (any, string, *failure) {
	switch st.typ {
	case typeTask:
		return r.task(ctx, st, raw)
	case typePass:
		out, f := r.pass(st, raw)
		return out, st.next, f
	case typeChoice:
		return r.choice(st, raw)
	case typeWait:
		out, f := r.wait(ctx, st, raw)
		return out, st.next, f
	case typeSucceed:
		eff, f := st.inputPath.filter("InputPath", raw)
		if f != nil {
			return nil, "", f
		}
		out, f := st.outputPath.filter("OutputPath", eff)
		return out, "", f
	case typeFail:
		return nil, "", r.fail(st, raw)
	}
	return nil, "", runtimeFailure("state type %s is not implemented", st.typ)
}

func (r *run) pass(st *state, raw any) (any, *failure) {
	eff, f := st.inputPath.filter("InputPath", raw)
	if f != nil {
		return nil, f
	}
	result := eff
	switch {
	case st.hasResult:
		result = st.result
	case st.parameters != nil:
		if result, f = st.parameters.eval(r.scope(eff)); f != nil {
			return nil, f
		}
	}
	out, f := st.resultPath.merge(raw, result)
	if f != nil {
		return nil, f
	}
	return st.outputPath.filter("OutputPath", out)
}

func (r *run) choice(st *state, raw any) (any, string, *failure) {
	eff, f := st.inputPath.filter("InputPath", raw)
	if f != nil {
		return nil, "", f
	}
	next := st.defaultNext
	for _, rule := range st.choices {
		ok, f := rule.eval(eff)
		if f != nil {
			return nil, "", f
		}
		if ok {
			next = rule.next
			break
		}
	}
	if next == "" {
		return nil, "", &failure{name: ErrorNoChoiceMatched, cause: "No Choice rule matched and there is no Default in state '" + st.name + "'"}
	}
	out, f := st.outputPath.filter("OutputPath", eff)
	return out, next, f
}

func (r *run) wait(ctx context.Context, st *state, raw any) (any, *failure) {
	eff, f := st.inputPath.filter("InputPath", raw)
	if f != nil {
		return nil, f
	}
	var d time.Duration
	switch {
	case st.seconds != nil:
		d = seconds(*st.seconds)
	case st.secondsPath != nil:
		v, _ := st.secondsPath.lookup(eff)
		n, _ := v.(json.Number)
		secs, err := n.Int64()
		if err != nil || secs < 0 || secs > maxSeconds {
			return nil, runtimeFailure("SecondsPath '%s' must point at a non-negative integer", st.secondsPath.src)
		}
		d = seconds(int(secs))
	case st.timestamp != nil:
		d = st.timestamp.Sub(r.cfg.now())
	default:
		v, _ := st.timestampPath.lookup(eff)
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return nil, runtimeFailure("TimestampPath '%s' must point at an RFC 3339 timestamp", st.timestampPath.src)
		}
		d = t.Sub(r.cfg.now())
	}
	d = max(d, 0)
	r.emit(Event{Type: EventWaiting, State: st.name, Delay: d})
	if d > 0 {
		if f := r.sleep(ctx, d); f != nil {
			return nil, f
		}
	}
	return st.outputPath.filter("OutputPath", eff)
}

func (r *run) fail(st *state, raw any) *failure {
	f := &failure{name: st.errorName, cause: st.cause}
	s := scope{input: raw}
	if st.errorPath != nil {
		name, fl := st.errorPath.eval(s, "ErrorPath")
		if fl != nil {
			return fl
		}
		f.name = name
	}
	if st.causePath != nil {
		cause, fl := st.causePath.eval(s, "CausePath")
		if fl != nil {
			return fl
		}
		f.cause = cause
	}
	return f
}

// task runs a Task state: InputPath once, then attempts (Parameters →
// invoke → ResultSelector → ResultPath → OutputPath) under Retry, then
// Catch.
func (r *run) task(ctx context.Context, st *state, raw any) (any, string, *failure) {
	eff, f := st.inputPath.filter("InputPath", raw)
	if f != nil {
		return nil, "", f
	}
	var counts []int // per retrier: retries it granted so far
	if len(st.retry) > 0 {
		counts = make([]int, len(st.retry))
	}
	for {
		out, f := r.attempt(ctx, st, raw, eff)
		if f == nil {
			return out, st.next, nil
		}
		if f.abort {
			return nil, "", f
		}
		r.emit(Event{Type: EventTaskFailed, State: st.name, RetryCount: r.retryCount, Error: f.name, Cause: f.cause})
		if i := matchingRetrier(st.retry, f.name); i >= 0 && counts[i] < st.retry[i].maxAttempts {
			delay := st.retry[i].delay(counts[i], r.cfg.random)
			counts[i]++
			r.retryCount++
			r.emit(Event{Type: EventRetryScheduled, State: st.name, RetryCount: r.retryCount, Error: f.name, Delay: delay})
			if sf := r.sleep(ctx, delay); sf != nil {
				return nil, "", sf
			}
			if ctx.Err() != nil {
				return nil, "", &failure{abort: true, cause: ctx.Err().Error()}
			}
			continue
		}
		for _, c := range st.catch {
			if !matchesError(c.errors, f.name) {
				continue
			}
			// The caught error replaces the result; OutputPath is not applied.
			out, mf := c.resultPath.merge(raw, map[string]any{"Error": f.name, "Cause": f.cause})
			if mf != nil {
				return nil, "", mf
			}
			r.emit(Event{Type: EventErrorCaught, State: st.name, RetryCount: r.retryCount, Error: f.name, Cause: f.cause, Next: c.next})
			return out, c.next, nil
		}
		return nil, "", f
	}
}

// matchingRetrier is the first retrier whose ErrorEquals matches: only
// that one decides, even once its attempts are used up.
func matchingRetrier(retry []*retrier, name string) int {
	for i, rt := range retry {
		if matchesError(rt.errors, name) {
			return i
		}
	}
	return -1
}

// delay is IntervalSeconds × BackoffRate^count, capped by
// MaxDelaySeconds, then scaled into [0, delay) by FULL jitter.
func (rt *retrier) delay(count int, random func() float64) time.Duration {
	secs := float64(rt.interval) * math.Pow(rt.backoff, float64(count))
	if rt.maxDelay > 0 {
		secs = math.Min(secs, float64(rt.maxDelay))
	}
	secs = math.Min(secs, maxSeconds) // keeps time.Duration from overflowing
	if rt.fullJitter {
		secs *= random()
	}
	return time.Duration(secs * float64(time.Second))
}

func (r *run) attempt(ctx context.Context, st *state, raw, eff any) (any, *failure) {
	payload := eff
	if st.parameters != nil {
		var f *failure
		if payload, f = st.parameters.eval(r.scope(eff)); f != nil {
			return nil, f
		}
	}
	if st.lambdaInvoke {
		payload = payload.(map[string]any)["Payload"]
	}
	in, f := r.checkSize(payload, "the input of task '"+st.name+"'")
	if f != nil {
		return nil, f
	}
	r.exec.Attempts[st.name]++
	outBytes, f := r.invoke(ctx, st, in)
	if f != nil {
		return nil, f
	}
	if len(outBytes) > MaxPayloadBytes {
		return nil, &failure{name: ErrorDataLimitExceeded, cause: fmt.Sprintf("The state/task '%s' returned a result of %d bytes, over the %d-byte payload quota", st.name, len(outBytes), MaxPayloadBytes)}
	}
	var result any
	if len(bytes.TrimSpace(outBytes)) > 0 {
		var err error
		if result, err = decodeJSON(outBytes); err != nil {
			return nil, runtimeFailure("task '%s' returned a result that is not valid JSON", st.name)
		}
	}
	if st.lambdaInvoke {
		// The SDK metadata fields AWS adds (SdkHttpMetadata,
		// SdkResponseMetadata) are not reproduced.
		result = map[string]any{"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": json.Number("200")}
	}
	if st.resultSelector != nil {
		if result, f = st.resultSelector.eval(r.scope(result)); f != nil {
			return nil, f
		}
	}
	out, f := st.resultPath.merge(raw, result)
	if f != nil {
		return nil, f
	}
	return st.outputPath.filter("OutputPath", out)
}

type taskResult struct {
	out []byte
	err error
	f   *failure
}

// invoke calls the bound function in its own goroutine, so that a task
// timeout or the machine's end stops the wait even if the function does
// not return; its context is cancelled then.
func (r *run) invoke(ctx context.Context, st *state, payload []byte) ([]byte, *failure) {
	fn := r.tasks[st.resource]
	tctx, cancel := context.WithCancel(ctx)
	if st.timeoutSeconds > 0 {
		cancel()
		tctx, cancel = context.WithTimeout(ctx, r.scaled(seconds(st.timeoutSeconds)))
	}
	defer cancel()
	done := make(chan taskResult, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- taskResult{f: panicFailure(v)}
			}
		}()
		out, err := fn(tctx, json.RawMessage(payload))
		done <- taskResult{out: out, err: err}
	}()
	timedOut := func() *failure {
		if ctx.Err() != nil {
			return &failure{abort: true, cause: ctx.Err().Error()}
		}
		return &failure{name: ErrorTimeout, cause: fmt.Sprintf("Task timed out after %d seconds", st.timeoutSeconds)}
	}
	select {
	case res := <-done:
		if res.f != nil {
			return nil, res.f
		}
		if res.err != nil {
			// An error caused by the deadline is the deadline's doing.
			if tctx.Err() != nil {
				return nil, timedOut()
			}
			return nil, r.taskFailure(res.err)
		}
		return res.out, nil
	case <-tctx.Done():
		return nil, timedOut()
	}
}

// lambdaError is the error payload aws-lambda-go posts; Step Functions
// puts it, as JSON, in Cause.
type lambdaError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (r *run) taskFailure(err error) *failure {
	return lambdaFailure(r.m.errorName(err), err.Error())
}

// panicFailure reports a panic as aws-lambda-go does: it recovers, posts
// errorType = the panic value's type name (e.g. "string", "errorString",
// "boundsError") and errorMessage = fmt %v of the value, then exits; the
// caller sees that error. Its stackTrace field is left out here.
func panicFailure(v any) *failure {
	return lambdaFailure(typeName(v), fmt.Sprintf("%v", v))
}

func lambdaFailure(name, message string) *failure {
	if name == "" {
		name = ErrorUnknown
	}
	cause, err := json.Marshal(lambdaError{Message: message, Type: name})
	if err != nil {
		cause = []byte(message)
	}
	return &failure{name: name, cause: string(cause)}
}
