package moto

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth/infra/lambdaapi"
)

// The pool's Lambda triggers, run by the layer through Lambda's Invoke API
// (served here by infra/lambdaapi) with Cognito's events, decoded by
// aws-lambda-go's types as a deployed trigger decodes them.

// serveTriggers serves handlers (by LambdaConfig slot, e.g. "PreSignUp")
// as functions of their own, registers them with the layer, and returns
// the LambdaConfig that names them.
func serveTriggers(t *testing.T, handlers map[string]any) *types.LambdaConfigType {
	t.Helper()
	ctx := context.Background()
	fns := lambdaapi.New()
	srv := httptest.NewServer(fns)
	t.Cleanup(srv.Close)
	prefix := "arn:aws:lambda:us-east-1:123456789012:function:t" + randomHex(4) + "-"
	endpoints := map[string]string{}
	cfg := &types.LambdaConfigType{}
	for slot, h := range handlers {
		arn := prefix + slot
		fns.Register(arn, h, 0)
		endpoints[arn] = srv.URL
		switch slot {
		case "PreSignUp":
			cfg.PreSignUp = aws.String(arn)
		case "PreAuthentication":
			cfg.PreAuthentication = aws.String(arn)
		case "PostAuthentication":
			cfg.PostAuthentication = aws.String(arn)
		case "PostConfirmation":
			cfg.PostConfirmation = aws.String(arn)
		case "DefineAuthChallenge":
			cfg.DefineAuthChallenge = aws.String(arn)
		case "CreateAuthChallenge":
			cfg.CreateAuthChallenge = aws.String(arn)
		case "VerifyAuthChallengeResponse":
			cfg.VerifyAuthChallengeResponse = aws.String(arn)
		default:
			t.Fatalf("no slot %s", slot)
		}
	}
	url := ForTest(t).URL()
	if err := RegisterFunctions(ctx, url, endpoints); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		arns := make([]string, 0, len(endpoints))
		for arn := range endpoints {
			arns = append(arns, arn)
		}
		_ = UnregisterFunctions(context.Background(), url, arns)
	})
	return cfg
}

// recorder keeps the events a trigger received.
type recorder[E any] struct {
	mu     sync.Mutex
	events []E
}

func (r *recorder[E]) add(e E) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder[E]) all() []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]E(nil), r.events...)
}

type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }

var passwordClient = cip.CreateUserPoolClientInput{
	ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth,
		types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
}

func TestPreSignUpOnAdminCreateUser(t *testing.T) {
	ctx := context.Background()
	var seen recorder[events.CognitoEventUserPoolsPreSignup]
	cfg := serveTriggers(t, map[string]any{
		"PreSignUp": func(_ context.Context, ev events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
			seen.add(ev)
			if strings.HasPrefix(ev.UserName, "blocked") {
				return ev, &refusal{"no blocked users"}
			}
			return ev, nil
		},
	})
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: cfg})
	_, err := p.api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: &p.id, Username: aws.String("frank"), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("f@example.com")}},
		ValidationData: []types.AttributeType{{Name: aws.String("v"), Value: aws.String("1")}},
		ClientMetadata: map[string]string{"m": "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := seen.all()
	if len(evs) != 1 {
		t.Fatalf("PreSignUp ran %d times", len(evs))
	}
	ev := evs[0]
	if ev.TriggerSource != "PreSignUp_AdminCreateUser" || ev.UserPoolID != p.id || ev.UserName != "frank" || ev.Region != Region ||
		ev.CallerContext.ClientID != "CLIENT_ID_NOT_APPLICABLE" || ev.Version != "1" ||
		ev.Request.UserAttributes["email"] != "f@example.com" || ev.Request.ValidationData["v"] != "1" || ev.Request.ClientMetadata["m"] != "2" {
		t.Fatalf("event %+v", ev)
	}

	_, err = p.api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &p.id, Username: aws.String("blocked1"), MessageAction: types.MessageActionTypeSuppress})
	wantAPIError(t, err, "UserLambdaValidationException", "PreSignUp failed with error no blocked users.")
	_, err = p.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &p.id, Username: aws.String("blocked1")})
	wantAPIError(t, err, "UserNotFoundException", "")
}

func TestPreSignUpOnSignUp(t *testing.T) {
	ctx := context.Background()
	var seen recorder[events.CognitoEventUserPoolsPreSignup]
	cfg := serveTriggers(t, map[string]any{
		"PreSignUp": func(_ context.Context, ev events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
			seen.add(ev)
			ev.Response.AutoConfirmUser = ev.Request.ValidationData["invite"] == "yes"
			ev.Response.AutoVerifyEmail = ev.Response.AutoConfirmUser
			return ev, nil
		},
	})
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: cfg, AliasAttributes: []types.AliasAttributeType{types.AliasAttributeTypeEmail}})
	client := p.client(t, passwordClient)
	out, err := p.api.SignUp(ctx, &cip.SignUpInput{ClientId: &client, Username: aws.String("gina"), Password: aws.String(testPassword),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("g@example.com")}},
		ValidationData: []types.AttributeType{{Name: aws.String("invite"), Value: aws.String("yes")}},
		ClientMetadata: map[string]string{"from": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if !out.UserConfirmed {
		t.Fatal("autoConfirmUser did not confirm the user")
	}
	ev := seen.all()[0]
	if ev.TriggerSource != "PreSignUp_SignUp" || ev.CallerContext.ClientID != client || ev.Request.ClientMetadata["from"] != "test" {
		t.Fatalf("event %+v", ev)
	}
	// Confirmed and its email verified: it signs in by its email alias.
	if got := p.signIn(t, client, "G@Example.com"); got.AccessToken == nil {
		t.Fatal("no tokens")
	}
}

func TestPreAuthentication(t *testing.T) {
	ctx := context.Background()
	var seen recorder[events.CognitoEventUserPoolsPreAuthentication]
	cfg := serveTriggers(t, map[string]any{
		"PreAuthentication": func(_ context.Context, ev events.CognitoEventUserPoolsPreAuthentication) (events.CognitoEventUserPoolsPreAuthentication, error) {
			seen.add(ev)
			if ev.Request.UserAttributes["custom:kakao_id"] != "" && ev.Request.ValidationData["proof"] != "ok" {
				return ev, &refusal{"Sign in with Kakao."}
			}
			return ev, nil
		},
	})
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: cfg, Schema: []types.SchemaAttributeType{
		{Name: aws.String("kakao_id"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(false)}}})
	client := p.client(t, passwordClient)
	p.user(t, "native")
	p.user(t, "kakao_7", "custom:kakao_id", "7")

	auth := p.signIn(t, client, "native")
	ev := seen.all()[0]
	if ev.TriggerSource != "PreAuthentication_Authentication" || ev.UserName != "native" || ev.CallerContext.ClientID != client ||
		ev.Request.UserAttributes["cognito:user_status"] != "CONFIRMED" || ev.Request.UserAttributes["sub"] == "" {
		t.Fatalf("event %+v", ev)
	}
	_, err := p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "kakao_7", "PASSWORD": testPassword}})
	wantAPIError(t, err, "UserLambdaValidationException", "PreAuthentication failed with error Sign in with Kakao..")
	_, err = p.api.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: &client, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "kakao_7", "PASSWORD": testPassword}})
	wantAPIError(t, err, "UserLambdaValidationException", "PreAuthentication failed with error Sign in with Kakao..")
	// ClientMetadata reaches the trigger as validationData.
	if _, err := p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "kakao_7", "PASSWORD": testPassword}, ClientMetadata: map[string]string{"proof": "ok"}}); err != nil {
		t.Fatalf("with the proof: %v", err)
	}
	// The trigger runs before the password is checked, and not on refresh.
	before := len(seen.all())
	_, err = p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "kakao_7", "PASSWORD": "wrong"}})
	wantAPIError(t, err, "UserLambdaValidationException", "")
	if _, err := p.refresh(client, aws.ToString(auth.RefreshToken)); err != nil {
		t.Fatal(err)
	}
	if n := len(seen.all()) - before; n != 1 {
		t.Fatalf("PreAuthentication ran %d times for a wrong password and a refresh, want 1", n)
	}
}

// A trigger that cannot be run or answers nonsense: Cognito's answers.
func TestTriggerFailures(t *testing.T) {
	ctx := context.Background()
	cfg := serveTriggers(t, map[string]any{
		"PreSignUp": func(context.Context, events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
			panic("boom")
		},
		"PreAuthentication": func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(`"not an event"`), nil
		},
	})
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: cfg})
	_, err := p.api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &p.id, Username: aws.String("hal"), MessageAction: types.MessageActionTypeSuppress})
	wantAPIError(t, err, "UserLambdaValidationException", "PreSignUp failed with error boom.")

	// No function behind the ARN.
	missing := "arn:aws:lambda:us-east-1:123456789012:function:nobody-" + randomHex(4)
	q := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: &types.LambdaConfigType{PreSignUp: &missing, PreAuthentication: cfg.PreAuthentication}})
	_, err = q.api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &q.id, Username: aws.String("ivy"), MessageAction: types.MessageActionTypeSuppress})
	wantAPIError(t, err, "UnexpectedLambdaException", "PreSignUp invocation failed due to error ResourceNotFoundException.")

	r := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: &types.LambdaConfigType{PreAuthentication: cfg.PreAuthentication}})
	client := r.client(t, passwordClient)
	r.user(t, "jack")
	_, err = r.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &r.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "jack", "PASSWORD": testPassword}})
	wantAPIError(t, err, "InvalidLambdaResponseException", "")
}

// PostAuthentication runs once tokens are issued; its error fails the
// sign-in.
func TestPostAuthentication(t *testing.T) {
	ctx := context.Background()
	var seen recorder[events.CognitoEventUserPoolsPostAuthentication]
	cfg := serveTriggers(t, map[string]any{
		"PostAuthentication": func(_ context.Context, ev events.CognitoEventUserPoolsPostAuthentication) (events.CognitoEventUserPoolsPostAuthentication, error) {
			seen.add(ev)
			if ev.UserName == "late" {
				return ev, &refusal{"not today"}
			}
			return ev, nil
		},
	})
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: cfg})
	client := p.client(t, passwordClient)
	p.user(t, "kim")
	p.user(t, "late")
	p.signIn(t, client, "kim")
	if evs := seen.all(); len(evs) != 1 || evs[0].TriggerSource != "PostAuthentication_Authentication" {
		t.Fatalf("events %+v", evs)
	}
	_, err := p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "late", "PASSWORD": testPassword}})
	wantAPIError(t, err, "UserLambdaValidationException", "PostAuthentication failed with error not today.")
}

// ---------------------------------------------------------- custom auth

// customAuth is a custom flow with a secret answer per user and three
// tries, recording what each trigger received.
type customAuth struct {
	define recorder[events.CognitoEventUserPoolsDefineAuthChallenge]
	create recorder[events.CognitoEventUserPoolsCreateAuthChallenge]
	verify recorder[events.CognitoEventUserPoolsVerifyAuthChallenge]
}

func (c *customAuth) handlers() map[string]any {
	return map[string]any{
		"DefineAuthChallenge": func(_ context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
			c.define.add(ev)
			s := ev.Request.Session
			switch {
			case len(s) > 0 && s[len(s)-1].ChallengeResult:
				ev.Response.IssueTokens = true
			case len(s) >= 3:
				ev.Response.FailAuthentication = true
			default:
				ev.Response.ChallengeName = "CUSTOM_CHALLENGE"
			}
			return ev, nil
		},
		"CreateAuthChallenge": func(_ context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error) {
			c.create.add(ev)
			ev.Response.PublicChallengeParameters = map[string]string{"hint": "the secret"}
			ev.Response.PrivateChallengeParameters = map[string]string{"answer": "secret-" + ev.UserName}
			ev.Response.ChallengeMetadata = "ROUND-" + string(rune('0'+len(ev.Request.Session)))
			return ev, nil
		},
		"VerifyAuthChallengeResponse": func(_ context.Context, ev events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error) {
			c.verify.add(ev)
			ev.Response.AnswerCorrect = ev.Request.ChallengeAnswer == ev.Request.PrivateChallengeParameters["answer"]
			return ev, nil
		},
	}
}

var customClient = cip.CreateUserPoolClientInput{
	ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowCustomAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
}

func (p *pool) startCustom(t *testing.T, client, username string, meta map[string]string) (*cip.AdminInitiateAuthOutput, error) {
	t.Helper()
	return p.api.AdminInitiateAuth(context.Background(), &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client,
		AuthFlow: types.AuthFlowTypeCustomAuth, AuthParameters: map[string]string{"USERNAME": username}, ClientMetadata: meta})
}

func (p *pool) answer(client, username, session, answer string, meta map[string]string) (*cip.AdminRespondToAuthChallengeOutput, error) {
	return p.api.AdminRespondToAuthChallenge(context.Background(), &cip.AdminRespondToAuthChallengeInput{UserPoolId: &p.id, ClientId: &client,
		ChallengeName: types.ChallengeNameTypeCustomChallenge, Session: &session,
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer}, ClientMetadata: meta})
}

func TestCustomAuth(t *testing.T) {
	ctx := context.Background()
	var c customAuth
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: serveTriggers(t, c.handlers())})
	client := p.client(t, customClient)
	p.user(t, "lee", "email", "lee@example.com")

	start, err := p.startCustom(t, client, "lee", map[string]string{"from": "initiate"})
	if err != nil {
		t.Fatal(err)
	}
	if start.ChallengeName != types.ChallengeNameTypeCustomChallenge || start.ChallengeParameters["hint"] != "the secret" ||
		start.ChallengeParameters["USERNAME"] != "lee" || aws.ToString(start.Session) == "" {
		t.Fatalf("challenge %+v", start)
	}
	// A wrong answer, then the right one.
	wrong, err := p.answer(client, "lee", aws.ToString(start.Session), "guess", map[string]string{"from": "respond"})
	if err != nil {
		t.Fatal(err)
	}
	if wrong.ChallengeName != types.ChallengeNameTypeCustomChallenge || wrong.AuthenticationResult != nil {
		t.Fatalf("after a wrong answer: %+v", wrong)
	}
	// The answered session is spent.
	_, err = p.answer(client, "lee", aws.ToString(start.Session), "secret-lee", nil)
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")
	done, err := p.answer(client, "lee", aws.ToString(wrong.Session), "secret-lee", map[string]string{"from": "respond"})
	if err != nil {
		t.Fatal(err)
	}
	if done.AuthenticationResult == nil || aws.ToString(done.AuthenticationResult.RefreshToken) == "" {
		t.Fatalf("no tokens after the right answer: %+v", done)
	}

	// What each trigger saw: Define's session grows with each result and
	// its metadata; InitiateAuth's ClientMetadata reaches none of them,
	// RespondToAuthChallenge's reaches all three.
	defs := c.define.all()
	if len(defs) != 3 || len(defs[0].Request.Session) != 0 || len(defs[2].Request.Session) != 2 ||
		defs[2].Request.Session[0].ChallengeResult || !defs[2].Request.Session[1].ChallengeResult ||
		defs[2].Request.Session[1].ChallengeMetadata != "ROUND-1" || defs[0].TriggerSource != "DefineAuthChallenge_Authentication" ||
		defs[0].Request.UserAttributes["email"] != "lee@example.com" {
		t.Fatalf("define events %+v", defs)
	}
	if defs[0].Request.ClientMetadata != nil || c.create.all()[0].Request.ClientMetadata != nil {
		t.Fatal("InitiateAuth's ClientMetadata reached Define or Create")
	}
	if defs[1].Request.ClientMetadata["from"] != "respond" || c.verify.all()[0].Request.ClientMetadata["from"] != "respond" ||
		c.create.all()[1].Request.ClientMetadata["from"] != "respond" {
		t.Fatal("RespondToAuthChallenge's ClientMetadata did not reach the triggers")
	}
	if v := c.verify.all()[0]; v.TriggerSource != "VerifyAuthChallengeResponse_Authentication" || v.Request.PrivateChallengeParameters["answer"] != "secret-lee" {
		t.Fatalf("verify event %+v", v)
	}

	// moto's own tokens: they refresh, read the user and revoke.
	auth := done.AuthenticationResult
	if _, err := p.api.GetUser(ctx, &cip.GetUserInput{AccessToken: auth.AccessToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.refresh(client, aws.ToString(auth.RefreshToken)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &client, Token: auth.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.GetUser(ctx, &cip.GetUserInput{AccessToken: auth.AccessToken}); err == nil {
		t.Fatal("a revoked custom-auth access token still works")
	}
}

func TestCustomAuthFailsAfterThreeWrongAnswers(t *testing.T) {
	var c customAuth
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: serveTriggers(t, c.handlers())})
	client := p.client(t, customClient)
	p.user(t, "moe")
	out, err := p.startCustom(t, client, "moe", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.answerThrice(t, client, "moe", aws.ToString(out.Session), "guess")
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
}

// answerThrice answers a custom challenge three times: the first two
// must lead to another challenge; the third's answer is returned.
func (p *pool) answerThrice(t *testing.T, client, username, session, answer string) (*cip.AdminRespondToAuthChallengeOutput, error) {
	t.Helper()
	for range 2 {
		next, err := p.answer(client, username, session, answer, nil)
		if err != nil {
			t.Fatal(err)
		}
		session = aws.ToString(next.Session)
	}
	return p.answer(client, username, session, answer, nil)
}

func TestCustomAuthSessionExpires(t *testing.T) {
	ctx := context.Background()
	var c customAuth
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: serveTriggers(t, c.handlers())})
	in := customClient
	in.AuthSessionValidity = aws.Int32(3)
	client := p.client(t, in)
	p.user(t, "ned")
	out, err := p.startCustom(t, client, "ned", nil)
	if err != nil {
		t.Fatal(err)
	}
	url := ForTest(t).URL()
	if err := SetClockOffset(ctx, url, 3*time.Minute+time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = SetClockOffset(context.Background(), url, 0) })
	_, err = p.answer(client, "ned", aws.ToString(out.Session), "secret-ned", nil)
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
}

// Only a client that allows the custom flow may start it, and only in a
// pool with the three triggers; the session belongs to its client.
func TestCustomAuthRefusals(t *testing.T) {
	var c customAuth
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: serveTriggers(t, c.handlers())})
	custom := p.client(t, customClient)
	password := p.client(t, passwordClient)
	p.user(t, "olga")
	_, err := p.startCustom(t, password, "olga", nil)
	wantAPIError(t, err, "InvalidParameterException", "Auth flow not enabled for this client")
	_, err = p.api.InitiateAuth(context.Background(), &cip.InitiateAuthInput{ClientId: &password, AuthFlow: types.AuthFlowTypeCustomAuth,
		AuthParameters: map[string]string{"USERNAME": "olga"}})
	wantAPIError(t, err, "InvalidParameterException", "Auth flow not enabled for this client")

	out, err := p.startCustom(t, custom, "olga", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.answer(password, "olga", aws.ToString(out.Session), "secret-olga", nil)
	wantAPIError(t, err, "NotAuthorizedException", "Invalid session for the user.")

	bare := newPool(t, nil)
	bareClient := bare.client(t, customClient)
	bare.user(t, "pat")
	_, err = bare.startCustom(t, bareClient, "pat", nil)
	wantAPIError(t, err, "InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool.")

	_, err = p.startCustom(t, custom, "nobody", nil)
	wantAPIError(t, err, "UserNotFoundException", "User does not exist.")
}

// With PreventUserExistenceErrors ENABLED a missing user goes through the
// triggers (userNotFound) and fails as a wrong answer would.
func TestCustomAuthHidesMissingUsers(t *testing.T) {
	var c customAuth
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: serveTriggers(t, c.handlers())})
	in := customClient
	in.PreventUserExistenceErrors = types.PreventUserExistenceErrorTypesEnabled
	client := p.client(t, in)
	out, err := p.startCustom(t, client, "ghost", nil)
	if err != nil {
		t.Fatalf("a missing user's custom sign-in: %v", err)
	}
	if !c.define.all()[0].Request.UserNotFound || out.ChallengeParameters["USERNAME"] != "ghost" {
		t.Fatalf("define saw %+v; challenge %+v", c.define.all()[0].Request, out.ChallengeParameters)
	}
	// Even the answer the triggers would take is wrong for a missing user.
	_, err = p.answerThrice(t, client, "ghost", aws.ToString(out.Session), "secret-ghost")
	wantAPIError(t, err, "NotAuthorizedException", "Incorrect username or password.")
}

// The public InitiateAuth/RespondToAuthChallenge run the same flow.
func TestCustomAuthPublic(t *testing.T) {
	ctx := context.Background()
	var c customAuth
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: serveTriggers(t, c.handlers())})
	client := p.client(t, customClient)
	p.user(t, "quinn")
	anon := cip.NewFromConfig(AWSConfig(ctx, ForTest(t).URL()), func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	out, err := anon.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: &client, AuthFlow: types.AuthFlowTypeCustomAuth,
		AuthParameters: map[string]string{"USERNAME": "quinn"}})
	if err != nil {
		t.Fatal(err)
	}
	done, err := anon.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{ClientId: &client, ChallengeName: types.ChallengeNameTypeCustomChallenge,
		Session: out.Session, ChallengeResponses: map[string]string{"USERNAME": "quinn", "ANSWER": "secret-quinn"}})
	if err != nil {
		t.Fatal(err)
	}
	if done.AuthenticationResult == nil {
		t.Fatalf("no tokens: %+v", done)
	}
}
