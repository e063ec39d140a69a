package templatecheck

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// vtl evaluates the subset of API Gateway's Velocity mapping templates that
// template.yaml uses, line by line: #set, #if/#elseif/#else/#end and ##
// comments each on their own line; conditions joined by && and negated by
// !; references such as $x, $!x, $input.path('$.field'), $input.body,
// $input.params().header.get('Name'), $context.a.b,
// $util.escapeJavaScript(...), the string methods replaceAll and
// contains, and double-quoted literals with references in them. Anything
// else is an error, so a template that grows beyond this subset fails the
// tests instead of being misread.
type vtl struct {
	// payload is the JSON body $input.path reads (the integration response).
	payload map[string]any
	// body is $input.body (the method request's raw body).
	body string
	// params is $input.params(): the method request's "header",
	// "querystring" and "path" maps.
	params  map[string]any
	context map[string]any
	vars    map[string]any
	// status is $context.responseOverride.status; 0 when not set.
	status int
	// headers are the $context.responseOverride.header.<name> set.
	headers map[string]string
}

func (v *vtl) render(tpl string) (string, error) {
	if v.vars == nil {
		v.vars = map[string]any{}
	}
	type frame struct{ active, taken, parentActive bool }
	var stack []frame
	active := func() bool { return len(stack) == 0 || stack[len(stack)-1].active }
	var out strings.Builder
	for n, line := range strings.Split(tpl, "\n") {
		trim := strings.TrimSpace(line)
		fail := func(err error) (string, error) { return "", fmt.Errorf("line %d %q: %w", n+1, trim, err) }
		switch {
		case strings.HasPrefix(trim, "##"):
		case strings.HasPrefix(trim, "#set("):
			if !active() {
				continue
			}
			if err := v.set(directiveArg(trim, "#set")); err != nil {
				return fail(err)
			}
		case strings.HasPrefix(trim, "#if("):
			parent := active()
			c := false
			if parent {
				var err error
				if c, err = v.cond(directiveArg(trim, "#if")); err != nil {
					return fail(err)
				}
			}
			stack = append(stack, frame{active: parent && c, taken: c, parentActive: parent})
		case strings.HasPrefix(trim, "#elseif("):
			if len(stack) == 0 {
				return fail(fmt.Errorf("#elseif without #if"))
			}
			top := &stack[len(stack)-1]
			top.active = false
			if top.parentActive && !top.taken {
				c, err := v.cond(directiveArg(trim, "#elseif"))
				if err != nil {
					return fail(err)
				}
				top.active, top.taken = c, c
			}
		case trim == "#else":
			if len(stack) == 0 {
				return fail(fmt.Errorf("#else without #if"))
			}
			top := &stack[len(stack)-1]
			top.active = top.parentActive && !top.taken
			top.taken = true
		case trim == "#end":
			if len(stack) == 0 {
				return fail(fmt.Errorf("#end without #if"))
			}
			stack = stack[:len(stack)-1]
		case strings.HasPrefix(trim, "#"):
			return fail(fmt.Errorf("directive not supported by this evaluator"))
		default:
			if !active() {
				continue
			}
			s, err := v.interpolate(line)
			if err != nil {
				return fail(err)
			}
			out.WriteString(s + "\n")
		}
	}
	if len(stack) != 0 {
		return "", fmt.Errorf("%d #if without #end", len(stack))
	}
	return out.String(), nil
}

// directiveArg is what is between "#name(" and the closing ")".
func directiveArg(line, name string) string {
	s := strings.TrimPrefix(line, name+"(")
	if !strings.HasSuffix(s, ")") {
		return "\x00" // unparsable: the parser reports it
	}
	return strings.TrimSuffix(s, ")")
}

func (v *vtl) set(arg string) error {
	p := &vtlParser{s: arg, v: v}
	path, err := p.lhs()
	if err != nil {
		return err
	}
	p.space()
	if !p.eat("=") {
		return fmt.Errorf("#set without =")
	}
	val, err := p.expr()
	if err != nil {
		return err
	}
	if err := p.end(); err != nil {
		return err
	}
	if strings.Join(path, ".") == "context.responseOverride.status" {
		n, ok := val.(int)
		if !ok {
			return fmt.Errorf("status override %v is not a number", val)
		}
		v.status = n
		return nil
	}
	if len(path) == 4 && strings.Join(path[:3], ".") == "context.responseOverride.header" {
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("header override %v is not a string", val)
		}
		if v.headers == nil {
			v.headers = map[string]string{}
		}
		v.headers[path[3]] = s
		return nil
	}
	if len(path) != 1 {
		return fmt.Errorf("#set of $%s not supported", strings.Join(path, "."))
	}
	// Velocity leaves the variable as it was when the value is null.
	if val != nil {
		v.vars[path[0]] = val
	}
	return nil
}

// cond evaluates comparison (&& comparison)*, where a comparison is
// [!]expr [(== | !=) expr]. Every operand is evaluated (Velocity would
// stop at the first false one; these operands have no side effects).
func (v *vtl) cond(arg string) (bool, error) {
	p := &vtlParser{s: arg, v: v}
	result := true
	for {
		c, err := p.comparison()
		if err != nil {
			return false, err
		}
		result = result && c
		p.space()
		if !p.eat("&&") {
			break
		}
	}
	return result, p.end()
}

func (p *vtlParser) comparison() (bool, error) {
	p.space()
	if p.eat("!") && !strings.HasPrefix(p.s[p.i:], "=") {
		c, err := p.comparison()
		return !c, err
	}
	left, err := p.expr()
	if err != nil {
		return false, err
	}
	p.space()
	switch {
	case p.eat("=="), p.eat("!="):
		neg := p.s[p.i-2:p.i] == "!="
		right, err := p.expr()
		if err != nil {
			return false, err
		}
		result := left != nil && right != nil && fmt.Sprint(left) == fmt.Sprint(right)
		if neg {
			result = !result
		}
		return result, nil
	default:
		b, isBool := left.(bool)
		return left != nil && (!isBool || b), nil
	}
}

// interpolate replaces the references in a text line.
func (v *vtl) interpolate(line string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(line); {
		c := line[i]
		if strings.HasPrefix(line[i:], "${") || strings.HasPrefix(line[i:], "$!{") {
			return "", fmt.Errorf("${...} references not supported")
		}
		if c != '$' || i+1 >= len(line) || !(isIdentStart(line[i+1]) || line[i+1] == '!') {
			out.WriteByte(c)
			i++
			continue
		}
		p := &vtlParser{s: line, i: i, v: v}
		quiet := strings.HasPrefix(line[i:], "$!")
		val, err := p.reference()
		if err != nil {
			return "", err
		}
		switch {
		case val != nil:
			out.WriteString(fmt.Sprint(val))
		case !quiet:
			// Velocity prints an unresolved reference as written.
			out.WriteString(line[i:p.i])
		}
		i = p.i
	}
	return out.String(), nil
}

type vtlParser struct {
	s string
	i int
	v *vtl
}

func (p *vtlParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *vtlParser) eat(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *vtlParser) end() error {
	p.space()
	if p.i != len(p.s) {
		return fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	return nil
}

func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isIdent(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' || c == '-' }

func (p *vtlParser) ident() (string, error) {
	start := p.i
	if p.i >= len(p.s) || !isIdentStart(p.s[p.i]) {
		return "", fmt.Errorf("identifier expected at %q", p.s[p.i:])
	}
	for p.i < len(p.s) && isIdent(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], nil
}

// lhs parses the reference a #set assigns to.
func (p *vtlParser) lhs() ([]string, error) {
	p.space()
	if !p.eat("$") {
		return nil, fmt.Errorf("#set target must be a reference")
	}
	var path []string
	for {
		id, err := p.ident()
		if err != nil {
			return nil, err
		}
		path = append(path, id)
		if !p.eat(".") {
			return path, nil
		}
	}
}

func (p *vtlParser) expr() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("expression expected")
	}
	switch c := p.s[p.i]; {
	case c == '$':
		return p.reference()
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.s[p.i+1:], c)
		if end < 0 {
			return nil, fmt.Errorf("unterminated string")
		}
		lit := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		if c == '"' {
			// Velocity interpolates references in double quotes.
			return p.v.interpolate(lit)
		}
		return lit, nil
	case '0' <= c && c <= '9':
		start := p.i
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
		}
		return strconv.Atoi(p.s[start:p.i])
	default:
		return nil, fmt.Errorf("unexpected %q", p.s[p.i:])
	}
}

// root objects of a reference.
type (
	inputObj struct{}
	utilObj  struct{}
)

// reference parses and evaluates $[!]name(.name | .method(args))*; a
// property of a text line ends where the next character cannot continue it.
func (p *vtlParser) reference() (any, error) {
	if !p.eat("$") {
		return nil, fmt.Errorf("reference expected")
	}
	p.eat("!")
	if p.i < len(p.s) && p.s[p.i] == '{' {
		return nil, fmt.Errorf("${...} references not supported")
	}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	var cur any
	switch name {
	case "input":
		cur = inputObj{}
	case "util":
		cur = utilObj{}
	case "context":
		cur = p.v.context
	default:
		cur = p.v.vars[name]
	}
	for p.i+1 < len(p.s) && p.s[p.i] == '.' && isIdentStart(p.s[p.i+1]) {
		p.i++
		member, _ := p.ident()
		if p.eat("(") {
			var args []any
			for {
				p.space()
				if p.eat(")") {
					break
				}
				a, err := p.expr()
				if err != nil {
					return nil, err
				}
				args = append(args, a)
				p.space()
				p.eat(",")
			}
			if cur, err = p.v.call(cur, member, args); err != nil {
				return nil, err
			}
			continue
		}
		switch c := cur.(type) {
		case inputObj:
			if member != "body" {
				return nil, fmt.Errorf("$input.%s not supported", member)
			}
			cur = p.v.body
		case map[string]any:
			cur = c[member]
		case nil:
		default:
			return nil, fmt.Errorf("property %s of %T not supported", member, cur)
		}
	}
	return cur, nil
}

func (v *vtl) call(recv any, method string, args []any) (any, error) {
	str := func(i int) (string, bool) {
		if i >= len(args) {
			return "", false
		}
		s, ok := args[i].(string)
		return s, ok
	}
	switch r := recv.(type) {
	case inputObj:
		if method == "params" && len(args) == 0 {
			if v.params == nil {
				return map[string]any{}, nil
			}
			return v.params, nil
		}
		path, ok := str(0)
		if method != "path" || !ok || len(args) != 1 {
			return nil, fmt.Errorf("$input.%s(%v) not supported", method, args)
		}
		field, ok := strings.CutPrefix(path, "$.")
		if !ok || strings.ContainsAny(field, ".[*") {
			return nil, fmt.Errorf("JSONPath %q not supported", path)
		}
		return v.payload[field], nil
	case utilObj:
		if method != "escapeJavaScript" || len(args) != 1 {
			return nil, fmt.Errorf("$util.%s not supported", method)
		}
		if args[0] == nil {
			return nil, nil
		}
		s, ok := str(0)
		if !ok {
			return nil, fmt.Errorf("escapeJavaScript of %T", args[0])
		}
		return escapeJavaScript(s), nil
	case string:
		switch method {
		case "replaceAll":
			re, ok1 := str(0)
			repl, ok2 := str(1)
			if !ok1 || !ok2 || len(args) != 2 || strings.ContainsAny(repl, `$\`) {
				return nil, fmt.Errorf("replaceAll(%v) not supported", args)
			}
			rx, err := regexp.Compile(re)
			if err != nil {
				return nil, err
			}
			return rx.ReplaceAllLiteralString(r, repl), nil
		case "contains":
			s, ok := str(0)
			if !ok || len(args) != 1 {
				return nil, fmt.Errorf("contains(%v) not supported", args)
			}
			return strings.Contains(r, s), nil
		}
		return nil, fmt.Errorf("string method %s not supported", method)
	case map[string]any:
		key, ok := str(0)
		if method != "get" || !ok || len(args) != 1 {
			return nil, fmt.Errorf("map method %s(%v) not supported", method, args)
		}
		return r[key], nil
	case nil:
		// A method of a null reference is null, as in Velocity.
		return nil, nil
	}
	return nil, fmt.Errorf("method %s of %T not supported", method, recv)
}

// escapeJavaScript is API Gateway's $util.escapeJavaScript, which is
// Apache Commons Lang's StringEscapeUtils.escapeJavaScript: ' " \ / get a
// backslash, \b \t \n \f \r their short escapes, other control characters
// and everything outside ASCII \uXXXX (per UTF-16 unit, upper-case hex).
func escapeJavaScript(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		switch {
		case u > 0x7f:
			fmt.Fprintf(&b, `\u%04X`, u)
		case u < 0x20:
			switch u {
			case '\b':
				b.WriteString(`\b`)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\f':
				b.WriteString(`\f`)
			case '\r':
				b.WriteString(`\r`)
			default:
				fmt.Fprintf(&b, `\u%04X`, u)
			}
		case u == '\'' || u == '"' || u == '\\' || u == '/':
			b.WriteByte('\\')
			b.WriteByte(byte(u))
		default:
			b.WriteByte(byte(u))
		}
	}
	return b.String()
}

// The evaluator itself is tested, so that a template test cannot pass
// because the evaluator is wrong.
func TestVTLEvaluator(t *testing.T) {
	tpl := strings.Join([]string{
		"## comment",
		"#set($a = $input.path('$.a'))",
		"#set($missing = $input.path('$.none'))",
		"#set($keep = 'kept')",
		"#set($keep = $input.path('$.none'))",
		"#if($a == 'x')",
		"#if($a == 'y')",
		"wrong",
		"#else",
		"A=$a $keep [$!missing] [$missing] $context.identity.sourceIp.",
		"#end",
		"#elseif($a == 'x')",
		"wrong again",
		"#else",
		"wrong else",
		"#end",
		"#if($missing.contains('x'))",
		"wrong: a method of null is null",
		"#elseif($input.body.contains('b'))",
		"#set($context.responseOverride.status = 418)",
		`$util.escapeJavaScript($input.body).replaceAll("\\'", "'")`,
		"#end",
	}, "\n")
	v := &vtl{payload: map[string]any{"a": "x"}, body: `b'"\/`, context: map[string]any{"identity": map[string]any{"sourceIp": "192.0.2.1"}}}
	got, err := v.render(tpl)
	if err != nil {
		t.Fatal(err)
	}
	want := "A=x kept [] [$missing] 192.0.2.1.\n" + `b'\"\\\/` + "\n"
	if got != want || v.status != 418 {
		t.Fatalf("got %q status %d, want %q status 418", got, v.status, want)
	}
	for _, bad := range []string{"#foreach($x in $y)\n#end", "#if($a == 'x')", "${a}", "#set($a.b = 1)", "$input.path('$.a.b')"} {
		if _, err := (&vtl{}).render(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestEscapeJavaScript(t *testing.T) {
	cases := map[string]string{
		`a'b"c\d/e`:  `a\'b\"c\\d\/e`,
		"\b\t\n\f\r": `\b\t\n\f\r`,
		"\x01\x1f":   `\u0001\u001F`,
		"é한":         `\u00E9\uD55C`,
		"😀":          `\uD83D\uDE00`,
		"plain text": "plain text",
	}
	for in, want := range cases {
		if got := escapeJavaScript(in); got != want {
			t.Errorf("escapeJavaScript(%q) = %q, want %q", in, got, want)
		}
	}
}

// The parts the CORS lines use: $input.params(), map get, header
// overrides, && and !, and references inside double quotes.
func TestVTLEvaluatorConditionsAndHeaders(t *testing.T) {
	tpl := strings.Join([]string{
		`#set($list = ",a,b,")`,
		`#set($o = '')`,
		`#set($o = $input.params().header.get('Missing'))`,
		`#set($o = $input.params().header.get('Origin'))`,
		`#if($o != '' && !$o.contains(',') && $list.contains(",$o,"))`,
		`#set($context.responseOverride.header.X-Hit = $o)`,
		`#end`,
		`#if(!$o.contains('b') && $o == 'b')`,
		`wrong: && of a false operand`,
		`#elseif(!$nothing)`,
		`"$o" and "$nothing" and '$o'`,
		`#end`,
	}, "\n")
	v := &vtl{params: map[string]any{"header": map[string]any{"Origin": "b"}}}
	got, err := v.render(tpl)
	if err != nil {
		t.Fatal(err)
	}
	// (A text line resolves references whatever quotes are around them.)
	if got != `"b" and "$nothing" and 'b'`+"\n" || v.headers["X-Hit"] != "b" || len(v.headers) != 1 {
		t.Fatalf("got %q, headers %v", got, v.headers)
	}
	for _, origin := range []string{"c", "a,b", ""} {
		v := &vtl{params: map[string]any{"header": map[string]any{"Origin": origin}}}
		if _, err := v.render(tpl); err != nil || len(v.headers) != 0 {
			t.Errorf("origin %q: headers %v (%v)", origin, v.headers, err)
		}
	}
	// A literal keeps its text: only references in double quotes resolve.
	v = &vtl{vars: map[string]any{"x": "1"}}
	if got, err := v.render(`#set($y = "[$x]")` + "\n" + `#set($z = '[$x]')` + "\n$y $z"); err != nil || got != "[1] [$x]\n" {
		t.Fatalf("literals: %q %v", got, err)
	}
	if _, err := (&vtl{}).render(`#set($context.responseOverride.header.X = 1)`); err == nil {
		t.Error("a header override that is not a string was accepted")
	}
}
