// Package cognito is the Cognito user pool as a kakaoauth.UserDirectory,
// through the Admin* APIs only (never SignUp: a client-supplied flag must
// never confirm or verify anything).
package cognito

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth"
)

// User attribute names.
const (
	AttrSub           = "sub"
	AttrKakaoID       = "custom:kakao_id"
	AttrEmail         = "email"
	AttrEmailVerified = "email_verified"
	AttrNickname      = "nickname"
)

// API is the part of *cognitoidentityprovider.Client the directory uses.
type API interface {
	AdminCreateUser(context.Context, *cip.AdminCreateUserInput, ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error)
	AdminGetUser(context.Context, *cip.AdminGetUserInput, ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	ListUsers(context.Context, *cip.ListUsersInput, ...func(*cip.Options)) (*cip.ListUsersOutput, error)
	AdminUpdateUserAttributes(context.Context, *cip.AdminUpdateUserAttributesInput, ...func(*cip.Options)) (*cip.AdminUpdateUserAttributesOutput, error)
	AdminDeleteUserAttributes(context.Context, *cip.AdminDeleteUserAttributesInput, ...func(*cip.Options)) (*cip.AdminDeleteUserAttributesOutput, error)
	AdminDeleteUser(context.Context, *cip.AdminDeleteUserInput, ...func(*cip.Options)) (*cip.AdminDeleteUserOutput, error)
	AdminSetUserPassword(context.Context, *cip.AdminSetUserPasswordInput, ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error)
	AdminInitiateAuth(context.Context, *cip.AdminInitiateAuthInput, ...func(*cip.Options)) (*cip.AdminInitiateAuthOutput, error)
	AdminRespondToAuthChallenge(context.Context, *cip.AdminRespondToAuthChallengeInput, ...func(*cip.Options)) (*cip.AdminRespondToAuthChallengeOutput, error)
	AdminDisableUser(context.Context, *cip.AdminDisableUserInput, ...func(*cip.Options)) (*cip.AdminDisableUserOutput, error)
	AdminEnableUser(context.Context, *cip.AdminEnableUserInput, ...func(*cip.Options)) (*cip.AdminEnableUserOutput, error)
	AdminUserGlobalSignOut(context.Context, *cip.AdminUserGlobalSignOutInput, ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error)
	RevokeToken(context.Context, *cip.RevokeTokenInput, ...func(*cip.Options)) (*cip.RevokeTokenOutput, error)
}

var (
	_ API                     = (*cip.Client)(nil)
	_ kakaoauth.UserDirectory = (*Directory)(nil)
)

// Directory is one user pool and the app client the broker signs in with.
type Directory struct {
	api      API
	poolID   string
	clientID string
}

// New returns the directory of pool userPoolID; clientID is the app client
// with ALLOW_ADMIN_USER_PASSWORD_AUTH.
func New(api API, userPoolID, clientID string) *Directory {
	return &Directory{api: api, poolID: userPoolID, clientID: clientID}
}

// CreateUser creates kakao_<id> without sending any message, with the
// given temporary password. The email, if given, must be one Kakao reports
// valid and verified: it is marked verified here. *UserExists when the
// username is taken; *AccountConflict when the pool already has a user
// with that verified email (Cognito keeps verified emails unique when
// email is a sign-in alias or the username: AliasExistsException);
// *AccountNotLinked when the pool cannot take such a user at all (its
// usernames are email addresses or phone numbers, or it requires an
// attribute kakaoauth does not set: InvalidParameterException).
func (d *Directory) CreateUser(ctx context.Context, u kakaoauth.NewCognitoUser) (kakaoauth.CognitoUser, error) {
	if u.KakaoID <= 0 {
		return kakaoauth.CognitoUser{}, fmt.Errorf("cognito: create user: invalid kakao id %d", u.KakaoID)
	}
	username := kakaoauth.Username(u.KakaoID)
	attrs := []types.AttributeType{attr(AttrKakaoID, strconv.FormatInt(u.KakaoID, 10))}
	if u.Nickname != "" {
		attrs = append(attrs, attr(AttrNickname, u.Nickname))
	}
	if u.Email != "" {
		attrs = append(attrs, attr(AttrEmail, u.Email), attr(AttrEmailVerified, "true"))
	}
	in := &cip.AdminCreateUserInput{
		UserPoolId:     &d.poolID,
		Username:       &username,
		UserAttributes: attrs,
		MessageAction:  types.MessageActionTypeSuppress,
	}
	if u.TemporaryPassword != "" {
		in.TemporaryPassword = &u.TemporaryPassword
	}
	out, err := d.api.AdminCreateUser(ctx, in)
	if err != nil {
		var exists *types.UsernameExistsException
		var alias *types.AliasExistsException
		var invalid *types.InvalidParameterException
		switch {
		case errors.As(err, &exists):
			return kakaoauth.CognitoUser{}, &kakaoauth.UserExists{Username: username}
		case errors.As(err, &alias) || isAPIError(err, "AliasExistsException"):
			// The API reference names AliasExistsException (ForceAliasCreation);
			// the SDK's model of AdminCreateUser does not, so it arrives
			// untyped. (Cognito has also been seen to answer
			// UsernameExistsException for a taken email alias: the workflow
			// tells that from a taken username by reading the user.)
			return kakaoauth.CognitoUser{}, &kakaoauth.AccountConflict{KakaoID: u.KakaoID}
		case errors.As(err, &invalid):
			// Cognito's message says what the pool requires (no user data).
			return kakaoauth.CognitoUser{}, &kakaoauth.AccountNotLinked{KakaoID: u.KakaoID, Reason: invalid.ErrorMessage()}
		}
		return kakaoauth.CognitoUser{}, classify("create user", err)
	}
	return toUser(aws.ToString(out.User.Username), out.User.Attributes, out.User.Enabled, out.User.UserStatus), nil
}

// GetUser returns *NotFound when the pool has no such user.
func (d *Directory) GetUser(ctx context.Context, username string) (kakaoauth.CognitoUser, error) {
	out, err := d.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &d.poolID, Username: &username})
	if err != nil {
		if isUserNotFound(err) {
			return kakaoauth.CognitoUser{}, notFound(username)
		}
		return kakaoauth.CognitoUser{}, classify("get user", err)
	}
	return toUser(aws.ToString(out.Username), out.UserAttributes, out.Enabled, out.UserStatus), nil
}

// FindByEmail lists the users whose email equals email, ignoring case
// (mailbox domains are case-insensitive, so a conflict check must be too).
func (d *Directory) FindByEmail(ctx context.Context, email string) ([]kakaoauth.CognitoUser, error) {
	if email == "" {
		return nil, nil
	}
	var found []kakaoauth.CognitoUser
	pages := cip.NewListUsersPaginator(d.api, &cip.ListUsersInput{
		UserPoolId: &d.poolID,
		Filter:     aws.String(emailFilter(email)),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify("list users", err)
		}
		for _, u := range page.Users {
			cu := toUser(aws.ToString(u.Username), u.Attributes, u.Enabled, u.UserStatus)
			// The filter narrows; this decides, so the result never depends
			// on how the service parses an escaped value.
			if strings.EqualFold(cu.Email, email) {
				found = append(found, cu)
			}
		}
	}
	return found, nil
}

// emailFilter builds a ListUsers exact-match filter, escaping as the API
// documents so a value cannot end the quoted string.
func emailFilter(email string) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(email)
	return AttrEmail + ` = "` + esc + `"`
}

// UpdateProfile sets the verified email, or removes the email when email is
// "", and sets the nickname when nickname is not "" (Kakao omits it when the
// profile was not consented to; the last known one is kept).
func (d *Directory) UpdateProfile(ctx context.Context, username, email, nickname string) error {
	var set []types.AttributeType
	if nickname != "" {
		set = append(set, attr(AttrNickname, nickname))
	}
	if email != "" {
		set = append(set, attr(AttrEmail, email), attr(AttrEmailVerified, "true"))
	}
	if len(set) > 0 {
		_, err := d.api.AdminUpdateUserAttributes(ctx, &cip.AdminUpdateUserAttributesInput{
			UserPoolId: &d.poolID, Username: &username, UserAttributes: set,
		})
		if err != nil {
			var alias *types.AliasExistsException
			switch {
			case errors.As(err, &alias):
				return &kakaoauth.AccountConflict{KakaoID: kakaoIDOf(username)}
			case isUserNotFound(err):
				return notFound(username)
			}
			return classify("update user attributes", err)
		}
	}
	if email != "" {
		return nil
	}
	// Deleting an attribute the user does not have is an error, so look
	// first; this path only runs when a user withdrew email consent.
	cur, err := d.GetUser(ctx, username)
	if err != nil {
		return err
	}
	if cur.Email == "" {
		return nil
	}
	_, err = d.api.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{
		UserPoolId: &d.poolID, Username: &username, UserAttributeNames: []string{AttrEmail},
	})
	if err != nil {
		if isUserNotFound(err) {
			return notFound(username)
		}
		return classify("delete user attributes", err)
	}
	return nil
}

// DeleteUser deletes the user; deleting a missing user is not an error, so
// cleanup after a lost race can be retried.
func (d *Directory) DeleteUser(ctx context.Context, username string) error {
	_, err := d.api.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &d.poolID, Username: &username})
	if err != nil && !isUserNotFound(err) {
		return classify("delete user", err)
	}
	return nil
}

// once makes the SDK send a call exactly once: no retry of its own on
// throttling or a lost connection. For the password calls, a retry spends
// the scarcest quotas (AdminSetUserPassword ~25/s, sign-ins count toward
// Cognito's lockout); the workflow decides what to do instead.
func once(o *cip.Options) { o.RetryMaxAttempts = 1 }

// SetPassword sets a permanent password (the user leaves
// FORCE_CHANGE_PASSWORD). Its quota category is small and not adjustable:
// callers rotate rarely (see docs/design.md, The password), and it is sent once.
func (d *Directory) SetPassword(ctx context.Context, username, password string) error {
	_, err := d.api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: &d.poolID, Username: &username, Password: &password, Permanent: true,
	}, once)
	if err != nil {
		if isUserNotFound(err) {
			return notFound(username)
		}
		return classify("set password", err)
	}
	return nil
}

// SignIn runs ADMIN_USER_PASSWORD_AUTH with metadata passed to the
// PreAuthentication trigger; with in.NewPassword it answers
// NEW_PASSWORD_REQUIRED (a user's first sign-in) with
// AdminRespondToAuthChallenge. Each call is sent once. With the client's
// PreventUserExistenceErrors ENABLED (the stack's), a missing user reads as
// a wrong password (*PasswordRotated); LEGACY answers it *NotFound.
func (d *Directory) SignIn(ctx context.Context, in kakaoauth.SignIn) (kakaoauth.CognitoTokens, error) {
	out, err := d.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: &d.poolID,
		ClientId:   &d.clientID,
		AuthFlow:   types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{
			"USERNAME": in.Username,
			"PASSWORD": in.Password,
		},
		ClientMetadata: in.Metadata,
	}, once)
	if err != nil {
		return kakaoauth.CognitoTokens{}, signInError(in.Username, "sign in", err)
	}
	result := out.AuthenticationResult
	switch {
	case out.ChallengeName == types.ChallengeNameTypeNewPasswordRequired && in.NewPassword != "":
		resp, err := d.api.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
			UserPoolId:    &d.poolID,
			ClientId:      &d.clientID,
			ChallengeName: types.ChallengeNameTypeNewPasswordRequired,
			Session:       out.Session,
			ChallengeResponses: map[string]string{
				"USERNAME":     in.Username,
				"NEW_PASSWORD": in.NewPassword,
			},
			ClientMetadata: in.Metadata,
		}, once)
		if err != nil {
			return kakaoauth.CognitoTokens{}, signInError(in.Username, "new password", err)
		}
		if resp.ChallengeName != "" {
			return kakaoauth.CognitoTokens{}, fmt.Errorf("cognito: new password: unexpected challenge %s", resp.ChallengeName)
		}
		result = resp.AuthenticationResult
	case out.ChallengeName == types.ChallengeNameTypeNewPasswordRequired:
		// The user still has a temporary password, which this one is not.
		return kakaoauth.CognitoTokens{}, &kakaoauth.PasswordRotated{Username: in.Username}
	case out.ChallengeName != "":
		return kakaoauth.CognitoTokens{}, fmt.Errorf("cognito: sign in: unexpected challenge %s", out.ChallengeName)
	}
	return tokensOf(result, "sign in")
}

// SignInWithChallenge runs CUSTOM_AUTH for a linked user: the pool's
// DefineAuthChallenge trigger issues one CUSTOM_CHALLENGE, whose random
// challenge in.Answer turns into the broker's proof, which the
// VerifyAuthChallenge trigger checks. Two calls, each sent once; the
// user's password is never involved.
func (d *Directory) SignInWithChallenge(ctx context.Context, in kakaoauth.ChallengeSignIn) (kakaoauth.CognitoTokens, error) {
	out, err := d.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId:     &d.poolID,
		ClientId:       &d.clientID,
		AuthFlow:       types.AuthFlowTypeCustomAuth,
		AuthParameters: map[string]string{"USERNAME": in.Username},
	}, once)
	if err != nil {
		return kakaoauth.CognitoTokens{}, challengeError(in.Username, "custom auth", err)
	}
	challenge := out.ChallengeParameters[kakaoauth.ChallengeParameter]
	if out.ChallengeName != "" && out.ChallengeName != types.ChallengeNameTypeCustomChallenge {
		return kakaoauth.CognitoTokens{}, unexpectedChallenge(in.Username, out.ChallengeName, "before kakaoauth's challenge")
	}
	if out.ChallengeName != types.ChallengeNameTypeCustomChallenge || challenge == "" {
		return kakaoauth.CognitoTokens{}, fmt.Errorf("cognito: custom auth: challenge %q without kakaoauth's parameter (are the pool's custom auth triggers kakaoauth's?)", out.ChallengeName)
	}
	answer, err := in.Answer(d.clientID, challenge)
	if err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	username := in.Username
	if u := out.ChallengeParameters["USERNAME"]; u != "" {
		username = u // the canonical username, when the pool resolved an alias
	}
	resp, err := d.api.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
		UserPoolId:         &d.poolID,
		ClientId:           &d.clientID,
		ChallengeName:      types.ChallengeNameTypeCustomChallenge,
		Session:            out.Session,
		ChallengeResponses: map[string]string{"USERNAME": username, "ANSWER": answer},
	}, once)
	if err != nil {
		return kakaoauth.CognitoTokens{}, challengeError(in.Username, "custom auth answer", err)
	}
	if resp.ChallengeName != "" {
		return kakaoauth.CognitoTokens{}, unexpectedChallenge(in.Username, resp.ChallengeName, "after the answer")
	}
	return tokensOf(resp.AuthenticationResult, "custom auth")
}

// unexpectedChallenge is Cognito asking a linked user's custom sign-in for
// a step the broker cannot take (SMS_MFA, SOFTWARE_TOKEN_MFA,
// NEW_PASSWORD_REQUIRED, MFA_SETUP, ...): kakaoauth's DefineAuthChallenge
// asks for none, and Cognito's custom flow adds MFA only after a
// PASSWORD_VERIFIER, which it never issues; should Cognito ask anyway, the
// person signs in their own way.
func unexpectedChallenge(username string, name types.ChallengeNameType, when string) error {
	return &kakaoauth.KakaoSignInUnavailable{Username: username, Reason: "cognito asked for " + string(name) + " " + when}
}

// challengeError names why Cognito refused a CUSTOM_AUTH sign-in. A
// refused answer is never a password matter: it is *ChallengeRefused
// (a missing user, which the app client hides, or the triggers' keys or
// clocks disagree), not *PasswordRotated.
func challengeError(username, op string, err error) error {
	var notAuth *types.NotAuthorizedException
	var reset *types.PasswordResetRequiredException
	var unconfirmed *types.UserNotConfirmedException
	switch {
	case errors.As(err, &notAuth):
		if refused := userRefusal(username, notAuth); refused != nil {
			return refused
		}
		return &kakaoauth.ChallengeRefused{Username: username, Reason: op + ": " + notAuth.ErrorMessage()}
	case errors.As(err, &reset):
		return &kakaoauth.KakaoSignInUnavailable{Username: username, Reason: op + ": the user must reset its password"}
	case errors.As(err, &unconfirmed):
		return &kakaoauth.KakaoSignInUnavailable{Username: username, Reason: op + ": the user is not confirmed"}
	case isUserNotFound(err):
		return notFound(username)
	}
	return classify(op, err)
}

// userRefusal is a NotAuthorized that is about the user, not the
// sign-in's answer: disabled, or locked out by failed attempts (nil
// otherwise). NotAuthorized carries no sub-type: its message is the only
// signal.
func userRefusal(username string, notAuth *types.NotAuthorizedException) error {
	msg := strings.ToLower(notAuth.ErrorMessage())
	switch {
	case strings.Contains(msg, "disabled"):
		return &kakaoauth.AccountDisabled{Username: username}
	case strings.Contains(msg, "attempts exceeded"):
		return &kakaoauth.PasswordAttemptsExceeded{Username: username}
	}
	return nil
}

// tokensOf reads a sign-in's tokens.
func tokensOf(result *types.AuthenticationResultType, op string) (kakaoauth.CognitoTokens, error) {
	if result == nil || aws.ToString(result.IdToken) == "" || aws.ToString(result.AccessToken) == "" {
		return kakaoauth.CognitoTokens{}, errors.New("cognito: " + op + ": no tokens in the response")
	}
	return kakaoauth.CognitoTokens{
		IDToken:      aws.ToString(result.IdToken),
		AccessToken:  aws.ToString(result.AccessToken),
		RefreshToken: aws.ToString(result.RefreshToken),
		ExpiresIn:    result.ExpiresIn,
		TokenType:    aws.ToString(result.TokenType),
	}, nil
}

// signInError names why Cognito refused a sign-in. NotAuthorized carries
// no sub-type: its message is the only signal.
func signInError(username, op string, err error) error {
	var notAuth *types.NotAuthorizedException
	var reset *types.PasswordResetRequiredException
	var unconfirmed *types.UserNotConfirmedException
	switch {
	case errors.As(err, &notAuth):
		if refused := userRefusal(username, notAuth); refused != nil {
			return refused
		}
		return &kakaoauth.PasswordRotated{Username: username}
	case errors.As(err, &reset), errors.As(err, &unconfirmed):
		return &kakaoauth.PasswordRotated{Username: username}
	case isUserNotFound(err):
		return notFound(username)
	}
	return classify(op, err)
}

// DisableUser stops the user from signing in (and, in Cognito, from
// refreshing tokens). Safe to repeat.
func (d *Directory) DisableUser(ctx context.Context, username string) error {
	_, err := d.api.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &d.poolID, Username: &username})
	return userOpError(username, "disable user", err)
}

// EnableUser lets a disabled user sign in again. Safe to repeat.
func (d *Directory) EnableUser(ctx context.Context, username string) error {
	_, err := d.api.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: &d.poolID, Username: &username})
	return userOpError(username, "enable user", err)
}

// SignOut revokes every refresh token of the user (and the access tokens
// they issued). Cognito may refuse it for a disabled user
// (NotAuthorized): a disabled user cannot refresh anyway, and re-linking
// signs out again after enabling, so that answer counts as done.
func (d *Directory) SignOut(ctx context.Context, username string) error {
	_, err := d.api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: &d.poolID, Username: &username})
	var notAuth *types.NotAuthorizedException
	if errors.As(err, &notAuth) {
		return nil
	}
	return userOpError(username, "global sign-out", err)
}

// RevokeToken revokes one refresh token of the broker's client, and the
// access tokens issued with it. A token Cognito no longer knows is
// revoked already.
func (d *Directory) RevokeToken(ctx context.Context, refreshToken string) error {
	if refreshToken == "" {
		return nil
	}
	_, err := d.api.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: &d.clientID, Token: &refreshToken})
	var unsupported *types.UnsupportedTokenTypeException
	if err != nil && !errors.As(err, &unsupported) {
		return classify("revoke token", err)
	}
	return nil
}

func userOpError(username, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case isUserNotFound(err):
		return notFound(username)
	}
	return classify(op, err)
}

// isAPIError says err is AWS's error code, typed by the SDK or not.
func isAPIError(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

func notFound(username string) error { return &kakaoauth.NotFound{What: "user " + username} }

// classify turns throttling into *Throttled (after the SDK's own retries)
// and wraps anything else as an internal error.
func classify(op string, err error) error {
	var tooMany *types.TooManyRequestsException
	var limit *types.LimitExceededException
	switch {
	case errors.As(err, &tooMany), errors.As(err, &limit):
		return &kakaoauth.Throttled{Reason: "cognito " + op}
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ThrottlingException" {
		return &kakaoauth.Throttled{Reason: "cognito " + op}
	}
	return fmt.Errorf("cognito: %s: %w", op, err)
}

func isUserNotFound(err error) bool {
	var nf *types.UserNotFoundException
	return errors.As(err, &nf)
}

func attr(name, value string) types.AttributeType {
	return types.AttributeType{Name: aws.String(name), Value: aws.String(value)}
}

func toUser(username string, attrs []types.AttributeType, enabled bool, status types.UserStatusType) kakaoauth.CognitoUser {
	u := kakaoauth.CognitoUser{Username: username, Enabled: enabled, Status: string(status)}
	var verified bool
	for _, a := range attrs {
		v := aws.ToString(a.Value)
		switch aws.ToString(a.Name) {
		case AttrSub:
			u.Sub = v
		case AttrKakaoID:
			u.KakaoID, _ = strconv.ParseInt(v, 10, 64) // not a Kakao user: 0
		case AttrEmail:
			u.Email = v
		case AttrEmailVerified:
			verified = v == "true"
		case AttrNickname:
			u.Nickname = v
		}
	}
	// A leftover flag without an email verifies nothing.
	u.EmailVerified = verified && u.Email != ""
	return u
}

// kakaoIDOf recovers the Kakao id from kakao_<id>; 0 for other usernames.
func kakaoIDOf(username string) int64 {
	id, err := strconv.ParseInt(strings.TrimPrefix(username, "kakao_"), 10, 64)
	if err != nil || !strings.HasPrefix(username, "kakao_") {
		return 0
	}
	return id
}
