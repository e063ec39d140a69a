package kakao

import (
	"context"
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth"
)

var _ kakaoauth.KakaoVerifier = (*Verifier)(nil)

// Verifier is the kakaoauth.KakaoVerifier on real Kakao (or its double).
type Verifier struct {
	client   *Client
	idTokens *IDTokenVerifier
	appID    int64
}

// ForApp is the Verifier of Kakao app appID at the given base URLs (the
// auth base URL is also the ID tokens' issuer), accepting ID tokens whose
// aud is one of appKeys, as idOpts say. One per process: it holds the JWKS
// cache.
func ForApp(hc *http.Client, apiBaseURL, authBaseURL string, appID int64, appKeys []string, idOpts ...IDTokenOption) *Verifier {
	client := NewClient(hc, WithAPIBaseURL(apiBaseURL), WithAuthBaseURL(authBaseURL))
	return NewVerifier(client, NewIDTokenVerifier(hc, client.AuthBaseURL(), "", appKeys, idOpts...), appID)
}

// NewVerifier builds a Verifier for the Kakao app appID. idTokens may be nil
// when the stack accepts access tokens only.
func NewVerifier(client *Client, idTokens *IDTokenVerifier, appID int64) *Verifier {
	return &Verifier{client: client, idTokens: idTokens, appID: appID}
}

// Verify returns the identity behind the tokens. The caller has checked
// that at least one token is present.
//
// With an access token, Kakao itself vouches for the user: access_token_info
// says which app the token belongs to (without that check, a token any other
// Kakao app obtained would log its user in here) and /v2/user/me gives the
// profile, including whether the email is valid and verified.
//
// With an ID token alone, only the claims are known. Kakao's ID token has an
// email claim but no email_verified, so an email from it is not trusted:
// linking accounts by an unverified email would let someone who registered
// a victim's address at Kakao take over the victim's account here. The
// identity then has no email until the user signs in with an access token.
func (v *Verifier) Verify(ctx context.Context, t kakaoauth.KakaoTokens) (kakaoauth.KakaoIdentity, error) {
	var claims *IDClaims
	if t.IDToken != "" {
		if v.idTokens == nil {
			return kakaoauth.KakaoIdentity{}, &kakaoauth.InvalidKakaoToken{Reason: "id tokens are not accepted by this stack"}
		}
		// Checked first: it is local once the JWKS is cached, so a bad ID
		// token costs no Kakao API call.
		c, err := v.idTokens.Verify(ctx, t.IDToken, t.Nonce)
		if err != nil {
			return kakaoauth.KakaoIdentity{}, err
		}
		claims = &c
	}
	if t.AccessToken == "" {
		if claims == nil {
			return kakaoauth.KakaoIdentity{}, &kakaoauth.InvalidKakaoToken{Reason: "no token"}
		}
		// An ID token cannot be revoked: its iat is what tells a login
		// after an unlink from a replay of one issued before it. A token
		// without iat counts as issued at the beginning of time.
		issued := claims.IssuedAt
		if issued.IsZero() {
			issued = time.Unix(0, 0).UTC()
		}
		return kakaoauth.KakaoIdentity{KakaoID: claims.KakaoID, Nickname: claims.Nickname, IDTokenIssuedAt: issued}, nil
	}

	info, err := v.client.AccessTokenInfo(ctx, t.AccessToken)
	if err != nil {
		return kakaoauth.KakaoIdentity{}, err
	}
	if info.AppID != v.appID {
		return kakaoauth.KakaoIdentity{}, &kakaoauth.WrongKakaoApp{AppID: info.AppID}
	}
	if claims != nil && claims.KakaoID != info.ID {
		return kakaoauth.KakaoIdentity{}, &kakaoauth.InvalidKakaoToken{Reason: "access token and id token belong to different users"}
	}
	p, err := v.client.Me(ctx, t.AccessToken)
	if err != nil {
		return kakaoauth.KakaoIdentity{}, err
	}
	if p.ID != info.ID {
		// Both answers are for one token; a mismatch means something between
		// here and Kakao is wrong, so trust neither.
		return kakaoauth.KakaoIdentity{}, &kakaoauth.KakaoUnavailable{Reason: "user/me and access_token_info disagree on the user"}
	}
	id := kakaoauth.KakaoIdentity{KakaoID: info.ID, AppID: info.AppID, Nickname: p.Nickname, EmailChecked: true}
	if p.Email != "" && p.IsEmailValid && p.IsEmailVerified {
		id.Email = p.Email
	}
	if id.Nickname == "" && claims != nil {
		id.Nickname = claims.Nickname
	}
	return id, nil
}
