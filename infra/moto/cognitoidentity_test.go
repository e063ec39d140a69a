package moto

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The layer's Cognito Identity (ext/cognitoidentity_ext.py), through the
// SDK as an app calls it (GetId and GetCredentialsForIdentity unsigned):
// one identity per login for good, checked ID tokens, no guests unless the
// pool allows them, and credentials that are the attached role's.

type identityPool struct {
	api      *ci.Client
	anon     *ci.Client
	id       string
	provider string
	role     string
}

func newIdentityPool(t *testing.T, p *pool, client string, allowGuests bool) *identityPool {
	t.Helper()
	ctx := context.Background()
	cfg := AWSConfig(ctx, ForTest(t).URL())
	api := ci.NewFromConfig(cfg)
	provider := "cognito-idp." + Region + ".amazonaws.com/" + p.id
	out, err := api.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{
		IdentityPoolName: aws.String("ip" + randomHex(4)), AllowUnauthenticatedIdentities: allowGuests,
		CognitoIdentityProviders: []citypes.CognitoIdentityProvider{{ProviderName: &provider, ClientId: &client, ServerSideTokenCheck: aws.Bool(true)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("authn" + randomHex(4)), AssumeRolePolicyDocument: aws.String("{}")})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)
	if _, err := api.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{IdentityPoolId: out.IdentityPoolId, Roles: map[string]string{"authenticated": roleARN}}); err != nil {
		t.Fatal(err)
	}
	anon := ci.New(ci.Options{Region: Region, BaseEndpoint: aws.String(ForTest(t).URL()), Credentials: aws.AnonymousCredentials{}})
	return &identityPool{api: api, anon: anon, id: aws.ToString(out.IdentityPoolId), provider: provider, role: roleARN}
}

func (ip *identityPool) getID(idToken string) (string, error) {
	in := &ci.GetIdInput{IdentityPoolId: &ip.id}
	if idToken != "" {
		in.Logins = map[string]string{ip.provider: idToken}
	}
	out, err := ip.anon.GetId(context.Background(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.IdentityId), nil
}

func (ip *identityPool) credentials(identityID, idToken string) (*citypes.Credentials, error) {
	in := &ci.GetCredentialsForIdentityInput{IdentityId: &identityID}
	if idToken != "" {
		in.Logins = map[string]string{ip.provider: idToken}
	}
	out, err := ip.anon.GetCredentialsForIdentity(context.Background(), in)
	if err != nil {
		return nil, err
	}
	return out.Credentials, nil
}

func TestIdentityPerLoginAndItsRoleCredentials(t *testing.T) {
	p := newPool(t, nil)
	client := p.client(t, revocable)
	p.user(t, "ann")
	p.user(t, "bob")
	ip := newIdentityPool(t, p, client, false)

	first := p.signIn(t, client, "ann")
	id, err := ip.getID(aws.ToString(first.IdToken))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, Region+":") {
		t.Fatalf("identity id %q", id)
	}
	// Another sign-in of the same user: the same identity.
	again := p.signIn(t, client, "ann")
	if id2, err := ip.getID(aws.ToString(again.IdToken)); err != nil || id2 != id {
		t.Fatalf("second GetId: %q %v, want %q", id2, err, id)
	}
	bob := p.signIn(t, client, "bob")
	if idBob, err := ip.getID(aws.ToString(bob.IdToken)); err != nil || idBob == id {
		t.Fatalf("another user's identity %q %v", idBob, err)
	}

	creds, err := ip.credentials(id, aws.ToString(again.IdToken))
	if err != nil {
		t.Fatal(err)
	}
	// The credentials are the attached role's, assumed as Cognito assumes it.
	caller, err := sts.New(sts.Options{Region: Region, BaseEndpoint: aws.String(ForTest(t).URL()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: aws.ToString(creds.AccessKeyId), SecretAccessKey: aws.ToString(creds.SecretKey), SessionToken: aws.ToString(creds.SessionToken)}, nil
		})}).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	roleName := ip.role[strings.LastIndex(ip.role, "/")+1:]
	if got := aws.ToString(caller.Arn); !strings.HasSuffix(got, ":assumed-role/"+roleName+"/CognitoIdentityCredentials") {
		t.Errorf("caller %s, want the role %s", got, roleName)
	}
	if left := time.Until(aws.ToTime(creds.Expiration)); left < 55*time.Minute || left > 61*time.Minute {
		t.Errorf("credentials expire in %s, want an hour", left)
	}
}

// What Cognito refuses with NotAuthorizedException: a guest where the pool
// allows none, the access token for the ID token, another user's token
// for an identity, no token for an authenticated identity, and (with the
// server-side token check) a session that was revoked or a user disabled.
func TestIdentityRefusals(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, nil)
	client := p.client(t, revocable)
	p.user(t, "ann")
	p.user(t, "bob")
	ip := newIdentityPool(t, p, client, false)
	ann := p.signIn(t, client, "ann")
	id, err := ip.getID(aws.ToString(ann.IdToken))
	if err != nil {
		t.Fatal(err)
	}
	bob := p.signIn(t, client, "bob")

	_, err = ip.getID("")
	wantAPIError(t, err, "NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")
	_, err = ip.getID(aws.ToString(ann.AccessToken))
	wantAPIError(t, err, "NotAuthorizedException", "Invalid login token. Token is not an ID token.")
	_, err = ip.credentials(id, aws.ToString(bob.IdToken))
	wantAPIError(t, err, "NotAuthorizedException", "Logins don't match. Please include at least one valid login for this identity or identity pool.")
	_, err = ip.credentials(id, "")
	wantAPIError(t, err, "NotAuthorizedException", "Logins don't match. Please include at least one valid login for this identity or identity pool.")
	_, err = ip.credentials("us-east-1:00000000-0000-0000-0000-000000000000", aws.ToString(ann.IdToken))
	wantAPIError(t, err, "ResourceNotFoundException", "")

	// Another app client of the same pool is not a provider of the identity pool.
	other := p.client(t, revocable)
	_, err = ip.getID(aws.ToString(p.signIn(t, other, "ann").IdToken))
	wantAPIError(t, err, "NotAuthorizedException", "Invalid login token. Incorrect token audience.")

	// Revoked: the ID token of a session whose refresh token was revoked.
	session := p.signIn(t, client, "ann")
	if _, err := ip.credentials(id, aws.ToString(session.IdToken)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &client, Token: session.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	_, err = ip.credentials(id, aws.ToString(session.IdToken))
	wantAPIError(t, err, "NotAuthorizedException", "Invalid login token. Token has been revoked.")
	if _, err := ip.credentials(id, aws.ToString(ann.IdToken)); err != nil {
		t.Fatalf("another session of the same user: %v", err)
	}
	// Disabled.
	if _, err := p.api.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &p.id, Username: aws.String("ann")}); err != nil {
		t.Fatal(err)
	}
	_, err = ip.credentials(id, aws.ToString(ann.IdToken))
	wantAPIError(t, err, "NotAuthorizedException", "Invalid login token. User does not exist or is disabled.")
}

// A pool that allows guests gives each GetId without logins a new guest
// identity; with no unauthenticated role attached, no credentials.
func TestIdentityGuests(t *testing.T) {
	p := newPool(t, nil)
	client := p.client(t, revocable)
	ip := newIdentityPool(t, p, client, true)
	a, err := ip.getID("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ip.getID("")
	if err != nil || a == b {
		t.Fatalf("guest identities %q %q %v", a, b, err)
	}
	_, err = ip.credentials(a, "")
	wantAPIError(t, err, "InvalidIdentityPoolConfigurationException", "")
}
