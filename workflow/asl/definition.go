package asl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// State types.
const (
	typeTask    = "Task"
	typePass    = "Pass"
	typeChoice  = "Choice"
	typeWait    = "Wait"
	typeSucceed = "Succeed"
	typeFail    = "Fail"
)

// lambdaInvoke is the optimized Lambda integration resource.
const lambdaInvoke = "arn:aws:states:::lambda:invoke"

// maxSeconds is Step Functions' upper bound for TimeoutSeconds,
// IntervalSeconds and MaxAttempts.
const maxSeconds = 99999999

// fieldsByType lists, per state type, the fields this executor
// implements; any other field is refused.
var fieldsByType = map[string][]string{
	typeTask:    {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Resource", "TimeoutSeconds"},
	typePass:    {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result"},
	typeChoice:  {"Choices", "Default", "InputPath", "OutputPath"},
	typeWait:    {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	typeSucceed: {"InputPath", "OutputPath"},
	typeFail:    {"Error", "Cause", "ErrorPath", "CausePath"},
}

type definition struct {
	startAt        string
	timeoutSeconds int
	states         map[string]*state
	resources      []string // every function a Task invokes, sorted
}

type state struct {
	name string
	typ  string
	next string // "" for terminal states

	inputPath, outputPath, resultPath ioPath
	parameters, resultSelector        tmpl
	result                            any
	hasResult                         bool

	// Task
	resource       string // the function ARN or, for lambda:invoke, FunctionName
	lambdaInvoke   bool
	timeoutSeconds int
	retry          []*retrier
	catch          []*catcher

	// Choice
	choices     []*rule
	defaultNext string

	// Wait: exactly one of these is set
	seconds       *int
	secondsPath   *jsonPath
	timestamp     *time.Time
	timestampPath *jsonPath

	// Fail
	errorName, cause     string
	errorPath, causePath *dynString
}

type retrier struct {
	errors      []string
	interval    int
	maxAttempts int
	backoff     float64
	maxDelay    int // 0: no cap
	fullJitter  bool
}

type catcher struct {
	errors     []string
	next       string
	resultPath ioPath
}

var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// substitute fills ${Name} placeholders the way DefinitionSubstitutions
// does: textually, before the JSON is parsed.
func substitute(def []byte, subs map[string]string) ([]byte, error) {
	var missing []string
	out := placeholder.ReplaceAllFunc(def, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := subs[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, defErr("", "${"+missing[0]+"}", "unknown placeholder: no substitution named %q was given", missing[0])
	}
	return out, nil
}

func parseDefinition(raw []byte) (*definition, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, defErr("", "", "the definition is not valid JSON: %v", err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, defErr("", "", "the definition must be a JSON object")
	}
	for k := range top {
		switch k {
		case "Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage":
		default:
			return nil, defErr("", k, "top-level field is not supported by this executor")
		}
	}
	if err := checkQueryLanguage("", top); err != nil {
		return nil, err
	}
	if ver, ok := top["Version"]; ok {
		if s, _ := ver.(string); s != "1.0" {
			return nil, defErr("", "Version", "only \"1.0\" is defined")
		}
	}
	d := &definition{states: map[string]*state{}}
	if d.startAt, ok = top["StartAt"].(string); !ok || d.startAt == "" {
		return nil, defErr("", "StartAt", "must name a state")
	}
	if _, ok := top["TimeoutSeconds"]; ok {
		if d.timeoutSeconds, err = intField(top, "TimeoutSeconds", 1, maxSeconds); err != nil {
			return nil, defErr("", "TimeoutSeconds", "%v", err)
		}
	}
	states, ok := top["States"].(map[string]any)
	if !ok || len(states) == 0 {
		return nil, defErr("", "States", "must be a non-empty object")
	}
	names := make([]string, 0, len(states))
	for name := range states {
		names = append(names, name)
	}
	sort.Strings(names)
	resources := map[string]bool{}
	for _, name := range names {
		st, err := parseState(name, states[name])
		if err != nil {
			return nil, err
		}
		d.states[name] = st
		if st.typ == typeTask {
			resources[st.resource] = true
		}
	}
	for r := range resources {
		d.resources = append(d.resources, r)
	}
	sort.Strings(d.resources)
	if err := d.checkTransitions(names); err != nil {
		return nil, err
	}
	return d, nil
}

func checkQueryLanguage(state string, m map[string]any) error {
	if ql, ok := m["QueryLanguage"]; ok && ql != "JSONPath" {
		return defErr(state, "QueryLanguage", "only JSONPath is supported by this executor, not %v", ql)
	}
	return nil
}

// checkTransitions makes sure every transition lands on a state and
// every state can be reached, as Step Functions' validation does.
func (d *definition) checkTransitions(names []string) error {
	if d.states[d.startAt] == nil {
		return defErr("", "StartAt", "state %q does not exist", d.startAt)
	}
	for _, name := range names {
		for field, target := range d.states[name].targets() {
			if d.states[target] == nil {
				return defErr(name, field, "state %q does not exist", target)
			}
		}
	}
	seen := map[string]bool{d.startAt: true}
	queue := []string{d.startAt}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, target := range d.states[cur].targets() {
			if !seen[target] {
				seen[target] = true
				queue = append(queue, target)
			}
		}
	}
	for _, name := range names {
		if !seen[name] {
			return defErr(name, "", "state is not reachable from StartAt")
		}
	}
	return nil
}

// targets maps each field that names a state to that state.
func (s *state) targets() map[string]string {
	t := map[string]string{}
	if s.next != "" {
		t["Next"] = s.next
	}
	if s.defaultNext != "" {
		t["Default"] = s.defaultNext
	}
	for i, r := range s.choices {
		t[fmt.Sprintf("Choices[%d].Next", i)] = r.next
	}
	for i, c := range s.catch {
		t[fmt.Sprintf("Catch[%d].Next", i)] = c.next
	}
	return t
}

func parseState(name string, raw any) (*state, error) {
	if len(name) > 80 {
		return nil, defErr(name, "", "state names are at most 80 characters")
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, defErr(name, "", "a state must be a JSON object")
	}
	typ, _ := m["Type"].(string)
	allowed, ok := fieldsByType[typ]
	if !ok {
		switch typ {
		case "Map", "Parallel":
			return nil, defErr(name, "Type", "%s states are not supported by this executor", typ)
		default:
			return nil, defErr(name, "Type", "unknown state type %q", typ)
		}
	}
	for k := range m {
		if k == "Type" || k == "Comment" || k == "QueryLanguage" {
			continue
		}
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return nil, defErr(name, k, "field is not supported by this executor for a %s state", typ)
		}
	}
	if err := checkQueryLanguage(name, m); err != nil {
		return nil, err
	}
	s := &state{name: name, typ: typ}
	var err error
	if err = s.parseTransition(m); err != nil {
		return nil, err
	}
	if s.inputPath, err = parseIOPath(name, m, "InputPath", false); err != nil {
		return nil, err
	}
	if s.outputPath, err = parseIOPath(name, m, "OutputPath", false); err != nil {
		return nil, err
	}
	if s.resultPath, err = parseIOPath(name, m, "ResultPath", true); err != nil {
		return nil, err
	}
	if p, ok := m["Parameters"]; ok {
		if _, isObj := p.(map[string]any); !isObj {
			return nil, defErr(name, "Parameters", "must be a JSON object")
		}
		if s.parameters, err = compileTemplate(p, true); err != nil {
			return nil, defErr(name, "Parameters", "%v", err)
		}
	}
	if p, ok := m["ResultSelector"]; ok {
		if _, isObj := p.(map[string]any); !isObj {
			return nil, defErr(name, "ResultSelector", "must be a JSON object")
		}
		if s.resultSelector, err = compileTemplate(p, true); err != nil {
			return nil, defErr(name, "ResultSelector", "%v", err)
		}
	}
	switch typ {
	case typeTask:
		err = s.parseTask(m)
	case typePass:
		s.result, s.hasResult = m["Result"]
		if s.hasResult && s.parameters != nil {
			err = defErr(name, "Result", "Result and Parameters together are ambiguous; use one")
		}
	case typeChoice:
		err = s.parseChoice(m)
	case typeWait:
		err = s.parseWait(m)
	case typeFail:
		err = s.parseFail(m)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *state) parseTransition(m map[string]any) error {
	next, hasNext := m["Next"]
	end, hasEnd := m["End"]
	switch s.typ {
	case typeChoice, typeSucceed, typeFail:
		return nil // their fields were already checked
	}
	if hasNext == hasEnd {
		return defErr(s.name, "Next", "exactly one of Next and End is required")
	}
	if hasEnd {
		if b, _ := end.(bool); !b {
			return defErr(s.name, "End", "must be true when present")
		}
		return nil
	}
	n, ok := next.(string)
	if !ok || n == "" {
		return defErr(s.name, "Next", "must name a state")
	}
	s.next = n
	return nil
}

// parseIOPath reads InputPath, OutputPath or ResultPath. ResultPath must
// be a reference path: object keys only, since it creates what is missing.
func parseIOPath(state string, m map[string]any, field string, reference bool) (ioPath, error) {
	v, ok := m[field]
	if !ok {
		return ioPath{}, nil
	}
	if v == nil {
		return ioPath{null: true}, nil
	}
	s, ok := v.(string)
	if !ok {
		return ioPath{}, defErr(state, field, "must be a path string or null")
	}
	p, err := parseInputPath(s)
	if err != nil {
		return ioPath{}, defErr(state, field, "%q: %v", s, err)
	}
	if reference && p.hasIndex() {
		return ioPath{}, defErr(state, field, "%q: array indexes are not supported in a ResultPath", s)
	}
	return ioPath{p: p}, nil
}

func (s *state) parseTask(m map[string]any) error {
	res, ok := m["Resource"].(string)
	if !ok || res == "" {
		return defErr(s.name, "Resource", "a Task needs a Resource")
	}
	switch {
	case res == lambdaInvoke:
		s.lambdaInvoke = true
		params, _ := m["Parameters"].(map[string]any)
		fn, ok := params["FunctionName"].(string)
		if !ok || fn == "" {
			return defErr(s.name, "Parameters", "lambda:invoke needs a literal FunctionName (FunctionName.$ is not supported)")
		}
		_, hasPayload := params["Payload"]
		_, hasPayloadPath := params["Payload.$"]
		if !hasPayload && !hasPayloadPath {
			return defErr(s.name, "Parameters", "lambda:invoke needs Payload or Payload.$")
		}
		for k := range params {
			if k != "FunctionName" && k != "Payload" && k != "Payload.$" {
				return defErr(s.name, "Parameters", "lambda:invoke parameter %q is not supported by this executor", k)
			}
		}
		s.resource = fn
	case strings.HasPrefix(res, "arn:aws:lambda:") && strings.Contains(res, ":function:"):
		s.resource = res
	default:
		return defErr(s.name, "Resource", "%q is not supported: only Lambda function ARNs and %s", res, lambdaInvoke)
	}
	if _, ok := m["TimeoutSeconds"]; ok {
		var err error
		if s.timeoutSeconds, err = intField(m, "TimeoutSeconds", 1, maxSeconds); err != nil {
			return defErr(s.name, "TimeoutSeconds", "%v", err)
		}
	}
	if raw, ok := m["Retry"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return defErr(s.name, "Retry", "must be an array")
		}
		for i, it := range list {
			r, err := parseRetrier(s.name, it, i == len(list)-1)
			if err != nil {
				return err
			}
			s.retry = append(s.retry, r)
		}
	}
	if raw, ok := m["Catch"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return defErr(s.name, "Catch", "must be an array")
		}
		for i, it := range list {
			c, err := parseCatcher(s.name, it, i == len(list)-1)
			if err != nil {
				return err
			}
			s.catch = append(s.catch, c)
		}
	}
	return nil
}

func parseErrorEquals(state, field string, m map[string]any, last bool) ([]string, error) {
	list, ok := m["ErrorEquals"].([]any)
	if !ok || len(list) == 0 {
		return nil, defErr(state, field, "ErrorEquals must be a non-empty array")
	}
	out := make([]string, len(list))
	for i, it := range list {
		name, ok := it.(string)
		if !ok || name == "" {
			return nil, defErr(state, field, "ErrorEquals holds non-empty strings")
		}
		switch {
		case name == ErrorRuntime:
			return nil, defErr(state, field, "States.Runtime can never be retried or caught")
		case name == ErrorAll && len(list) > 1:
			return nil, defErr(state, field, "States.ALL must appear alone in ErrorEquals")
		case name == ErrorAll && !last:
			return nil, defErr(state, field, "States.ALL must be in the last %s", map[string]string{"Retry": "retrier", "Catch": "catcher"}[field])
		case strings.HasPrefix(name, "States.") && !knownStatesErrors[name]:
			return nil, defErr(state, field, "unknown error name %q", name)
		}
		out[i] = name
	}
	return out, nil
}

func parseRetrier(state string, raw any, last bool) (*retrier, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, defErr(state, "Retry", "a retrier must be an object")
	}
	for k := range m {
		switch k {
		case "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment":
		default:
			return nil, defErr(state, "Retry", "retrier field %q is not supported", k)
		}
	}
	r := &retrier{interval: 1, maxAttempts: 3, backoff: 2.0}
	var err error
	if r.errors, err = parseErrorEquals(state, "Retry", m, last); err != nil {
		return nil, err
	}
	if _, ok := m["IntervalSeconds"]; ok {
		if r.interval, err = intField(m, "IntervalSeconds", 1, maxSeconds); err != nil {
			return nil, defErr(state, "Retry", "%v", err)
		}
	}
	if _, ok := m["MaxAttempts"]; ok {
		if r.maxAttempts, err = intField(m, "MaxAttempts", 0, maxSeconds); err != nil {
			return nil, defErr(state, "Retry", "%v", err)
		}
	}
	if _, ok := m["MaxDelaySeconds"]; ok {
		if r.maxDelay, err = intField(m, "MaxDelaySeconds", 1, 31622400); err != nil {
			return nil, defErr(state, "Retry", "%v", err)
		}
	}
	if v, ok := m["BackoffRate"]; ok {
		n, isNum := v.(json.Number)
		f, ferr := n.Float64()
		if !isNum || ferr != nil || f < 1.0 {
			return nil, defErr(state, "Retry", "BackoffRate must be a number >= 1.0")
		}
		r.backoff = f
	}
	if v, ok := m["JitterStrategy"]; ok {
		switch v {
		case "FULL":
			r.fullJitter = true
		case "NONE":
		default:
			return nil, defErr(state, "Retry", "JitterStrategy must be FULL or NONE")
		}
	}
	return r, nil
}

func parseCatcher(state string, raw any, last bool) (*catcher, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, defErr(state, "Catch", "a catcher must be an object")
	}
	for k := range m {
		switch k {
		case "ErrorEquals", "Next", "ResultPath", "Comment":
		default:
			return nil, defErr(state, "Catch", "catcher field %q is not supported", k)
		}
	}
	c := &catcher{}
	var err error
	if c.errors, err = parseErrorEquals(state, "Catch", m, last); err != nil {
		return nil, err
	}
	if c.next, _ = m["Next"].(string); c.next == "" {
		return nil, defErr(state, "Catch", "a catcher needs Next")
	}
	if c.resultPath, err = parseIOPath(state, m, "ResultPath", true); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *state) parseChoice(m map[string]any) error {
	list, ok := m["Choices"].([]any)
	if !ok || len(list) == 0 {
		return defErr(s.name, "Choices", "must be a non-empty array")
	}
	for _, it := range list {
		r, err := parseRule(s.name, it, true)
		if err != nil {
			return err
		}
		s.choices = append(s.choices, r)
	}
	if d, ok := m["Default"]; ok {
		if s.defaultNext, _ = d.(string); s.defaultNext == "" {
			return defErr(s.name, "Default", "must name a state")
		}
	}
	return nil
}

func (s *state) parseWait(m map[string]any) error {
	n := 0
	for _, k := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	if n != 1 {
		return defErr(s.name, "Seconds", "exactly one of Seconds, SecondsPath, Timestamp and TimestampPath is required")
	}
	var err error
	switch {
	case m["Seconds"] != nil:
		secs, err := intField(m, "Seconds", 0, maxSeconds)
		if err != nil {
			return defErr(s.name, "Seconds", "%v", err)
		}
		s.seconds = &secs
	case m["Timestamp"] != nil:
		str, _ := m["Timestamp"].(string)
		t, ok := parseTimestamp(str)
		if !ok {
			return defErr(s.name, "Timestamp", "must be an RFC 3339 timestamp")
		}
		s.timestamp = &t
	case m["SecondsPath"] != nil:
		str, _ := m["SecondsPath"].(string)
		if s.secondsPath, err = parseInputPath(str); err != nil {
			return defErr(s.name, "SecondsPath", "%v", err)
		}
	default:
		str, _ := m["TimestampPath"].(string)
		if s.timestampPath, err = parseInputPath(str); err != nil {
			return defErr(s.name, "TimestampPath", "%v", err)
		}
	}
	return nil
}

func (s *state) parseFail(m map[string]any) error {
	for _, f := range []struct {
		lit, path string
		dst       *string
		dyn       **dynString
	}{{"Error", "ErrorPath", &s.errorName, &s.errorPath}, {"Cause", "CausePath", &s.cause, &s.causePath}} {
		lit, hasLit := m[f.lit]
		path, hasPath := m[f.path]
		if hasLit && hasPath {
			return defErr(s.name, f.path, "%s and %s are mutually exclusive", f.lit, f.path)
		}
		if hasLit {
			str, ok := lit.(string)
			if !ok {
				return defErr(s.name, f.lit, "must be a string")
			}
			*f.dst = str
		}
		if hasPath {
			str, _ := path.(string)
			d, err := compileDynString(str)
			if err != nil {
				return defErr(s.name, f.path, "%v", err)
			}
			*f.dyn = d
		}
	}
	return nil
}

// intField reads an integer field within [min, max].
func intField(m map[string]any, key string, min, max int) (int, error) {
	n, ok := m[key].(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s must be an integer", key)
	}
	i, err := n.Int64()
	if err != nil || i < int64(min) || i > int64(max) {
		return 0, fmt.Errorf("%s must be an integer from %d to %d", key, min, max)
	}
	return int(i), nil
}
