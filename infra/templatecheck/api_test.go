package templatecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// openAPI is the API's definition body as the stack deploys it.
func openAPI(t *testing.T) map[string]any {
	t.Helper()
	api := transformed(t).Resources["LoginApi"]
	if api.Type != "AWS::ApiGateway::RestApi" {
		t.Fatalf("LoginApi is %q", api.Type)
	}
	body, _ := api.Properties["Body"].(map[string]any)
	if body == nil {
		t.Fatal("LoginApi has no definition body")
	}
	return body
}

func loginIntegration(t *testing.T) map[string]any {
	t.Helper()
	in, _ := at(openAPI(t), "paths", localapi.LoginPath, "post", "x-amazon-apigateway-integration").(map[string]any)
	if in == nil {
		t.Fatalf("no integration for POST %s", localapi.LoginPath)
	}
	return in
}

const testStateMachineARN = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:kakaoauth-login"

// requestTemplate is the login integration's application/json request
// template, with the Fn::Sub of the state machine ARN done.
func requestTemplate(t *testing.T) string {
	t.Helper()
	tpls, _ := loginIntegration(t)["requestTemplates"].(map[string]any)
	if got := slices.Sorted(maps.Keys(tpls)); !slices.Equal(got, []string{"application/json"}) {
		t.Fatalf("request templates for %v, want application/json only", got)
	}
	sub, ok := at(tpls, "application/json", "Fn::Sub").(string)
	if !ok {
		t.Fatal("the request template is not an Fn::Sub of the state machine ARN")
	}
	if !strings.Contains(sub, "${LoginStateMachine}") {
		t.Fatal("the request template does not name LoginStateMachine")
	}
	return strings.ReplaceAll(sub, "${LoginStateMachine}", testStateMachineARN)
}

// responseTemplate is the login integration's response template, as
// deployed with CorsAllowedOrigins at its default (none).
func responseTemplate(t *testing.T) string {
	t.Helper()
	return responseTemplateFor(t, "")
}

// responseTemplateFor is the response template as deployed with
// CorsAllowedOrigins=origins.
func responseTemplateFor(t *testing.T, origins string) string {
	t.Helper()
	responses, _ := loginIntegration(t)["responses"].(map[string]any)
	if got := slices.Sorted(maps.Keys(responses)); !slices.Equal(got, []string{"default"}) {
		// Other selection patterns would bypass the mapping below.
		t.Fatalf("integration responses %v, want only default", got)
	}
	if at(responses, "default", "statusCode") != "200" {
		t.Fatalf("default integration response status %v", at(responses, "default", "statusCode"))
	}
	return withOrigins(t, at(responses, "default", "responseTemplates", "application/json"), origins)
}

// localInput is the execution input the local endpoint builds for body and
// userAgent: what the request template must build too.
func localInput(t *testing.T, body, userAgent, sourceIP string) map[string]any {
	t.Helper()
	var got json.RawMessage
	h := localapi.New(localapi.ExecutorFunc(func(_ context.Context, in json.RawMessage) (localapi.Result, error) {
		got = in
		return localapi.Result{Status: localapi.StatusSucceeded, Output: json.RawMessage(`{}`)}, nil
	}), nil)
	req := httptest.NewRequest(http.MethodPost, localapi.LoginPath, strings.NewReader(body))
	req.RemoteAddr = sourceIP + ":4711"
	req.Header.Set("User-Agent", userAgent)
	h.ServeHTTP(httptest.NewRecorder(), req)
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("local input %s: %v", got, err)
	}
	return m
}

// maxExecutionInput is StartSyncExecution's limit on its input (256 KiB).
const maxExecutionInput = 256 << 10

// The request template builds exactly the execution input the local
// endpoint builds, for bodies that break naive escaping: quotes of both
// kinds (escapeJavaScript's \' is not JSON), backslashes, slashes, every
// control character, Korean, emoji, text that is not JSON at all (the
// workflow, not the template, judges the body), the empty body, and bodies
// around the contract's 16 KiB: up to 16384 characters the body is
// carried (the workflow counts bytes and refuses what is over 16 KiB),
// beyond it only flagged, so that no body makes StartSyncExecution's input
// pass 256 KiB (the case: a valid body padded with whitespace).
func TestRequestTemplateBuildsTheLocalInput(t *testing.T) {
	tpl := requestTemplate(t)
	var controls strings.Builder
	for c := rune(0); c < 0x20; c++ {
		controls.WriteRune(c)
	}
	controls.WriteString("\x7f\u0085\u2028\u2029")
	padded := func(n int, pad string) string {
		head := `{"access_token":"abc"}`
		return head + strings.Repeat(pad, (n-len(head))/len(pad))
	}
	bodies := []string{
		`{"access_token":"abc"}`,
		`{"access_token":"a'b\"c\\d/e"}`,
		`{"id_token":"x.y.z","nonce":"n'\u0027\\'"}`,
		"{\"access_token\":\"line\nbreak\ttab\r\u0001\"}",
		`{"access_token":"토큰 😀 é"}`,
		"{\"access_token\":\"" + controls.String() + "\"}",
		controls.String(),
		`'single quoted'`,
		`\'`,
		`\\'`,
		`</script><script>alert(1)</script>`,
		`$input.body #set($x = 1) ${x}`,
		``,
		padded(workflow.MaxBodyBytes, " "),           // carried: the limit itself
		padded(workflow.MaxBodyBytes+1, " "),         // flagged
		strings.Repeat("한", workflow.MaxBodyBytes),   // carried (the workflow refuses its 49152 bytes)
		strings.Repeat("한", workflow.MaxBodyBytes+1), // flagged
		strings.Repeat(`"`, workflow.MaxBodyBytes),   // carried: the longest escaping of all
		strings.Repeat("😀", workflow.MaxBodyBytes/2), // carried: two UTF-16 units each
		strings.Repeat("😀", workflow.MaxBodyBytes/2+1),
		padded(150<<10, " \n\t"), // the issue's: past 256 KiB once escaped twice
		padded(2<<20, " "),
	}
	agents := []string{"KakaoDemo/1.0", `Mozilla/5.0 ("quoted") it's \ odd`, "", "앱/1.0 😀 \x01\t"}
	steps := workflow.New()
	for i, body := range bodies {
		ua := agents[i%len(agents)]
		name := body
		if len(name) > 40 {
			name = fmt.Sprintf("%.40q… (%d bytes)", body, len(body))
		}
		v := &vtl{body: body, context: map[string]any{
			"requestId": "7f1e1c1a-0000-4000-8000-000000000001",
			"identity":  map[string]any{"sourceIp": "198.51.100.7", "userAgent": nilIfEmpty(ua)},
		}}
		out, err := v.render(tpl)
		if err != nil {
			t.Fatal(err)
		}
		var req struct {
			StateMachineArn string `json:"stateMachineArn"`
			Input           string `json:"input"`
		}
		if err := json.Unmarshal([]byte(out), &req); err != nil {
			t.Fatalf("body %s: the StartSyncExecution request is not JSON: %v\n%.300s", name, err, out)
		}
		if req.StateMachineArn != testStateMachineARN {
			t.Fatalf("stateMachineArn %q", req.StateMachineArn)
		}
		if len(req.Input) > maxExecutionInput {
			t.Errorf("body %s: execution input of %d bytes, StartSyncExecution takes at most %d", name, len(req.Input), maxExecutionInput)
		}
		var input map[string]any
		if err := json.Unmarshal([]byte(req.Input), &input); err != nil {
			t.Fatalf("body %s: the execution input is not JSON: %v\n%.300s", name, err, req.Input)
		}
		want := localInput(t, body, ua, "198.51.100.7")
		if rid := at(input, "context", "requestId"); rid != "7f1e1c1a-0000-4000-8000-000000000001" {
			t.Fatalf("requestId %v", rid)
		}
		// The local endpoint makes its own request id.
		delete(at(input, "context").(map[string]any), "requestId")
		delete(at(want, "context").(map[string]any), "requestId")
		gotJSON, _ := json.Marshal(input)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Fatalf("body %s, user agent %q:\n API input %.600s\nlocal input %.600s", name, ua, gotJSON, wantJSON)
		}
		// And the input decodes into what ValidateToken reads: the body
		// itself up to 16384 characters, a flag beyond, which ValidateToken
		// refuses as an invalid request before anything else.
		var vin workflow.ValidateTokenInput
		if err := json.Unmarshal([]byte(req.Input), &vin); err != nil {
			t.Fatal(err)
		}
		carried := javaLength(body) <= workflow.MaxBodyBytes
		if carried && (vin.Body != body || vin.Oversized) || !carried && (vin.Body != "" || !vin.Oversized) {
			t.Fatalf("body %s: ValidateToken would read body %.40q, oversized %v", name, vin.Body, vin.Oversized)
		}
		if len(body) > workflow.MaxBodyBytes {
			_, err := steps.ValidateToken(context.Background(), vin)
			if kakaoauth.ErrorName(err) != "InvalidRequest" {
				t.Errorf("body %s: ValidateToken answers %v, want InvalidRequest", name, err)
			}
		}
	}
}

// javaLength is a body's length as the template's $input.body.length()
// counts it: UTF-16 units.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// API Gateway gives $context.identity.userAgent as null when there is no
// User-Agent header.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type httpAnswer struct {
	status int
	body   map[string]any
}

func localAnswer(t *testing.T, res localapi.Result) httpAnswer {
	t.Helper()
	h := localapi.New(localapi.ExecutorFunc(func(context.Context, json.RawMessage) (localapi.Result, error) { return res, nil }), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, localapi.LoginPath, strings.NewReader(`{"access_token":"x"}`)))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("local answer %s: %v", rec.Body, err)
	}
	return httpAnswer{rec.Code, body}
}

// apiAnswer renders the response template over a StartSyncExecution
// response body.
func apiAnswer(t *testing.T, tpl string, sfnResponse map[string]any) (httpAnswer, string) {
	t.Helper()
	raw, _ := json.Marshal(sfnResponse)
	v := &vtl{body: string(raw), context: map[string]any{}}
	out, err := v.render(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(out), &body); err != nil {
		t.Fatalf("response for %v is not JSON: %v\n%s", sfnResponse, err, out)
	}
	status := v.status
	if status == 0 {
		status = http.StatusOK // the integration response's statusCode
	}
	return httpAnswer{status, body}, out
}

// The response template answers every execution result exactly as the
// local endpoint does, and so as errors.go's outcome table says: each
// public error name with its status and fixed message, anything else 500,
// a timed-out execution 504, a success 200 with the output as the body.
// The execution's cause and input never reach the client.
func TestResponseTemplateMirrorsLocalAPI(t *testing.T) {
	tpl := responseTemplate(t)
	const secret = "SECRET-cause-or-input"
	cases := []localapi.Result{
		{Status: localapi.StatusSucceeded, Output: json.RawMessage(`{"id_token":"i","access_token":"a","refresh_token":"r","expires_in":3600,"token_type":"Bearer","sub":"s","username":"kakao_1","new_user":true}`)},
		{Status: localapi.StatusTimedOut},
		{Status: "ABORTED"},
		{Status: localapi.StatusFailed, Error: "Lambda.Unknown"},
		{Status: localapi.StatusFailed, Error: "States.Runtime"},
		{Status: localapi.StatusFailed, Error: "PasswordRotated"},
		{Status: localapi.StatusFailed, Error: ""},
	}
	names := kakaoauth.PublicErrorNames()
	slices.Sort(names)
	for _, n := range names {
		cases = append(cases, localapi.Result{Status: localapi.StatusFailed, Error: n})
	}
	for _, c := range cases {
		sfn := map[string]any{"status": c.Status, "cause": secret, "input": secret, "executionArn": "arn:aws:states:::execution:x:y"}
		if c.Error != "" {
			sfn["error"] = c.Error
		}
		if c.Output != nil {
			sfn["output"] = string(c.Output)
		}
		got, raw := apiAnswer(t, tpl, sfn)
		want := localAnswer(t, c)
		gotJSON, _ := json.Marshal(got.body)
		wantJSON, _ := json.Marshal(want.body)
		if got.status != want.status || string(gotJSON) != string(wantJSON) {
			t.Errorf("%s %q: API answers %d %s, local endpoint %d %s", c.Status, c.Error, got.status, gotJSON, want.status, wantJSON)
		}
		if strings.Contains(raw, secret) {
			t.Errorf("%s %q: the execution's cause or input reached the client", c.Status, c.Error)
		}
		if c.Status == localapi.StatusFailed && c.Error != "" {
			o := kakaoauth.OutcomeOf(c.Error)
			if got.status != o.Status || got.body["error"] != o.Code || got.body["message"] != o.Message {
				t.Errorf("%s: API answers %d %v, errors.go says %d %s %q", c.Error, got.status, got.body, o.Status, o.Code, o.Message)
			}
		}
	}

	// StartSyncExecution itself refused (no execution ran): throttling is
	// the client's 429, anything else a 500.
	for errType, name := range map[string]string{
		"ThrottlingException": "Throttled",
		"com.amazonaws.swf.service.v2.model#ThrottlingException": "Throttled",
		"AccessDeniedException":                                  "",
		"StateMachineDoesNotExist":                               "",
	} {
		got, _ := apiAnswer(t, tpl, map[string]any{"__type": errType, "message": secret})
		o := kakaoauth.OutcomeOf(name)
		if got.status != o.Status || got.body["error"] != o.Code || got.body["message"] != o.Message {
			t.Errorf("StartSyncExecution %s: API answers %d %v, want %d %s", errType, got.status, got.body, o.Status, o.Code)
		}
	}
}

// The answers API Gateway gives itself (before or instead of the
// workflow), rendered by the engine: each has the contract's error shape
// and its status for its error code (InvalidRequest 400, Throttled 429,
// Timeout 504, internal 500, and NotFound 404 for a route or method the API
// lacks), the defaults included, whatever status API Gateway would have
// chosen; and the ones the local endpoint can meet (a non-JSON body, a
// body past API Gateway's 10 MB, a method or route the API lacks) it
// answers the same.
func TestGatewayResponses(t *testing.T) {
	responses, _ := openAPI(t)["x-amazon-apigateway-gateway-responses"].(map[string]any)
	outcome := func(name string) httpAnswer {
		o := kakaoauth.OutcomeOf(name)
		return httpAnswer{o.Status, map[string]any{"error": o.Code, "message": o.Message}}
	}
	invalid := outcome("InvalidRequest")
	notFound := httpAnswer{http.StatusNotFound, map[string]any{"error": "NotFound", "message": "No such route."}}
	want := map[string]httpAnswer{
		// Request model validation fails here: same answer as the workflow's.
		"BAD_REQUEST_BODY":             invalid,
		"BAD_REQUEST_PARAMETERS":       invalid,
		"REQUEST_TOO_LARGE":            invalid,
		"UNSUPPORTED_MEDIA_TYPE":       invalid,
		"THROTTLED":                    outcome("Throttled"),
		"QUOTA_EXCEEDED":               outcome("Throttled"),
		"INTEGRATION_TIMEOUT":          outcome(kakaoauth.ErrorTimeout),
		"INTEGRATION_FAILURE":          outcome(""),
		"MISSING_AUTHENTICATION_TOKEN": notFound,
		// An authorizer's refusal: the unlink callback's, and GET /me's
		// (EnableMeRoute; appintegration_test.go); the unlink authorizer's
		// Deny of a source outside KakaoCallbackSourceCidrs.
		"UNAUTHORIZED":  {kakaoauth.UnauthorizedOutcome.Status, map[string]any{"error": kakaoauth.UnauthorizedOutcome.Code, "message": kakaoauth.UnauthorizedOutcome.Message}},
		"ACCESS_DENIED": {kakaoauth.ForbiddenOutcome.Status, map[string]any{"error": kakaoauth.ForbiddenOutcome.Code, "message": kakaoauth.ForbiddenOutcome.Message}},
		"DEFAULT_4XX":   invalid,
		"DEFAULT_5XX":   outcome(""),
	}
	if got := slices.Sorted(maps.Keys(responses)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("gateway responses %v, want %v", got, slices.Sorted(maps.Keys(want)))
	}
	api := make(map[string]httpAnswer, len(responses))
	for name, w := range want {
		r := responses[name]
		tpl, _ := at(r, "responseTemplates", "application/json").(string)
		out, err := (&vtl{context: map[string]any{}}).render(tpl)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(out), &body); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		status := 0
		if s, ok := at(r, "statusCode").(string); ok {
			status = atoi(s)
		}
		api[name] = httpAnswer{status, body}
		gotJSON, _ := json.Marshal(body)
		wantJSON, _ := json.Marshal(w.body)
		if status != w.status || string(gotJSON) != string(wantJSON) {
			t.Errorf("%s: %d %s, want %d %s", name, status, gotJSON, w.status, wantJSON)
		}
	}

	exec := localapi.ExecutorFunc(func(context.Context, json.RawMessage) (localapi.Result, error) {
		t.Error("the local endpoint ran the workflow for a request API Gateway refuses itself")
		return localapi.Result{}, nil
	})
	mux := localapi.Mux(localapi.New(exec, nil), nil)
	huge := `{"access_token":"x"}` + strings.Repeat(" ", localapi.MaxPayloadBytes)
	for _, c := range []struct {
		response, method, path, contentType, body string
	}{
		{"UNSUPPORTED_MEDIA_TYPE", http.MethodPost, localapi.LoginPath, "text/plain", `{"access_token":"x"}`},
		{"UNSUPPORTED_MEDIA_TYPE", http.MethodPost, localapi.LoginPath, "application/x-www-form-urlencoded", "access_token=x"},
		{"UNSUPPORTED_MEDIA_TYPE", http.MethodPost, localapi.LoginPath, "application/jsonp", `{"access_token":"x"}`},
		{"REQUEST_TOO_LARGE", http.MethodPost, localapi.LoginPath, "application/json", huge},
		{"MISSING_AUTHENTICATION_TOKEN", http.MethodGet, localapi.LoginPath, "", ""},
		{"MISSING_AUTHENTICATION_TOKEN", http.MethodPut, localapi.LoginPath, "application/json", `{}`},
		{"MISSING_AUTHENTICATION_TOKEN", http.MethodPost, "/auth/kakao/extra", "application/json", `{}`},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("local answer %s: %v", rec.Body, err)
		}
		got, _ := json.Marshal(httpAnswer{rec.Code, body}.body)
		w, _ := json.Marshal(api[c.response].body)
		if rec.Code != api[c.response].status || string(got) != string(w) {
			t.Errorf("%s %s %s: local endpoint %d %s, API Gateway (%s) %d %s", c.method, c.path, c.contentType, rec.Code, got, c.response, api[c.response].status, w)
		}
	}
	for _, ct := range []string{"", "application/json", "application/json; charset=utf-8", "Application/JSON"} {
		if !localapi.JSONContentType(ct) {
			t.Errorf("Content-Type %q: the local endpoint refuses what API Gateway's application/json template takes", ct)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// POST /auth/kakao is an AWS integration with StartSyncExecution (no
// Lambda in front), using the API role, refusing other content types, with
// a request model that admits exactly the fields of workflow.LoginRequest;
// the unlink routes are Lambda proxy integrations of UnlinkFunction, which
// API Gateway may invoke for exactly those routes.
func TestRoutes(t *testing.T) {
	tpl := transformed(t)
	body := openAPI(t)
	paths, _ := body["paths"].(map[string]any)
	// GET /me is there only with EnableMeRoute (appintegration_test.go).
	if got := slices.Sorted(maps.Keys(paths)); !slices.Equal(got, []string{localapi.LoginPath, workflow.LinkPath, workflow.UnlinkPath, localapi.MePath}) {
		t.Fatalf("paths %v", got)
	}
	if at(paths, localapi.MePath, "Fn::If", 0) != "MeRouteEnabled" {
		t.Fatalf("%s is not conditional on EnableMeRoute", localapi.MePath)
	}
	// OPTIONS is the CORS preflight (cors_test.go).
	if got := slices.Sorted(maps.Keys(paths[localapi.LoginPath].(map[string]any))); !slices.Equal(got, []string{"options", "post"}) {
		t.Errorf("%s methods %v", localapi.LoginPath, got)
	}

	in := loginIntegration(t)
	uri, _ := at(in, "uri", "Fn::Sub").(string)
	checks := map[string][2]any{
		"type":        {in["type"], "aws"},
		"http method": {in["httpMethod"], "POST"},
		"passthrough": {in["passthroughBehavior"], "never"},
		"credentials": {name(in["credentials"]), "ApiRole"},
		"uri":         {uri, "arn:${AWS::Partition}:apigateway:${AWS::Region}:states:action/StartSyncExecution"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("login integration %s: %v, want %v", what, c[0], c[1])
		}
	}
	if n, _ := in["timeoutInMillis"].(float64); n <= 25000 || n > 29000 {
		t.Errorf("integration timeout %v ms: want above the state machine's 25 s, at most API Gateway's 29 s", in["timeoutInMillis"])
	}

	post := at(paths, localapi.LoginPath, "post")
	validator, _ := at(post, "x-amazon-apigateway-request-validator").(string)
	if validator == "" || at(body, "x-amazon-apigateway-request-validators", validator, "validateRequestBody") != true {
		t.Errorf("POST %s has no body validator", localapi.LoginPath)
	}
	ref, _ := at(post, "requestBody", "content", "application/json", "schema", "$ref").(string)
	schema := at(body, "components", "schemas", strings.TrimPrefix(ref, "#/components/schemas/"))
	props, _ := at(schema, "properties").(map[string]any)
	if got := slices.Sorted(maps.Keys(props)); !slices.Equal(got, jsonTags(workflow.LoginRequest{})) {
		t.Errorf("request model properties %v, workflow.LoginRequest has %v", got, jsonTags(workflow.LoginRequest{}))
	}
	if at(schema, "additionalProperties") != false || at(schema, "minProperties") != 1.0 || at(post, "requestBody", "required") != true {
		t.Errorf("request model %v", schema)
	}
	for p, v := range props {
		if at(v, "type") != "string" || at(v, "maxLength") == nil {
			t.Errorf("request model %s: %v", p, v)
		}
	}

	for _, method := range []string{"get", "post"} {
		u := at(paths, workflow.UnlinkPath, method, "x-amazon-apigateway-integration")
		if at(u, "type") != "aws_proxy" || !strings.Contains(at(u, "uri", "Fn::Sub").(string), "${UnlinkFunction.Arn}") {
			t.Errorf("%s %s integration %v", strings.ToUpper(method), workflow.UnlinkPath, u)
		}
		found := false
		for _, r := range tpl.Resources {
			src, _ := at(r.Properties, "SourceArn", "Fn::Sub", 0).(string)
			if s, ok := at(r.Properties, "SourceArn", "Fn::Sub").(string); ok {
				src = s
			}
			if r.Type == "AWS::Lambda::Permission" && name(r.Properties["FunctionName"]) == "UnlinkFunction" &&
				(strings.HasSuffix(src, "/"+strings.ToUpper(method)+workflow.UnlinkPath) || strings.HasSuffix(src, "${LoginApi}/*/*"+workflow.UnlinkPath)) {
				found = true
			}
		}
		if !found {
			t.Errorf("API Gateway may not invoke UnlinkFunction for %s %s", strings.ToUpper(method), workflow.UnlinkPath)
		}
		// Kakao's admin key is checked before the webhook, and the route
		// is authenticated as SAM's guided deploy sees it
		// (samcli/commands/deploy/auth_utils.py: a "security" on the path).
		if sec := fmt.Sprint(at(paths, workflow.UnlinkPath, method, "security")); sec != "[map[KakaoAdminKey:[] api_key:[]]]" {
			t.Errorf("%s %s security %s, want the KakaoAdminKey authorizer", strings.ToUpper(method), workflow.UnlinkPath, sec)
		}
	}
	if post := at(paths, localapi.LoginPath, "post", "security"); post != nil {
		t.Errorf("POST %s has security %v: the login takes no credential but the Kakao token", localapi.LoginPath, post)
	}
	scheme := at(body, "components", "securitySchemes", "KakaoAdminKey")
	authz := at(scheme, "x-amazon-apigateway-authorizer")
	authzURI, _ := at(authz, "authorizerUri", "Fn::Sub").(string)
	ttl, _ := at(authz, "authorizerResultTtlInSeconds").(float64)
	if at(scheme, "x-amazon-apigateway-authtype") != "custom" || at(authz, "type") != "request" ||
		!strings.HasPrefix(at(authz, "identitySource").(string), "method.request.header.Authorization") || !strings.Contains(authzURI, "${UnlinkAuthorizerFunction.Arn}") ||
		ttl <= 0 || ttl > 300 {
		t.Errorf("KakaoAdminKey authorizer %v", scheme)
	}
	perm := tpl.Resources["UnlinkAuthorizerInvokePermission"]
	if src, _ := at(perm.Properties, "SourceArn", "Fn::Sub").(string); perm.Type != "AWS::Lambda::Permission" ||
		name(perm.Properties["FunctionName"]) != "UnlinkAuthorizerFunction" || at(perm.Properties, "Principal") != "apigateway.amazonaws.com" ||
		!strings.HasSuffix(src, "/authorizers/*") {
		t.Errorf("UnlinkAuthorizerInvokePermission %v", perm.Properties)
	}

	// The linking endpoints: Lambda proxy integrations of LinkFunction,
	// which answers CORS itself.
	for _, method := range []string{"post", "delete", "options"} {
		u := at(paths, workflow.LinkPath, method, "x-amazon-apigateway-integration")
		if at(u, "type") != "aws_proxy" || !strings.Contains(at(u, "uri", "Fn::Sub").(string), "${LinkFunction.Arn}") {
			t.Errorf("%s %s integration %v", strings.ToUpper(method), workflow.LinkPath, u)
		}
		found := false
		for _, r := range tpl.Resources {
			src, _ := at(r.Properties, "SourceArn", "Fn::Sub", 0).(string)
			if r.Type == "AWS::Lambda::Permission" && name(r.Properties["FunctionName"]) == "LinkFunction" &&
				strings.HasSuffix(src, "/"+strings.ToUpper(method)+workflow.LinkPath) {
				found = true
			}
		}
		if !found {
			t.Errorf("API Gateway may not invoke LinkFunction for %s %s", strings.ToUpper(method), workflow.LinkPath)
		}
	}

	api := tpl.Resources["LoginApi"]
	if at(api.Properties, "EndpointConfiguration", "Types", 0) != "REGIONAL" {
		t.Errorf("API endpoint %v", api.Properties["EndpointConfiguration"])
	}
	// Access logging needs the account's CloudWatch role before the stage.
	if api.DependsOn != "ApiGatewayLoggingReady" {
		t.Errorf("LoginApi DependsOn %v", api.DependsOn)
	}
}
