package cognito

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/jwks"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// A password that meets the template's policy; the real ones come from
// shared/password.
const goodPassword = "Kk1!correct-horse-battery"

type fixture struct {
	dir      *Directory
	client   *cip.Client
	stack    provision.Stack
	endpoint string
}

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// newFixture provisions a pool of its own from template.yaml.
func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	endpoint := moto.ForTest(t).URL()
	cfg := moto.AWSConfig(ctx, endpoint)
	prefix := "cog-" + unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-")
	// The adapter alone: no trigger functions are served here (the local
	// stack's tests run them).
	stack, err := provision.Provision(ctx, cfg, "../../template.yaml", provision.NamesFor(prefix), provision.WithoutTriggers())
	if err != nil {
		t.Fatal(err)
	}
	client := cip.NewFromConfig(cfg)
	return fixture{
		dir:      New(client, stack.UserPoolID, stack.UserPoolClientID),
		client:   client,
		stack:    stack,
		endpoint: endpoint,
	}
}

func TestCreateAndGet(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	created, err := f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 4242, Email: "kim@example.com", Nickname: "Kim"})
	if err != nil {
		t.Fatal(err)
	}
	if created.Username != "kakao_4242" || created.KakaoID != 4242 || created.Sub == "" ||
		created.Email != "kim@example.com" || !created.EmailVerified || created.Nickname != "Kim" || !created.Enabled {
		t.Fatalf("created %+v", created)
	}
	got, err := f.dir.GetUser(ctx, "kakao_4242")
	if err != nil {
		t.Fatal(err)
	}
	if got != created {
		t.Fatalf("GetUser %+v, CreateUser %+v", got, created)
	}

	// No email given: no email attribute and, above all, no email_verified.
	bare, err := f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 7})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &f.stack.UserPoolID, Username: aws.String(bare.Username)})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range raw.UserAttributes {
		if n := aws.ToString(a.Name); n == AttrEmail || n == AttrEmailVerified || n == AttrNickname {
			t.Fatalf("user without email/nickname has %s", n)
		}
	}

	_, err = f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 4242})
	var exists *kakaoauth.UserExists
	if !errors.As(err, &exists) || kakaoauth.ErrorName(err) != "UserExists" || exists.Username != "kakao_4242" {
		t.Fatalf("duplicate create: %T %v", err, err)
	}

	_, err = f.dir.GetUser(ctx, "kakao_999")
	var nf *kakaoauth.NotFound
	if !errors.As(err, &nf) || kakaoauth.ErrorName(err) != "NotFound" {
		t.Fatalf("missing user: %T %v", err, err)
	}

	if _, err := f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 0}); err == nil {
		t.Fatal("created a user for Kakao id 0")
	}
}

func TestFindByEmailAndUpdateProfile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, u := range []kakaoauth.NewCognitoUser{
		{KakaoID: 1, Email: "lee@example.com", Nickname: "Lee"},
		{KakaoID: 2, Email: "park@example.com"},
		{KakaoID: 3},
	} {
		if _, err := f.dir.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	// A native user: no kakao id.
	if _, err := f.client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: &f.stack.UserPoolID, Username: aws.String("native-choi"),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attr(AttrEmail, "choi@example.com")},
	}); err != nil {
		t.Fatal(err)
	}

	found, err := f.dir.FindByEmail(ctx, "lee@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Username != "kakao_1" || found[0].KakaoID != 1 {
		t.Fatalf("find lee: %+v", found)
	}
	native, err := f.dir.FindByEmail(ctx, "choi@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(native) != 1 || native[0].KakaoID != 0 || native[0].EmailVerified {
		t.Fatalf("find native: %+v", native)
	}
	if none, err := f.dir.FindByEmail(ctx, "nobody@example.com"); err != nil || len(none) != 0 {
		t.Fatalf("find nobody: %+v %v", none, err)
	}
	if none, err := f.dir.FindByEmail(ctx, ""); err != nil || len(none) != 0 {
		t.Fatalf("find empty: %+v %v", none, err)
	}

	// kakao_3 gains an email and a nickname.
	if err := f.dir.UpdateProfile(ctx, "kakao_3", "jung@example.com", "Jung"); err != nil {
		t.Fatal(err)
	}
	u3, err := f.dir.GetUser(ctx, "kakao_3")
	if err != nil {
		t.Fatal(err)
	}
	if u3.Email != "jung@example.com" || !u3.EmailVerified || u3.Nickname != "Jung" {
		t.Fatalf("after update: %+v", u3)
	}
	if found, _ := f.dir.FindByEmail(ctx, "jung@example.com"); len(found) != 1 || found[0].Username != "kakao_3" {
		t.Fatalf("find after update: %+v", found)
	}

	// kakao_1 withdraws email consent; an empty nickname keeps the old one.
	if err := f.dir.UpdateProfile(ctx, "kakao_1", "", ""); err != nil {
		t.Fatal(err)
	}
	u1, err := f.dir.GetUser(ctx, "kakao_1")
	if err != nil {
		t.Fatal(err)
	}
	if u1.Email != "" || u1.EmailVerified || u1.Nickname != "Lee" {
		t.Fatalf("after removal: %+v", u1)
	}
	if found, _ := f.dir.FindByEmail(ctx, "lee@example.com"); len(found) != 0 {
		t.Fatalf("removed email still found: %+v", found)
	}
	// Removing again is a no-op, not an error.
	if err := f.dir.UpdateProfile(ctx, "kakao_1", "", ""); err != nil {
		t.Fatal(err)
	}

	var nf *kakaoauth.NotFound
	if err := f.dir.UpdateProfile(ctx, "kakao_404", "x@example.com", ""); !errors.As(err, &nf) {
		t.Fatalf("update missing user: %v", err)
	}
}

func TestEmailFilterEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"a@b.c":          `email = "a@b.c"`,
		`"x"@b.c`:        `email = "\"x\"@b.c"`,
		`a\" or "1@b.c`:  `email = "a\\\" or \"1@b.c"`,
		`trailing\`:      `email = "trailing\\"`,
		"plain+tag@b.co": `email = "plain+tag@b.co"`,
	} {
		if got := emailFilter(in); got != want {
			t.Errorf("emailFilter(%q) = %s, want %s", in, got, want)
		}
	}
}

func signIn(username, pw string, md map[string]string) kakaoauth.SignIn {
	return kakaoauth.SignIn{Username: username, Password: pw, Metadata: md}
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u, err := f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 55, Nickname: "Han"})
	if err != nil {
		t.Fatal(err)
	}

	// Before SetPassword the user has only Cognito's random temporary one.
	_, err = f.dir.SignIn(ctx, signIn(u.Username, goodPassword, nil))
	var rotated *kakaoauth.PasswordRotated
	if !errors.As(err, &rotated) || kakaoauth.ErrorName(err) != "PasswordRotated" {
		t.Fatalf("sign-in before SetPassword: %T %v", err, err)
	}

	if err := f.dir.SetPassword(ctx, u.Username, goodPassword); err != nil {
		t.Fatal(err)
	}
	tokens, err := f.dir.SignIn(ctx, signIn(u.Username, goodPassword, map[string]string{"proof": "v1.1.x"}))
	if err != nil {
		t.Fatal(err)
	}
	if tokens.AccessToken == "" || tokens.RefreshToken == "" || tokens.ExpiresIn <= 0 || tokens.TokenType != "Bearer" {
		t.Fatalf("tokens %+v", redact(tokens))
	}
	claims := verifyIDToken(t, f, tokens.IDToken)
	if claims["sub"] != u.Sub || claims["cognito:username"] != u.Username || claims["token_use"] != "id" {
		t.Fatalf("ID token claims %v", claims)
	}
	if iss, _ := claims["iss"].(string); !strings.HasSuffix(iss, "/"+f.stack.UserPoolID) {
		t.Fatalf("iss %q is not the pool", iss)
	}

	_, err = f.dir.SignIn(ctx, signIn(u.Username, goodPassword+"x", nil))
	if !errors.As(err, &rotated) {
		t.Fatalf("wrong password: %T %v", err, err)
	}
	if strings.Contains(err.Error(), goodPassword) {
		t.Fatal("error text contains the password")
	}

	var nf *kakaoauth.NotFound
	if err := f.dir.SetPassword(ctx, "kakao_404", goodPassword); !errors.As(err, &nf) {
		t.Fatalf("SetPassword of missing user: %v", err)
	}
	// The client has PreventUserExistenceErrors ENABLED (template.yaml):
	// a missing user reads as a wrong password; AdminGetUser tells it.
	if _, err := f.dir.SignIn(ctx, signIn("kakao_404", goodPassword, nil)); !errors.As(err, &rotated) {
		t.Fatalf("sign-in of missing user: %T %v, want what a wrong password gets", err, err)
	}
	if _, err := f.dir.GetUser(ctx, "kakao_404"); !errors.As(err, &nf) {
		t.Fatalf("AdminGetUser of missing user: %T %v", err, err)
	}
	if err := f.dir.SetPassword(ctx, u.Username, "short"); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("weak password: %v", err)
	}
}

// A new user is created with a temporary password; its first sign-in
// answers NEW_PASSWORD_REQUIRED, so it never needs AdminSetUserPassword.
func TestFirstSignInAnswersNewPasswordRequired(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const temporary, permanent = "Kk1!temporary-horse-battery", goodPassword
	u, err := f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 77, TemporaryPassword: temporary})
	if err != nil {
		t.Fatal(err)
	}
	// Without a new password, the challenge is a lost race, not an error.
	var rotated *kakaoauth.PasswordRotated
	if _, err := f.dir.SignIn(ctx, signIn(u.Username, temporary, nil)); !errors.As(err, &rotated) {
		t.Fatalf("challenge without a new password: %T %v", err, err)
	}
	tokens, err := f.dir.SignIn(ctx, kakaoauth.SignIn{Username: u.Username, Password: temporary, NewPassword: permanent})
	if err != nil {
		t.Fatal(err)
	}
	if claims := verifyIDToken(t, f, tokens.IDToken); claims["sub"] != u.Sub || tokens.RefreshToken == "" {
		t.Fatalf("first sign-in: claims %v, %s", claims, redact(tokens))
	}
	// From now on the permanent password signs in, the temporary one not.
	if _, err := f.dir.SignIn(ctx, signIn(u.Username, permanent, nil)); err != nil {
		t.Fatalf("permanent password after the challenge: %v", err)
	}
	if _, err := f.dir.SignIn(ctx, kakaoauth.SignIn{Username: u.Username, Password: temporary, NewPassword: permanent}); !errors.As(err, &rotated) {
		t.Fatalf("temporary password after the challenge: %T %v", err, err)
	}
}

func TestDisableSignOutEnable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u, err := f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 88})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.dir.SetPassword(ctx, u.Username, goodPassword); err != nil {
		t.Fatal(err)
	}
	tokens, err := f.dir.SignIn(ctx, signIn(u.Username, goodPassword, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := refresh(ctx, f, tokens.RefreshToken); err != nil {
		t.Fatalf("refresh before sign-out: %v", err)
	}

	for range 2 { // repeatable, in the unlink's order: disable, then sign out
		if err := f.dir.DisableUser(ctx, u.Username); err != nil {
			t.Fatal(err)
		}
		if err := f.dir.SignOut(ctx, u.Username); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.dir.GetUser(ctx, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled {
		t.Fatal("user still enabled")
	}
	_, err = f.dir.SignIn(ctx, signIn(u.Username, goodPassword, nil))
	var disabled *kakaoauth.AccountDisabled
	if !errors.As(err, &disabled) || disabled.Username != u.Username {
		t.Fatalf("disabled sign-in: %T %v", err, err)
	}
	// Re-enabled: the old refresh token stays revoked, new sign-ins work.
	for range 2 {
		if err := f.dir.EnableUser(ctx, u.Username); err != nil {
			t.Fatal(err)
		}
	}
	var notAuth *types.NotAuthorizedException
	if err := refresh(ctx, f, tokens.RefreshToken); !errors.As(err, &notAuth) {
		t.Fatalf("refresh after sign-out: %v", err)
	}
	if _, err := f.dir.SignIn(ctx, signIn(u.Username, goodPassword, nil)); err != nil {
		t.Fatalf("sign-in after enable: %v", err)
	}

	var nf *kakaoauth.NotFound
	for name, op := range map[string]func(context.Context, string) error{"disable": f.dir.DisableUser, "enable": f.dir.EnableUser, "sign out": f.dir.SignOut} {
		if err := op(ctx, "kakao_404"); !errors.As(err, &nf) {
			t.Errorf("%s of a missing user: %v", name, err)
		}
	}
}

func TestDeleteUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u, err := f.dir.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 99})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second delete finds nothing and is still fine
		if err := f.dir.DeleteUser(ctx, u.Username); err != nil {
			t.Fatal(err)
		}
	}
	var nf *kakaoauth.NotFound
	if _, err := f.dir.GetUser(ctx, u.Username); !errors.As(err, &nf) {
		t.Fatalf("deleted user: %v", err)
	}
}

func TestThrottlingIsThrottled(t *testing.T) {
	for _, cause := range []error{
		&types.TooManyRequestsException{Message: aws.String("Rate exceeded")},
		&types.LimitExceededException{Message: aws.String("limit")},
		&smithy.GenericAPIError{Code: "ThrottlingException"},
	} {
		// As the SDK returns them: inside an OperationError.
		err := classify("set password", &smithy.OperationError{ServiceID: "Cognito Identity Provider", OperationName: "AdminSetUserPassword", Err: cause})
		if _, ok := err.(*kakaoauth.Throttled); !ok {
			t.Errorf("%T classified as %T", cause, err)
		}
	}
	err := classify("get user", &smithy.OperationError{Err: &types.InternalErrorException{}})
	if kakaoauth.ErrorName(err) == "Throttled" {
		t.Fatal("internal error classified as throttling")
	}
}

func TestKakaoIDOf(t *testing.T) {
	for in, want := range map[string]int64{"kakao_12": 12, "kakao_x": 0, "native": 0, "12": 0, "kakao_": 0} {
		if got := kakaoIDOf(in); got != want {
			t.Errorf("kakaoIDOf(%q) = %d", in, got)
		}
	}
}

func refresh(ctx context.Context, f fixture, token string) error {
	_, err := f.client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: &f.stack.UserPoolID, ClientId: &f.stack.UserPoolClientID,
		AuthFlow:       types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": token},
	})
	return err
}

// verifyIDToken checks the token's signature against the pool's JWKS, as a
// resource server would, and returns its claims.
func verifyIDToken(t *testing.T, f fixture, idToken string) map[string]any {
	t.Helper()
	claims, err := jwks.Verify(context.Background(), &http.Client{Timeout: 5 * time.Second}, f.endpoint+"/"+f.stack.UserPoolID+"/.well-known/jwks.json", idToken)
	if err != nil {
		t.Fatalf("ID token signature: %v", err)
	}
	return claims
}

func redact(tk kakaoauth.CognitoTokens) string {
	return "expires_in=" + strconv.Itoa(int(tk.ExpiresIn)) + " type=" + tk.TokenType
}
