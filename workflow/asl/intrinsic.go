package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// intrinsic is a parsed intrinsic function call, e.g.
// States.Format('kakao_{}', $.id).
type intrinsic struct {
	name string
	args []iarg
}

// iarg is one argument: a literal, a path or a nested call.
type iarg struct {
	lit   any
	raw   string // a string literal as written, escapes kept (States.Format needs them)
	isStr bool
	path  *jsonPath
	fn    *intrinsic
}

type intrinsicSpec struct {
	min, max int // max < 0: variadic
	call     func(in *intrinsic, vals []any) (any, error)
}

// intrinsics are the functions this executor implements. Others
// (States.Hash, States.Base64Encode, States.ArrayPartition, ...) are
// refused at Load rather than half-implemented.
var intrinsics map[string]intrinsicSpec

func init() {
	intrinsics = map[string]intrinsicSpec{
		"States.Format":       {1, -1, callFormat},
		"States.StringToJson": {1, 1, callStringToJSON},
		"States.JsonToString": {1, 1, callJSONToString},
		"States.MathAdd":      {2, 2, callMathAdd},
		"States.UUID":         {0, 0, func(*intrinsic, []any) (any, error) { return uuid.NewString(), nil }},
		"States.Array":        {0, -1, func(_ *intrinsic, vals []any) (any, error) { return vals, nil }},
	}
}

func supportedIntrinsics() string {
	names := make([]string, 0, len(intrinsics))
	for n := range intrinsics {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func parseIntrinsic(src string, allowContext bool) (*intrinsic, error) {
	p := &iparser{s: src, allowContext: allowContext}
	fn, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic %q: %w", src, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("intrinsic %q: unexpected text after the call at offset %d", src, p.i)
	}
	return fn, nil
}

type iparser struct {
	s            string
	i            int
	allowContext bool
}

func (p *iparser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *iparser) call() (*intrinsic, error) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '(' {
		c := p.s[p.i]
		if !(c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return nil, fmt.Errorf("bad function name at offset %d", p.i)
		}
		p.i++
	}
	if p.i == len(p.s) {
		return nil, errors.New("missing (")
	}
	fn := &intrinsic{name: p.s[start:p.i]}
	spec, ok := intrinsics[fn.name]
	if !ok {
		return nil, fmt.Errorf("%s is not supported by this executor (supported: %s)", fn.name, supportedIntrinsics())
	}
	p.i++ // (
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			fn.args = append(fn.args, a)
			p.space()
			if p.i == len(p.s) {
				return nil, errors.New("missing )")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("expected , or ) at offset %d", p.i)
			}
			p.i++
		}
	}
	if len(fn.args) < spec.min || (spec.max >= 0 && len(fn.args) > spec.max) {
		return nil, fmt.Errorf("%s takes %s, got %d", fn.name, arity(spec), len(fn.args))
	}
	if fn.name == "States.Format" && fn.args[0].isStr {
		if n := countPlaceholders(fn.args[0].raw); n != len(fn.args)-1 {
			return nil, fmt.Errorf("States.Format template has %d {} but %d values follow", n, len(fn.args)-1)
		}
	}
	return fn, nil
}

func arity(s intrinsicSpec) string {
	switch {
	case s.max < 0:
		return fmt.Sprintf("at least %d arguments", s.min)
	case s.min == s.max:
		return fmt.Sprintf("%d arguments", s.min)
	default:
		return fmt.Sprintf("%d to %d arguments", s.min, s.max)
	}
}

func (p *iparser) arg() (iarg, error) {
	p.space()
	if p.i == len(p.s) {
		return iarg{}, errors.New("missing argument")
	}
	switch c := p.s[p.i]; {
	case c == '\'':
		p.i++
		var raw, val strings.Builder
		for {
			if p.i == len(p.s) {
				return iarg{}, errors.New("unterminated string literal")
			}
			c := p.s[p.i]
			if c == '\\' && p.i+1 < len(p.s) {
				raw.WriteByte(c)
				raw.WriteByte(p.s[p.i+1])
				val.WriteByte(p.s[p.i+1])
				p.i += 2
				continue
			}
			p.i++
			if c == '\'' {
				break
			}
			raw.WriteByte(c)
			val.WriteByte(c)
		}
		return iarg{lit: val.String(), raw: raw.String(), isStr: true}, nil
	case c == '$':
		start := p.i
		inQuote, depth := false, 0
	scan:
		for p.i < len(p.s) {
			switch ch := p.s[p.i]; {
			case ch == '\'':
				inQuote = !inQuote
			case inQuote:
			case ch == '[':
				depth++
			case ch == ']':
				depth--
			case depth == 0 && (ch == ',' || ch == ')' || ch == ' '):
				break scan
			}
			p.i++
		}
		src := p.s[start:p.i]
		path, err := parsePath(src)
		if err != nil {
			return iarg{}, fmt.Errorf("path %q: %w", src, err)
		}
		if path.context && !p.allowContext {
			return iarg{}, errors.New("the context object ($$) is not available here")
		}
		return iarg{path: path}, nil
	case strings.HasPrefix(p.s[p.i:], "States."):
		fn, err := p.call()
		if err != nil {
			return iarg{}, err
		}
		return iarg{fn: fn}, nil
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.s) && strings.IndexByte("+-.eE0123456789", p.s[p.i]) >= 0 {
			p.i++
		}
		num := p.s[start:p.i]
		if !json.Valid([]byte(num)) {
			return iarg{}, fmt.Errorf("bad number %q", num)
		}
		return iarg{lit: json.Number(num)}, nil
	default:
		for _, kw := range []struct {
			word string
			v    any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if strings.HasPrefix(p.s[p.i:], kw.word) {
				p.i += len(kw.word)
				return iarg{lit: kw.v}, nil
			}
		}
		return iarg{}, fmt.Errorf("unexpected %q at offset %d", c, p.i)
	}
}

func (in *intrinsic) eval(s scope) (any, *failure) {
	vals := make([]any, len(in.args))
	for i, a := range in.args {
		switch {
		case a.path != nil:
			v, ok := s.resolve(a.path)
			if !ok {
				return nil, runtimeFailure("%s: the JSONPath '%s' could not be found in the input", in.name, a.path.src)
			}
			vals[i] = v
		case a.fn != nil:
			v, fl := a.fn.eval(s)
			if fl != nil {
				return nil, fl
			}
			vals[i] = v
		default:
			vals[i] = a.lit
		}
	}
	out, err := intrinsics[in.name].call(in, vals)
	if err != nil {
		// Step Functions reports intrinsic failures as States.Runtime.
		return nil, runtimeFailure("%s: %v", in.name, err)
	}
	return out, nil
}

// countPlaceholders counts {} in a States.Format template, skipping
// backslash escapes.
func countPlaceholders(raw string) int {
	n := 0
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\':
			i++
		case raw[i] == '{' && i+1 < len(raw) && raw[i+1] == '}':
			n++
			i++
		}
	}
	return n
}

func callFormat(in *intrinsic, vals []any) (any, error) {
	tpl, ok := vals[0].(string)
	if !ok {
		return nil, errors.New("the template must be a string")
	}
	escapes := in.args[0].isStr
	if escapes {
		tpl = in.args[0].raw
	}
	var b strings.Builder
	next := 1
	for i := 0; i < len(tpl); i++ {
		switch {
		case escapes && tpl[i] == '\\' && i+1 < len(tpl):
			i++
			b.WriteByte(tpl[i])
		case tpl[i] == '{' && i+1 < len(tpl) && tpl[i+1] == '}':
			if next >= len(vals) {
				return nil, errors.New("more {} than values")
			}
			b.WriteString(formatValue(vals[next]))
			next++
			i++
		default:
			b.WriteByte(tpl[i])
		}
	}
	if next != len(vals) {
		return nil, errors.New("more values than {}")
	}
	return b.String(), nil
}

// formatValue renders a value the way States.Format does: strings bare,
// scalars as JSON, objects and arrays in Java's toString style.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = formatValue(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + formatValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return fmt.Sprint(x)
	}
}

func callStringToJSON(_ *intrinsic, vals []any) (any, error) {
	s, ok := vals[0].(string)
	if !ok {
		return nil, errors.New("the argument must be a string")
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, errors.New("the argument is not valid JSON")
	}
	return v, nil
}

func callJSONToString(_ *intrinsic, vals []any) (any, error) {
	b, err := encodeJSON(vals[0])
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func callMathAdd(_ *intrinsic, vals []any) (any, error) {
	var sum int64
	for _, v := range vals {
		n, ok := v.(json.Number)
		if !ok {
			return nil, errors.New("the arguments must be numbers")
		}
		i, err := n.Int64()
		if err != nil {
			// Non-integers are rounded half up, as Step Functions' Java does.
			f, ferr := n.Float64()
			if ferr != nil || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%s is not a usable number", n)
			}
			i = int64(math.Floor(f + 0.5))
		}
		sum += i
	}
	return json.Number(strconv.FormatInt(sum, 10)), nil
}
