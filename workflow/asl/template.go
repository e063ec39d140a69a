package asl

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// scope is what paths in a payload template read: $ is input, $$ the
// context object (built only when a template asks for it).
type scope struct {
	input   any
	context func() any
}

func (s scope) resolve(p *jsonPath) (any, bool) {
	if p.context {
		return p.lookup(s.context())
	}
	return p.lookup(s.input)
}

// tmpl is a compiled payload template (Parameters, ResultSelector).
type tmpl interface {
	eval(s scope) (any, *failure)
}

// literal is a template subtree with no .$ key: its value is shared by
// every evaluation, which is safe because values are never mutated.
type literal struct{ v any }

func (l literal) eval(scope) (any, *failure) { return l.v, nil }

type tmplField struct {
	name string
	path *jsonPath  // name.$ bound to a path
	fn   *intrinsic // name.$ bound to an intrinsic function
	sub  tmpl       // plain field
}

type tmplObject struct{ fields []tmplField }

func (o tmplObject) eval(s scope) (any, *failure) {
	out := make(map[string]any, len(o.fields))
	for _, f := range o.fields {
		switch {
		case f.path != nil:
			v, ok := s.resolve(f.path)
			if !ok {
				// Step Functions' cause also dumps the input; this one does not,
				// because inputs here may hold tokens.
				return nil, runtimeFailure("The JSONPath '%s' specified for the field '%s.$' could not be found in the input", f.path.src, f.name)
			}
			out[f.name] = v
		case f.fn != nil:
			v, fl := f.fn.eval(s)
			if fl != nil {
				return nil, fl
			}
			out[f.name] = v
		default:
			v, fl := f.sub.eval(s)
			if fl != nil {
				return nil, fl
			}
			out[f.name] = v
		}
	}
	return out, nil
}

type tmplArray struct{ items []tmpl }

func (a tmplArray) eval(s scope) (any, *failure) {
	out := make([]any, len(a.items))
	for i, it := range a.items {
		v, fl := it.eval(s)
		if fl != nil {
			return nil, fl
		}
		out[i] = v
	}
	return out, nil
}

// compileTemplate turns a decoded payload template into a tmpl, checking
// every .$ binding. allowContext says whether $$ paths may appear.
func compileTemplate(v any, allowContext bool) (tmpl, error) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		obj := tmplObject{}
		dynamic := false
		seen := map[string]bool{}
		for _, k := range keys {
			name, bound := strings.CutSuffix(k, ".$")
			if seen[name] {
				return nil, fmt.Errorf("field %q appears twice once .$ is stripped", name)
			}
			seen[name] = true
			f := tmplField{name: name}
			if bound {
				s, ok := x[k].(string)
				if !ok {
					return nil, fmt.Errorf("field %q must be a string (a path or an intrinsic function)", k)
				}
				switch {
				case strings.HasPrefix(s, "$"):
					p, err := parsePath(s)
					if err != nil {
						return nil, fmt.Errorf("field %q: path %q: %w", k, s, err)
					}
					if p.context && !allowContext {
						return nil, fmt.Errorf("field %q: the context object ($$) is not available here", k)
					}
					f.path = p
				case strings.HasPrefix(s, "States."):
					fn, err := parseIntrinsic(s, allowContext)
					if err != nil {
						return nil, fmt.Errorf("field %q: %w", k, err)
					}
					f.fn = fn
				default:
					return nil, fmt.Errorf("field %q must hold a path ($...) or an intrinsic function (States.*), not %q", k, s)
				}
				dynamic = true
			} else {
				sub, err := compileTemplate(x[k], allowContext)
				if err != nil {
					return nil, err
				}
				if _, lit := sub.(literal); !lit {
					dynamic = true
				}
				f.sub = sub
			}
			obj.fields = append(obj.fields, f)
		}
		if !dynamic {
			return literal{x}, nil
		}
		return obj, nil
	case []any:
		arr := tmplArray{items: make([]tmpl, len(x))}
		dynamic := false
		for i, it := range x {
			sub, err := compileTemplate(it, allowContext)
			if err != nil {
				return nil, err
			}
			if _, lit := sub.(literal); !lit {
				dynamic = true
			}
			arr.items[i] = sub
		}
		if !dynamic {
			return literal{x}, nil
		}
		return arr, nil
	default:
		return literal{v}, nil
	}
}

// dynString is a Fail state's ErrorPath or CausePath: a path or an
// intrinsic function that must yield a string.
type dynString struct {
	path *jsonPath
	fn   *intrinsic
}

func compileDynString(s string) (*dynString, error) {
	switch {
	case strings.HasPrefix(s, "$$"):
		return nil, errors.New("the context object ($$) is not supported here")
	case strings.HasPrefix(s, "$"):
		p, err := parsePath(s)
		if err != nil {
			return nil, err
		}
		return &dynString{path: p}, nil
	case strings.HasPrefix(s, "States."):
		fn, err := parseIntrinsic(s, false)
		if err != nil {
			return nil, err
		}
		return &dynString{fn: fn}, nil
	default:
		return nil, fmt.Errorf("%q is neither a path nor an intrinsic function", s)
	}
}

func (d *dynString) eval(s scope, field string) (string, *failure) {
	var v any
	if d.path != nil {
		var ok bool
		if v, ok = s.resolve(d.path); !ok {
			return "", runtimeFailure("Invalid path '%s' in %s: No results for path: %s", d.path.src, field, d.path.bracketed())
		}
	} else {
		var fl *failure
		if v, fl = d.fn.eval(s); fl != nil {
			return "", fl
		}
	}
	str, ok := v.(string)
	if !ok {
		return "", runtimeFailure("%s must resolve to a string", field)
	}
	return str, nil
}
