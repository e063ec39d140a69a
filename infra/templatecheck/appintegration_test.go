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
	"sync"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/shared/cognitojwt"
)

// The app-integration options, each both ways, as CloudFormation would
// create the stack (sam_translate.py --resolve-conditions; make lint runs
// cfn-lint on the same combinations, lint-combos.txt): GET /me behind a
// Cognito user-pool authorizer (EnableMeRoute), and the identity pool
// (EnableIdentityPool).

// ownPrefix is the one prefix of the bucket an identity's credentials
// reach: its own, by the identity pool's policy variable.
const ownPrefix = "sub:${UserFilesBucket.Arn}/private/${!cognito-identity.amazonaws.com:sub}/*"

var (
	meRouteParams      = []string{"EnableMeRoute=true"}
	identityPoolParams = []string{"EnableIdentityPool=true"}
	identityResources  = []string{"IdentityPool", "IdentityPoolRoles", "IdentityAuthenticatedRole", "UserFilesBucket", "UserFilesBucketPolicy"}
)

// stacks caches the resolved stacks by parameters: each translation costs
// seconds, and the tests only read them.
var stacks sync.Map // string -> cfn

func stackWith(t *testing.T, params ...[]string) cfn {
	t.Helper()
	all := slices.Clone(requiredParams)
	for _, p := range params {
		all = append(all, p...)
	}
	key := strings.Join(all, " ")
	if tpl, ok := stacks.Load(key); ok {
		return tpl.(cfn)
	}
	tpl := mustResolve(t, all...).tpl
	stacks.Store(key, tpl)
	return tpl
}

func apiBody(t *testing.T, tpl cfn) map[string]any {
	t.Helper()
	body, _ := tpl.Resources["LoginApi"].Properties["Body"].(map[string]any)
	if body == nil {
		t.Fatal("LoginApi has no definition body")
	}
	return body
}

// Off (the default): no route, no authorizer, no output.
func TestMeRouteOff(t *testing.T) {
	tpl := stackWith(t)
	body := apiBody(t, tpl)
	if _, ok := at(body, "paths").(map[string]any)[localapi.MePath]; ok {
		t.Errorf("%s exists with EnableMeRoute=false", localapi.MePath)
	}
	if got := slices.Sorted(maps.Keys(at(body, "components", "securitySchemes").(map[string]any))); !slices.Equal(got, []string{"KakaoAdminKey", "api_key"}) {
		t.Errorf("authorizers %v with EnableMeRoute=false: want the unlink callback's only (its authorizer and its usage plan's key)", got)
	}
	if _, ok := tpl.Outputs["MeUrl"]; ok {
		t.Error("output MeUrl with EnableMeRoute=false")
	}
}

// On: GET /me behind the pool's Cognito authorizer with no OAuth scopes
// (so the authorizer takes the ID token, whose claims carry
// custom:kakao_id), answered by a mock integration: no Lambda, no role.
func TestMeRouteOn(t *testing.T) {
	tpl := stackWith(t, meRouteParams)
	body := apiBody(t, tpl)
	get := at(body, "paths", localapi.MePath, "get")
	if got := slices.Sorted(maps.Keys(at(body, "paths", localapi.MePath).(map[string]any))); !slices.Equal(got, []string{"get", "options"}) {
		t.Fatalf("%s methods %v", localapi.MePath, got)
	}
	sec := at(get, "security")
	if fmt.Sprint(sec) != "[map[UserPoolIdToken:[]]]" {
		t.Errorf("GET /me security %v: want the user pool authorizer with no scopes (the ID token)", sec)
	}
	scheme := at(body, "components", "securitySchemes", "UserPoolIdToken")
	checks := map[string][2]any{
		"header":      {at(scheme, "name"), "Authorization"},
		"in":          {at(scheme, "in"), "header"},
		"auth type":   {at(scheme, "x-amazon-apigateway-authtype"), "cognito_user_pools"},
		"authorizer":  {at(scheme, "x-amazon-apigateway-authorizer", "type"), "cognito_user_pools"},
		"pools":       {fmt.Sprint(len(asList(at(scheme, "x-amazon-apigateway-authorizer", "providerARNs")))) + " " + name(at(scheme, "x-amazon-apigateway-authorizer", "providerARNs", 0)), "1 UserPool"},
		"integration": {at(get, "x-amazon-apigateway-integration", "type"), "mock"},
		"output":      {at(tpl.Outputs["MeUrl"], "Value", "Fn::Sub"), "https://${LoginApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1/me"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %v, want %v", what, c[0], c[1])
		}
	}
	for id, r := range tpl.Resources {
		if r.Type == "AWS::Lambda::Permission" && strings.Contains(fmt.Sprint(r.Properties), "/me") {
			t.Errorf("%s lets a Lambda serve /me", id)
		}
	}
}

func meTemplate(t *testing.T, tpl cfn, method, origins string) string {
	t.Helper()
	in := at(apiBody(t, tpl), "paths", localapi.MePath, method, "x-amazon-apigateway-integration")
	if got := slices.Sorted(maps.Keys(at(in, "responses").(map[string]any))); !slices.Equal(got, []string{"default"}) {
		t.Fatalf("%s /me integration responses %v", method, got)
	}
	return withOrigins(t, at(in, "responses", "default", "responseTemplates", "application/json"), origins)
}

// The mock's answer, rendered from the claims the authorizer passes, is
// what the local endpoint answers for a token with those claims: users
// with and without a Kakao account, and claims that break naive escaping.
func TestMeAnswerMirrorsLocalAPI(t *testing.T) {
	tpl := meTemplate(t, stackWith(t, meRouteParams), "get", "")
	for _, c := range []cognitojwt.Claims{
		{Sub: "0c7e1a2b-sub", Username: "kakao_4242", KakaoID: "4242"},
		{Sub: "9f00-native", Username: "jane.doe@example.com"},
		{Sub: "s", Username: `o'brien "q" \ </script> 한글 😀`, KakaoID: "9223372036854775807"},
	} {
		claims := map[string]any{"sub": c.Sub, "cognito:username": c.Username, "token_use": "id"}
		if c.KakaoID != "" {
			claims["custom:kakao_id"] = c.KakaoID
		}
		v := &vtl{body: "", context: map[string]any{"authorizer": map[string]any{"claims": claims}},
			params: map[string]any{"header": map[string]any{}, "querystring": map[string]any{}, "path": map[string]any{}}}
		out, err := v.render(tpl)
		if err != nil {
			t.Fatal(err)
		}
		var api any
		if err := json.Unmarshal([]byte(out), &api); err != nil {
			t.Fatalf("claims %v: the API answers %q, not JSON: %v", claims, out, err)
		}
		me := localapi.NewMe(claimsVerifier(c), nil)
		req := httptest.NewRequest(http.MethodGet, localapi.MePath, nil)
		req.Header.Set("Authorization", "token")
		rec := httptest.NewRecorder()
		me.ServeHTTP(rec, req)
		var local any
		_ = json.Unmarshal(rec.Body.Bytes(), &local)
		a, _ := json.Marshal(api)
		l, _ := json.Marshal(local)
		if rec.Code != http.StatusOK || v.status != 0 || string(a) != string(l) {
			t.Errorf("claims %v: API answers %s (status %d), local endpoint %d %s", claims, a, v.status, rec.Code, l)
		}
	}
}

type claimsVerifier cognitojwt.Claims

func (c claimsVerifier) Verify(context.Context, string, cognitojwt.Use) (cognitojwt.Claims, error) {
	return cognitojwt.Claims(c), nil
}

// GET /me and its preflight answer CORS as the local endpoint does.
func TestMeCORSMirrorsLocalAPI(t *testing.T) {
	stack := stackWith(t, meRouteParams)
	for _, list := range [][]string{nil, {"http://localhost:8090"}, {"https://app.example", "http://localhost:8090"}} {
		param := strings.Join(list, ",")
		get, preflight := meTemplate(t, stack, "get", param), meTemplate(t, stack, "options", param)
		for _, origin := range []string{"", "http://localhost:8090", "https://app.example", "https://evil.example", "http://localhost:8090,https://app.example"} {
			me := localapi.NewMe(claimsVerifier{Sub: "s", Username: "u"}, nil, list...)
			for method, tpl := range map[string]string{http.MethodGet: get, http.MethodOptions: preflight} {
				req := httptest.NewRequest(method, localapi.MePath, nil)
				req.Header.Set("Authorization", "token")
				if origin != "" {
					req.Header.Set("Origin", origin)
				}
				rec := httptest.NewRecorder()
				me.ServeHTTP(rec, req)
				want := corsHeaders(rec.Header())
				claims := map[string]any{"sub": "s", "cognito:username": "u"}
				got, _ := apiCORSWith(t, tpl, origin, map[string]any{"authorizer": map[string]any{"claims": claims}})
				if !maps.Equal(got, want) {
					t.Errorf("CorsAllowedOrigins=%q, %s /me from %q: API sets %v, local endpoint %v", param, method, origin, got, want)
				}
			}
		}
	}
}

func apiCORSWith(t *testing.T, tpl, origin string, context map[string]any) (map[string]string, string) {
	t.Helper()
	header := map[string]any{}
	if origin != "" {
		header["Origin"] = origin
	}
	v := &vtl{context: context, params: map[string]any{"header": header, "querystring": map[string]any{}, "path": map[string]any{}}}
	out, err := v.render(tpl)
	if err != nil {
		t.Fatal(err)
	}
	return maps.Clone(v.headers), out
}

// A token the authorizer refuses gets the UNAUTHORIZED gateway response;
// the local endpoint answers a refused or missing token the same.
func TestMeRefusalMirrorsLocalAPI(t *testing.T) {
	r := at(apiBody(t, stackWith(t, meRouteParams)), "x-amazon-apigateway-gateway-responses", "UNAUTHORIZED")
	out, err := (&vtl{context: map[string]any{}}).render(at(r, "responseTemplates", "application/json").(string))
	if err != nil {
		t.Fatal(err)
	}
	me := localapi.NewMe(claimsVerifier{}, nil)
	rec := httptest.NewRecorder()
	me.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, localapi.MePath, nil))
	if at(r, "statusCode") != fmt.Sprint(rec.Code) || !sameJSON(out, rec.Body.String()) || rec.Code != kakaoauth.UnauthorizedOutcome.Status {
		t.Errorf("API answers %v %s, local endpoint %d %s", at(r, "statusCode"), out, rec.Code, rec.Body)
	}
}

// Off (the default): none of the identity pool's resources or outputs.
func TestIdentityPoolOff(t *testing.T) {
	tpl := stackWith(t)
	for _, id := range identityResources {
		if _, ok := tpl.Resources[id]; ok {
			t.Errorf("%s exists with EnableIdentityPool=false", id)
		}
	}
	for _, id := range []string{"IdentityPoolId", "UserFilesBucketName"} {
		if _, ok := tpl.Outputs[id]; ok {
			t.Errorf("output %s with EnableIdentityPool=false", id)
		}
	}
}

// On: the user pool is the only provider (the stack's app client, and the
// hosted UI's when it is on), no guest access and no classic flow; only
// authenticated identities of this pool may assume the role; the role
// reaches only the identity's own prefix; the bucket is private,
// encrypted and TLS only.
func TestIdentityPoolOn(t *testing.T) {
	for _, hosted := range []bool{false, true} {
		params := [][]string{identityPoolParams}
		wantClients := []string{"UserPoolClient"}
		if hosted {
			params = append(params, hostedUiParams)
			wantClients = append(wantClients, "HostedUiClient")
		}
		tpl := stackWith(t, params...)
		pool := tpl.Resources["IdentityPool"].Properties
		var clients []string
		for _, p := range asList(pool["CognitoIdentityProviders"]) {
			if name(at(p, "ProviderName")) != `{"Fn::GetAtt":["UserPool","ProviderName"]}` || at(p, "ServerSideTokenCheck") != true {
				t.Errorf("provider %v", p)
			}
			clients = append(clients, name(at(p, "ClientId")))
		}
		if !slices.Equal(clients, wantClients) {
			t.Errorf("hosted UI %t: identity pool clients %v, want %v", hosted, clients, wantClients)
		}
		if pool["AllowUnauthenticatedIdentities"] != false || pool["AllowClassicFlow"] != false {
			t.Errorf("identity pool %v", pool)
		}
		roles := tpl.Resources["IdentityPoolRoles"].Properties
		if got := slices.Sorted(maps.Keys(at(roles, "Roles").(map[string]any))); !slices.Equal(got, []string{"authenticated"}) || name(at(roles, "Roles", "authenticated")) != "IdentityAuthenticatedRole" {
			t.Errorf("role attachment %v: want an authenticated role only", roles)
		}
		trust := asList(at(tpl.Resources["IdentityAuthenticatedRole"].Properties, "AssumeRolePolicyDocument", "Statement"))
		if len(trust) != 1 {
			t.Fatalf("trust %v", trust)
		}
		st := trust[0]
		want := map[string][2]any{
			"principal": {at(st, "Principal", "Federated"), "cognito-identity.amazonaws.com"},
			"action":    {at(st, "Action"), "sts:AssumeRoleWithWebIdentity"},
			"aud":       {name(at(st, "Condition", "StringEquals", "cognito-identity.amazonaws.com:aud")), "IdentityPool"},
			"amr":       {at(st, "Condition", "ForAnyValue:StringLike", "cognito-identity.amazonaws.com:amr"), "authenticated"},
			"list":      {fmt.Sprint(at(tpl.Resources["IdentityAuthenticatedRole"].Properties, "Policies", 0, "PolicyDocument", "Statement", 1, "Condition")), "map[StringLike:map[s3:prefix:[private/${cognito-identity.amazonaws.com:sub}/*]]]"},
		}
		for what, c := range want {
			if c[0] != c[1] {
				t.Errorf("role %s: %v, want %v", what, c[0], c[1])
			}
		}
		b := tpl.Resources["UserFilesBucket"].Properties
		if fmt.Sprint(b["PublicAccessBlockConfiguration"]) != "map[BlockPublicAcls:true BlockPublicPolicy:true IgnorePublicAcls:true RestrictPublicBuckets:true]" ||
			at(b, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm") != "AES256" ||
			at(b, "OwnershipControls", "Rules", 0, "ObjectOwnership") != "BucketOwnerEnforced" {
			t.Errorf("bucket %v", b)
		}
		deny := at(tpl.Resources["UserFilesBucketPolicy"].Properties, "PolicyDocument", "Statement", 0)
		if at(deny, "Effect") != "Deny" || at(deny, "Condition", "Bool", "aws:SecureTransport") != "false" {
			t.Errorf("bucket policy %v", deny)
		}
		for out, target := range map[string]string{"IdentityPoolId": "IdentityPool", "UserFilesBucketName": "UserFilesBucket"} {
			if got := name(tpl.Outputs[out]["Value"]); got != target {
				t.Errorf("output %s = %s", out, got)
			}
		}
	}
}
