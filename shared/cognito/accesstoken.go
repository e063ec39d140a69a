package cognito

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
)

// AccessTokensAPI is the part of the Cognito client AccessTokens uses.
type AccessTokensAPI interface {
	GetUser(context.Context, *cip.GetUserInput, ...func(*cip.Options)) (*cip.GetUserOutput, error)
}

var (
	_ AccessTokensAPI        = (*cip.Client)(nil)
	_ kakaoauth.AccessTokens = (*AccessTokens)(nil)
)

// maxAccessTokenBytes bounds what is looked at: Cognito's access tokens
// are about 1 KiB.
const maxAccessTokenBytes = 8 << 10

// AccessTokens checks the access tokens apps present to the linking
// endpoints. Cognito itself decides: GetUser accepts only a genuine,
// unexpired, unrevoked access token of a user who may sign in (it is the
// one check that sees revocation: a global sign-out, RevokeToken, a
// disabled or deleted user), and it needs no credentials of ours. What
// GetUser does not check is read from the token's claims, which the
// accepted token's signature covers: the pool (iss), token_use access,
// and the app client (client_id), which must be one allowed to link. The
// same claims are checked before the call too, so a token that cannot
// pass costs no Cognito call; exp as well, for the same reason.
type AccessTokens struct {
	api     AccessTokensAPI
	poolID  string
	clients []string
	now     func() time.Time
}

// NewAccessTokens checks tokens of pool userPoolID issued to one of
// clientIDs; now is time.Now when nil.
func NewAccessTokens(api AccessTokensAPI, userPoolID string, clientIDs []string, now func() time.Time) *AccessTokens {
	if now == nil {
		now = time.Now
	}
	return &AccessTokens{api: api, poolID: userPoolID, clients: slices.Clone(clientIDs), now: now}
}

// accessClaims are the claims AccessTokens reads.
type accessClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	TokenUse string `json:"token_use"`
	ClientID string `json:"client_id"`
	Exp      int64  `json:"exp"`
}

func invalidToken(reason string) error { return &kakaoauth.InvalidCognitoToken{Reason: reason} }

// User returns the token's user, or *kakaoauth.InvalidCognitoToken.
func (a *AccessTokens) User(ctx context.Context, token string) (kakaoauth.CognitoUser, error) {
	claims, err := a.claims(token)
	if err != nil {
		return kakaoauth.CognitoUser{}, err
	}
	out, err := a.api.GetUser(ctx, &cip.GetUserInput{AccessToken: &token})
	if err != nil {
		var notAuth *types.NotAuthorizedException
		switch {
		case errors.As(err, &notAuth):
			// Revoked, expired, signed out, a disabled user, or a token
			// without the aws.cognito.signin.user.admin scope: Cognito's
			// message says which, and goes to the log only.
			return kakaoauth.CognitoUser{}, invalidToken("cognito refused it: " + notAuth.ErrorMessage())
		case isUserNotFound(err):
			return kakaoauth.CognitoUser{}, invalidToken("its user no longer exists")
		}
		return kakaoauth.CognitoUser{}, classify("get user", err)
	}
	u := toUser(aws.ToString(out.Username), out.UserAttributes, true, "")
	if u.Sub != claims.Sub {
		return kakaoauth.CognitoUser{}, invalidToken("cognito answered for another user")
	}
	return u, nil
}

// claims decodes the token's payload and checks what GetUser does not.
func (a *AccessTokens) claims(token string) (accessClaims, error) {
	var c accessClaims
	if len(token) > maxAccessTokenBytes || !kakaoauth.CompactJWS(token) {
		return c, invalidToken("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, invalidToken("unreadable claims")
	}
	switch {
	case !strings.HasPrefix(c.Iss, "https://cognito-idp.") || !strings.HasSuffix(c.Iss, "/"+a.poolID):
		return c, invalidToken("not this user pool's")
	case c.TokenUse != "access":
		return c, invalidToken("not an access token")
	case !slices.Contains(a.clients, c.ClientID):
		return c, invalidToken("app client " + c.ClientID + " may not link")
	case c.Sub == "":
		return c, invalidToken("no subject")
	case c.Exp <= a.now().Unix():
		return c, invalidToken("expired")
	}
	return c, nil
}
