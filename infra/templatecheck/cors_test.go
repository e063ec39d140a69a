package templatecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/infra/localapi"
)

// withOrigins is a template that is an Fn::Sub of CorsAllowedOrigins (and
// nothing else) as deployed with that parameter set to origins.
func withOrigins(t *testing.T, v any, origins string) string {
	t.Helper()
	sub, ok := at(v, "Fn::Sub").(string)
	if !ok {
		t.Fatalf("template %v is not an Fn::Sub of CorsAllowedOrigins", v)
	}
	out := strings.ReplaceAll(sub, "${CorsAllowedOrigins}", origins)
	if strings.Contains(out, "${") {
		t.Fatalf("template substitutes more than CorsAllowedOrigins:\n%s", out)
	}
	return out
}

func preflightTemplate(t *testing.T, origins string) string {
	t.Helper()
	in := at(openAPI(t), "paths", localapi.LoginPath, "options", "x-amazon-apigateway-integration")
	if at(in, "type") != "mock" {
		t.Fatalf("OPTIONS %s integration %v, want API Gateway's own answer (mock)", localapi.LoginPath, in)
	}
	if got := slices.Sorted(maps.Keys(at(in, "responses").(map[string]any))); !slices.Equal(got, []string{"default"}) {
		t.Fatalf("preflight integration responses %v", got)
	}
	if at(in, "responses", "default", "statusCode") != "204" {
		t.Fatalf("preflight status %v", at(in, "responses", "default", "statusCode"))
	}
	return withOrigins(t, at(in, "responses", "default", "responseTemplates", "application/json"), origins)
}

var corsHeaderNames = []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary"}

// localCORS is what the local endpoint answers for method from origin
// (headerKey is how the client spelled the header).
func localCORS(t *testing.T, origins []string, method, origin string) (int, map[string]string) {
	t.Helper()
	exec := localapi.ExecutorFunc(func(context.Context, json.RawMessage) (localapi.Result, error) {
		return localapi.Result{Status: localapi.StatusFailed, Error: "KakaoUnavailable"}, nil
	})
	h := localapi.New(exec, nil, localapi.WithAllowedOrigins(origins...))
	req := httptest.NewRequest(method, localapi.LoginPath, strings.NewReader(`{"access_token":"x"}`))
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, corsHeaders(rec.Header())
}

// corsHeaders are the CORS headers among h.
func corsHeaders(h http.Header) map[string]string {
	got := map[string]string{}
	for _, k := range corsHeaderNames {
		if v := h.Get(k); v != "" {
			got[k] = v
		}
	}
	return got
}

// apiCORS renders tpl for a request whose Origin header is spelled
// headerKey, and returns the headers it sets and its output.
func apiCORS(t *testing.T, tpl, headerKey, origin string, sfnResponse map[string]any) (map[string]string, string) {
	t.Helper()
	header := map[string]any{"Content-Type": "application/json"}
	if origin != "" {
		header[headerKey] = origin
	}
	raw, _ := json.Marshal(sfnResponse)
	v := &vtl{body: string(raw), context: map[string]any{},
		params: map[string]any{"header": header, "querystring": map[string]any{}, "path": map[string]any{}}}
	out, err := v.render(tpl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	maps.Copy(got, v.headers)
	return got, out
}

// The API answers CORS exactly as the local endpoint does: the POST's
// answers (success and every error) and the OPTIONS preflight carry
// Access-Control-Allow-Origin only for an Origin listed exactly in
// CorsAllowedOrigins, and nothing at all when the list is empty.
func TestCORSMirrorsLocalAPI(t *testing.T) {
	lists := [][]string{nil, {"http://localhost:8090"}, {"https://app.example", "http://localhost:8090"}}
	origins := []string{"", "http://localhost:8090", "https://app.example", "http://localhost:8091", "http://localhost:8090/",
		"https://localhost:8090", "http://localhost", "https://app.example.evil", "https://evil.app.example", "null",
		"http://localhost:8090,https://app.example", "*", "localhost:8090"}
	results := []map[string]any{
		{"status": "SUCCEEDED", "output": `{"sub":"s"}`},
		{"status": "FAILED", "error": "KakaoUnavailable", "cause": "x"},
		{"status": "TIMED_OUT"},
		{"__type": "ThrottlingException"},
	}
	for _, list := range lists {
		param := strings.Join(list, ",")
		post := responseTemplateFor(t, param)
		preflight := preflightTemplate(t, param)
		for _, origin := range origins {
			for _, key := range []string{"Origin", "origin"} { // HTTP/1.1 and HTTP/2 spellings
				_, wantPost := localCORS(t, list, http.MethodPost, origin)
				for _, res := range results {
					got, out := apiCORS(t, post, key, origin, res)
					if !maps.Equal(got, wantPost) {
						t.Errorf("CorsAllowedOrigins=%q, POST from %s %q (%v): API sets %v, local endpoint %v", param, key, origin, res["status"], got, wantPost)
					}
					// CORS changes headers only, never the body.
					_, plain := apiCORS(t, responseTemplate(t), key, origin, res)
					if out != plain {
						t.Errorf("CorsAllowedOrigins=%q: the body changed with CORS:\n%s\n%s", param, out, plain)
					}
				}
				got, _ := apiCORS(t, preflight, key, origin, nil)
				status, wantPreflight := localCORS(t, list, http.MethodOptions, origin)
				if !maps.Equal(got, wantPreflight) {
					t.Errorf("CorsAllowedOrigins=%q, OPTIONS from %s %q: API sets %v, local endpoint %v", param, key, origin, got, wantPreflight)
				}
				// Without origins the local endpoint has no OPTIONS (405)
				// while the API's answers 204; neither sends CORS headers.
				if len(list) > 0 && status != http.StatusNoContent {
					t.Errorf("local preflight status %d", status)
				}
			}
		}
	}
	// The allowed origin is echoed only for a listed one: spot checks of
	// what the comparison above covers.
	if got, _ := apiCORS(t, responseTemplateFor(t, "https://app.example,http://localhost:8090"), "Origin", "http://localhost:8090", results[0]); got["Access-Control-Allow-Origin"] != "http://localhost:8090" {
		t.Errorf("allowed origin: %v", got)
	}
	if got, _ := apiCORS(t, responseTemplateFor(t, ""), "Origin", "http://localhost:8090", results[0]); len(got) != 0 {
		t.Errorf("no CorsAllowedOrigins: headers %v", got)
	}
}

// The stack parameter takes exactly the origins the local endpoint takes.
func TestCORSParameter(t *testing.T) {
	p := transformed(t).Parameters["CorsAllowedOrigins"]
	if p == nil || p["Default"] != "" || p["Type"] != "String" {
		t.Fatalf("CorsAllowedOrigins %v", p)
	}
	want := "^(" + localapi.OriginPattern + "(," + localapi.OriginPattern + ")*)?$"
	if p["AllowedPattern"] != want {
		t.Fatalf("AllowedPattern %v, want %s", p["AllowedPattern"], want)
	}
	re := regexp.MustCompile(want)
	for _, list := range []string{"", "http://localhost:8090", "https://app.example,http://localhost:8090", "http://localhost:8090/",
		"https://*.example", "http://a, http://b", "HTTP://A", "http://a,", `http://a"`, "http://a'b"} {
		_, err := localapi.ParseOrigins(list)
		// ParseOrigins trims spaces and ignores empty items; the parameter
		// is stricter about those and accepts nothing ParseOrigins refuses.
		if re.MatchString(list) && err != nil {
			t.Errorf("the parameter accepts %q, which the local endpoint refuses: %v", list, err)
		}
		if !re.MatchString(list) && err == nil && !strings.ContainsAny(list, " ") && !strings.HasSuffix(list, ",") {
			t.Errorf("the parameter refuses %q, which the local endpoint accepts", list)
		}
	}
	// Quotes and backslashes cannot reach the VTL string the list is put in.
	if re.MatchString(`http://a"`) || re.MatchString(`http://a\`) || re.MatchString("http://a'b") {
		t.Error("the parameter admits quotes")
	}
}

// resolve evaluates the intrinsic functions a gateway response uses, for a
// stack deployed with params; noValue marks AWS::NoValue.
type noValue struct{}

func resolve(t *testing.T, v any, params map[string]string, conds map[string]any) any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Ref":
			if arg == "AWS::NoValue" {
				return noValue{}
			}
			p, ok := params[arg.(string)]
			if !ok {
				t.Fatalf("Ref %v", arg)
			}
			return p
		case "Fn::If":
			c := resolve(t, conds[args[0].(string)], params, conds)
			if c == true {
				return resolve(t, args[1], params, conds)
			}
			return resolve(t, args[2], params, conds)
		case "Fn::Not":
			return !resolve(t, args[0], params, conds).(bool)
		case "Fn::Equals":
			return resolve(t, args[0], params, conds) == resolve(t, args[1], params, conds)
		case "Fn::Select":
			list := resolve(t, args[1], params, conds).([]string)
			return list[int(args[0].(float64))]
		case "Fn::Split":
			return strings.Split(resolve(t, args[1], params, conds).(string), args[0].(string))
		case "Fn::Sub":
			s, vars := args[0].(string), args[1].(map[string]any)
			for k, val := range vars {
				s = strings.ReplaceAll(s, "${"+k+"}", fmt.Sprint(resolve(t, val, params, conds)))
			}
			return s
		}
	}
	return v
}

// API Gateway's own answers cannot look at the request's Origin: with
// CorsAllowedOrigins set they name its first origin (a browser on any
// other origin refuses them, as it must), and without it they carry no
// CORS header at all.
func TestGatewayResponsesCORS(t *testing.T) {
	tpl := transformed(t)
	responses, _ := openAPI(t)["x-amazon-apigateway-gateway-responses"].(map[string]any)
	if len(responses) == 0 {
		t.Fatal("no gateway responses")
	}
	for _, c := range []struct {
		origins string
		want    map[string]string
	}{
		{"", map[string]string{}},
		{"http://localhost:8090", map[string]string{"Access-Control-Allow-Origin": "'http://localhost:8090'", "Vary": "'Origin'"}},
		{"https://app.example,http://localhost:8090", map[string]string{"Access-Control-Allow-Origin": "'https://app.example'", "Vary": "'Origin'"}},
	} {
		params := map[string]string{"CorsAllowedOrigins": c.origins}
		for name, r := range responses {
			got := map[string]string{}
			for k, v := range at(r, "responseParameters").(map[string]any) {
				h, ok := strings.CutPrefix(k, "gatewayresponse.header.")
				if !ok {
					t.Errorf("%s: response parameter %s", name, k)
					continue
				}
				switch val := resolve(t, v, params, tpl.Conditions).(type) {
				case noValue:
				case string:
					got[h] = val
				default:
					t.Errorf("%s: %s resolves to %T", name, k, val)
				}
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("CorsAllowedOrigins=%q, %s: headers %v, want %v", c.origins, name, got, c.want)
			}
		}
	}
}
