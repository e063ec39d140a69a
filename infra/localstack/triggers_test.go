package localstack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// The pool's triggers on the local stack: moto's layer invokes the stack's
// own handlers where Cognito would.

// A password sign-in of a Kakao-created user that the broker did not start
// is refused by the PreAuthentication trigger, even with the right
// password, and audited; a native user of the pool signs in.
func TestTriggersPasswordSignInOfAKakaoUserIsRefused(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	s.verifiedUser(t, 601)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 601)}); status != http.StatusOK {
		t.Fatalf("broker login: %d %v", status, body)
	}
	api := cip.NewFromConfig(s.direct())
	pool, client := s.Stack().UserPoolID, s.Stack().UserPoolClientID
	const password = "Kn0wn!Passw0rd"
	for _, username := range []string{kakaoauth.Username(601), "native"} {
		if username == "native" {
			if _, err := api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &pool, Username: aws.String(username), MessageAction: ciptypes.MessageActionTypeSuppress}); err != nil {
				t.Fatal(err)
			}
		}
		// As if the password had leaked.
		if _, err := api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &pool, Username: aws.String(username), Password: aws.String(password), Permanent: true}); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(username string) error {
		_, err := api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &pool, ClientId: &client, AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password}})
		return err
	}
	err := signIn(kakaoauth.Username(601))
	var api2 smithy.APIError
	if !errors.As(err, &api2) || api2.ErrorCode() != "UserLambdaValidationException" ||
		api2.ErrorMessage() != "PreAuthentication failed with error "+(&workflow.PasswordSignInBlocked{}).Error()+"." {
		t.Fatalf("a Kakao user's password sign-in: %v", err)
	}
	if err := signIn("native"); err != nil {
		t.Fatalf("a native user's password sign-in: %v", err)
	}
	if got := s.auditTypes(t, 601); !slices.Contains(got, kakaoauth.EventPasswordLoginBlocked+":PasswordSignInBlocked") {
		t.Fatalf("audit of 601: %v", got)
	}
	// The broker's own sign-ins carry the proof and pass.
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 601)}); status != http.StatusOK {
		t.Fatalf("broker login after the refusal: %d %v", status, body)
	}
}

// The hosted UI on the local stack, end to end against the Kakao double:
// the first sign-in of a Kakao account runs the stack's PreSignUp trigger,
// which creates kakao_<id> as a broker login would, links the identity and
// fails that sign-in on purpose; the sign-in again lands with a code that
// (with the PKCE verifier) redeems the pool's tokens for kakao_<id>, the
// same user and sub as the broker's login of the account.
func TestTriggersHostedUISignIn(t *testing.T) {
	s := startStack(t, func(c *Config) { c.HostedUI = true })
	ctx := context.Background()
	h := s.Stack().HostedUI
	if h == nil {
		t.Fatal("no hosted UI provisioned")
	}
	s.verifiedUser(t, 611)
	domain := HostedUIDomainURL(s.MotoURL(), h.Domain)
	redirectURI := s.APIURL() + "/callback"

	back := s.hostedSignIn(t, domain, h.ClientID, redirectURI, 611, "verifier-one-verifier-one-verifier-one-verifier")
	if back.Get("error") != "invalid_request" || !strings.Contains(back.Get("error_description"), "PreSignUp failed with error "+workflow.LinkedErrorCode) {
		t.Fatalf("first sign-in came back with %v", back)
	}
	// The trigger made the broker's user and linked the identity to it.
	user, err := s.Deps().Users().GetUser(ctx, kakaoauth.Username(611))
	if err != nil {
		t.Fatal(err)
	}
	if users := s.listUsers(t); !slices.Equal(users, []string{kakaoauth.Username(611)}) {
		t.Fatalf("users %v: want only kakao_611 (no Kakao_611)", users)
	}

	verifier := "verifier-two-verifier-two-verifier-two-verifier"
	back = s.hostedSignIn(t, domain, h.ClientID, redirectURI, 611, verifier)
	code := back.Get("code")
	if code == "" || back.Get("state") != "app-state" {
		t.Fatalf("second sign-in came back with %v", back)
	}
	tok := s.hostedToken(t, domain, url.Values{"grant_type": {"authorization_code"}, "client_id": {h.ClientID}, "code": {code},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	claims := s.verifyIDToken(t, tok["id_token"].(string))
	if claims["sub"] != user.Sub || claims["cognito:username"] != kakaoauth.Username(611) || claims["aud"] != h.ClientID {
		t.Fatalf("hosted UI ID token %v, broker user %+v", claims, user)
	}
	// The code is spent; the refresh token refreshes.
	if status := s.hostedTokenStatus(t, domain, url.Values{"grant_type": {"authorization_code"}, "client_id": {h.ClientID}, "code": {code},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}}); status != http.StatusBadRequest {
		t.Fatalf("a spent code: HTTP %d", status)
	}
	if r := s.hostedToken(t, domain, url.Values{"grant_type": {"refresh_token"}, "client_id": {h.ClientID}, "refresh_token": {tok["refresh_token"].(string)}}); r["access_token"] == nil {
		t.Fatalf("refresh: %v", r)
	}
	// And the broker signs the account in as the same user.
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 611)})
	if status != http.StatusOK || body["sub"] != user.Sub {
		t.Fatalf("broker login: %d %v, want sub %s", status, body, user.Sub)
	}
}

// hostedSignIn runs a person's sign-in through the hosted UI with the
// double's account kakaoID consenting, and returns the query the browser
// lands on at redirectURI.
func (s *testStack) hostedSignIn(t *testing.T, domain, clientID, redirectURI string, kakaoID int64, verifier string) url.Values {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	u := domain + "/oauth2/authorize?" + url.Values{
		"identity_provider": {kakaoauth.HostedUIProvider}, "client_id": {clientID}, "response_type": {"code"}, "scope": {"openid email profile"},
		"redirect_uri": {redirectURI}, "state": {"app-state"}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
	}.Encode()
	noFollow := &http.Client{Timeout: s.http.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for hop := 0; hop < 5; hop++ {
		resp, err := noFollow.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: HTTP %d %s", u, resp.StatusCode, body)
		}
		next, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(next.String(), redirectURI):
			return next.Query()
		case strings.HasPrefix(next.String(), s.KakaoURL()+"/oauth/authorize"):
			// The person consents at Kakao as kakaoID.
			q := next.Query()
			q.Set("user_id", itoa(kakaoID))
			next.RawQuery = q.Encode()
		}
		u = next.String()
	}
	t.Fatal("too many redirects")
	return nil
}

func (s *testStack) hostedToken(t *testing.T, domain string, form url.Values) map[string]any {
	t.Helper()
	resp, err := s.http.PostForm(domain+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("token endpoint: HTTP %d %s", resp.StatusCode, raw)
	}
	return out
}

func (s *testStack) hostedTokenStatus(t *testing.T, domain string, form url.Values) int {
	t.Helper()
	resp, err := s.http.PostForm(domain+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
