package rie_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/rie"
	"github.com/kakaoauth/kakaoauth/shared/password"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// The linked-account functions' bootstraps, run under aws-lambda-rie with
// env.json's variables and the committed events, against moto and the
// Kakao double (the path `sam local invoke` takes, minus Docker): the
// linking endpoint links the demo Kakao account to a user of the pool
// that kakaoauth did not create (a native user, signed in with its own
// password), and the custom auth triggers answer the committed events as
// Cognito would have them answered.
func TestLinkedAccountsUnderRIE(t *testing.T) {
	s := newStack(t)
	fns := build(t)
	ctx := t.Context()
	idp := cip.NewFromConfig(s.aws)
	// The pool's triggers are the built functions (moto's layer invokes
	// them where Cognito would): PreAuthentication runs for the native
	// user's sign-in below, and lets it through.
	emu := map[string]*rie.Emulator{}
	for _, id := range []string{"PreAuthFunction", "DefineAuthChallengeFunction", "CreateAuthChallengeFunction", "VerifyAuthChallengeFunction"} {
		emu[id], _ = fns.start(t, id, s.environment(t, id))
	}
	s.serveTriggers(t, emu)
	define, create, verify := emu["DefineAuthChallengeFunction"], emu["CreateAuthChallengeFunction"], emu["VerifyAuthChallengeFunction"]

	// A user of the pool kakaoauth did not create, signed in with its own
	// password through the broker's client (the admin flow moto has).
	const native, own = "demo-native", "Native-pass-1234"
	created, err := idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &s.res.UserPoolID, Username: aws.String(native),
		MessageAction:  ciptypes.MessageActionTypeSuppress,
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String("demo-native@example.com")}, {Name: aws.String("email_verified"), Value: aws.String("true")}}})
	if err != nil {
		t.Fatal(err)
	}
	var sub string
	for _, a := range created.User.Attributes {
		if aws.ToString(a.Name) == "sub" {
			sub = aws.ToString(a.Value)
		}
	}
	if _, err := idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &s.res.UserPoolID, Username: aws.String(native), Password: aws.String(own), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	signedIn, err := idp.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &s.res.UserPoolID, ClientId: &s.res.UserPoolClientID,
		AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": native, "PASSWORD": own}})
	if err != nil {
		t.Fatal(err)
	}
	kakaoTokens, err := s.fake.MintTokens(kakaofake.TokenRequest{UserID: demo.ID})
	if err != nil {
		t.Fatal(err)
	}

	link, _ := fns.start(t, "LinkFunction", s.environment(t, "LinkFunction"))
	// As committed (placeholders): the access token is no Cognito token.
	var resp events.APIGatewayProxyResponse
	decodeStrict(t, "link as committed", invoke(t, link, event(t, "link", nil)), &resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Body, "InvalidCognitoToken") {
		t.Fatalf("link as committed: %d %s", resp.StatusCode, resp.Body)
	}
	vars := map[string]string{
		"COGNITO_ACCESS_TOKEN": aws.ToString(signedIn.AuthenticationResult.AccessToken), "KAKAO_ACCESS_TOKEN": kakaoTokens.AccessToken,
		"USER_POOL_ID": s.res.UserPoolID, "USER_POOL_CLIENT_ID": s.res.UserPoolClientID, "COGNITO_SUB": sub,
	}
	decodeStrict(t, "link", invoke(t, link, event(t, "link", vars)), &resp)
	var linked workflow.LinkResponse
	if err := json.Unmarshal([]byte(resp.Body), &linked); err != nil || resp.StatusCode != http.StatusOK ||
		linked.KakaoID != demo.ID || linked.Sub != sub || linked.Username != native || !linked.NewLink {
		t.Fatalf("link: %d %s", resp.StatusCode, resp.Body)
	}
	m, err := store.NewMappings(dynamodb.NewFromConfig(s.aws), s.res.MappingTable).Get(ctx, demo.ID)
	if err != nil || m.Kind != kakaoauth.KindLinked || m.Sub != sub || m.Status != kakaoauth.StatusActive {
		t.Fatalf("mapping %+v %v", m, err)
	}

	// The custom auth triggers: the broker's client gets one challenge;
	// the challenge is random; only the broker's proof for it is right.
	var def events.CognitoEventUserPoolsDefineAuthChallenge
	decodeStrict(t, "defineauthchallenge", invoke(t, define, event(t, "defineauthchallenge", vars)), &def)
	if def.Response.ChallengeName != workflow.CustomChallenge || def.Response.FailAuthentication || def.Response.IssueTokens {
		t.Fatalf("define, first round: %+v", def.Response)
	}
	other := map[string]string{"USER_POOL_ID": s.res.UserPoolID, "USER_POOL_CLIENT_ID": "someoneelsesclient", "COGNITO_SUB": sub}
	decodeStrict(t, "defineauthchallenge, another client", invoke(t, define, event(t, "defineauthchallenge", other)), &def)
	if !def.Response.FailAuthentication || def.Response.ChallengeName != "" {
		t.Fatalf("define on another client: %+v", def.Response)
	}
	var cr events.CognitoEventUserPoolsCreateAuthChallenge
	decodeStrict(t, "createauthchallenge", invoke(t, create, event(t, "createauthchallenge", vars)), &cr)
	challenge := cr.Response.PublicChallengeParameters[kakaoauth.ChallengeParameter]
	if challenge == "" || cr.Response.PrivateChallengeParameters[kakaoauth.ChallengeParameter] != challenge {
		t.Fatalf("create: %+v", cr.Response)
	}
	vars["CHALLENGE"] = challenge
	vars["CHALLENGE_ANSWER"] = password.ChallengeProof(s.proofKey, sub, s.res.UserPoolClientID, challenge, time.Now().Add(time.Minute))
	var ver events.CognitoEventUserPoolsVerifyAuthChallenge
	decodeStrict(t, "verifyauthchallenge", invoke(t, verify, event(t, "verifyauthchallenge", vars)), &ver)
	if !ver.Response.AnswerCorrect {
		t.Fatal("the broker's proof was refused")
	}
	vars["CHALLENGE_ANSWER"] = own // the user's password is no answer
	decodeStrict(t, "verifyauthchallenge, the password", invoke(t, verify, event(t, "verifyauthchallenge", vars)), &ver)
	if ver.Response.AnswerCorrect {
		t.Fatal("a password answered the challenge")
	}
}
