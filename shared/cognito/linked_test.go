package cognito

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
)

// What linked accounts need of Cognito: CUSTOM_AUTH (moto has none in
// AdminInitiateAuth: the documented requests are checked on the wire),
// the access-token check (GetUser, against moto), a pool that refuses
// kakao_<id> users, and the broker's client by name.

// A linked user's sign-in is CUSTOM_AUTH on the broker's client: the
// initiate names the user only; the answer is made from the broker's
// client and the challenge Cognito issued, and goes back with the
// session and the canonical username Cognito named.
func TestSignInWithChallengeRequests(t *testing.T) {
	challenge := answer{status: 200, body: `{"ChallengeName":"CUSTOM_CHALLENGE","Session":"sess-1",` +
		`"ChallengeParameters":{"kakaoauth_challenge":"c-123","USERNAME":"3f0c-canonical"}}`}
	tokens := answer{status: 200, body: `{"AuthenticationResult":{"IdToken":"id","AccessToken":"at","RefreshToken":"rt","ExpiresIn":3600,"TokenType":"Bearer"}}`}
	w, c := newWire(map[string][]answer{"AdminInitiateAuth": {challenge}, "AdminRespondToAuthChallenge": {tokens}})
	var gotClient, gotChallenge string
	got, err := New(c, "ap-northeast-2_Pool", "broker-client").SignInWithChallenge(context.Background(), kakaoauth.ChallengeSignIn{
		Username: "alice@example.com",
		Answer: func(clientID, ch string) (string, error) {
			gotClient, gotChallenge = clientID, ch
			return "v1.1.proof", nil
		},
	})
	if err != nil || got.IDToken != "id" || got.RefreshToken != "rt" {
		t.Fatalf("%+v %v", got, err)
	}
	if gotClient != "broker-client" || gotChallenge != "c-123" {
		t.Fatalf("answer made for client %q, challenge %q", gotClient, gotChallenge)
	}
	wantInit := `{"AuthFlow":"CUSTOM_AUTH","AuthParameters":{"USERNAME":"alice@example.com"},"ClientId":"broker-client","UserPoolId":"ap-northeast-2_Pool"}`
	wantRespond := `{"ChallengeName":"CUSTOM_CHALLENGE","ChallengeResponses":{"ANSWER":"v1.1.proof","USERNAME":"3f0c-canonical"},` +
		`"ClientId":"broker-client","Session":"sess-1","UserPoolId":"ap-northeast-2_Pool"}`
	if len(w.calls) != 2 || jsonOf(t, w.calls[0].Body) != wantInit || jsonOf(t, w.calls[1].Body) != wantRespond {
		t.Fatalf("requests %+v\nwant %s\nthen %s", w.calls, wantInit, wantRespond)
	}
}

// Refusals are named as the workflow needs them: never a password matter.
func TestSignInWithChallengeRefusals(t *testing.T) {
	challenge := answer{status: 200, body: `{"ChallengeName":"CUSTOM_CHALLENGE","Session":"s","ChallengeParameters":{"kakaoauth_challenge":"c"}}`}
	answerFn := func(string, string) (string, error) { return "x", nil }
	cases := map[string]struct {
		answers map[string][]answer
		check   func(error) bool
	}{
		"disabled": {map[string][]answer{"AdminInitiateAuth": {{status: 400, errorT: "NotAuthorizedException", body: "User is disabled."}}},
			func(err error) bool { var e *kakaoauth.AccountDisabled; return errors.As(err, &e) }},
		"missing": {map[string][]answer{"AdminInitiateAuth": {{status: 400, errorT: "UserNotFoundException", body: "User does not exist."}}},
			func(err error) bool { var e *kakaoauth.NotFound; return errors.As(err, &e) }},
		"answer refused": {map[string][]answer{"AdminInitiateAuth": {challenge}, "AdminRespondToAuthChallenge": {{status: 400, errorT: "NotAuthorizedException", body: "Incorrect username or password."}}},
			func(err error) bool {
				var r *kakaoauth.PasswordRotated
				return err != nil && !errors.As(err, &r) && kakaoauth.OutcomeOf(kakaoauth.ErrorName(err)).Code == kakaoauth.CodeInternal
			}},
		"not kakaoauth's triggers": {map[string][]answer{"AdminInitiateAuth": {{status: 200, body: `{"ChallengeName":"CUSTOM_CHALLENGE","Session":"s","ChallengeParameters":{"otp":"1"}}`}}},
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "kakaoauth's") }},
		"throttled": {map[string][]answer{"AdminInitiateAuth": {{status: 400, errorT: "TooManyRequestsException", body: "slow"}}},
			func(err error) bool { var e *kakaoauth.Throttled; return errors.As(err, &e) }},
		// Users the custom flow cannot sign in, and steps the broker cannot
		// take: a defined answer (KakaoSignInUnavailable, 403), not 500.
		"reset required": {map[string][]answer{"AdminInitiateAuth": {{status: 400, errorT: "PasswordResetRequiredException", body: "Password reset required for the user"}}},
			signInUnavailable},
		"unconfirmed": {map[string][]answer{"AdminInitiateAuth": {{status: 400, errorT: "UserNotConfirmedException", body: "User is not confirmed."}}},
			signInUnavailable},
		"MFA before the challenge": {map[string][]answer{"AdminInitiateAuth": {{status: 200, body: `{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":{"CODE_DELIVERY_DESTINATION":"+82******1234"}}`}}},
			signInUnavailable},
		"MFA setup before the challenge": {map[string][]answer{"AdminInitiateAuth": {{status: 200, body: `{"ChallengeName":"MFA_SETUP","Session":"s","ChallengeParameters":{}}`}}},
			signInUnavailable},
		"TOTP after the answer": {map[string][]answer{"AdminInitiateAuth": {challenge}, "AdminRespondToAuthChallenge": {{status: 200, body: `{"ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"s2","ChallengeParameters":{}}`}}},
			signInUnavailable},
		"new password after the answer": {map[string][]answer{"AdminInitiateAuth": {challenge}, "AdminRespondToAuthChallenge": {{status: 200, body: `{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"s2","ChallengeParameters":{}}`}}},
			signInUnavailable},
	}
	for name, c := range cases {
		_, cl := newWire(c.answers)
		_, err := New(cl, "p", "broker-client").SignInWithChallenge(context.Background(), kakaoauth.ChallengeSignIn{Username: "alice", Answer: answerFn})
		if !c.check(err) {
			t.Errorf("%s: %T %v", name, err, err)
		}
	}
}

func signInUnavailable(err error) bool {
	var e *kakaoauth.KakaoSignInUnavailable
	return errors.As(err, &e) && kakaoauth.ErrorName(err) == "KakaoSignInUnavailable" && kakaoauth.OutcomeOf(kakaoauth.ErrorName(err)).Status == 403
}

// Only this one refresh token is revoked, with the broker's client.
func TestRevokeTokenRequest(t *testing.T) {
	w, c := newWire(nil)
	if err := New(c, "p", "broker-client").RevokeToken(context.Background(), "rt-1"); err != nil {
		t.Fatal(err)
	}
	if len(w.calls) != 1 || w.calls[0].Op != "RevokeToken" || jsonOf(t, w.calls[0].Body) != `{"ClientId":"broker-client","Token":"rt-1"}` {
		t.Fatalf("calls %+v", w.calls)
	}
}

// The access-token check, against moto's GetUser: a token of the pool's
// allowed client works until revoked; a token of another client, an ID
// token, a token whose claims were altered, or one of another pool does
// not, and the ones whose claims say so cost no Cognito call.
func TestAccessTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other, err := f.client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: &f.stack.UserPoolID, ClientName: aws.String("another-app"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &f.stack.UserPoolID, Username: aws.String("alice"),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("alice@example.com")}, {Name: aws.String("email_verified"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &f.stack.UserPoolID, Username: aws.String("alice"), Password: aws.String(goodPassword), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	signIn := func(clientID string) *types.AuthenticationResultType {
		out, err := f.client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &f.stack.UserPoolID, ClientId: &clientID,
			AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": goodPassword}})
		if err != nil {
			t.Fatal(err)
		}
		return out.AuthenticationResult
	}
	mine := signIn(f.stack.UserPoolClientID)
	theirs := signIn(aws.ToString(other.UserPoolClient.ClientId))
	calls := &countingGetUser{api: f.client}
	check := NewAccessTokens(calls, f.stack.UserPoolID, []string{f.stack.UserPoolClientID}, nil)

	u, err := check.User(ctx, aws.ToString(mine.AccessToken))
	if err != nil || u.Username != "alice" || u.Email != "alice@example.com" || u.Sub == "" || u.KakaoID != 0 {
		t.Fatalf("valid token: %+v %v", u, err)
	}
	refused := map[string]string{
		"another app's client": aws.ToString(theirs.AccessToken),
		"an ID token":          aws.ToString(mine.IdToken),
		"not a JWT":            "not-a-jwt",
		"claims altered":       alterClaims(t, aws.ToString(mine.AccessToken), func(c map[string]any) { c["username"] = "bob" }),
		"claims of another pool": alterClaims(t, aws.ToString(mine.AccessToken), func(c map[string]any) {
			c["iss"] = "https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_Other"
		}),
		"expired": alterClaims(t, aws.ToString(mine.AccessToken), func(c map[string]any) { c["exp"] = 1 }),
	}
	before := calls.n
	for name, tok := range refused {
		var bad *kakaoauth.InvalidCognitoToken
		if _, err := check.User(ctx, tok); !errors.As(err, &bad) {
			t.Errorf("%s: %T %v", name, err, err)
		}
	}
	// Only the altered claims that pass the offline checks reach Cognito,
	// which refuses the signature.
	if n := calls.n - before; n != 1 {
		t.Errorf("%d GetUser calls for refused tokens, want 1 (the altered username)", n)
	}
	// Revoked: Cognito is the only one who knows.
	if _, err := f.client.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: &f.stack.UserPoolID, Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	var bad *kakaoauth.InvalidCognitoToken
	if _, err := check.User(ctx, aws.ToString(mine.AccessToken)); !errors.As(err, &bad) {
		t.Fatalf("revoked token: %T %v", err, err)
	}
}

type countingGetUser struct {
	api AccessTokensAPI
	n   int
}

func (c *countingGetUser) GetUser(ctx context.Context, in *cip.GetUserInput, opts ...func(*cip.Options)) (*cip.GetUserOutput, error) {
	c.n++
	return c.api.GetUser(ctx, in, opts...)
}

// alterClaims rewrites a JWT's payload, keeping its signature.
func alterClaims(t *testing.T, token string, change func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	change(claims)
	b, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// A pool whose usernames are email addresses (UsernameAttributes) cannot
// take kakao_<id>: the refusal is AccountNotLinked, which tells apps to
// offer linking, with Cognito's reason for the log.
func TestCreateUserInAPoolWithEmailUsernames(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// With custom:kakao_id, as kakaoauth pool attach leaves it.
	pool, err := f.client.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("team-" + strings.ToLower(t.Name())),
		UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		Schema:             []types.SchemaAttributeType{{Name: aws.String("kakao_id"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := New(f.client, aws.ToString(pool.UserPool.Id), "")
	_, err = dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 4242, Email: "kim@example.com"})
	var notLinked *kakaoauth.AccountNotLinked
	if !errors.As(err, &notLinked) || notLinked.KakaoID != 4242 || !strings.Contains(notLinked.Reason, "email") {
		t.Fatalf("%T %v", err, err)
	}
	if o := kakaoauth.OutcomeOf(kakaoauth.ErrorName(err)); o.Status != 403 || o.Code != "AccountNotLinked" {
		t.Fatalf("outcome %+v", o)
	}
}

// The CUSTOM_AUTH triggers know the broker's client by its name, from one
// cached description per client.
func TestAppClientsName(t *testing.T) {
	w, c := newWire(map[string][]answer{"DescribeUserPoolClient": {
		{status: 200, body: `{"UserPoolClient":{"ClientId":"c1","ClientName":"kakaoauth-app","ExplicitAuthFlows":["ALLOW_CUSTOM_AUTH"]}}`},
	}})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clients := NewAppClients(c, time.Minute, func() time.Time { return now })
	for range 2 {
		if name, err := clients.Name(context.Background(), "p", "c1"); name != "kakaoauth-app" || err != nil {
			t.Fatalf("%q %v", name, err)
		}
	}
	if fed, err := clients.FederatedOnly(context.Background(), "p", "c1"); fed || err != nil {
		t.Fatalf("%v %v", fed, err)
	}
	if n := len(w.ops()); n != 1 {
		t.Fatalf("%d calls, want one description for both questions", n)
	}
}
