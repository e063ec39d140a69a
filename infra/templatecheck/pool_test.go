package templatecheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const existingPool = "ap-northeast-2_Team0Pool"

// poolARN's resolved form: what every permission names in pool mode.
const existingPoolARN = "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${UserPoolId}"

// With UserPoolId the stack adds to a pool it does not own: it creates
// nothing of the pool itself and changes no setting of it (no pool, no
// domain unless asked, no trigger: `kakaoauth pool attach` sets those);
// only app clients (and, with the hosted UI, its identity provider and
// client) in that pool, by its id; every permission and every trigger's
// invoke permission names that pool's ARN; the outputs name the triggers
// the pool tool attaches. Both with the hosted UI off and on, and with
// the pool's web ACL asked for (ignored).
func TestExistingPool(t *testing.T) {
	cases := map[string]struct {
		params  []string
		cognito []string // the Cognito resources it creates
	}{
		"hosted UI off": {nil, []string{"UserPoolClient"}},
		"hosted UI on, the pool's own domain": {[]string{"HostedUi=enabled", "HostedUiCallbackUrls=https://app.example.com/callback",
			"KakaoRestApiKey=restkey0123456789", "KakaoClientSecretName=kakaoauth/kakao-client-secret"},
			[]string{"HostedUiClient", "KakaoIdentityProvider", "UserPoolClient"}},
		"hosted UI on, a domain of its own": {[]string{"HostedUi=enabled", "HostedUiDomainPrefix=kakaoauth-test", "HostedUiCallbackUrls=https://app.example.com/callback",
			"KakaoRestApiKey=restkey0123456789", "KakaoClientSecretName=kakaoauth/kakao-client-secret"},
			[]string{"HostedUiClient", "KakaoIdentityProvider", "UserPoolClient", "UserPoolDomain"}},
		// The pool's web ACL is a setting of the pool: the owner's to
		// attach (docs/existing-pool.md), never the stack's.
		"the pool's web ACL asked for": {[]string{"EnableUserPoolWaf=true", "WafLogging=true"}, []string{"UserPoolClient"}},
	}
	for what, c := range cases {
		t.Run(what, func(t *testing.T) {
			params := append(append(slices.Clone(requiredParams), "UserPoolId="+existingPool), c.params...)
			tpl := mustResolve(t, params...).tpl
			var cognito []string
			for id, r := range tpl.Resources {
				if strings.HasPrefix(r.Type, "AWS::Cognito::") {
					cognito = append(cognito, id)
					if got := fmt.Sprint(r.Properties["UserPoolId"]); got != "map[Ref:UserPoolId]" {
						t.Errorf("%s is created in %s, not in UserPoolId's pool", id, got)
					}
				}
				if r.Type == "AWS::Lambda::Permission" && r.Properties["Principal"] == "cognito-idp.amazonaws.com" {
					if got := fmt.Sprint(r.Properties["SourceArn"]); got != "map[Fn::Sub:"+existingPoolARN+"]" {
						t.Errorf("%s lets %s invoke its function", id, got)
					}
				}
				if strings.HasPrefix(r.Type, "AWS::WAFv2::") && strings.Contains(strings.ToLower(id), "userpool") {
					t.Errorf("%s (%s): a web ACL of the pool, which is not the stack's", id, r.Type)
				}
				if strings.Contains(fmt.Sprint(r.Properties), "UserPool Arn") || strings.Contains(fmt.Sprint(r.Properties), "Ref:UserPool]") {
					t.Errorf("%s refers to the stack's own pool, which pool mode has not", id)
				}
			}
			slices.Sort(cognito)
			if !slices.Equal(cognito, c.cognito) {
				t.Errorf("Cognito resources %v, want %v", cognito, c.cognito)
			}
			// Every role reaches that pool and no other.
			for id, r := range tpl.Resources {
				if r.Type != "AWS::IAM::Role" && r.Type != "AWS::IAM::Policy" {
					continue
				}
				for _, g := range strings.Fields(fmt.Sprint(r.Properties)) {
					if strings.Contains(g, ":userpool/") && !strings.Contains(g, "userpool/${UserPoolId}") {
						t.Errorf("%s names another pool: %s", id, g)
					}
				}
			}
			for _, out := range []string{"PreAuthFunctionArn", "DefineAuthChallengeFunctionArn", "CreateAuthChallengeFunctionArn", "VerifyAuthChallengeFunctionArn"} {
				if _, ok := tpl.Outputs[out]; !ok {
					t.Errorf("no output %s for kakaoauth pool attach", out)
				}
			}
			if _, ok := tpl.Outputs["PreSignUpFunctionArn"]; ok != slices.Contains(c.cognito, "HostedUiClient") {
				t.Errorf("output PreSignUpFunctionArn present=%v with %s", ok, what)
			}
			if got := fmt.Sprint(tpl.Outputs["UserPoolId"]["Value"]); got != "map[Ref:UserPoolId]" {
				t.Errorf("output UserPoolId %s", got)
			}
			// The clients name no attribute the pool may not have yet.
			for _, id := range []string{"UserPoolClient", "HostedUiClient"} {
				if r, ok := tpl.Resources[id]; ok && strings.Contains(fmt.Sprint(r.Properties["ReadAttributes"]), "custom:kakao_id") {
					t.Errorf("%s reads custom:kakao_id, which the pool gets only after the deploy", id)
				}
			}
		})
	}
}

// The deploy refuses, before changing anything, a UserPoolId that is not
// one, client ids that are not, and the hosted UI of the stack's own pool
// without its domain (an existing pool may use its own).
func TestExistingPoolParameters(t *testing.T) {
	params := transformed(t).Parameters
	for name, c := range map[string]struct{ good, bad []string }{
		"UserPoolId":              {[]string{"", existingPool, "us-east-1_aB3dE5gH7"}, []string{"not a pool", "ap-northeast-2", "ap-northeast-2_", "arn:aws:cognito-idp:ap-northeast-2:1:userpool/x_y"}},
		"LinkClientIds":           {[]string{"", "3n4b5urk1ft4fl3mg5e62d9ado", "a1,b2"}, []string{"a b", "a,", ",a", "a;b"}},
		"AppClientReadAttributes": {[]string{"", "email", "email,email_verified,name,custom:tenant", "custom:a.b-c"}, []string{"email, name", "email,", ",email", "a;b"}},
	} {
		re := regexp.MustCompile(fmt.Sprint(params[name]["AllowedPattern"]))
		for _, v := range c.good {
			if !re.MatchString(v) {
				t.Errorf("%s refuses %q", name, v)
			}
		}
		for _, v := range c.bad {
			if re.MatchString(v) {
				t.Errorf("%s accepts %q", name, v)
			}
		}
	}
	if got := fmt.Sprint(params["LinkByVerifiedEmail"]["AllowedValues"], " ", params["LinkByVerifiedEmail"]["Default"]); got != "[true false] false" {
		t.Errorf("LinkByVerifiedEmail %s: off by default", got)
	}
	ownPoolNoDomain := append(slices.Clone(requiredParams), "HostedUi=enabled", "KakaoIdAttribute=mutable", "HostedUiCallbackUrls=https://app.example.com/callback",
		"KakaoRestApiKey=restkey0123456789", "KakaoClientSecretName=kakaoauth/kakao-client-secret")
	if r, refused := resolveStack(t, ownPoolNoDomain...); r != nil || !strings.Contains(refused, "HostedUiDomainPrefix") {
		t.Errorf("the stack's own pool with the hosted UI and no domain: %q", refused)
	}
	// An existing pool's custom:kakao_id comes from pool attach (mutable):
	// the attribute parameter does not apply.
	if _, refused := resolveStack(t, append(slices.Clone(requiredParams), "UserPoolId="+existingPool, "HostedUi=enabled",
		"HostedUiCallbackUrls=https://app.example.com/callback", "KakaoRestApiKey=restkey0123456789", "KakaoClientSecretName=s")...); refused != "" {
		t.Errorf("an existing pool with the hosted UI: %s", refused)
	}
}

// A linked person's Kakao login gives tokens of the stack's app client:
// in an existing pool their claims are the attributes the team lists
// (AppClientReadAttributes), else every standard one (ReadAttributes left
// out); the stack's own pool keeps its four.
func TestAppClientReadAttributes(t *testing.T) {
	read := func(params ...string) map[string]string {
		t.Helper()
		tpl := mustResolve(t, append(slices.Clone(requiredParams), params...)...).tpl
		out := map[string]string{}
		for _, id := range []string{"UserPoolClient", "HostedUiClient"} {
			if r, ok := tpl.Resources[id]; ok {
				out[id] = fmt.Sprint(r.Properties["ReadAttributes"])
			}
		}
		return out
	}
	const splitList = "map[Fn::Split:[, map[Fn::Sub:nickname,${AppClientReadAttributes}]]]" // the list as given and nickname (which the clients write), split at commas
	hosted := []string{"HostedUi=enabled", "HostedUiCallbackUrls=https://app.example.com/callback", "KakaoRestApiKey=restkey0123456789", "KakaoClientSecretName=kakaoauth/kakao-client-secret"}
	if got := read(append([]string{"UserPoolId=" + existingPool}, hosted...)...); got["UserPoolClient"] != "<nil>" || got["HostedUiClient"] != "<nil>" {
		t.Errorf("an existing pool, no list: %v, want ReadAttributes left out", got)
	}
	if got := read(append([]string{"UserPoolId=" + existingPool, "AppClientReadAttributes=email,name,custom:tenant"}, hosted...)...); got["UserPoolClient"] != splitList || got["HostedUiClient"] != splitList {
		t.Errorf("an existing pool with a list: %v", got)
	}
	if got := read("AppClientReadAttributes=email,name"); got["UserPoolClient"] != "[email email_verified nickname custom:kakao_id]" {
		t.Errorf("the stack's own pool: %v", got)
	}
}
