package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth/infra/localonly/localonlytest"
	"github.com/kakaoauth/kakaoauth/infra/tryit"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
)

// payloadNonce reads the nonce claim of an ID token as anyone holding the
// token can: its payload is only base64url.
func payloadNonce(t *testing.T, idToken string) string {
	t.Helper()
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token with %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Nonce
}

// An ID token is bound to the app instance that asked Kakao for it: the
// app keeps a random nonce, passes Kakao its SHA-256 (lowercase hex) and
// sends the broker the nonce itself. A stolen token is replayed with the
// nonce read from its own payload: refused (401, audited) by a stack with
// the default AllowPlainIdTokenNonce=false, whatever form the token was
// asked with. A stack that allows the plain form takes the replay, which
// is what that setting still allows. Tokens are the double's, the login
// goes through the local endpoint.
func TestStolenIDTokenReplayIsRefused(t *testing.T) {
	const appNonce = "app-nonce-Vj9x0q2LZ3mK7pQw"
	s := startStack(t)
	s.verifiedUser(t, 901)
	s.verifiedUser(t, 902)

	// The app's own login, the documented way.
	hashed := s.idToken(t, 901, appNonce)
	status, body := s.login(t, map[string]string{"id_token": hashed, "nonce": appNonce})
	if status != http.StatusOK || body["username"] != "kakao_901" {
		t.Fatalf("hashed nonce: %d %v", status, body)
	}
	if got := payloadNonce(t, hashed); got != kakao.HashNonce(appNonce) || strings.Contains(hashed, appNonce) {
		t.Fatalf("the token carries %q, want only the nonce's SHA-256", got)
	}

	// The thief's replays.
	plain := s.tokens(t, map[string]any{"user_id": 902, "openid": true, "nonce": appNonce})["id_token"].(string)
	for name, token := range map[string]string{"a hashed-nonce token": hashed, "a plain-nonce token": plain} {
		status, body := s.login(t, map[string]string{"id_token": token, "nonce": payloadNonce(t, token)})
		wantError(t, status, body, http.StatusUnauthorized, "InvalidKakaoToken")
		if name == "a hashed-nonce token" {
			continue
		}
		// An app still on the plain form is refused the same way.
		status, body = s.login(t, map[string]string{"id_token": token, "nonce": appNonce})
		wantError(t, status, body, http.StatusUnauthorized, "InvalidKakaoToken")
	}
	if got := s.auditTypes(t, 0); countOf(got, "login_failed:InvalidKakaoToken") != 3 {
		t.Errorf("anonymous audit %v: want the 3 refusals as login_failed:InvalidKakaoToken", got)
	}
	if got := s.auditTypes(t, 902); len(got) != 0 {
		t.Errorf("audit of the plain-nonce account %v: nothing logged it in", got)
	}

	// AllowPlainIdTokenNonce=true: the plain form is taken, and with it the
	// replay of any token.
	lax := startStack(t, func(c *Config) { c.AllowPlainIDTokenNonce = true })
	lax.verifiedUser(t, 903)
	stolen := lax.idToken(t, 903, appNonce)
	for name, nonce := range map[string]string{"the app": appNonce, "a thief": payloadNonce(t, stolen)} {
		if status, body := lax.login(t, map[string]string{"id_token": stolen, "nonce": nonce}); status != http.StatusOK {
			t.Errorf("plain form allowed, %s: %d %v", name, status, body)
		}
	}
}

// The local stack is not an open door for the web pages its developer
// opens. Another site's page cannot unlink an account through the Kakao
// double (a no-cors or form POST: refused by its Origin and its content
// type), and a DNS-rebinding page (another site's name resolved to
// 127.0.0.1, so its Origin matches the Host it sends) reaches neither the
// try-it backend nor the login endpoint. The try-it page's own request,
// and a program's, unlink the account.
func TestLocalToolsAreNotAnOpenDoor(t *testing.T) {
	s := startStack(t)
	const id = 910
	s.verifiedUser(t, id)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, id)}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	send := func(url, host, contentType, body string, header map[string]string) (int, string) {
		t.Helper()
		h := map[string]string{"Content-Type": contentType}
		maps.Copy(h, header)
		a := localonlytest.Send(t, s.http, http.MethodPost, url, host, body, h)
		return a.Status, a.Body
	}

	unlink := `{"user_id":910,"referrer_type":"UNLINK_FROM_APPS"}`
	apiPort := s.APIURL()[strings.LastIndex(s.APIURL(), ":")+1:]
	rebound := "rebind.attacker.example:" + apiPort
	for name, c := range map[string]struct {
		url, host, contentType, body string
		header                       map[string]string
		status                       int
	}{
		"another site's no-cors fetch to the double": {s.KakaoURL() + "/_fake/unlink", "", "text/plain;charset=UTF-8", unlink,
			map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		"a simple text/plain POST to the double": {s.KakaoURL() + "/_fake/unlink", "", "text/plain", unlink, nil, http.StatusUnsupportedMediaType},
		"a rebinding page to the try-it backend": {s.APIURL() + "/tryit/api/unlink", rebound, "application/json", `{"kakao_id":910}`,
			map[string]string{"Origin": "http://" + rebound, "Sec-Fetch-Site": "same-origin", tryit.PageHeader: "1"}, http.StatusForbidden},
		"a rebinding page to the login endpoint": {s.APIURL() + "/auth/kakao", rebound, "application/json", `{"access_token":"x"}`,
			map[string]string{"Origin": "http://" + rebound}, http.StatusForbidden},
	} {
		if status, raw := send(c.url, c.host, c.contentType, c.body, c.header); status != c.status {
			t.Errorf("%s: %d %s, want %d", name, status, raw, c.status)
		}
	}
	s.drainUnlinks(t)
	if m, err := s.Deps().Mappings().Get(context.Background(), id); err != nil || m.Status != "active" {
		t.Fatalf("after the refused requests: %+v %v, want active", m, err)
	}
	if got := s.auditTypes(t, id); slices.Contains(got, "unlinked") {
		t.Fatalf("audit %v: a refused request unlinked the account", got)
	}

	// The try-it page's own request (same origin, JSON) goes through.
	page := s.APIURL()
	status, raw := send(page+"/tryit/api/unlink", "", "application/json", `{"kakao_id":910}`,
		map[string]string{"Origin": page, "Sec-Fetch-Site": "same-origin", tryit.PageHeader: "1"})
	if status != http.StatusOK || !strings.Contains(raw, `"callback_status":200`) {
		t.Fatalf("the page's unlink: %d %s", status, raw)
	}
	s.waitStatus(t, id, "unlinked")
}

// No user enumeration, on the local stack (moto's layer answers as
// Cognito does for PreventUserExistenceErrors). With the stack's public
// app client, anonymous callers learn nothing of a missing user, by
// username or by email, that tells it from an existing one: sign-in
// answers both alike, and sign-up confirmation and password recovery never
// say UserNotFoundException (a LEGACY client would). What they answer an
// existing user is Cognito's to decide (moto checks no code): the user
// pool's web ACL refuses those operations for everyone (TestUserPoolWebACL).
// And the broker still finds a Cognito user deleted behind its back,
// although its own sign-in now hears "wrong password": AdminInitiateAuth
// refused, one AdminGetUser, the user recreated; no AdminSetUserPassword,
// at most 2 sign-ins.
func TestNoUserEnumeration(t *testing.T) {
	s := startStack(t, withProxy)
	const id = 920
	s.verifiedUser(t, id)
	status, first := s.login(t, map[string]string{"access_token": s.accessToken(t, id)})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, first)
	}
	anon := cip.NewFromConfig(s.direct(), func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	client := aws.String(s.Stack().UserPoolClientID)
	ctx := context.Background()
	// answer is what a caller learns: the error's code and message, or
	// that the call went through.
	answer := func(_ any, err error) string {
		var api smithy.APIError
		if errors.As(err, &api) {
			return api.ErrorCode() + ": " + api.ErrorMessage()
		}
		if err != nil {
			t.Fatalf("not an API error: %v", err)
		}
		return "ok"
	}
	const password, code = "Guess-1234567!", "123456"
	calls := map[string]func(username string) string{
		"InitiateAuth": func(u string) string {
			return answer(anon.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: client, AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth,
				AuthParameters: map[string]string{"USERNAME": u, "PASSWORD": password}}))
		},
		"ForgotPassword": func(u string) string {
			return answer(anon.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: client, Username: aws.String(u)}))
		},
		"ConfirmForgotPassword": func(u string) string {
			return answer(anon.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: client, Username: aws.String(u),
				ConfirmationCode: aws.String(code), Password: aws.String(password)}))
		},
		"ConfirmSignUp": func(u string) string {
			return answer(anon.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: client, Username: aws.String(u), ConfirmationCode: aws.String(code)}))
		},
	}
	for name, call := range calls {
		for _, missing := range []string{"kakao_999999920", "nobody-920@example.com"} {
			if got := call(missing); strings.Contains(got, "UserNotFound") {
				t.Errorf("%s of a missing user %s: %q", name, missing, got)
			}
		}
	}
	for _, pair := range [][2]string{{"kakao_920", "kakao_999999920"}, {emailOf(id), "nobody-920@example.com"}} {
		if existing, missing := calls["InitiateAuth"](pair[0]), calls["InitiateAuth"](pair[1]); existing != missing {
			t.Errorf("InitiateAuth tells %s (%q) from %s (%q)", pair[0], existing, pair[1], missing)
		}
	}

	if _, err := cip.NewFromConfig(s.direct()).AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String("kakao_920")}); err != nil {
		t.Fatal(err)
	}
	s.proxy.Reset()
	status, second := s.login(t, map[string]string{"access_token": s.accessToken(t, id)})
	if status != http.StatusOK || second["sub"] == first["sub"] || second["new_user"] != true {
		t.Fatalf("login after the deletion: %d %v", status, second)
	}
	got := secCognitoCalls(s.proxy.Counts())
	want := map[string]int{"AdminInitiateAuth": 2, "AdminGetUser": 1, "ListUsers": 1, "AdminCreateUser": 1, "AdminRespondToAuthChallenge": 1}
	if !sameCounts(got, want) {
		t.Fatalf("Cognito calls of the recreating login %v, want %v", got, want)
	}
}
