package templatecheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
)

// The optional hosted UI (HostedUi), both ways: the stack CloudFormation
// would create for each choice, as sam_translate.py --resolve-conditions
// makes it (transformed, conditions decided, resources of false ones left
// out), linted by cfn-lint and read here.

var requiredParams = []string{"KakaoAppId=1001", "KakaoAppKeys=abcdef0123456789abcdef0123456789"}

// hostedUiParams turn the hosted UI on, as docs/hosted-ui.md's deploy does.
var hostedUiParams = []string{
	"HostedUi=enabled", "KakaoIdAttribute=mutable", "HostedUiDomainPrefix=kakaoauth-test",
	"HostedUiCallbackUrls=https://app.example.com/callback,http://localhost:8090/callback",
	"HostedUiSignOutUrls=https://app.example.com/",
	"KakaoRestApiKey=restkey0123456789", "KakaoClientSecretName=kakaoauth/kakao-client-secret",
}

// The hosted UI's resources and outputs: all or nothing.
var (
	hostedUiResources = []string{"UserPoolDomain", "KakaoIdentityProvider", "HostedUiClient",
		"PreSignUpFunction", "PreSignUpLogGroup", "PreSignUpRole", "PreSignUpPoolPolicy", "PreSignUpInvokePermission", "PreAuthPoolPolicy"}
	hostedUiOutputs = []string{"HostedUiClientId", "HostedUiDomainUrl", "HostedUiKakaoRedirectUri"}
)

type resolvedStack struct {
	tpl  cfn
	path string // the JSON, for cfn-lint
}

// resolveStack runs the translator for params (over the defaults) and resolves
// the conditions; a refusal (a rule, or the translator) is returned as
// its message.
func resolveStack(t *testing.T, params ...string) (*resolvedStack, string) {
	t.Helper()
	args := append([]string{"sam_translate.py", "--resolve-conditions", filepath.Join(root, "template.yaml")}, params...)
	cmd := exec.Command(pythonTool(t, "python3"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Sprintf("%v: %s", err, stderr.String())
	}
	r := &resolvedStack{path: filepath.Join(t.TempDir(), "stack.json")}
	if err := json.Unmarshal(stdout.Bytes(), &r.tpl); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.path, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return r, ""
}

func mustResolve(t *testing.T, params ...string) *resolvedStack {
	t.Helper()
	r, refused := resolveStack(t, params...)
	if r == nil {
		t.Fatalf("refused: %s", refused)
	}
	return r
}

func hostedOff(t *testing.T) *resolvedStack { return mustResolve(t, requiredParams...) }

func hostedOn(t *testing.T) *resolvedStack {
	return mustResolve(t, append(slices.Clone(requiredParams), hostedUiParams...)...)
}

// cfn-lint passes on the stack each choice makes (W2001 flags parameters
// only the resolved conditions used).
func TestHostedUiBothWaysLint(t *testing.T) {
	for what, r := range map[string]*resolvedStack{"off": hostedOff(t), "on": hostedOn(t)} {
		out, err := exec.Command(pythonTool(t, "cfn-lint"), "--ignore-checks", "W2001", "--", r.path).CombinedOutput()
		if err != nil {
			t.Errorf("cfn-lint, hosted UI %s: %v\n%s", what, err, out)
		}
	}
}

// Off (the default): nothing of it, the pool exactly as before (the
// PreAuthentication trigger only, custom:kakao_id immutable), no extra
// permission anywhere.
func TestHostedUiOff(t *testing.T) {
	tpl := hostedOff(t).tpl
	for _, id := range hostedUiResources {
		if _, ok := tpl.Resources[id]; ok {
			t.Errorf("%s exists with the hosted UI off", id)
		}
	}
	for _, id := range hostedUiOutputs {
		if _, ok := tpl.Outputs[id]; ok {
			t.Errorf("output %s exists with the hosted UI off", id)
		}
	}
	pool := tpl.Resources["UserPool"].Properties
	if lc, _ := pool["LambdaConfig"].(map[string]any); len(lc) != 1 || name(lc["PreAuthentication"]) != "PreAuthFunction" {
		t.Errorf("LambdaConfig %v", pool["LambdaConfig"])
	}
	if m := kakaoIDAttribute(t, pool)["Mutable"]; m != false {
		t.Errorf("custom:kakao_id Mutable %v by default", m)
	}
	for _, role := range []string{"PreAuthRole", "UnlinkWorkerRole"} {
		for _, g := range grants(t, tpl, role) {
			if strings.Contains(g, "DescribeUserPoolClient") || strings.Contains(g, "ProviderForUser") {
				t.Errorf("%s grants %s with the hosted UI off", role, g)
			}
		}
	}
}

func kakaoIDAttribute(t *testing.T, pool map[string]any) map[string]any {
	t.Helper()
	for _, a := range asList(pool["Schema"]) {
		if at(a, "Name") == "kakao_id" {
			return a.(map[string]any)
		}
	}
	t.Fatal("no kakao_id in the pool's schema")
	return nil
}

// clientType is an app client of the template as DescribeUserPoolClient
// would describe it, for the rule the PreAuthentication trigger applies.
func clientType(p map[string]any) *types.UserPoolClientType {
	c := &types.UserPoolClientType{}
	for _, v := range asList(p["SupportedIdentityProviders"]) {
		if s, ok := v.(string); ok {
			c.SupportedIdentityProviders = append(c.SupportedIdentityProviders, s)
		}
	}
	for _, v := range asList(p["ExplicitAuthFlows"]) {
		if s, ok := v.(string); ok {
			c.ExplicitAuthFlows = append(c.ExplicitAuthFlows, types.ExplicitAuthFlowsType(s))
		}
	}
	return c
}

// On: Kakao as the pool's OpenID Connect provider (the issuer, the REST
// API key as client id, the client secret only through a Secrets Manager
// dynamic reference, openid and the consent items, a mapping that can
// never write the email), a client that signs in only through it (the
// PreAuthentication trigger's rule says so of exactly this client, and
// not of the broker's), the PreSignUp trigger wired and allowed, the
// attribute mutable, the outputs.
func TestHostedUiOn(t *testing.T) {
	tpl := hostedOn(t).tpl
	for _, id := range hostedUiResources {
		if _, ok := tpl.Resources[id]; !ok {
			t.Errorf("no %s with the hosted UI on", id)
		}
	}
	pool := tpl.Resources["UserPool"].Properties
	if got := name(at(pool, "LambdaConfig", "PreSignUp")); got != "PreSignUpFunction" {
		t.Errorf("PreSignUp trigger %s", got)
	}
	if m := kakaoIDAttribute(t, pool)["Mutable"]; m != true {
		t.Errorf("custom:kakao_id Mutable %v with the hosted UI", m)
	}
	perm := tpl.Resources["PreSignUpInvokePermission"].Properties
	if name(perm["FunctionName"]) != "PreSignUpFunction" || perm["Principal"] != "cognito-idp.amazonaws.com" || name(perm["SourceArn"]) != "UserPool" {
		t.Errorf("PreSignUpInvokePermission %v", perm)
	}
	if d := tpl.Resources["UserPoolDomain"].Properties; name(d["Domain"]) != "HostedUiDomainPrefix" || name(d["UserPoolId"]) != "UserPool" {
		t.Errorf("domain %v", d)
	}

	idp := tpl.Resources["KakaoIdentityProvider"].Properties
	details, _ := idp["ProviderDetails"].(map[string]any)
	checks := map[string][2]any{
		"provider name":  {idp["ProviderName"], kakaoauth.HostedUIProvider},
		"provider type":  {idp["ProviderType"], "OIDC"},
		"client id":      {name(details["client_id"]), "KakaoRestApiKey"},
		"client secret":  {at(details, "client_secret", "Fn::Sub"), "{{resolve:secretsmanager:${KakaoClientSecretName}:SecretString}}"},
		"issuer":         {name(details["oidc_issuer"]), "KakaoAuthBaseUrl"},
		"scopes":         {at(details, "authorize_scopes", "Fn::Sub"), "openid ${HostedUiKakaoScopes}"},
		"userinfo":       {at(details, "attributes_url", "Fn::Sub"), "${KakaoApiBaseUrl}/v1/oidc/userinfo"},
		"authorize":      {at(details, "authorize_url", "Fn::Sub"), "${KakaoAuthBaseUrl}/oauth/authorize"},
		"token":          {at(details, "token_url", "Fn::Sub"), "${KakaoAuthBaseUrl}/oauth/token"},
		"jwks":           {at(details, "jwks_uri", "Fn::Sub"), "${KakaoAuthBaseUrl}/.well-known/jwks.json"},
		"default scopes": {tpl.Parameters["HostedUiKakaoScopes"]["Default"], "profile_nickname account_email"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("identity provider %s: %v, want %v", what, c[0], c[1])
		}
	}
	// Cognito re-applies the mapping to the linked user at every sign-in:
	// it must never reach what the broker guards.
	mapping, _ := idp["AttributeMapping"].(map[string]any)
	if got := slices.Sorted(maps.Keys(mapping)); !slices.Equal(got, []string{"nickname"}) {
		t.Errorf("attribute mapping %v, want the nickname only", mapping)
	}

	client := tpl.Resources["HostedUiClient"]
	cp := client.Properties
	if !cognito.FederatedOnly(clientType(cp)) {
		t.Errorf("the hosted-UI client is not federated-only: %v %v", cp["SupportedIdentityProviders"], cp["ExplicitAuthFlows"])
	}
	if fmt.Sprint(cp["SupportedIdentityProviders"]) != "["+kakaoauth.HostedUIProvider+"]" || !slices.Contains(asList(client.DependsOn), any("KakaoIdentityProvider")) {
		t.Errorf("client providers %v, depends on %v", cp["SupportedIdentityProviders"], client.DependsOn)
	}
	for what, c := range map[string][2]any{
		"flows":     {fmt.Sprint(cp["AllowedOAuthFlows"]), "[code]"},
		"scopes":    {fmt.Sprint(cp["AllowedOAuthScopes"]), "[openid email profile]"},
		"oauth":     {cp["AllowedOAuthFlowsUserPoolClient"], true},
		"secret":    {cp["GenerateSecret"], false},
		"callbacks": {fmt.Sprint(at(cp, "CallbackURLs", "Fn::Split")), `[, map[Ref:HostedUiCallbackUrls]]`},
		"sign-out":  {fmt.Sprint(at(cp, "LogoutURLs", "Fn::Split")), `[, map[Ref:HostedUiSignOutUrls]]`},
		"pool":      {name(cp["UserPoolId"]), "UserPool"},
	} {
		if c[0] != c[1] {
			t.Errorf("hosted-UI client %s: %v, want %v", what, c[0], c[1])
		}
	}
	// Without WriteAttributes Cognito lets a client write every writable
	// attribute, email and email_verified included: the list must be
	// there, and be exactly what the mapping writes.
	if got := fmt.Sprint(cp["WriteAttributes"]); got != "[nickname]" {
		t.Errorf("the hosted-UI client may write %s, want exactly [nickname], the mapping's attributes", got)
	}
	// The broker's client still offers no password or SRP sign-in of its own.
	broker := tpl.Resources["UserPoolClient"].Properties
	if cognito.FederatedOnly(clientType(broker)) || fmt.Sprint(broker["ExplicitAuthFlows"]) != "[ALLOW_ADMIN_USER_PASSWORD_AUTH ALLOW_REFRESH_TOKEN_AUTH]" ||
		broker["SupportedIdentityProviders"] != nil {
		t.Errorf("the broker's client: %v %v", broker["ExplicitAuthFlows"], broker["SupportedIdentityProviders"])
	}

	// The trigger learns its pool from its first event: only this pool may
	// invoke it.
	trigger := tpl.Resources["PreSignUpInvokePermission"].Properties
	if name(trigger["FunctionName"]) != "PreSignUpFunction" || name(trigger["SourceArn"]) != "UserPool" || trigger["Principal"] != "cognito-idp.amazonaws.com" {
		t.Errorf("PreSignUpInvokePermission %v", trigger)
	}
	// The functions whose code acts on the hosted UI are told (HostedUi).
	for _, fn := range []string{"PreAuthFunction", "UnlinkWorkerFunction", "PreSignUpFunction"} {
		if v := at(tpl.Resources[fn].Properties, "Environment", "Variables", "HOSTED_UI"); name(v) != "HostedUi" {
			t.Errorf("%s HOSTED_UI=%v", fn, v)
		}
	}
	// The permissions the hosted UI adds, where its code makes the calls.
	for role, want := range map[string]string{
		"PreAuthRole": "cognito-idp:DescribeUserPoolClient@UserPool", "UnlinkWorkerRole": "cognito-idp:AdminDisableProviderForUser@UserPool",
		"PreSignUpRole": "cognito-idp:AdminLinkProviderForUser@UserPool",
	} {
		if !slices.Contains(grants(t, tpl, role), want) {
			t.Errorf("%s lacks %s", role, want)
		}
	}

	base := "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"
	for k, want := range map[string]string{"HostedUiDomainUrl": base, "HostedUiKakaoRedirectUri": base + "/oauth2/idpresponse"} {
		if got := at(tpl.Outputs[k], "Value", "Fn::Sub"); got != want {
			t.Errorf("%s = %v, want %s", k, got, want)
		}
	}
	if got := name(tpl.Outputs["HostedUiClientId"]["Value"]); got != "HostedUiClient" {
		t.Errorf("HostedUiClientId = %s", got)
	}
}

// CloudFormation refuses an incomplete hosted UI before changing
// anything (the template's Rules), above all one on a pool whose
// custom:kakao_id is immutable.
func TestHostedUiRules(t *testing.T) {
	without := func(drop string) []string {
		var out []string
		for _, p := range append(slices.Clone(requiredParams), hostedUiParams...) {
			if !strings.HasPrefix(p, drop+"=") {
				out = append(out, p)
			}
		}
		return out
	}
	for _, drop := range []string{"KakaoIdAttribute", "HostedUiDomainPrefix", "HostedUiCallbackUrls", "KakaoRestApiKey", "KakaoClientSecretName"} {
		r, refused := resolveStack(t, without(drop)...)
		if r != nil || !strings.Contains(refused, "CloudFormation would refuse") || !strings.Contains(refused, drop) {
			t.Errorf("without %s: %v", drop, refused)
		}
	}
	// The attribute alone may be mutable without the hosted UI (a stack
	// created ready for it).
	if _, refused := resolveStack(t, append(slices.Clone(requiredParams), "KakaoIdAttribute=mutable")...); refused != "" {
		t.Errorf("mutable attribute without the hosted UI: %s", refused)
	}
}
