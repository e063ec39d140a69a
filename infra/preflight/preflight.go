// Package preflight checks a deployment before anything is uploaded: every
// parameter of template.yaml against its Type, AllowedValues,
// AllowedPattern and bounds, the template's Rules, and the region, with
// messages a person acts on. CloudFormation checks the same, but only
// after `sam deploy` has built and uploaded the stack's code (tens of MB)
// and created a change set; `kakaoauth deploy` asks here first.
package preflight

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Parameter is one template parameter, as CloudFormation reads it.
type Parameter struct {
	Name                  string
	Type                  string
	Description           string
	ConstraintDescription string
	Default               *string
	AllowedValues         []string
	AllowedPattern        string
	pattern               *regexp.Regexp
	MinLength, MaxLength  *int
	MinValue, MaxValue    *float64
	NoEcho                bool
}

// Template is what the preflight knows of template.yaml: its parameters
// in order, and its Rules.
type Template struct {
	Parameters []Parameter
	rules      []rule
}

type rule struct {
	name       string
	condition  *yaml.Node // nil: always applies
	assertions []assertion
}

type assertion struct {
	expr        *yaml.Node
	description string
}

// Load reads a SAM/CloudFormation template's Parameters and Rules.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse reads a template (YAML, CloudFormation's short-form tags
// included).
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("preflight: template: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("preflight: template: not a mapping")
	}
	root := doc.Content[0]
	t := &Template{}
	if params := lookup(root, "Parameters"); params != nil {
		for i := 0; i+1 < len(params.Content); i += 2 {
			p, err := parseParameter(params.Content[i].Value, params.Content[i+1])
			if err != nil {
				return nil, err
			}
			t.Parameters = append(t.Parameters, p)
		}
	}
	if rules := lookup(root, "Rules"); rules != nil {
		for i := 0; i+1 < len(rules.Content); i += 2 {
			r := rule{name: rules.Content[i].Value, condition: lookup(rules.Content[i+1], "RuleCondition")}
			if as := lookup(rules.Content[i+1], "Assertions"); as != nil {
				for _, a := range as.Content {
					desc := ""
					if d := lookup(a, "AssertDescription"); d != nil {
						desc = strings.Join(strings.Fields(d.Value), " ")
					}
					r.assertions = append(r.assertions, assertion{expr: lookup(a, "Assert"), description: desc})
				}
			}
			t.rules = append(t.rules, r)
		}
	}
	// Every rule must be one this package evaluates: a rule it skipped
	// would let a bad parameter set through to the upload.
	values := map[string]string{}
	for _, p := range t.Parameters {
		values[p.Name] = ""
	}
	for _, r := range t.rules {
		if r.condition != nil {
			if _, err := evalBool(r.condition, values); err != nil {
				return nil, fmt.Errorf("preflight: rule %s: %w", r.name, err)
			}
		}
		for _, a := range r.assertions {
			if _, err := evalBool(a.expr, values); err != nil {
				return nil, fmt.Errorf("preflight: rule %s: %w", r.name, err)
			}
		}
	}
	return t, nil
}

func parseParameter(name string, n *yaml.Node) (Parameter, error) {
	p := Parameter{Name: name, Type: "String"}
	str := func(key string) string {
		if v := lookup(n, key); v != nil {
			return strings.Join(strings.Fields(v.Value), " ")
		}
		return ""
	}
	if v := str("Type"); v != "" {
		p.Type = v
	}
	p.Description, p.ConstraintDescription, p.AllowedPattern = str("Description"), str("ConstraintDescription"), lookupValue(n, "AllowedPattern")
	if v := lookup(n, "Default"); v != nil {
		d := v.Value
		p.Default = &d
	}
	if v := lookup(n, "AllowedValues"); v != nil {
		for _, c := range v.Content {
			p.AllowedValues = append(p.AllowedValues, c.Value)
		}
	}
	p.NoEcho = str("NoEcho") == "true"
	for key, dst := range map[string]**int{"MinLength": &p.MinLength, "MaxLength": &p.MaxLength} {
		if v := str(key); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil {
				return p, fmt.Errorf("preflight: parameter %s: %s %q", name, key, v)
			}
			*dst = &i
		}
	}
	for key, dst := range map[string]**float64{"MinValue": &p.MinValue, "MaxValue": &p.MaxValue} {
		if v := str(key); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return p, fmt.Errorf("preflight: parameter %s: %s %q", name, key, v)
			}
			*dst = &f
		}
	}
	if p.AllowedPattern != "" {
		re, err := compilePattern(p.AllowedPattern)
		if err != nil {
			return p, fmt.Errorf("preflight: parameter %s: AllowedPattern: %w", name, err)
		}
		p.pattern = re
	}
	return p, nil
}

// bigRepeat is a bounded repeat Go's regexp refuses (over 1000).
var bigRepeat = regexp.MustCompile(`\{([0-9]+),([0-9]+)\}`)

// compilePattern compiles a CloudFormation (Java) AllowedPattern to match
// whole values. Go caps a repeat count at 1000: a larger upper bound
// (KakaoClientSecretName's {1,2048}) is left open here, so only
// CloudFormation refuses a value longer than it.
func compilePattern(pattern string) (*regexp.Regexp, error) {
	pattern = bigRepeat.ReplaceAllStringFunc(pattern, func(m string) string {
		g := bigRepeat.FindStringSubmatch(m)
		if hi, _ := strconv.Atoi(g[2]); hi <= 1000 {
			return m
		}
		lo, _ := strconv.Atoi(g[1])
		return "{" + strconv.Itoa(min(lo, 1000)) + ",}"
	})
	return regexp.Compile(`^(?:` + pattern + `)$`)
}

// Problem is one thing wrong with a deployment, said for a person.
type Problem struct {
	Parameter string // "" for a rule or the region
	Message   string
}

func (p Problem) String() string {
	if p.Parameter == "" {
		return p.Message
	}
	return p.Parameter + ": " + p.Message
}

// Check checks values (parameter name -> value, as given: samconfig.toml's
// and the command line's) as CloudFormation will, defaults filled in, and
// returns every problem, in the template's order.
func (t *Template) Check(values map[string]string) []Problem {
	var problems []Problem
	effective := map[string]string{}
	for _, p := range t.Parameters {
		v, given := values[p.Name]
		if !given && p.Default != nil {
			v = *p.Default
		}
		effective[p.Name] = v
		if !given && p.Default == nil {
			problems = append(problems, Problem{p.Name, "is required and has no default: " + p.need()})
			continue
		}
		if msg := p.check(v); msg != "" {
			problems = append(problems, Problem{p.Name, msg})
		}
	}
	names := make([]string, len(t.Parameters))
	for i, p := range t.Parameters {
		names[i] = p.Name
	}
	var unknown []string
	for name := range values {
		if !slices.Contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		msg := "is not a parameter of the template"
		if near := closest(name, names); near != "" {
			msg += "; did you mean " + near + "?"
		}
		problems = append(problems, Problem{name, msg})
	}
	if len(problems) > 0 {
		return problems // the rules read parameters that must be valid first
	}
	for _, r := range t.rules {
		if r.condition != nil {
			if ok, _ := evalBool(r.condition, effective); !ok {
				continue
			}
		}
		for _, a := range r.assertions {
			if ok, _ := evalBool(a.expr, effective); !ok {
				problems = append(problems, Problem{"", a.description + " (rule " + r.name + ")"})
			}
		}
	}
	return problems
}

// check says what is wrong with value v, or "".
func (p Parameter) check(v string) string {
	shown := strconv.Quote(v)
	if p.NoEcho {
		shown = "(hidden)"
	}
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
		if p.Type == "Number" {
			if f, err := strconv.ParseFloat(v, 64); err == nil && slices.ContainsFunc(p.AllowedValues, func(a string) bool {
				g, err := strconv.ParseFloat(a, 64)
				return err == nil && g == f
			}) {
				return ""
			}
		}
		return fmt.Sprintf("%s is not one of %s", shown, strings.Join(p.AllowedValues, ", "))
	}
	if p.Type == "Number" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return shown + " is not a number: " + p.need()
		}
		if p.MinValue != nil && f < *p.MinValue {
			return fmt.Sprintf("%s is below the minimum %s", shown, strconv.FormatFloat(*p.MinValue, 'f', -1, 64))
		}
		if p.MaxValue != nil && f > *p.MaxValue {
			return fmt.Sprintf("%s is above the maximum %s", shown, strconv.FormatFloat(*p.MaxValue, 'f', -1, 64))
		}
		return ""
	}
	n := utf8.RuneCountInString(v)
	if p.MinLength != nil && n < *p.MinLength {
		return fmt.Sprintf("%s is shorter than %d characters: %s", shown, *p.MinLength, p.need())
	}
	if p.MaxLength != nil && n > *p.MaxLength {
		return fmt.Sprintf("%s is longer than %d characters", shown, *p.MaxLength)
	}
	// CloudFormation matches the whole value against the pattern.
	if p.pattern != nil && !p.pattern.MatchString(v) {
		if v == "" {
			return "is empty: " + p.need()
		}
		// "empty, or X" reads wrongly after "is not": say X, then that
		// empty would do.
		if rest, ok := strings.CutPrefix(p.need(), "empty, or "); ok {
			return shown + " is not " + rest + " (or leave it empty)"
		}
		return shown + " is not " + p.need()
	}
	return ""
}

// need is what a value must be, in the template's words.
func (p Parameter) need() string {
	if p.ConstraintDescription != "" {
		return p.ConstraintDescription
	}
	if p.Description != "" {
		return p.Description
	}
	if p.AllowedPattern != "" {
		return "a value matching " + p.AllowedPattern
	}
	return "a value"
}

// evalBool evaluates a rule's condition or assertion: Fn::Equals,
// Fn::Not, Fn::And, Fn::Or, Fn::Contains over parameter references and
// literals, in short (!Equals) or long ({"Fn::Equals": ...}) form.
func evalBool(n *yaml.Node, values map[string]string) (bool, error) {
	fn, args, err := function(n)
	if err != nil {
		return false, err
	}
	switch fn {
	case "Fn::Equals":
		if len(args) != 2 {
			return false, errors.New("Fn::Equals takes two values")
		}
		a, err := evalString(args[0], values)
		if err != nil {
			return false, err
		}
		b, err := evalString(args[1], values)
		return a == b, err
	case "Fn::Not":
		if len(args) != 1 {
			return false, errors.New("Fn::Not takes one condition")
		}
		v, err := evalBool(args[0], values)
		return !v, err
	case "Fn::And", "Fn::Or":
		all := fn == "Fn::And"
		result := all
		for _, a := range args {
			v, err := evalBool(a, values)
			if err != nil {
				return false, err
			}
			if all {
				result = result && v
			} else {
				result = result || v
			}
		}
		return result, nil
	case "Fn::Contains":
		if len(args) != 2 || args[0].Kind != yaml.SequenceNode {
			return false, errors.New("Fn::Contains takes a list and a value")
		}
		v, err := evalString(args[1], values)
		if err != nil {
			return false, err
		}
		for _, item := range args[0].Content {
			s, err := evalString(item, values)
			if err != nil {
				return false, err
			}
			if s == v {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("%s is not a condition this check evaluates", fn)
}

func evalString(n *yaml.Node, values map[string]string) (string, error) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!Ref") {
		return ref(n.Value, values)
	}
	if n.Kind == yaml.ScalarNode && (strings.HasPrefix(n.Tag, "!!") || n.Tag == "") {
		return n.Value, nil // a plain YAML scalar, whatever its type
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Ref" {
		return ref(n.Content[1].Value, values)
	}
	return "", fmt.Errorf("a value this check cannot evaluate (line %d)", n.Line)
}

func ref(name string, values map[string]string) (string, error) {
	v, ok := values[name]
	if !ok {
		return "", fmt.Errorf("Ref %s: not a parameter", name)
	}
	return v, nil
}

// function splits an intrinsic function node into its name and arguments.
func function(n *yaml.Node) (string, []*yaml.Node, error) {
	switch {
	case n == nil:
		return "", nil, errors.New("an empty condition")
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") && n.Tag != "!Ref":
		name := "Fn::" + strings.TrimPrefix(n.Tag, "!")
		if n.Kind == yaml.SequenceNode {
			return name, n.Content, nil
		}
		return name, []*yaml.Node{{Kind: yaml.ScalarNode, Value: n.Value}}, nil
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && strings.HasPrefix(n.Content[0].Value, "Fn::"):
		v := n.Content[1]
		if v.Kind == yaml.SequenceNode {
			return n.Content[0].Value, v.Content, nil
		}
		return n.Content[0].Value, []*yaml.Node{v}, nil
	}
	return "", nil, fmt.Errorf("not an intrinsic condition (line %d)", n.Line)
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func lookupValue(m *yaml.Node, key string) string {
	if v := lookup(m, key); v != nil {
		return v.Value
	}
	return ""
}

// closest is the name nearest to s (edit distance at most a third of it),
// or "".
func closest(s string, names []string) string {
	best, bestD := "", len(s)/3+1
	for _, n := range names {
		if d := distance(strings.ToLower(s), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
