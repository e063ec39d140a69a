package tryit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/tryit"
)

// What the page's JavaScript client sent, read from the requests the tab
// made, and checked against the stack itself: the session's calls go from
// the browser to Cognito and to the API, never through the page's backend.

// Cognito's JSON protocol targets the client calls.
const (
	userPoolTarget     = "AWSCognitoIdentityProviderService."
	identityPoolTarget = "AWSCognitoIdentityService."
)

// sent are the tab's requests that match.
func sent(requests []chromium.Request, match func(chromium.Request) bool) []chromium.Request {
	var out []chromium.Request
	for _, r := range requests {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// to matches the requests of method to url.
func to(method, url string) func(chromium.Request) bool {
	return func(r chromium.Request) bool { return r.Method == method && r.URL == url }
}

// cognitoCalls are the tab's POSTs to Cognito (moto) for operation target.
func cognitoCalls(s *localstack.Main, requests []chromium.Request, target string) []chromium.Request {
	return sent(requests, func(r chromium.Request) bool {
		return r.Method == http.MethodPost && strings.HasPrefix(r.URL, s.MotoURL()) && r.Headers["X-Amz-Target"] == target
	})
}

// jsonBody is a recorded request's JSON body.
func jsonBody(t *testing.T, r chromium.Request) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("%s %s sent %q: %v", r.Method, r.URL, r.Body, err)
	}
	return body
}

// brokerNonce is the nonce the page sent the broker with its last
// ID-token login.
func brokerNonce(t *testing.T, s *localstack.Main, requests []chromium.Request) string {
	t.Helper()
	nonce := ""
	for _, r := range sent(requests, to(http.MethodPost, s.APIURL()+"/auth/kakao")) {
		body := jsonBody(t, r)
		if body["id_token"] == nil {
			t.Errorf("an ID-token login sent the broker %v", keys(body))
		}
		nonce, _ = body["nonce"].(string)
	}
	return nonce
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// meCall checks that GET /me got the pool's ID token itself in its
// Authorization header (what API Gateway's Cognito authorizer reads, no
// "Bearer "), and nothing of the page's; it returns the token.
func meCall(t *testing.T, s *localstack.Main, requests []chromium.Request) string {
	t.Helper()
	token := ""
	for _, r := range sent(requests, to(http.MethodGet, s.APIURL()+"/me")) {
		token = r.Headers["Authorization"]
		if _, ok := r.Headers[tryit.PageHeader]; ok {
			t.Errorf("GET /me with the page's header")
		}
	}
	if strings.Count(token, ".") != 2 || strings.HasPrefix(token, "Bearer ") {
		t.Fatalf("GET /me with Authorization %q, want the ID token", token)
	}
	return token
}

// credentialsShown checks the identity pool's part: the client asked
// Cognito Identity from the browser; the identity id shown is the one the
// identity pool gives this user's ID token; the caller is the identity
// pool's authenticated role; and the secret key and session token, sent
// to the page's backend for the STS call, are nowhere on the page.
func credentialsShown(t *testing.T, s *localstack.Main, tab *chromium.Tab, requests []chromium.Request, idToken string) {
	t.Helper()
	if len(cognitoCalls(s, requests, identityPoolTarget+"GetCredentialsForIdentity")) == 0 {
		t.Error("the browser never called GetCredentialsForIdentity")
	}
	ctx := context.Background()
	st := s.Stack()
	out, err := ci.NewFromConfig(moto.AWSConfig(ctx, s.MotoURL())).GetId(ctx, &ci.GetIdInput{IdentityPoolId: aws.String(st.IdentityPoolID),
		Logins: map[string]string{"cognito-idp." + moto.Region + ".amazonaws.com/" + st.UserPoolID: idToken}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.Text("#identity-id"); got != aws.ToString(out.IdentityId) {
		t.Errorf("identity id %q on the page, the pool's is %q", got, aws.ToString(out.IdentityId))
	}
	role := st.IdentityRoleARN[strings.LastIndex(st.IdentityRoleARN, "/")+1:]
	if arn := tab.Text("#caller-arn"); !strings.HasSuffix(arn, ":assumed-role/"+role+"/CognitoIdentityCredentials") {
		t.Errorf("caller %q, want the identity pool's role %s", arn, role)
	}
	if tab.Text("#credentials-expiration") == "" {
		t.Error("no expiry shown")
	}
	var secrets []string
	for _, r := range sent(requests, to(http.MethodPost, s.APIURL()+"/tryit/api/caller")) {
		body := jsonBody(t, r)
		for _, k := range []string{"secret_access_key", "session_token"} {
			if v, _ := body[k].(string); v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	if len(secrets) != 2 {
		t.Fatalf("the caller check sent %d secrets", len(secrets))
	}
	page, err := tab.Eval(`document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets {
		if strings.Contains(page, secret) {
			t.Error("the page shows or keeps a secret of the credentials")
		}
	}
}

// revokedRefused checks the sign-out at Cognito itself: the browser
// refreshed (REFRESH_TOKEN_AUTH) and revoked (RevokeToken) there, and the
// refresh token it revoked is refused when the test tries it.
func revokedRefused(t *testing.T, s *localstack.Main, requests []chromium.Request) {
	t.Helper()
	refreshed := false
	for _, r := range cognitoCalls(s, requests, userPoolTarget+"InitiateAuth") {
		refreshed = refreshed || jsonBody(t, r)["AuthFlow"] == "REFRESH_TOKEN_AUTH"
	}
	if !refreshed {
		t.Error("the browser never asked Cognito for REFRESH_TOKEN_AUTH")
	}
	revokes := cognitoCalls(s, requests, userPoolTarget+"RevokeToken")
	if len(revokes) == 0 {
		t.Fatal("the browser never called RevokeToken")
	}
	body := jsonBody(t, revokes[len(revokes)-1])
	token, _ := body["Token"].(string)
	if token == "" || body["ClientId"] != s.Stack().UserPoolClientID {
		t.Fatalf("RevokeToken sent %v", keys(body))
	}
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, s.MotoURL())
	_, err := cip.NewFromConfig(cfg, func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} }).InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: aws.String(s.Stack().UserPoolClientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": token},
	})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "NotAuthorizedException" {
		t.Errorf("the revoked refresh token, tried at Cognito: %v", err)
	}
}
