package moto

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
)

// The layer's Cognito (ext/cognitoidp_ext.py), through the SDK as the
// stack calls it: each behaviour, and the error code and message the SDK
// sees where Cognito refuses.

const testPassword = "Passw0rd!Passw0rd"

// pool is a user pool of its own on the test binary's moto.
type pool struct {
	api *cip.Client
	id  string
}

func newPool(t *testing.T, in *cip.CreateUserPoolInput) *pool {
	t.Helper()
	ctx := context.Background()
	api := cip.NewFromConfig(AWSConfig(ctx, ForTest(t).URL()))
	if in == nil {
		in = &cip.CreateUserPoolInput{}
	}
	in.PoolName = aws.String("p" + randomHex(4))
	out, err := api.CreateUserPool(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return &pool{api: api, id: aws.ToString(out.UserPool.Id)}
}

func (p *pool) client(t *testing.T, in cip.CreateUserPoolClientInput) string {
	t.Helper()
	in.UserPoolId = &p.id
	if in.ClientName == nil {
		in.ClientName = aws.String("c" + randomHex(4))
	}
	out, err := p.api.CreateUserPoolClient(context.Background(), &in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.UserPoolClient.ClientId)
}

// user creates a confirmed user with testPassword and attributes
// (name, value pairs).
func (p *pool) user(t *testing.T, username string, attrs ...string) {
	t.Helper()
	ctx := context.Background()
	in := &cip.AdminCreateUserInput{UserPoolId: &p.id, Username: &username, MessageAction: types.MessageActionTypeSuppress}
	for i := 0; i+1 < len(attrs); i += 2 {
		in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(attrs[i]), Value: aws.String(attrs[i+1])})
	}
	if _, err := p.api.AdminCreateUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &p.id, Username: &username, Password: aws.String(testPassword), Permanent: true}); err != nil {
		t.Fatal(err)
	}
}

// signIn signs username in through client with the admin password flow.
func (p *pool) signIn(t *testing.T, client, username string) *types.AuthenticationResultType {
	t.Helper()
	out, err := p.api.AdminInitiateAuth(context.Background(), &cip.AdminInitiateAuthInput{
		UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": testPassword},
	})
	if err != nil {
		t.Fatalf("sign in %s: %v", username, err)
	}
	if out.AuthenticationResult == nil {
		t.Fatalf("sign in %s: challenge %s", username, out.ChallengeName)
	}
	return out.AuthenticationResult
}

func (p *pool) refresh(client, refreshToken string) (*cip.InitiateAuthOutput, error) {
	return p.api.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		ClientId: &client, AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
}

// wantAPIError checks the error code and, when message is not empty, the
// message the SDK reports.
func wantAPIError(t *testing.T, err error, code, message string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if api.ErrorCode() != code || (message != "" && api.ErrorMessage() != message) {
		t.Fatalf("want %s %q, got %s %q", code, message, api.ErrorCode(), api.ErrorMessage())
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var revocable = cip.CreateUserPoolClientInput{
	ExplicitAuthFlows:     []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	EnableTokenRevocation: aws.Bool(true),
}

// RevokeToken revokes the refresh token and the access tokens issued from
// it, and nothing else: another sign-in of the same user keeps working.
func TestRevokeToken(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	client := p.client(t, revocable)
	p.user(t, "alice")
	first := p.signIn(t, client, "alice")
	refreshed, err := p.refresh(client, aws.ToString(first.RefreshToken))
	if err != nil {
		t.Fatal(err)
	}
	second := p.signIn(t, client, "alice")

	if _, err := p.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &client, Token: first.RefreshToken}); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	for name, access := range map[string]*string{"the sign-in's": first.AccessToken, "the refresh's": refreshed.AuthenticationResult.AccessToken} {
		_, err := p.api.GetUser(ctx, &cip.GetUserInput{AccessToken: access})
		if err == nil {
			t.Fatalf("%s access token still works after RevokeToken", name)
		}
		wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	}
	_, err = p.refresh(client, aws.ToString(first.RefreshToken))
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")

	if _, err := p.api.GetUser(ctx, &cip.GetUserInput{AccessToken: second.AccessToken}); err != nil {
		t.Fatalf("another sign-in's access token was revoked too: %v", err)
	}
	if _, err := p.refresh(client, aws.ToString(second.RefreshToken)); err != nil {
		t.Fatalf("another sign-in's refresh token was revoked too: %v", err)
	}
	// Revoking again, or a token Cognito never issued: nothing to do.
	if _, err := p.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &client, Token: first.RefreshToken}); err != nil {
		t.Fatalf("RevokeToken of a revoked token: %v", err)
	}
}

// Anonymous, as a browser calls it (the JS client's sign-out): RevokeToken
// is one of Cognito's unauthenticated APIs.
func TestRevokeTokenWithoutCredentials(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	client := p.client(t, revocable)
	p.user(t, "bob")
	auth := p.signIn(t, client, "bob")
	anon := cip.NewFromConfig(AWSConfig(ctx, ForTest(t).URL()), func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	if _, err := anon.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &client, Token: auth.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	_, err := p.refresh(client, aws.ToString(auth.RefreshToken))
	wantAPIError(t, err, "NotAuthorizedException", "Refresh Token has been revoked")
}

func TestRevokeTokenRefusals(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	client := p.client(t, revocable)
	off := revocable
	off.EnableTokenRevocation = aws.Bool(false)
	noRevocation := p.client(t, off)
	other := p.client(t, revocable)
	p.user(t, "carol")
	auth := p.signIn(t, client, "carol")
	offAuth := p.signIn(t, noRevocation, "carol")

	_, err := p.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &noRevocation, Token: offAuth.RefreshToken})
	wantAPIError(t, err, "UnsupportedOperationException", "")
	_, err = p.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &client, Token: auth.AccessToken})
	wantAPIError(t, err, "UnsupportedTokenTypeException", "")
	_, err = p.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &other, Token: auth.RefreshToken})
	wantAPIError(t, err, "UnauthorizedException", "")
	if _, err := p.refresh(client, aws.ToString(auth.RefreshToken)); err != nil {
		t.Fatalf("a refused revocation revoked the token: %v", err)
	}
}

// GlobalSignOut's access tokens are revoked, not unknown; a token Cognito
// never issued is invalid; refreshing with one is NotAuthorized, not a 500.
func TestAccessTokenStates(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	client := p.client(t, revocable)
	p.user(t, "dave")
	auth := p.signIn(t, client, "dave")
	if _, err := p.api.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: auth.AccessToken}); err != nil {
		t.Fatal(err)
	}
	_, err := p.api.GetUser(ctx, &cip.GetUserInput{AccessToken: auth.AccessToken})
	wantAPIError(t, err, "NotAuthorizedException", "Access Token has been revoked")
	_, err = p.api.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String("eyJhbGciOiJub25lIn0.e30.x")})
	wantAPIError(t, err, "NotAuthorizedException", "Invalid Access Token")
	_, err = p.refresh(client, "not-a-refresh-token")
	wantAPIError(t, err, "NotAuthorizedException", "Invalid Refresh Token")
	_, err = p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": "not-a-refresh-token"}})
	wantAPIError(t, err, "NotAuthorizedException", "Invalid Refresh Token")
}

// DeleteUser with the user's own access token deletes the user and ends
// its sessions.
func TestDeleteUserWithAccessToken(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	client := p.client(t, revocable)
	p.user(t, "erin")
	auth := p.signIn(t, client, "erin")
	if _, err := p.api.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: auth.AccessToken}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := p.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &p.id, Username: aws.String("erin")})
	wantAPIError(t, err, "UserNotFoundException", "User does not exist.")
	if _, err := p.refresh(client, aws.ToString(auth.RefreshToken)); err == nil {
		t.Fatal("the deleted user's refresh token still works")
	}
	_, err = p.api.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: auth.AccessToken})
	if err == nil || !strings.Contains(err.Error(), "NotAuthorizedException") {
		t.Fatalf("DeleteUser again with the same token: %v", err)
	}
}

// ListUsers' username filter, which `kakaoauth pool attach` relies on
// (shared/userpool.FindReservedUsers): ^= is a prefix match and = an exact
// one, both case-sensitive as the Cognito API reference says of username,
// and a filtered listing pages with PaginationToken like an unfiltered one.
// moto has this itself (models.list_users); the layer adds nothing.
func TestListUsersUsernameFilter(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	for _, u := range []string{"kakao_1", "kakao_22", "kakao_333", "Kakao_4", "KAKAO_5", "kakaotalk_6", "xkakao_7"} {
		p.user(t, u)
	}
	list := func(filter string, limit int32) (names []string, pages int) {
		t.Helper()
		in := &cip.ListUsersInput{UserPoolId: &p.id, Filter: aws.String(filter), Limit: aws.Int32(limit)}
		for pg := cip.NewListUsersPaginator(p.api, in); pg.HasMorePages(); pages++ {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatalf("%s: %v", filter, err)
			}
			for _, u := range out.Users {
				names = append(names, aws.ToString(u.Username))
			}
		}
		slices.Sort(names)
		return names, pages
	}
	for filter, want := range map[string][]string{
		`username ^= "kakao_"`:    {"kakao_1", "kakao_22", "kakao_333"},
		`username ^= "Kakao_"`:    {"Kakao_4"},
		`username ^= "KAKAO_"`:    {"KAKAO_5"},
		`username = "kakao_22"`:   {"kakao_22"},
		`username = "kakao_2"`:    nil,
		`username ^= "kakaotalk"`: {"kakaotalk_6"},
	} {
		if got, _ := list(filter, 60); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", filter, got, want)
		}
	}
	if got, pages := list(`username ^= "kakao_"`, 2); !slices.Equal(got, []string{"kakao_1", "kakao_22", "kakao_333"}) || pages != 2 {
		t.Errorf("paged: %v in %d pages", got, pages)
	}
	_, err := p.api.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: &p.id, Filter: aws.String(`custom:kakao_id = "1"`)})
	wantAPIError(t, err, "InvalidParameterException", "")
}
