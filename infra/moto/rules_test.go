package moto

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// The app client's and the pool's rules that moto does not keep:
// ExplicitAuthFlows, PreventUserExistenceErrors, aliases, the schema,
// write attributes, linked identities.

func TestExplicitAuthFlows(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	adminOnly := p.client(t, cip.CreateUserPoolClientInput{ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
	defaults := p.client(t, cip.CreateUserPoolClientInput{})
	p.user(t, "rita")

	_, err := p.api.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: &adminOnly, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "rita", "PASSWORD": testPassword}})
	wantAPIError(t, err, "InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")
	auth := p.signIn(t, adminOnly, "rita")
	// No ALLOW_REFRESH_TOKEN_AUTH: its refresh tokens do not refresh.
	_, err = p.refresh(adminOnly, aws.ToString(auth.RefreshToken))
	wantAPIError(t, err, "InvalidParameterException", "Auth flow not enabled for this client")

	// A client that lists no flows has SRP, custom and refresh only.
	_, err = p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &defaults, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "rita", "PASSWORD": testPassword}})
	wantAPIError(t, err, "InvalidParameterException", "Auth flow not enabled for this client")
}

func TestPreventUserExistenceErrors(t *testing.T) {
	ctx := context.Background()
	var seen recorder[preAuthEvent]
	p := newPool(t, &cip.CreateUserPoolInput{LambdaConfig: serveTriggers(t, map[string]any{
		"PreAuthentication": func(_ context.Context, ev preAuthEvent) (preAuthEvent, error) {
			seen.add(ev)
			return ev, nil
		},
	})})
	legacy := p.client(t, passwordClient)
	in := passwordClient
	in.PreventUserExistenceErrors = types.PreventUserExistenceErrorTypesEnabled
	enabled := p.client(t, in)
	p.user(t, "sam")

	for _, admin := range []bool{true, false} {
		signIn := func(client, user, password string) error {
			params := map[string]string{"USERNAME": user, "PASSWORD": password}
			if admin {
				_, err := p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: params})
				return err
			}
			_, err := p.api.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: &client, AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: params})
			return err
		}
		wantAPIError(t, signIn(legacy, "nobody", testPassword), "UserNotFoundException", "User does not exist.")
		wantAPIError(t, signIn(enabled, "nobody", testPassword), "NotAuthorizedException", "Incorrect username or password.")
		wantAPIError(t, signIn(enabled, "sam", "wrong"), "NotAuthorizedException", "Incorrect username or password.")
	}
	// The trigger ran for the missing user only through the ENABLED client.
	var notFound int
	for _, ev := range seen.all() {
		if ev.Request.UserNotFound {
			notFound++
			if ev.CallerContext.ClientID != enabled {
				t.Fatalf("userNotFound from client %s", ev.CallerContext.ClientID)
			}
		}
	}
	if notFound != 2 {
		t.Fatalf("PreAuthentication with userNotFound ran %d times, want 2", notFound)
	}

	_, err := p.api.ForgotPassword(ctx, &cip.ForgotPasswordInput{ClientId: &enabled, Username: aws.String("nobody")})
	if err != nil {
		t.Fatalf("ForgotPassword of a missing user through an ENABLED client: %v", err)
	}
	_, err = p.api.ConfirmForgotPassword(ctx, &cip.ConfirmForgotPasswordInput{ClientId: &enabled, Username: aws.String("nobody"), ConfirmationCode: aws.String("123456"), Password: aws.String(testPassword)})
	wantAPIError(t, err, "CodeMismatchException", "")
	_, err = p.api.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: &enabled, Username: aws.String("nobody"), ConfirmationCode: aws.String("123456")})
	wantAPIError(t, err, "CodeMismatchException", "")
	_, err = p.api.ConfirmSignUp(ctx, &cip.ConfirmSignUpInput{ClientId: &legacy, Username: aws.String("nobody"), ConfirmationCode: aws.String("123456")})
	wantAPIError(t, err, "UserNotFoundException", "")
}

var emailAlias = &cip.CreateUserPoolInput{
	AliasAttributes:       []types.AliasAttributeType{types.AliasAttributeTypeEmail},
	UsernameConfiguration: &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)},
	Schema: []types.SchemaAttributeType{
		{Name: aws.String("email"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)},
		{Name: aws.String("kakao_id"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(false)},
	},
}

func TestEmailAlias(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, emailAlias)
	client := p.client(t, passwordClient)
	p.user(t, "tom", "email", "Tom@Example.com", "email_verified", "true")
	p.user(t, "uma", "email", "uma@example.com")

	// Signs in by a verified email in any case, and by username in any case.
	if a := p.signIn(t, client, "tom@example.COM"); a.IdToken == nil {
		t.Fatal("no tokens")
	}
	p.signIn(t, client, "TOM")
	// An unverified email is no alias.
	_, err := p.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.id, ClientId: &client, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "uma@example.com", "PASSWORD": testPassword}})
	wantAPIError(t, err, "UserNotFoundException", "")

	create := func(username, email string, verified, force bool) error {
		_, err := p.api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &p.id, Username: &username, MessageAction: types.MessageActionTypeSuppress,
			ForceAliasCreation: force, UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: &email},
				{Name: aws.String("email_verified"), Value: aws.String(map[bool]string{true: "true", false: "false"}[verified])}}})
		return err
	}
	wantAPIError(t, create("kakao_1", "tom@EXAMPLE.com", true, false), "AliasExistsException", "An account with the given email already exists.")
	if err := create("kakao_2", "tom@example.com", false, false); err != nil {
		t.Fatalf("an unverified email that is another's alias: %v", err)
	}
	if err := create("kakao_3", "uma@example.com", true, false); err != nil {
		t.Fatalf("a verified email that is another's unverified one: %v", err)
	}
	_, err = p.api.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: &p.id, Username: aws.String("kakao_2"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email_verified"), Value: aws.String("true")}}})
	wantAPIError(t, err, "AliasExistsException", "An account with the given email already exists.")
	// ForceAliasCreation moves the alias: the previous holder's email is
	// no longer verified.
	if err := create("kakao_4", "tom@example.com", true, true); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, p, "tom", "email_verified"); got != "false" {
		t.Fatalf("the previous holder's email_verified is %q", got)
	}
	wantAPIError(t, create("someone@example.com", "", false, false), "InvalidParameterException", "Username cannot be of email format, since user pool is configured for email alias.")
	wantAPIError(t, create("TOM", "", false, false), "UsernameExistsException", "User account already exists")
	// A changed email is unverified until said otherwise.
	if _, err := p.api.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: &p.id, Username: aws.String("kakao_4"),
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("new@example.com")}}}); err != nil {
		t.Fatal(err)
	}
	if got := attr(t, p, "kakao_4", "email_verified"); got != "false" {
		t.Fatalf("email_verified after an email change: %q", got)
	}
}

// UpdateUserPool keeps what a pool is created with for good.
func TestUpdateUserPoolKeepsSignInNames(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, emailAlias)
	if _, err := p.api.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: &p.id, MfaConfiguration: types.UserPoolMfaTypeOff}); err != nil {
		t.Fatal(err)
	}
	out, err := p.api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &p.id})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UserPool.AliasAttributes) != 1 || out.UserPool.UsernameConfiguration == nil || aws.ToBool(out.UserPool.UsernameConfiguration.CaseSensitive) {
		t.Fatalf("after UpdateUserPool: aliases %v, username configuration %+v", out.UserPool.AliasAttributes, out.UserPool.UsernameConfiguration)
	}
}

func TestSchemaMutabilityAndWriteAttributes(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, emailAlias)
	in := passwordClient
	in.WriteAttributes = []string{"nickname"}
	client := p.client(t, in)
	p.user(t, "vic", "custom:kakao_id", "42", "email", "vic@example.com")

	_, err := p.api.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: &p.id, Username: aws.String("vic"),
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:kakao_id"), Value: aws.String("43")}}})
	wantAPIError(t, err, "InvalidParameterException", "")
	if !strings.Contains(err.Error(), "custom:kakao_id") || attr(t, p, "vic", "custom:kakao_id") != "42" {
		t.Fatalf("an immutable attribute changed or the error does not name it: %v", err)
	}
	_, err = p.api.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{UserPoolId: &p.id, Username: aws.String("vic"),
		UserAttributes: []types.AttributeType{{Name: aws.String("custom:nope"), Value: aws.String("1")}}})
	wantAPIError(t, err, "InvalidParameterException", "Invalid user attributes: user.custom:nope: Attribute does not exist in the schema.")

	auth := p.signIn(t, client, "vic")
	_, err = p.api.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: auth.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String("x@example.com")}}})
	wantAPIError(t, err, "NotAuthorizedException", "A client attempted to write unauthorized attribute")
	if _, err := p.api.UpdateUserAttributes(ctx, &cip.UpdateUserAttributesInput{AccessToken: auth.AccessToken,
		UserAttributes: []types.AttributeType{{Name: aws.String("nickname"), Value: aws.String("V")}}}); err != nil {
		t.Fatalf("a writable attribute: %v", err)
	}
	if attr(t, p, "vic", "nickname") != "V" {
		t.Fatal("nickname not written")
	}
}

// The ID token carries every attribute the client may read, booleans as
// booleans.
func TestIDTokenClaims(t *testing.T) {
	p := newPool(t, emailAlias)
	all := p.client(t, passwordClient)
	in := passwordClient
	in.ReadAttributes = []string{"email", "email_verified"}
	some := p.client(t, in)
	p.user(t, "wes", "email", "wes@example.com", "email_verified", "true", "nickname", "W", "custom:kakao_id", "9")
	claims := jwtClaims(t, aws.ToString(p.signIn(t, all, "wes").IdToken))
	if claims["email"] != "wes@example.com" || claims["email_verified"] != true || claims["nickname"] != "W" || claims["custom:kakao_id"] != "9" ||
		claims["cognito:username"] != "wes" {
		t.Fatalf("claims %v", claims)
	}
	claims = jwtClaims(t, aws.ToString(p.signIn(t, some, "WES@example.com").IdToken))
	if _, ok := claims["nickname"]; ok || claims["custom:kakao_id"] != nil || claims["email_verified"] != true || claims["cognito:username"] != "wes" {
		t.Fatalf("claims through a client reading email only: %v", claims)
	}
}

func TestLinkProviderForUser(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, &cip.CreateUserPoolInput{AliasAttributes: []types.AliasAttributeType{types.AliasAttributeTypeEmail},
		Schema: []types.SchemaAttributeType{
			{Name: aws.String("kakao_id"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)},
			{Name: aws.String("fixed"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(false)},
		}})
	if _, err := p.api.CreateIdentityProvider(ctx, &cip.CreateIdentityProviderInput{UserPoolId: &p.id, ProviderName: aws.String("Kakao"),
		ProviderType: types.IdentityProviderTypeTypeOidc, ProviderDetails: map[string]string{"client_id": "k", "authorize_scopes": "openid", "oidc_issuer": "https://kauth.kakao.com", "attributes_request_method": "GET"}}); err != nil {
		t.Fatal(err)
	}
	p.user(t, "xena", "email", "x@example.com")
	p.user(t, "yuri", "custom:fixed", "1")
	link := func(dest, sub string) error {
		_, err := p.api.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{UserPoolId: &p.id,
			DestinationUser: &types.ProviderUserIdentifierType{ProviderName: aws.String("Cognito"), ProviderAttributeValue: &dest},
			SourceUser:      &types.ProviderUserIdentifierType{ProviderName: aws.String("Kakao"), ProviderAttributeName: aws.String("Cognito_Subject"), ProviderAttributeValue: &sub}})
		return err
	}
	if err := link("xena", "100"); err != nil {
		t.Fatal(err)
	}
	var ids []map[string]any
	if err := json.Unmarshal([]byte(attr(t, p, "xena", "identities")), &ids); err != nil || len(ids) != 1 ||
		ids[0]["userId"] != "100" || ids[0]["providerName"] != "Kakao" || ids[0]["providerType"] != "OIDC" || ids[0]["primary"] != "false" {
		t.Fatalf("identities %v (%v)", ids, err)
	}
	wantAPIError(t, link("xena", "100"), "InvalidParameterException", "")
	wantAPIError(t, link("nobody", "101"), "UserNotFoundException", "")
	wantAPIError(t, link("yuri", "102"), "InvalidParameterException", "")
	for i := 0; i < 4; i++ {
		if err := link("xena", "20"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
	}
	wantAPIError(t, link("xena", "300"), "LimitExceededException", "")

	// The linked identity shows in the user's ID token.
	client := p.client(t, passwordClient)
	claims := jwtClaims(t, aws.ToString(p.signIn(t, client, "xena").IdToken))
	if list, ok := claims["identities"].([]any); !ok || len(list) != 5 {
		t.Fatalf("identities claim %v", claims["identities"])
	}

	// Disabling the provider for the identity removes the link.
	if _, err := p.api.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: &p.id,
		User: &types.ProviderUserIdentifierType{ProviderName: aws.String("Kakao"), ProviderAttributeName: aws.String("Cognito_Subject"), ProviderAttributeValue: aws.String("100")}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(attr(t, p, "xena", "identities"), `"100"`) {
		t.Fatal("the link survived AdminDisableProviderForUser")
	}
	// The freed place takes a link again, and only one.
	if err := link("xena", "100"); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, link("xena", "301"), "LimitExceededException", "")
	_, err := p.api.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: &p.id,
		User: &types.ProviderUserIdentifierType{ProviderName: aws.String("Kakao"), ProviderAttributeName: aws.String("Cognito_Subject"), ProviderAttributeValue: aws.String("999")}})
	wantAPIError(t, err, "UserNotFoundException", "")
}

type preAuthEvent = struct {
	Version       string `json:"version"`
	TriggerSource string `json:"triggerSource"`
	CallerContext struct {
		ClientID string `json:"clientId"`
	} `json:"callerContext"`
	Request struct {
		UserNotFound bool `json:"userNotFound"`
	} `json:"request"`
}

func attr(t *testing.T, p *pool, username, name string) string {
	t.Helper()
	out, err := p.api.AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: &p.id, Username: &username})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out.UserAttributes {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
