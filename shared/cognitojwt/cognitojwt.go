// Package cognitojwt verifies the tokens of an Amazon Cognito user pool
// the way API Gateway's Cognito user-pool authorizer does: an RS256
// signature by a key of the pool's published JWKS, the pool's issuer, the
// token's use (an ID token for a method without OAuth scopes, an access
// token with them), an app client of the pool's that the caller trusts,
// and not expired. It is what the local stack's GET /me runs, and what an
// app's own Go backend can import (beyond this module's small key-set
// cache and token-shape check, it needs only go-jose).
//
// A Verifier holds the pool's key set (shared/keyset): build one per
// process and share it.
package cognitojwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth/shared/keyset"
)

// Use is a token's token_use claim.
type Use string

// The token uses a user pool issues.
const (
	// UseID: the ID token, which API Gateway's authorizer requires when
	// the method has no OAuth scopes, and which carries the user's
	// attributes (custom:kakao_id).
	UseID Use = "id"
	// UseAccess: the access token, which it requires when the method has
	// OAuth scopes (they must be in the token's scope claim).
	UseAccess Use = "access"
)

// Issuer is the iss of pool poolID's tokens in region. Cognito uses this
// form whatever endpoint the pool is reached at (moto issues it too).
func Issuer(region, poolID string) string {
	return fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", region, poolID)
}

// JWKSURL is where pool poolID publishes its keys: endpoint is Cognito's
// base URL, "" for AWS's in region (or moto's, locally).
func JWKSURL(region, poolID, endpoint string) string {
	if endpoint == "" {
		endpoint = fmt.Sprintf("https://cognito-idp.%s.amazonaws.com", region)
	}
	return strings.TrimRight(endpoint, "/") + "/" + poolID + "/.well-known/jwks.json"
}

// InvalidToken: the token is not a valid, current token of this pool for
// this use and these clients. Reason is fixed text; it never quotes the
// token.
type InvalidToken struct{ Reason string }

func (e *InvalidToken) Error() string { return "cognito token: " + e.Reason }

// Unavailable: the pool's key set could not be read, so nothing can be
// verified (API Gateway answers 500 then).
type Unavailable struct{ Reason string }

func (e *Unavailable) Error() string { return "cognito jwks: " + e.Reason }

// Claims is what a verified token says.
type Claims struct {
	Sub      string
	TokenUse Use
	// ClientID is the app client the token was issued to (aud of an ID
	// token, client_id of an access token).
	ClientID string
	// Username is cognito:username (ID token) or username (access token).
	Username string
	// KakaoID is custom:kakao_id, "" for a user with none (ID tokens only).
	KakaoID       string
	Email         string
	EmailVerified bool
	// Scope is an access token's space-separated scopes.
	Scope     string
	ExpiresAt time.Time
	IssuedAt  time.Time
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithClock injects the clock expiry and the key set's age are judged by.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// WithTimeout bounds each JWKS fetch attempt (default 3 s).
func WithTimeout(d time.Duration) Option { return func(v *Verifier) { v.timeout = d } }

// Verifier checks one pool's tokens.
type Verifier struct {
	http    *http.Client
	issuer  string
	jwksURL string
	clients []string
	now     func() time.Time
	timeout time.Duration
	keys    *keyset.Set
}

// New returns a verifier for the pool whose tokens have issuer (see
// Issuer) and whose keys are at jwksURL (see JWKSURL), accepting tokens
// issued to clientIDs only.
func New(hc *http.Client, issuer, jwksURL string, clientIDs []string, opts ...Option) *Verifier {
	if hc == nil {
		hc = &http.Client{}
	}
	v := &Verifier{http: hc, issuer: issuer, jwksURL: jwksURL, clients: slices.Clone(clientIDs), now: time.Now, timeout: 3 * time.Second}
	for _, o := range opts {
		o(v)
	}
	v.keys = keyset.New(v.download, keyset.WithClock(v.now))
	return v
}

type poolClaims struct {
	TokenUse        string `json:"token_use"`
	ClientID        string `json:"client_id"`
	CognitoUsername string `json:"cognito:username"`
	Username        string `json:"username"`
	KakaoID         string `json:"custom:kakao_id"`
	Email           string `json:"email"`
	// Cognito sends email_verified as a JSON boolean, moto as a string.
	EmailVerified any    `json:"email_verified"`
	Scope         string `json:"scope"`
}

func invalid(reason string) error { return &InvalidToken{Reason: reason} }

// Verify checks raw as a token of the given use. Errors are *InvalidToken,
// or *Unavailable when the key set cannot be read.
func (v *Verifier) Verify(ctx context.Context, raw string, use Use) (Claims, error) {
	tok, key, err := v.keys.Parse(ctx, raw)
	switch {
	case errors.Is(err, keyset.ErrMalformed):
		return Claims{}, invalid("malformed or not RS256")
	case errors.Is(err, keyset.ErrNoKeyID):
		return Claims{}, invalid("no key id")
	case errors.Is(err, keyset.ErrUnknownKey):
		return Claims{}, invalid("unknown key id")
	case errors.Is(err, keyset.ErrNoSigningKeys):
		return Claims{}, &Unavailable{Reason: "no RS256 signing keys"}
	case err != nil:
		var u *Unavailable
		if errors.As(err, &u) {
			return Claims{}, u
		}
		return Claims{}, &Unavailable{Reason: err.Error()}
	}
	var std jwt.Claims
	var pc poolClaims
	if err := tok.Claims(key, &std, &pc); err != nil {
		return Claims{}, invalid("bad signature")
	}
	if std.Issuer != v.issuer {
		return Claims{}, invalid("not this pool's issuer")
	}
	if Use(pc.TokenUse) != use {
		return Claims{}, invalid("token_use is not " + string(use))
	}
	client := pc.ClientID
	if use == UseID {
		if len(std.Audience) != 1 {
			return Claims{}, invalid("not one audience")
		}
		client = std.Audience[0]
	}
	if !slices.Contains(v.clients, client) {
		return Claims{}, invalid("issued to another app client")
	}
	// API Gateway allows no clock skew: a token is refused from its exp on.
	if std.Expiry == nil || !v.now().Before(std.Expiry.Time()) {
		return Claims{}, invalid("expired")
	}
	if std.Subject == "" {
		return Claims{}, invalid("no sub")
	}
	c := Claims{
		Sub: std.Subject, TokenUse: use, ClientID: client, Username: pc.CognitoUsername,
		KakaoID: pc.KakaoID, Email: pc.Email, EmailVerified: pc.EmailVerified == true || pc.EmailVerified == "true", Scope: pc.Scope,
		ExpiresAt: std.Expiry.Time(),
	}
	if use == UseAccess {
		c.Username = pc.Username
	}
	if std.IssuedAt != nil {
		c.IssuedAt = std.IssuedAt.Time()
	}
	return c, nil
}

// download reads the pool's key set, trying twice when the pool's
// endpoint fails or does not answer.
func (v *Verifier) download(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	var last error
	for attempt := range 2 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return set, &Unavailable{Reason: ctx.Err().Error()}
			case <-time.After(100 * time.Millisecond):
			}
		}
		retry, err := v.fetch(ctx, &set)
		if err == nil {
			return set, nil
		}
		last = err
		if !retry {
			break
		}
	}
	return set, last
}

func (v *Verifier) fetch(ctx context.Context, set *jose.JSONWebKeySet) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return false, &Unavailable{Reason: "bad JWKS URL"}
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return true, &Unavailable{Reason: "no answer"}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return true, &Unavailable{Reason: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return false, &Unavailable{Reason: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(set); err != nil {
		return false, &Unavailable{Reason: "malformed"}
	}
	return false, nil
}
