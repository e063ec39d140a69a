package templatecheck

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// vtl renders an API Gateway mapping template with a real Velocity engine:
// velocityjs under Node (vtl/render.js, installed by `make tools` from
// vtl/package-lock.json), given what API Gateway gives a template.
type vtl struct {
	// body is $input.body: the method request's body in a request
	// template, the integration's answer in a response template (which
	// $input.path and $input.json read).
	body string
	// params is $input.params(): the method request's "header",
	// "querystring" and "path" maps.
	params map[string]any
	// context is $context (requestId, identity, ...).
	context map[string]any
	// status is $context.responseOverride.status after rendering; 0 when
	// the template did not set it.
	status int
	// headers are the $context.responseOverride.header.<name> set.
	headers map[string]string
}

type engineRequest struct {
	Template string         `json:"template"`
	Body     string         `json:"body"`
	Params   map[string]any `json:"params,omitempty"`
	Context  map[string]any `json:"context,omitempty"`
	NullSet  string         `json:"nullSet"`
}

type engineAnswer struct {
	Output  string            `json:"output"`
	Status  *int              `json:"status"`
	Headers map[string]string `json:"headers"`
	Error   string            `json:"error"`
}

// engine is one Node process per test binary, rendering one request per
// line.
var engine struct {
	once sync.Once
	err  error
	mu   sync.Mutex
	in   io.WriteCloser
	out  *bufio.Reader
}

func startEngine() error {
	if _, err := os.Stat(filepath.Join("vtl", "node_modules", "velocityjs", "package.json")); err != nil {
		return fmt.Errorf("velocityjs is not installed in infra/templatecheck/vtl: run `make tools` (infra/install-tools.sh runs npm ci there): %v", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("node is not installed: run `make tools`: %v", err)
	}
	cmd := exec.Command(node, filepath.Join("vtl", "render.js"))
	cmd.Stderr = os.Stderr
	if engine.in, err = cmd.StdinPipe(); err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	engine.out = bufio.NewReaderSize(stdout, 1<<20)
	// The process ends with the test binary (its stdin closes).
	return cmd.Start()
}

func (e *engineRequest) run() (engineAnswer, error) {
	engine.once.Do(func() { engine.err = startEngine() })
	if engine.err != nil {
		return engineAnswer{}, engine.err
	}
	line, err := json.Marshal(e)
	if err != nil {
		return engineAnswer{}, err
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if _, err := engine.in.Write(append(line, '\n')); err != nil {
		return engineAnswer{}, fmt.Errorf("velocity engine: %w", err)
	}
	raw, err := engine.out.ReadBytes('\n')
	if err != nil {
		return engineAnswer{}, fmt.Errorf("velocity engine: %w", err)
	}
	var a engineAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return engineAnswer{}, fmt.Errorf("velocity engine answered %q: %w", raw, err)
	}
	if a.Error != "" {
		return a, fmt.Errorf("velocity: %s", a.Error)
	}
	return a, nil
}

// render renders tpl under both meanings of #set with a null value
// (Velocity 1.7 keeps the old value, 2.x assigns null; API Gateway does
// not say which it runs), which must agree, and records the status and
// headers the template set.
func (v *vtl) render(tpl string) (string, error) {
	var answers [2]engineAnswer
	for i, mode := range []string{"keep", "assign"} {
		a, err := (&engineRequest{Template: tpl, Body: v.body, Params: v.params, Context: v.context, NullSet: mode}).run()
		if err != nil {
			return "", err
		}
		answers[i] = a
	}
	k, a := answers[0], answers[1]
	if k.Output != a.Output || k.status() != a.status() || !maps.Equal(k.Headers, a.Headers) {
		return "", fmt.Errorf("the template depends on how #set treats null: Velocity 1.7 gives %q %d %v, 2.x %q %d %v",
			k.Output, k.status(), k.Headers, a.Output, a.status(), a.Headers)
	}
	v.status, v.headers = k.status(), k.Headers
	return k.Output, nil
}

func (a engineAnswer) status() int {
	if a.Status == nil {
		return 0
	}
	return *a.Status
}

// The engine and what render.js adds to it, so that a template test cannot
// pass because the harness is wrong: Velocity's own rules (a null
// reference prints as written unless quiet; #if/#elseif/#else; string
// literals keep backslashes), API Gateway's objects and Java's methods.
func TestVelocityEngine(t *testing.T) {
	tpl := strings.Join([]string{
		"## comment",
		"#set($a = $input.path('$.a'))",
		"#set($missing = $input.path('$.none'))",
		"#if($a == 'x')",
		"#if($a == 'y')",
		"wrong",
		"#else",
		"A=$a [$!missing] [$missing] $context.identity.sourceIp.",
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
		"#set($context.responseOverride.header.X-Hit = $a)",
		`$util.escapeJavaScript($input.path('$.b')).replaceAll("\\'", "'") $input.json('$.n') $input.path('$.n.k') $input.body.length()`,
		"#end",
	}, "\n")
	v := &vtl{body: `{"a":"x","b":"b'\"\\/","n":{"k":1}}`, context: map[string]any{"identity": map[string]any{"sourceIp": "192.0.2.1"}}}
	got, err := v.render(tpl)
	if err != nil {
		t.Fatal(err)
	}
	want := "A=x [] [$missing] 192.0.2.1.\n" + `b'\"\\\/ {"k":1} 1 35` + "\n"
	if got != want || v.status != 418 || v.headers["X-Hit"] != "x" {
		t.Fatalf("got %q status %d headers %v, want %q status 418", got, v.status, v.headers, want)
	}
	// Unparsable templates and methods the objects lack are errors, not
	// silent nulls.
	for _, bad := range []string{"#if($a == 'x')", "$input.body.split(',')", "$util.nope('x')", "$input.path('$.a[0]')"} {
		if _, err := (&vtl{body: `{"a":["x"]}`}).render(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	// A template whose result depends on #set's null rule is refused.
	if _, err := (&vtl{}).render("#set($o = '')\n#set($o = $input.params().header.get('Origin'))\n#if($o == '')empty#end"); err == nil {
		t.Error("a template that reads differently under Velocity 1.7 and 2.x was accepted")
	}
}

// $util.escapeJavaScript as API Gateway documents it (Commons Lang): it
// escapes the single quote, which JSON does not allow, hence the
// templates' replaceAll.
func TestEscapeJavaScript(t *testing.T) {
	cases := map[string]string{
		`a'b"c\d/e`:  `a\'b\"c\\d\/e`,
		"\b\t\n\f\r": `\b\t\n\f\r`,
		"\x01\x1f":   `\u0001\u001F`,
		"\x7f":       "\x7f",
		"é한":         `\u00E9\uD55C`,
		"😀":          `\uD83D\uDE00`,
		"plain text": "plain text",
	}
	for in, want := range cases {
		v := &vtl{params: map[string]any{"header": map[string]any{"X": in}}}
		got, err := v.render("$util.escapeJavaScript($input.params().header.get('X'))")
		if err != nil || got != want {
			t.Errorf("escapeJavaScript(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}
