package asl

import (
	"errors"
	"strconv"
	"strings"
)

// jsonPath is the JSONPath subset the executor implements: $ or $$,
// then any number of .name, ['name'] and [index] steps. Wildcards,
// recursive descent, filters, slices and negative indexes are refused at
// Load: each of those returns a list in Step Functions, with semantics
// this executor does not reproduce.
type jsonPath struct {
	src     string
	context bool // $$: the context object
	steps   []step
}

// step is one path step: a key, or an index when index >= 0.
type step struct {
	key   string
	index int
}

func parsePath(src string) (*jsonPath, error) {
	p := &jsonPath{src: src}
	s := src
	switch {
	case strings.HasPrefix(s, "$$"):
		p.context = true
		s = s[2:]
	case strings.HasPrefix(s, "$"):
		s = s[1:]
	default:
		return nil, errors.New("a path must start with $")
	}
	for s != "" {
		switch s[0] {
		case '.':
			s = s[1:]
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			name := s[:end]
			if name == "" {
				return nil, errors.New("empty name or recursive descent (..) is not supported")
			}
			if strings.ContainsAny(name, "*]'\"()@?$,: \t") {
				return nil, errors.New("unsupported character in " + strconv.Quote(name) + " (use ['name'] for unusual names; wildcards and filters are not supported)")
			}
			p.steps = append(p.steps, step{key: name, index: -1})
			s = s[end:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, errors.New("unclosed [")
			}
			inner := s[1:end]
			s = s[end+1:]
			if len(inner) >= 2 && inner[0] == '\'' && inner[len(inner)-1] == '\'' {
				name := inner[1 : len(inner)-1]
				if name == "" || strings.ContainsRune(name, '\'') {
					return nil, errors.New("unsupported bracket name [" + inner + "]")
				}
				p.steps = append(p.steps, step{key: name, index: -1})
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 || strconv.Itoa(n) != inner {
				return nil, errors.New("unsupported subscript [" + inner + "]: only ['name'] and non-negative [index]")
			}
			p.steps = append(p.steps, step{index: n})
		default:
			return nil, errors.New("unexpected " + strconv.Quote(s[:1]))
		}
	}
	return p, nil
}

// hasIndex reports whether the path steps into an array.
func (p *jsonPath) hasIndex() bool {
	for _, s := range p.steps {
		if s.index >= 0 {
			return true
		}
	}
	return false
}

// bracketed spells the path the way Step Functions' causes do: $['a'][0].
func (p *jsonPath) bracketed() string {
	var b strings.Builder
	if p.context {
		b.WriteString("$$")
	} else {
		b.WriteString("$")
	}
	for _, s := range p.steps {
		if s.index >= 0 {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		} else {
			b.WriteString("['" + s.key + "']")
		}
	}
	return b.String()
}

// lookup follows the path from root; false when any step is missing.
func (p *jsonPath) lookup(root any) (any, bool) {
	cur := root
	for _, s := range p.steps {
		if s.index >= 0 {
			arr, ok := cur.([]any)
			if !ok || s.index >= len(arr) {
				return nil, false
			}
			cur = arr[s.index]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok := m[s.key]
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, true
}

var errResultPath = errors.New("result path does not fit the input")

// setPath returns a copy of root with v stored at the key steps, creating
// missing objects on the way. It copies only the maps on the path: values
// are never mutated once built, so sharing the rest is safe.
func setPath(root any, steps []step, v any) (any, error) {
	if len(steps) == 0 {
		return v, nil
	}
	m, ok := root.(map[string]any)
	if !ok {
		return nil, errResultPath
	}
	s := steps[0]
	child, exists := m[s.key]
	if !exists && len(steps) > 1 {
		child = map[string]any{}
	}
	nv, err := setPath(child, steps[1:], v)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[s.key] = nv
	return out, nil
}

// ioPath is an InputPath, OutputPath or ResultPath field: absent means $,
// null has each field's own meaning.
type ioPath struct {
	null bool
	p    *jsonPath
}

// filter applies InputPath or OutputPath: null gives {}, a missing path
// is States.Runtime.
func (f ioPath) filter(field string, v any) (any, *failure) {
	if f.null {
		return map[string]any{}, nil
	}
	if f.p == nil || len(f.p.steps) == 0 {
		return v, nil
	}
	out, ok := f.p.lookup(v)
	if !ok {
		return nil, runtimeFailure("Invalid path '%s' in %s: No results for path: %s", f.p.src, field, f.p.bracketed())
	}
	return out, nil
}

// merge applies ResultPath: null keeps the raw input, $ replaces it,
// anything else stores the result inside a copy of the raw input.
func (f ioPath) merge(raw, result any) (any, *failure) {
	if f.null {
		return raw, nil
	}
	if f.p == nil || len(f.p.steps) == 0 {
		return result, nil
	}
	out, err := setPath(raw, f.p.steps, result)
	if err != nil {
		return nil, &failure{name: ErrorResultPathMatchFailure, cause: "Unable to apply ResultPath '" + f.p.src + "' to the state input: a step on the path is not an object"}
	}
	return out, nil
}
