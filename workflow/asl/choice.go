package asl

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Comparison kinds of Choice rules.
const (
	kindString = iota + 1
	kindNumeric
	kindBoolean
	kindTimestamp
	kindMatches
	kindTypeTest
)

// Comparison operators.
const (
	cmpEq = iota + 1
	cmpLt
	cmpGt
	cmpLe
	cmpGe
)

type comparator struct {
	kind int
	cmp  int
	path bool // the operand is a path into the input
}

var comparators = map[string]comparator{}

func init() {
	for prefix, kind := range map[string]int{"String": kindString, "Numeric": kindNumeric, "Timestamp": kindTimestamp} {
		for suffix, cmp := range map[string]int{"Equals": cmpEq, "LessThan": cmpLt, "GreaterThan": cmpGt, "LessThanEquals": cmpLe, "GreaterThanEquals": cmpGe} {
			comparators[prefix+suffix] = comparator{kind, cmp, false}
			comparators[prefix+suffix+"Path"] = comparator{kind, cmp, true}
		}
	}
	comparators["BooleanEquals"] = comparator{kindBoolean, cmpEq, false}
	comparators["BooleanEqualsPath"] = comparator{kindBoolean, cmpEq, true}
	comparators["StringMatches"] = comparator{kindMatches, cmpEq, false}
	for _, t := range []string{"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"} {
		comparators[t] = comparator{kind: kindTypeTest}
	}
}

// rule is one Choice rule, top-level (with Next) or nested.
type rule struct {
	and, or []*rule
	not     *rule

	variable    *jsonPath
	op          string
	cmp         comparator
	operand     any // string, float64, bool, time.Time or []matchToken
	operandPath *jsonPath

	next string
}

func parseRule(state string, raw any, top bool) (*rule, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, defErr(state, "Choices", "a choice rule must be an object")
	}
	r := &rule{}
	var ops []string
	for k := range m {
		switch k {
		case "And", "Or", "Not", "Variable", "Comment":
		case "Next":
			if !top {
				return nil, defErr(state, "Choices", "Next is only allowed on top-level choice rules")
			}
		default:
			if _, ok := comparators[k]; !ok {
				return nil, defErr(state, "Choices", "unsupported choice rule field %q", k)
			}
			ops = append(ops, k)
		}
	}
	sort.Strings(ops)
	if top {
		next, ok := m["Next"].(string)
		if !ok || next == "" {
			return nil, defErr(state, "Choices", "a top-level choice rule needs Next")
		}
		r.next = next
	}
	_, hasAnd := m["And"]
	_, hasOr := m["Or"]
	_, hasNot := m["Not"]
	_, hasVar := m["Variable"]
	n := len(ops)
	for _, b := range []bool{hasAnd, hasOr, hasNot} {
		if b {
			n++
		}
	}
	if n != 1 {
		return nil, defErr(state, "Choices", "a choice rule needs exactly one of And, Or, Not or a comparison, got %d", n)
	}
	switch {
	case hasAnd || hasOr:
		key := "And"
		if hasOr {
			key = "Or"
		}
		if hasVar {
			return nil, defErr(state, "Choices", "%s must not have a Variable", key)
		}
		list, ok := m[key].([]any)
		if !ok || len(list) == 0 {
			return nil, defErr(state, "Choices", "%s must be a non-empty array of rules", key)
		}
		subs := make([]*rule, len(list))
		for i, it := range list {
			sub, err := parseRule(state, it, false)
			if err != nil {
				return nil, err
			}
			subs[i] = sub
		}
		if hasAnd {
			r.and = subs
		} else {
			r.or = subs
		}
		return r, nil
	case hasNot:
		if hasVar {
			return nil, defErr(state, "Choices", "Not must not have a Variable")
		}
		sub, err := parseRule(state, m["Not"], false)
		if err != nil {
			return nil, err
		}
		r.not = sub
		return r, nil
	}
	vs, ok := m["Variable"].(string)
	if !ok {
		return nil, defErr(state, "Choices", "a comparison needs a Variable path")
	}
	v, err := parseInputPath(vs)
	if err != nil {
		return nil, defErr(state, "Choices", "Variable %q: %v", vs, err)
	}
	r.variable = v
	r.op = ops[0]
	r.cmp = comparators[r.op]
	operand := m[r.op]
	if r.cmp.path {
		s, ok := operand.(string)
		if !ok {
			return nil, defErr(state, "Choices", "%s must be a path", r.op)
		}
		if r.operandPath, err = parseInputPath(s); err != nil {
			return nil, defErr(state, "Choices", "%s %q: %v", r.op, s, err)
		}
		return r, nil
	}
	bad := func(want string) error { return defErr(state, "Choices", "%s must be %s", r.op, want) }
	switch r.cmp.kind {
	case kindString:
		s, ok := operand.(string)
		if !ok {
			return nil, bad("a string")
		}
		r.operand = s
	case kindMatches:
		s, ok := operand.(string)
		if !ok {
			return nil, bad("a string pattern")
		}
		r.operand = compileMatch(s)
	case kindNumeric:
		num, ok := operand.(json.Number)
		if !ok {
			return nil, bad("a number")
		}
		f, err := num.Float64()
		if err != nil {
			return nil, bad("a finite number")
		}
		r.operand = f
	case kindBoolean, kindTypeTest:
		b, ok := operand.(bool)
		if !ok {
			return nil, bad("true or false")
		}
		r.operand = b
	case kindTimestamp:
		s, ok := operand.(string)
		if !ok {
			return nil, bad("an RFC 3339 timestamp string")
		}
		t, ok := parseTimestamp(s)
		if !ok {
			return nil, bad("an RFC 3339 timestamp string")
		}
		r.operand = t
	}
	return r, nil
}

// parseInputPath parses a path into the state's input ($ only).
func parseInputPath(s string) (*jsonPath, error) {
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	if p.context {
		return nil, fmt.Errorf("the context object ($$) is not supported here")
	}
	return p, nil
}

func parseTimestamp(s string) (time.Time, bool) {
	// Step Functions requires an uppercase T and Z or a numeric offset.
	if !strings.Contains(s, "T") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func (r *rule) eval(input any) (bool, *failure) {
	switch {
	case r.and != nil:
		for _, sub := range r.and {
			ok, f := sub.eval(input)
			if f != nil || !ok {
				return false, f
			}
		}
		return true, nil
	case r.or != nil:
		for _, sub := range r.or {
			ok, f := sub.eval(input)
			if f != nil || ok {
				return ok, f
			}
		}
		return false, nil
	case r.not != nil:
		ok, f := r.not.eval(input)
		return !ok && f == nil, f
	}
	v, present := r.variable.lookup(input)
	if r.op == "IsPresent" {
		return present == r.operand.(bool), nil
	}
	if !present {
		return false, runtimeFailure("Invalid path '%s': The choice state's condition path references an invalid value.", r.variable.src)
	}
	if r.cmp.kind == kindTypeTest {
		var is bool
		switch r.op {
		case "IsNull":
			is = v == nil
		case "IsNumeric":
			_, is = v.(json.Number)
		case "IsString":
			_, is = v.(string)
		case "IsBoolean":
			_, is = v.(bool)
		case "IsTimestamp":
			s, ok := v.(string)
			_, is = parseTimestamp(s)
			is = is && ok
		}
		return is == r.operand.(bool), nil
	}
	operand := r.operand
	if r.cmp.path {
		ov, ok := r.operandPath.lookup(input)
		if !ok {
			return false, runtimeFailure("Invalid path '%s': The choice state's condition path references an invalid value.", r.operandPath.src)
		}
		var usable bool
		if operand, usable = toOperand(r.cmp.kind, ov); !usable {
			return false, nil
		}
	}
	// A value of the wrong type simply does not match, as in Step Functions.
	switch r.cmp.kind {
	case kindString:
		s, ok := v.(string)
		return ok && compare(javaCompare(s, operand.(string)), r.cmp.cmp), nil
	case kindMatches:
		s, ok := v.(string)
		return ok && matchPattern(operand.([]matchToken), s), nil
	case kindNumeric:
		n, ok := v.(json.Number)
		if !ok {
			return false, nil
		}
		f, err := n.Float64()
		if err != nil {
			return false, nil
		}
		o := operand.(float64)
		c := 0
		if f < o {
			c = -1
		} else if f > o {
			c = 1
		}
		return compare(c, r.cmp.cmp), nil
	case kindBoolean:
		b, ok := v.(bool)
		return ok && b == operand.(bool), nil
	case kindTimestamp:
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		t, ok := parseTimestamp(s)
		return ok && compare(t.Compare(operand.(time.Time)), r.cmp.cmp), nil
	}
	return false, nil
}

// toOperand converts the value a *Path comparator points at.
func toOperand(kind int, v any) (any, bool) {
	switch kind {
	case kindString:
		s, ok := v.(string)
		return s, ok
	case kindNumeric:
		n, ok := v.(json.Number)
		if !ok {
			return nil, false
		}
		f, err := n.Float64()
		return f, err == nil
	case kindBoolean:
		b, ok := v.(bool)
		return b, ok
	case kindTimestamp:
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		return parseTimestamp(s)
	}
	return nil, false
}

func compare(c, cmp int) bool {
	switch cmp {
	case cmpEq:
		return c == 0
	case cmpLt:
		return c < 0
	case cmpGt:
		return c > 0
	case cmpLe:
		return c <= 0
	case cmpGe:
		return c >= 0
	}
	return false
}

// matchToken is a literal rune or, when star is set, a * wildcard.
type matchToken struct {
	r    rune
	star bool
}

// compileMatch reads a StringMatches pattern: * matches any run of
// characters, \* a literal star and \\ a backslash.
func compileMatch(p string) []matchToken {
	var toks []matchToken
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			toks = append(toks, matchToken{r: rs[i]})
		case rs[i] == '*':
			toks = append(toks, matchToken{star: true})
		default:
			toks = append(toks, matchToken{r: rs[i]})
		}
	}
	return toks
}

func matchPattern(toks []matchToken, s string) bool {
	rs := []rune(s)
	// Classic wildcard matching with backtracking to the last star.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(rs) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].r == rs[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			si = starS
			ti = starT + 1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}

// javaCompare orders strings as Step Functions' string comparisons do,
// after Java's String.compareTo: by UTF-16 code units. Go's byte order
// (UTF-8, the same as code points) differs beyond U+FFFF: a character
// there is a surrogate pair (U+D800-U+DFFF) in UTF-16, and so sorts below
// U+E000-U+FFFF (e.g. "\U0001F600" < "\uFF61" in Java, > in Go).
func javaCompare(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return slices.Compare(utf16.Encode([]rune{ra}), utf16.Encode([]rune{rb}))
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}
