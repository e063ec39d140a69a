package localstack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// getMe calls GET /me with the Authorization header given ("" for none).
func (s *testStack) getMe(t testing.TB, authorization string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+"/me", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// GET /me as the stack's optional route answers it behind API Gateway's
// Cognito authorizer: the pool's ID token itself, current and issued to
// the stack's app client, and nothing else.
func TestMe(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 301)
	status, login := s.login(t, map[string]string{"access_token": s.accessToken(t, 301)})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, login)
	}
	idToken := login["id_token"].(string)
	status, me := s.getMe(t, idToken)
	if status != http.StatusOK || me["sub"] != login["sub"] || me["username"] != "kakao_301" || me["kakao_id"] != "301" {
		t.Fatalf("GET /me with the ID token: %d %v", status, me)
	}

	// After a refresh through Cognito, the new ID token works too.
	out, err := cip.NewFromConfig(s.direct()).InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeRefreshTokenAuth, ClientId: aws.String(s.Stack().UserPoolClientID),
		AuthParameters: map[string]string{"REFRESH_TOKEN": login["refresh_token"].(string)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, me := s.getMe(t, aws.ToString(out.AuthenticationResult.IdToken)); status != http.StatusOK || me["sub"] != login["sub"] {
		t.Fatalf("GET /me with the refreshed ID token: %d %v", status, me)
	}

	parts := strings.Split(idToken, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "A." + parts[2]
	for what, auth := range map[string]string{
		"no token":                       "",
		"the access token":               login["access_token"].(string),
		"a Bearer prefix":                "Bearer " + idToken,
		"a payload changed":              tampered,
		"the refresh token":              login["refresh_token"].(string),
		"a token of another pool's keys": otherPoolIDToken(t, s),
	} {
		t.Run(what, func(t *testing.T) {
			status, body := s.getMe(t, auth)
			wantError(t, status, body, http.StatusUnauthorized, "Unauthorized")
		})
	}
}

// otherPoolIDToken is an ID token of another pool on the same moto (moto
// signs every pool's tokens with one key: only the issuer tells them apart).
func otherPoolIDToken(t *testing.T, s *testStack) string {
	t.Helper()
	ctx := context.Background()
	api := cip.NewFromConfig(s.direct())
	pool, err := api.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(s.cfg.Prefix + "-other")})
	if err != nil {
		t.Fatal(err)
	}
	id := pool.UserPool.Id
	client, err := api.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: id, ClientName: aws.String("c"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Passw0rd!Passw0rd"
	if _, err := api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: id, Username: aws.String("u"), MessageAction: ciptypes.MessageActionTypeSuppress}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: id, Username: aws.String("u"), Password: aws.String(pw), Permanent: true}); err != nil {
		t.Fatal(err)
	}
	out, err := api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: id, ClientId: client.UserPoolClient.ClientId,
		AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "u", "PASSWORD": pw}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.AuthenticationResult.IdToken)
}
