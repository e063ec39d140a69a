package localstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// The pool as a team adopting kakaoauth has it: its own app, where people
// sign in with an email and a password, and a person already in the pool.
// On the local stack (make run) that person is the demo native user: sign
// in with the email and password printed at start, link Kakao, log out,
// log in with Kakao as the same person, unlink. In AWS the team's app and
// its people are the team's; this exists only here.

// Demo native user's sign-in, printed by `kakaoauth local` (a local
// stack's demo: moto, no real person).
const (
	DemoNativeUsername = "demo-native"
	DemoNativeEmail    = "demo-native@example.com"
	DemoNativePassword = "Demo-native-pass-1234"
)

// DemoNative is the team's app client and its demo user.
type DemoNative struct {
	// ClientID is the team's app client: USER_PASSWORD_AUTH and SRP, no
	// secret. Its access tokens may call /auth/kakao/link (the stack's
	// LinkClientIds).
	ClientID string
	Username string
	Email    string
	Password string
	Sub      string
}

// ensureTeamApp makes (or finds) the team's app client in pool poolID.
func ensureTeamApp(ctx context.Context, idp *cip.Client, poolID, prefix string) (string, error) {
	name := prefix + "-team-app"
	pages := cip.NewListUserPoolClientsPaginator(idp, &cip.ListUserPoolClientsInput{UserPoolId: &poolID, MaxResults: aws.Int32(60)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("demo: list app clients: %w", err)
		}
		for _, c := range page.UserPoolClients {
			if aws.ToString(c.ClientName) == name {
				return aws.ToString(c.ClientId), nil
			}
		}
	}
	out, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: &poolID, ClientName: aws.String(name),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowUserSrpAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
		},
		PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled,
		EnableTokenRevocation:      aws.Bool(true),
		ReadAttributes:             []string{"email", "email_verified", "nickname"},
		WriteAttributes:            []string{"nickname"},
	})
	if err != nil {
		return "", fmt.Errorf("demo: create the team's app client: %w", err)
	}
	return aws.ToString(out.UserPoolClient.ClientId), nil
}

// ensureDemoUser makes (or finds) the demo user in pool poolID, filling
// in d all but its ClientID.
func ensureDemoUser(ctx context.Context, idp *cip.Client, poolID string, d *DemoNative) error {
	d.Username, d.Email, d.Password = DemoNativeUsername, DemoNativeEmail, DemoNativePassword
	// By its username, or by its email (a pool whose usernames are emails).
	for _, name := range []string{d.Username, d.Email} {
		user, err := idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &poolID, Username: aws.String(name)})
		var missing *types.UserNotFoundException
		switch {
		case err == nil:
			d.Username, d.Sub = name, attribute(user.UserAttributes, "sub")
			return nil
		case !errors.As(err, &missing):
			return fmt.Errorf("demo: find the demo user: %w", err)
		}
	}
	attrs := []types.AttributeType{
		{Name: aws.String("email"), Value: aws.String(d.Email)}, {Name: aws.String("email_verified"), Value: aws.String("true")},
		{Name: aws.String("nickname"), Value: aws.String("Demo")},
	}
	out, err := idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &poolID, Username: &d.Username,
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: attrs})
	var invalid *types.InvalidParameterException
	if errors.As(err, &invalid) {
		// The pool's usernames are emails (UsernameAttributes).
		d.Username = d.Email
		out, err = idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &poolID, Username: &d.Username,
			MessageAction: types.MessageActionTypeSuppress, UserAttributes: attrs})
	}
	if err != nil {
		return fmt.Errorf("demo: create the demo user: %w", err)
	}
	d.Sub = attribute(out.User.Attributes, "sub")
	if _, err := idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &poolID, Username: &d.Username,
		Password: &d.Password, Permanent: true}); err != nil {
		return fmt.Errorf("demo: the demo user's password: %w", err)
	}
	return nil
}

func attribute(attrs []types.AttributeType, name string) string {
	for _, a := range attrs {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}
