package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/password"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// Linking Kakao to the people already in the pool, end to end: HTTP into
// the local endpoint (the linking endpoints and the login), the real
// adapters on moto (its layer runs the pool's triggers, CUSTOM_AUTH
// included, as Cognito does), the Kakao double. The person is the local
// stack's demo native user: the team's own app, an email and a password.

// teamSignIn signs a person in with their own password through the team's
// app client, as the team's app does (public API, no credentials).
func (s *testStack) teamSignIn(t testing.TB, username, pw string) (*ciptypes.AuthenticationResultType, error) {
	t.Helper()
	api := cip.NewFromConfig(s.direct(), func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	out, err := api.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(s.Demo().ClientID),
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": pw},
	})
	if err != nil {
		return nil, err
	}
	return out.AuthenticationResult, nil
}

// otherAppClient is an app client of the stack's pool that is not in
// LinkClientIds (a team's second app, say), with password sign-in.
func (s *testStack) otherAppClient(t testing.TB) string {
	t.Helper()
	out, err := cip.NewFromConfig(s.direct()).CreateUserPoolClient(context.Background(), &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), ClientName: aws.String(s.cfg.Prefix + "-other-app"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.UserPoolClient.ClientId)
}

// signInOn signs a person in with their password on app client clientID
// and returns the access token.
func (s *testStack) signInOn(t testing.TB, clientID, username, pw string) string {
	t.Helper()
	api := cip.NewFromConfig(s.direct(), func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	out, err := api.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(clientID),
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": pw},
	})
	if err != nil {
		t.Fatalf("password sign-in on client %s: %v", clientID, err)
	}
	return aws.ToString(out.AuthenticationResult.AccessToken)
}

// demoAccessToken signs the demo person in with their password.
func (s *testStack) demoAccessToken(t testing.TB) string {
	t.Helper()
	d := s.Demo()
	res, err := s.teamSignIn(t, d.Email, d.Password)
	if err != nil {
		t.Fatalf("the demo person's password sign-in: %v", err)
	}
	return aws.ToString(res.AccessToken)
}

// linkRequest calls the linking endpoints.
func (s *testStack) linkRequest(t testing.TB, method, accessToken string, body any) (int, map[string]any) {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, s.APIURL()+workflow.LinkPath, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: %d %q", method, workflow.LinkPath, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// linkDemo links Kakao account kakaoID to the demo person.
func (s *testStack) linkDemo(t testing.TB, kakaoID int64) {
	t.Helper()
	status, body := s.linkRequest(t, http.MethodPost, s.demoAccessToken(t), map[string]string{"access_token": s.accessToken(t, kakaoID)})
	if status != http.StatusOK || body["sub"] != s.Demo().Sub || body["new_link"] != true {
		t.Fatalf("link %d to the demo person: %d %v", kakaoID, status, body)
	}
}

// personIntact checks the demo person is still enabled and signs in with
// their own password.
func (s *testStack) personIntact(t testing.TB, when string) {
	t.Helper()
	demo := s.Demo()
	if u := s.cognitoUser(t, demo.Username); !u.Enabled {
		t.Fatalf("%s: the person is disabled", when)
	}
	if _, err := s.teamSignIn(t, demo.Email, demo.Password); err != nil {
		t.Fatalf("%s: the person's password: %v", when, err)
	}
}

func (s *testStack) cognitoUser(t testing.TB, username string) *cip.AdminGetUserOutput {
	t.Helper()
	u, err := cip.NewFromConfig(s.direct()).AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String(username)})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The story: a person who signs in with their email and password
// links Kakao, then logs in with Kakao to the same user and sub, while
// their password still signs them in; kakaoauth never touched it.
func TestLinkedNativeUserLogsInWithKakao(t *testing.T) {
	s := startStack(t, withProxy)
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 801, "email": "kakao801@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "n801"})
	s.linkDemo(t, 801)

	s.proxy.Reset()
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 801)})
	if status != http.StatusOK || body["sub"] != demo.Sub || body["username"] != demo.Username || body["new_user"] != false {
		t.Fatalf("Kakao login of the linked person: %d %v", status, body)
	}
	calls := s.proxy.Counts()
	if calls["AdminInitiateAuth"] != 1 || calls["AdminRespondToAuthChallenge"] != 1 || calls["GetItem"] != 1 ||
		calls["AdminSetUserPassword"] != 0 || calls["AdminCreateUser"] != 0 || calls["ListUsers"] != 0 {
		t.Fatalf("calls of the linked login %v: one mapping read, two Cognito calls", calls)
	}
	claims := s.verifyIDToken(t, body["id_token"].(string))
	if claims["sub"] != demo.Sub || claims["email"] != demo.Email || claims["custom:kakao_id"] != nil {
		t.Fatalf("ID token claims %v", claims)
	}
	// Their own password still works, through the team's app.
	if _, err := s.teamSignIn(t, demo.Email, demo.Password); err != nil {
		t.Fatalf("the person's password after the Kakao login: %v", err)
	}
	if u := s.cognitoUser(t, demo.Username); !u.Enabled || u.UserStatus != ciptypes.UserStatusTypeConfirmed {
		t.Fatalf("the person's user: %+v", u)
	}
	m, err := s.Deps().Mappings().Get(context.Background(), 801)
	if err != nil || m.Kind != kakaoauth.KindLinked || m.Sub != demo.Sub || m.PasswordNonce != "" || m.Email != "" {
		t.Fatalf("mapping %+v %v", m, err)
	}
	if got := s.auditTypes(t, 801); strings.Join(got, ",") != "linked,login_succeeded" {
		t.Fatalf("audit %v", got)
	}
}

// The conflicts answer their codes, end to end.
func TestLinkConflictsEndToEnd(t *testing.T) {
	s := startStack(t)
	for _, id := range []int64{811, 812, 813} {
		s.verifiedUser(t, id)
	}
	// Kakao account 811 has its own kakaoauth user.
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 811)}); status != http.StatusOK {
		t.Fatalf("login of 811: %d %v", status, body)
	}
	at := s.demoAccessToken(t)
	status, body := s.linkRequest(t, http.MethodPost, at, map[string]string{"access_token": s.accessToken(t, 811)})
	wantError(t, status, body, http.StatusConflict, "KakaoAccountInUse")
	s.linkDemo(t, 812)
	status, body = s.linkRequest(t, http.MethodPost, at, map[string]string{"access_token": s.accessToken(t, 813)})
	wantError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
	// Linking again what is linked: nothing changes.
	status, body = s.linkRequest(t, http.MethodPost, at, map[string]string{"access_token": s.accessToken(t, 812)})
	if status != http.StatusOK || body["new_link"] != false {
		t.Fatalf("linking again: %d %v", status, body)
	}
	status, body = s.linkRequest(t, http.MethodPost, at, map[string]string{"access_token": "not-a-kakao-token"})
	wantError(t, status, body, http.StatusUnauthorized, "InvalidKakaoToken")
	status, body = s.linkRequest(t, http.MethodPost, at, `{"access_token":"x","email_verified":true}`)
	wantError(t, status, body, http.StatusBadRequest, "InvalidRequest")
	// The Cognito token: none, not one, another app client's (the broker's
	// tokens of a Kakao user are allowed, and find its own account), and
	// revoked by the person's sign-out.
	for _, tok := range []string{"", "garbage"} {
		status, body = s.linkRequest(t, http.MethodPost, tok, map[string]string{"access_token": s.accessToken(t, 813)})
		wantError(t, status, body, http.StatusUnauthorized, "InvalidCognitoToken")
	}
	// A genuine, current token of the same person, from an app client of
	// the pool that is not in LinkClientIds: refused (the token's
	// client_id); from the one that is, accepted (UserAlreadyLinked: it
	// got as far as the link).
	other := s.otherAppClient(t)
	otherAT := s.signInOn(t, other, s.Demo().Email, s.Demo().Password)
	status, body = s.linkRequest(t, http.MethodPost, otherAT, map[string]string{"access_token": s.accessToken(t, 813)})
	wantError(t, status, body, http.StatusUnauthorized, "InvalidCognitoToken")
	status, body = s.linkRequest(t, http.MethodPost, at, map[string]string{"access_token": s.accessToken(t, 813)})
	wantError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
	api := cip.NewFromConfig(s.direct(), func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	if _, err := api.GlobalSignOut(context.Background(), &cip.GlobalSignOutInput{AccessToken: aws.String(at)}); err != nil {
		t.Fatal(err)
	}
	status, body = s.linkRequest(t, http.MethodPost, at, map[string]string{"access_token": s.accessToken(t, 813)})
	wantError(t, status, body, http.StatusUnauthorized, "InvalidCognitoToken")
	// A Kakao user's own tokens: its Kakao account is its own; another one
	// is a conflict; it cannot remove Kakao, its only way in.
	_, kakaoUser := s.login(t, map[string]string{"access_token": s.accessToken(t, 811)})
	kat := kakaoUser["access_token"].(string)
	status, body = s.linkRequest(t, http.MethodPost, kat, map[string]string{"access_token": s.accessToken(t, 813)})
	wantError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
	status, body = s.linkRequest(t, http.MethodDelete, kat, nil)
	wantError(t, status, body, http.StatusConflict, "KakaoOnlyAccount")
	if got := s.auditTypes(t, 813); !slices.Contains(got, "link_failed:UserAlreadyLinked") {
		t.Fatalf("audit of 813 %v", got)
	}

	// Kakao stalls (each attempt past the client's 3 s, retried): the
	// request's calls stop at LinkBudget and it answers 504 Timeout
	// itself, audited, before the 10 s after which API Gateway (and the
	// local endpoint) would answer a bare 504 nobody recorded.
	kakaoTok, fresh := s.accessToken(t, 813), s.demoAccessToken(t)
	before := countOf(s.auditTypes(t, 0), "link_failed:LoginTimeout")
	s.fault(t, map[string]any{"path": "/v1/user/access_token_info", "delay_ms": 3500, "count": 3})
	status, body = s.linkRequest(t, http.MethodPost, fresh, map[string]string{"access_token": kakaoTok})
	wantError(t, status, body, http.StatusGatewayTimeout, "Timeout") // not the endpoint's bare {"message": ...}
	if got := countOf(s.auditTypes(t, 0), "link_failed:LoginTimeout"); got != before+1 {
		t.Fatalf("link_failed:LoginTimeout audited %d times, want %d", got, before+1)
	}
}

// Kakao's unlink and ACCOUNT_DELETE of a linked person leave the person's
// user enabled, with their password; a fresh Kakao login after the unlink
// comes back to the same sub.
func TestKakaoUnlinkOfALinkedUserLeavesItEnabled(t *testing.T) {
	s := startStack(t)
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 821, "nickname": "n821"})
	s.linkDemo(t, 821)
	if got := s.secFakeUnlink(t, 821, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("unlink callback: %d", got)
	}
	s.waitStatus(t, 821, kakaoauth.StatusUnlinked)
	s.personIntact(t, "after Kakao's unlink")
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 821)})
	if status != http.StatusOK || body["sub"] != demo.Sub {
		t.Fatalf("a fresh Kakao login after the unlink: %d %v", status, body)
	}
	if got := s.secFakeUnlink(t, 821, "ACCOUNT_DELETE"); got != http.StatusOK {
		t.Fatalf("ACCOUNT_DELETE callback: %d", got)
	}
	m := s.waitStatus(t, 821, kakaoauth.StatusDeleted)
	if m.Kind != kakaoauth.KindLinked || m.Sub != demo.Sub || m.Email != "" {
		t.Fatalf("mapping after ACCOUNT_DELETE %+v", m)
	}
	s.personIntact(t, "after ACCOUNT_DELETE")
	if got := s.auditTypes(t, 821); strings.Join(got, ",") != "linked,unlinked,relinked,login_succeeded,unlinked" {
		t.Fatalf("audit %v", got)
	}
}

// The person removes the link: Kakao's unlink API is called with the
// admin key (their Kakao tokens stop working), the link is forgotten, and
// their user is untouched.
func TestUnlinkByThePersonEndToEnd(t *testing.T) {
	s := startStack(t)
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 831, "nickname": "n831"})
	s.linkDemo(t, 831)
	kakaoToken := s.accessToken(t, 831)
	before := s.fake.Hits("/v1/user/unlink")
	status, body := s.linkRequest(t, http.MethodDelete, s.demoAccessToken(t), nil)
	if status != http.StatusOK || body["kakao_id"] != 831.0 || body["sub"] != demo.Sub {
		t.Fatalf("DELETE: %d %v", status, body)
	}
	if s.fake.Hits("/v1/user/unlink")-before != 1 {
		t.Fatal("Kakao's unlink API was not called")
	}
	status, body = s.login(t, map[string]string{"access_token": kakaoToken})
	wantError(t, status, body, http.StatusUnauthorized, "InvalidKakaoToken")
	if m, err := s.Deps().Mappings().Get(context.Background(), 831); err != nil || m.Status != kakaoauth.StatusDeleted {
		t.Fatalf("mapping %+v %v", m, err)
	}
	status, body = s.linkRequest(t, http.MethodDelete, s.demoAccessToken(t), nil)
	wantError(t, status, body, http.StatusNotFound, "NotLinked")
	s.personIntact(t, "after the person's unlink")
	// Logging in with Kakao again starts over: its own user now.
	status, body = s.login(t, map[string]string{"access_token": s.accessToken(t, 831)})
	if status != http.StatusOK || body["sub"] == demo.Sub || body["username"] != "kakao_831" {
		t.Fatalf("Kakao login after the person's unlink: %d %v", status, body)
	}
}

// The verified-email rule, both settings: off, a Kakao email that is the
// person's answers AccountConflict (telling the app to offer linking) and
// creates nothing; on, the login links to the person.
func TestEmailRuleEndToEnd(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := startStack(t, func(c *Config) { c.LinkByVerifiedEmail = on })
		demo := s.Demo()
		s.kakaoUser(t, map[string]any{"id": 841, "email": demo.Email, "is_email_verified": true, "is_email_valid": true, "nickname": "n841"})
		s.proxy.Reset()
		status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 841)})
		if !on {
			wantError(t, status, body, http.StatusConflict, "AccountConflict")
			if msg := body["message"].(string); !strings.Contains(msg, "link Kakao") {
				t.Fatalf("the conflict does not say to link: %q", msg)
			}
			if n := s.proxy.Count("ListUsers"); n != 0 {
				t.Fatalf("%d ListUsers for a conflict with the rule off", n)
			}
			if users := s.listUsers(t); slices.Contains(users, "kakao_841") {
				t.Fatal("a Kakao user was created")
			}
			continue
		}
		if status != http.StatusOK || body["sub"] != demo.Sub || body["new_user"] != false {
			t.Fatalf("rule on: %d %v", status, body)
		}
		if got := s.auditTypes(t, 841); strings.Join(got, ",") != "linked,login_succeeded" {
			t.Fatalf("audit %v", got)
		}
	}
}

// A user kakaoauth created still cannot sign in with a password, through
// any app of the pool: the PreAuthentication trigger refuses it, with the
// derived password itself.
func TestKakaoUserCannotSignInWithAPassword(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 851)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 851)}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	m, err := s.Deps().Mappings().Get(context.Background(), 851)
	if err != nil {
		t.Fatal(err)
	}
	derived := password.Derive(s.pepper(t), m.Sub, m.PasswordNonce)
	for _, name := range []string{"kakao_851", emailOf(851)} {
		if _, err := s.teamSignIn(t, name, derived); err == nil || !strings.Contains(err.Error(), "Sign in with Kakao") {
			t.Fatalf("password sign-in of the Kakao user as %s: %v", name, err)
		}
	}
	if got := s.auditTypes(t, 851); !slices.Contains(got, "password_login_blocked:PasswordSignInBlocked") {
		t.Fatalf("audit %v", got)
	}
}

// A pool whose usernames are emails (UsernameAttributes), as many teams'
// are: kakaoauth creates no user there; a Kakao login nobody linked is
// AccountNotLinked (the app offers linking), and creates nothing.
func TestExistingPoolWithEmailUsernames(t *testing.T) {
	api := cip.NewFromConfig(sharedMotoConfig(t))
	team, err := api.CreateUserPool(context.Background(), &cip.CreateUserPoolInput{PoolName: aws.String("team-" + time.Now().Format("150405.000000")),
		UsernameAttributes: []ciptypes.UsernameAttributeType{ciptypes.UsernameAttributeTypeEmail}})
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, func(c *Config) { c.UserPoolID = aws.ToString(team.UserPool.Id) })
	if s.Stack().UserPoolID != aws.ToString(team.UserPool.Id) {
		t.Fatalf("the stack's pool %s", s.Stack().UserPoolID)
	}
	s.kakaoUser(t, map[string]any{"id": 861, "email": "kakao861@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "n861"})
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 861)})
	wantError(t, status, body, http.StatusForbidden, "AccountNotLinked")
	if _, err := s.Deps().Mappings().Get(context.Background(), 861); err == nil {
		t.Fatal("a mapping was written")
	}
}

// sharedMotoConfig is the package's shared moto, past every stack.
func sharedMotoConfig(t testing.TB) aws.Config {
	return moto.AWSConfig(context.Background(), moto.ForTest(t).URL())
}

// CUSTOM_AUTH is open to anyone on the broker's client (it has no secret:
// apps refresh with it), and only the broker's proof answers it: not the
// person's password, not a proof of another sign-in or key; through
// another app's client it does not even start. Each refused answer is
// audited. A proof made with the proof key for this very sign-in is what
// signs in: the key is the whole secret.
func TestCustomAuthOnlyWithTheBrokersProof(t *testing.T) {
	s := startStack(t)
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 871, "nickname": "n871"})
	s.linkDemo(t, 871)
	api := cip.NewFromConfig(s.direct(), func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	ctx := context.Background()
	start := func(client string) (*cip.InitiateAuthOutput, error) {
		return api.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: ciptypes.AuthFlowTypeCustomAuth, ClientId: aws.String(client),
			AuthParameters: map[string]string{"USERNAME": demo.Username}})
	}
	answer := func(out *cip.InitiateAuthOutput, ans string) error {
		_, err := api.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: aws.String(s.Stack().UserPoolClientID),
			ChallengeName: ciptypes.ChallengeNameTypeCustomChallenge, Session: out.Session,
			ChallengeResponses: map[string]string{"USERNAME": demo.Username, "ANSWER": ans}})
		return err
	}
	key := s.proofKey(t)
	otherKey := []byte(strings.Repeat("k", 64))
	exp := time.Now().Add(time.Minute)
	wrong := map[string]func(challenge string) string{
		"the person's password": func(string) string { return demo.Password },
		"another sign-in's proof": func(string) string {
			return password.ChallengeProof(key, demo.Sub, s.Stack().UserPoolClientID, "another-challenge", exp)
		},
		"another key's proof": func(c string) string {
			return password.ChallengeProof(otherKey, demo.Sub, s.Stack().UserPoolClientID, c, exp)
		},
		"another client's proof": func(c string) string { return password.ChallengeProof(key, demo.Sub, demo.ClientID, c, exp) },
	}
	for name, make := range wrong {
		out, err := start(s.Stack().UserPoolClientID)
		if err != nil || out.ChallengeName != ciptypes.ChallengeNameTypeCustomChallenge {
			t.Fatalf("%s: start: %+v %v", name, out, err)
		}
		challenge := out.ChallengeParameters[kakaoauth.ChallengeParameter]
		var notAuth *ciptypes.NotAuthorizedException
		if err := answer(out, make(challenge)); !errors.As(err, &notAuth) {
			t.Errorf("%s answered the challenge: %v", name, err)
		}
	}
	if _, err := start(demo.ClientID); err == nil {
		t.Error("CUSTOM_AUTH started through the team's client")
	}
	out, err := start(s.Stack().UserPoolClientID)
	if err != nil {
		t.Fatal(err)
	}
	if err := answer(out, password.ChallengeProof(key, demo.Sub, s.Stack().UserPoolClientID, out.ChallengeParameters[kakaoauth.ChallengeParameter], exp)); err != nil {
		t.Fatalf("the proof for this sign-in: %v", err)
	}
	if n := secCount(s.auditTypes(t, 0), "challenge_refused:ChallengeRefused"); n != len(wrong) {
		t.Fatalf("%d refused answers audited, want %d", n, len(wrong))
	}
}

// The hosted UI reaches the person a Kakao account is linked to: the
// federated sign-in's PreSignUp links Kakao_<id> to them (not to a
// kakao_<id> of the broker's, none is made) and the sign-in lands at once
// as them, the same sub as the broker's Kakao login and their password's.
func TestHostedUIReachesTheLinkedPerson(t *testing.T) {
	s := startStack(t, func(c *Config) { c.HostedUI = true })
	h := s.Stack().HostedUI
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 881, "nickname": "n881"})
	s.linkDemo(t, 881)
	domain := HostedUIDomainURL(s.MotoURL(), h.Domain)
	redirectURI := s.APIURL() + "/callback"
	for i, verifier := range []string{"verifier-one-verifier-one-verifier-one-verifier", "verifier-two-verifier-two-verifier-two-verifier"} {
		back := s.hostedSignIn(t, domain, h.ClientID, redirectURI, 881, verifier)
		if back.Get("code") == "" {
			t.Fatalf("sign-in %d came back with %v", i+1, back)
		}
		tok := s.hostedToken(t, domain, url.Values{"grant_type": {"authorization_code"}, "client_id": {h.ClientID}, "code": {back.Get("code")},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
		if claims := s.verifyIDToken(t, tok["id_token"].(string)); claims["sub"] != demo.Sub || claims["cognito:username"] != demo.Username {
			t.Fatalf("sign-in %d: ID token %v, want the demo person %s", i+1, claims, demo.Sub)
		}
		if i == 0 {
			// The hosted UI's app client is not one that may link: the
			// person's genuine access token from it is refused.
			status, body := s.linkRequest(t, http.MethodDelete, tok["access_token"].(string), nil)
			wantError(t, status, body, http.StatusUnauthorized, "InvalidCognitoToken")
		}
	}
	if users := s.listUsers(t); len(users) != 0 {
		t.Fatalf("users %v: want none besides the demo person", users)
	}
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 881)})
	if status != http.StatusOK || body["sub"] != demo.Sub {
		t.Fatalf("broker login: %d %v", status, body)
	}
	s.personIntact(t, "after hosted-UI sign-ins")
}

// The team deletes a linked person's user: the app client hides the
// missing user (PreventUserExistenceErrors ENABLED), so Cognito runs the
// challenge and refuses the broker's answer; one AdminGetUser tells the
// broker the user is gone, and the Kakao account starts over as its own.
func TestLinkedUserDeletedByTheTeamEndToEnd(t *testing.T) {
	s := startStack(t, withProxy)
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 891, "nickname": "n891"})
	s.linkDemo(t, 891)
	if _, err := cip.NewFromConfig(s.direct()).AdminDeleteUser(context.Background(), &cip.AdminDeleteUserInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String(demo.Username)}); err != nil {
		t.Fatal(err)
	}
	s.proxy.Reset()
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 891)})
	if status != http.StatusOK || body["username"] != "kakao_891" || body["sub"] == demo.Sub || body["new_user"] != true {
		t.Fatalf("Kakao login after the person's deletion: %d %v", status, body)
	}
	counts := s.proxy.Counts()
	if counts["AdminGetUser"] != 1 || counts["AdminSetUserPassword"] != 0 || counts["AdminInitiateAuth"] != 2 {
		t.Fatalf("calls %v: want one AdminGetUser, 2 AdminInitiateAuth, no AdminSetUserPassword", counts)
	}
	m, err := s.Deps().Mappings().Get(context.Background(), 891)
	if err != nil || m.Kind != kakaoauth.KindCreated || !slices.Equal(m.PreviousSubs, []string{demo.Sub}) {
		t.Fatalf("mapping %+v %v", m, err)
	}
}

// A ban of a linked person refuses their Kakao login (AccountBanned, no
// Cognito call) and any link of that Kakao account, and never disables or
// signs out the person's user: their password still signs them in, the
// session their Kakao login got still refreshes. Kakao's unlink keeps
// the ban (a fresh Kakao login is still refused); lifted, that login
// brings the link back to the same sub.
func TestBanOfALinkedPersonEndToEnd(t *testing.T) {
	s := startStack(t, withProxy)
	ctx := context.Background()
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 1951, "nickname": "n1951"})
	s.linkDemo(t, 1951)
	session := s.mustLogin(t, 1951)
	steps := s.Deps().Steps()
	if err := steps.BanAccount(ctx, 1951, time.Time{}, "abuse report 9", "operator"); err != nil {
		t.Fatal(err)
	}
	s.proxy.Reset()
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 1951)})
	wantError(t, status, body, http.StatusForbidden, "AccountBanned")
	if c := cognitoCalls(s.proxy.Counts()); len(c) != 0 {
		t.Fatalf("a banned linked login spent Cognito calls: %v", c)
	}
	s.personIntact(t, "after the ban")
	if !s.refreshWorks(t, session["refresh_token"].(string)) {
		t.Fatal("the ban signed the team's user out")
	}
	status, body = s.linkRequest(t, http.MethodPost, s.demoAccessToken(t), map[string]string{"access_token": s.accessToken(t, 1951)})
	wantError(t, status, body, http.StatusForbidden, "AccountBanned")

	if got := s.secFakeUnlink(t, 1951, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("unlink callback: %d", got)
	}
	if m := s.waitStatus(t, 1951, kakaoauth.StatusUnlinked); m.Ban == nil || m.Kind != kakaoauth.KindLinked {
		t.Fatalf("after Kakao's unlink: %+v", m)
	}
	s.personIntact(t, "after Kakao's unlink of the banned account")
	status, body = s.login(t, map[string]string{"access_token": s.accessToken(t, 1951)})
	wantError(t, status, body, http.StatusForbidden, "AccountBanned")

	if lifted, err := steps.UnbanAccount(ctx, 1951, "operator"); err != nil || !lifted {
		t.Fatalf("unban: %v %v", lifted, err)
	}
	if back := s.mustLogin(t, 1951); back["sub"] != demo.Sub || back["username"] != demo.Username {
		t.Fatalf("Kakao login after the unban: %v", back)
	}
	s.personIntact(t, "after the unban")
	got := slices.Sorted(slices.Values(secTypes(s.secAudit(t, 1951))))
	want := []string{"banned", "link_failed:AccountBanned", "linked", "login_failed:AccountBanned", "login_failed:AccountBanned",
		"login_succeeded", "login_succeeded", "relinked", "unbanned", "unlinked"}
	if !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

// The reconciler applies a lost unlink of a linked person as it does a
// created account's, and leaves the person alone: the link dormant
// (reconciled, on the bus), the claim on their user released, their user
// enabled with its password. The pass walks past the claim items.
func TestReconcilerUnlinksALinkedPerson(t *testing.T) {
	s := startStack(t)
	app := s.subscribe(t)
	ctx := context.Background()
	demo := s.Demo()
	s.kakaoUser(t, map[string]any{"id": 1961, "nickname": "n1961"})
	s.linkDemo(t, 1961)
	s.mustLogin(t, 1961)
	s.verifiedUser(t, 1962)
	s.mustLogin(t, 1962)
	if status, body := s.postJSON(t, s.KakaoURL()+"/_fake/unlink", map[string]any{"user_id": 1961, "drop_callback": true}); status != http.StatusOK || body["dropped"] != true {
		t.Fatalf("dropped unlink: %d %v", status, body)
	}
	rep, err := s.Reconcile(ctx)
	if err != nil || rep.Checked != 2 || rep.Unlinked != 1 || !rep.PassEnded {
		t.Fatalf("reconcile: %+v %v", rep, err)
	}
	m := s.waitStatus(t, 1961, kakaoauth.StatusUnlinked)
	if m.Kind != kakaoauth.KindLinked || m.Sub != demo.Sub || m.LastEvent.Reason != workflow.ReasonReconciled {
		t.Fatalf("mapping %+v", m)
	}
	var notFound *kakaoauth.NotFound
	if _, err := s.Deps().Mappings().ClaimOf(ctx, demo.Sub); !errors.As(err, &notFound) {
		t.Fatalf("claim on the person after the reconciled unlink: %v", err)
	}
	s.personIntact(t, "after the reconciled unlink")
	if _, ok := app.WaitFor(ctx, 15*time.Second, func(e BusEvent) bool {
		return e.DetailType == kakaoauth.EventUnlinked && e.Detail.KakaoID == 1961 && e.Detail.Reason == workflow.ReasonReconciled
	}); !ok {
		t.Fatal("no unlinked (reconciled) event on the bus")
	}
	if rep, err := s.Reconcile(ctx); err != nil || rep.Checked != 1 || rep.Unlinked != 0 || !rep.PassEnded {
		t.Fatalf("second pass: %+v %v", rep, err)
	}
}

// The linking endpoints' events go through the outbox as every
// transition's: with the bus down, POST and DELETE still answer 200 (the
// link is made, then removed), both events wait in the row's outbox with
// the request that caused each, and the sweeper sends them, once each,
// audited with those requests.
func TestLinkingEventsStrandedAreDelivered(t *testing.T) {
	s := startStack(t, withProxy, func(c *Config) { c.OutboxGrace = 200 * time.Millisecond })
	app := s.subscribe(t)
	ctx := context.Background()
	s.kakaoUser(t, map[string]any{"id": 1971, "nickname": "n1971"})
	s.proxy.Inject("PutEvents", faultproxy.Fault{Kind: faultproxy.ServerError, Times: -1})
	s.linkDemo(t, 1971)
	if status, body := s.linkRequest(t, http.MethodDelete, s.demoAccessToken(t), nil); status != http.StatusOK {
		t.Fatalf("DELETE with the bus down: %d %v", status, body)
	}
	if s.proxy.Faulted("PutEvents") == 0 {
		t.Fatal("the bus fault never fired: the test proves nothing")
	}
	m, err := s.Deps().Mappings().Get(ctx, 1971)
	if err != nil || m.Status != kakaoauth.StatusDeleted || len(m.Outbox) != 2 || m.Outbox[0].Type != kakaoauth.EventLinked || m.Outbox[1].Type != kakaoauth.EventUnlinked {
		t.Fatalf("mapping %+v %v: want both transitions waiting", m, err)
	}
	outbox := m.Outbox
	s.proxy.Inject("PutEvents", faultproxy.Fault{})
	time.Sleep(300 * time.Millisecond) // the runs' grace
	if rep, err := s.Sweep(ctx); err != nil || rep.Events != 2 || rep.Failures != 0 {
		t.Fatalf("sweep %+v %v", rep, err)
	}
	events, _ := app.WaitFor(ctx, 10*time.Second, func(e BusEvent) bool { return e.DetailType == kakaoauth.EventUnlinked })
	more, _ := app.WaitFor(ctx, 2*time.Second, func(BusEvent) bool { return false })
	published := map[string]int{}
	for _, e := range append(events, more...) {
		published[e.Detail.ID]++
	}
	audit := s.secAudit(t, 1971)
	for _, e := range outbox {
		if published[e.ID] != 1 {
			t.Fatalf("event %s (%s) published %d times, want once", e.ID, e.Type, published[e.ID])
		}
		var with []map[string]string
		for _, a := range secOfType(audit, e.Type) {
			if a["executionId"] == e.Cause.ExecutionID && a[store.AttrSourceIP] != "" {
				with = append(with, a)
			}
		}
		if !strings.HasPrefix(e.Cause.ExecutionID, "link:") || len(with) != 1 {
			t.Fatalf("%s audited %v, want once with its request %s", e.Type, secTypes(audit), e.Cause.ExecutionID)
		}
	}
	if m, _ := s.Deps().Mappings().Get(ctx, 1971); len(m.Outbox) != 0 {
		t.Fatalf("outbox after the sweep %+v", m.Outbox)
	}
}
