package kakao

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/keyset"
)

const (
	// idTokenLeeway absorbs clock skew between Kakao and the Lambda.
	idTokenLeeway = 60 * time.Second
	// defaultRefetchInterval bounds JWKS re-fetches triggered by unknown
	// kids, so forged kids cannot turn every request into a Kakao call.
	defaultRefetchInterval = keyset.DefaultRefetchInterval
	// DefaultJWKSMaxAge bounds how long a fetched key set is trusted: a key
	// Kakao withdraws stops verifying tokens in warm containers after it.
	DefaultJWKSMaxAge = keyset.DefaultMaxAge
)

// IDClaims is what a verified Kakao ID token says. Email is whatever the
// token carries; it says nothing about verification (see Verifier).
type IDClaims struct {
	KakaoID   int64
	Audience  string
	Email     string
	Nickname  string
	ExpiresAt time.Time
	// IssuedAt is iat; zero when the token has none.
	IssuedAt time.Time
}

// IDTokenOption configures an IDTokenVerifier.
type IDTokenOption func(*IDTokenVerifier)

// WithClock injects the clock exp and the re-fetch interval are judged by.
func WithClock(now func() time.Time) IDTokenOption {
	return func(v *IDTokenVerifier) { v.now = now }
}

// WithRefetchInterval sets the minimum time between JWKS fetches triggered
// by an unknown kid (default 30 s).
func WithRefetchInterval(d time.Duration) IDTokenOption {
	return func(v *IDTokenVerifier) { v.refetchInterval = d }
}

// WithJWKSMaxAge sets how long a fetched key set is used before it is
// fetched again (default DefaultJWKSMaxAge; never below the re-fetch
// interval).
func WithJWKSMaxAge(d time.Duration) IDTokenOption {
	return func(v *IDTokenVerifier) { v.maxAge = d }
}

// WithNonceRequired refuses an ID token presented without a nonce (a
// token that carries none cannot be told from a replay of it).
func WithNonceRequired(required bool) IDTokenOption {
	return func(v *IDTokenVerifier) { v.nonceRequired = required }
}

// WithPlainNonce also accepts an ID token whose nonce claim is the sent
// nonce itself (the plain form), besides the hashed form. The plain form
// binds nothing: whoever holds the token reads its nonce from the payload
// and sends it back, so a stolen token is accepted until it expires.
func WithPlainNonce(allowed bool) IDTokenOption {
	return func(v *IDTokenVerifier) { v.plainNonce = allowed }
}

// MinNonceLength is the shortest raw nonce the hashed form accepts: the
// token carries the nonce's SHA-256, so a short or guessable nonce would
// be found from it by trying candidates. An app sends 32 random bytes,
// base64url-encoded (43 characters).
const MinNonceLength = 16

// HashNonce is what an app passes to Kakao as the OIDC nonce for the raw
// nonce it keeps (and later sends to the broker): the lowercase hex of its
// SHA-256. Kakao signs it into the ID token; only the app instance that
// holds the raw nonce can present the token.
func HashNonce(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// WithJWKSTimeout bounds each JWKS fetch attempt (default 3 s).
func WithJWKSTimeout(d time.Duration) IDTokenOption {
	return func(v *IDTokenVerifier) { v.timeout = d }
}

// IDTokenVerifier checks Kakao OIDC ID tokens against Kakao's published
// keys. Build one per process: it holds the JWKS cache (shared/keyset),
// which is fetched on first use, kept for at most its max age, and
// re-fetched sooner only for a kid it does not know.
type IDTokenVerifier struct {
	http            *http.Client
	issuer          string
	jwksURL         string
	audiences       []string
	now             func() time.Time
	refetchInterval time.Duration
	maxAge          time.Duration
	timeout         time.Duration
	nonceRequired   bool
	plainNonce      bool

	keys *keyset.Set
}

// NewIDTokenVerifier builds a verifier. issuer "" is Kakao's auth base URL;
// jwksURL "" is <issuer>/.well-known/jwks.json; audiences are the app keys
// (REST, JS, native) a login may have started with.
func NewIDTokenVerifier(httpClient *http.Client, issuer, jwksURL string, audiences []string, opts ...IDTokenOption) *IDTokenVerifier {
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	if issuer == "" {
		issuer = DefaultAuthBaseURL
	}
	if jwksURL == "" {
		jwksURL = strings.TrimRight(issuer, "/") + "/.well-known/jwks.json"
	}
	v := &IDTokenVerifier{
		http:            httpClient,
		issuer:          issuer,
		jwksURL:         jwksURL,
		audiences:       slices.Clone(audiences),
		now:             time.Now,
		refetchInterval: defaultRefetchInterval,
		maxAge:          DefaultJWKSMaxAge,
		timeout:         defaultTimeout,
	}
	for _, o := range opts {
		o(v)
	}
	v.keys = keyset.New(v.download, keyset.WithClock(v.now), keyset.WithRefetchInterval(v.refetchInterval), keyset.WithMaxAge(v.maxAge))
	return v
}

type kakaoIDClaims struct {
	Nonce    string `json:"nonce"`
	Nickname string `json:"nickname"`
	Email    string `json:"email"`
}

func invalid(reason string) error { return &kakaoauth.InvalidKakaoToken{Reason: "id token: " + reason} }

// Verify checks rawIDToken's RS256 signature, iss, aud, exp and nonce. A
// non-empty nonce is the raw nonce the app kept: the token's nonce claim
// must be its HashNonce (or, under WithPlainNonce, the nonce itself), and a
// hashed match needs a nonce of at least MinNonceLength. An empty nonce
// requires the token to carry none, so a nonce-bound token cannot be
// replayed without it, and is refused outright under WithNonceRequired.
func (v *IDTokenVerifier) Verify(ctx context.Context, rawIDToken, nonce string) (IDClaims, error) {
	tok, key, err := v.keys.Parse(ctx, rawIDToken)
	switch {
	case errors.Is(err, keyset.ErrMalformed):
		return IDClaims{}, invalid("malformed or not RS256")
	case errors.Is(err, keyset.ErrNoKeyID):
		return IDClaims{}, invalid("no key id")
	case errors.Is(err, keyset.ErrUnknownKey):
		return IDClaims{}, invalid("unknown key id")
	case errors.Is(err, keyset.ErrNoSigningKeys):
		return IDClaims{}, &kakaoauth.KakaoUnavailable{Reason: "jwks: no RS256 signing keys"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return IDClaims{}, &kakaoauth.KakaoUnavailable{Reason: "jwks: " + ctx.Err().Error()}
	case err != nil:
		return IDClaims{}, err
	}
	var std jwt.Claims
	var extra kakaoIDClaims
	if err := tok.Claims(key, &std, &extra); err != nil {
		return IDClaims{}, invalid("bad signature")
	}
	now := v.now()
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, Time: now}, idTokenLeeway); err != nil {
		switch {
		case errors.Is(err, jwt.ErrInvalidIssuer):
			return IDClaims{}, invalid("wrong issuer")
		case errors.Is(err, jwt.ErrExpired):
			return IDClaims{}, invalid("expired")
		default:
			return IDClaims{}, invalid("not valid yet")
		}
	}
	if std.Expiry == nil {
		return IDClaims{}, invalid("no exp")
	}
	// OIDC: reject a token with any audience this stack does not trust.
	if len(std.Audience) != 1 || !slices.Contains(v.audiences, std.Audience[0]) {
		return IDClaims{}, invalid("wrong audience")
	}
	if err := v.checkNonce(nonce, extra.Nonce); err != nil {
		return IDClaims{}, err
	}
	id, err := strconv.ParseInt(std.Subject, 10, 64)
	if err != nil || id <= 0 {
		return IDClaims{}, invalid("sub is not a Kakao user id")
	}
	c := IDClaims{
		KakaoID:   id,
		Audience:  std.Audience[0],
		Email:     extra.Email,
		Nickname:  extra.Nickname,
		ExpiresAt: std.Expiry.Time(),
	}
	if std.IssuedAt != nil {
		c.IssuedAt = std.IssuedAt.Time()
	}
	return c, nil
}

// download fetches and parses the JWKS, retrying what Kakao may answer
// next time; the key set keeps its RS256 signing keys.
// checkNonce compares the nonce the app sent with the token's claim.
func (v *IDTokenVerifier) checkNonce(sent, claim string) error {
	switch {
	case sent == "" && claim != "":
		return invalid("nonce required")
	case sent == "" && v.nonceRequired:
		return invalid("no nonce")
	case sent == "":
		return nil
	}
	// Both comparisons always run: the time taken says nothing about which
	// form matched.
	hashed := subtle.ConstantTimeCompare([]byte(HashNonce(sent)), []byte(claim)) == 1
	plain := subtle.ConstantTimeCompare([]byte(sent), []byte(claim)) == 1
	switch {
	case hashed && len(sent) < MinNonceLength:
		return invalid("nonce shorter than " + strconv.Itoa(MinNonceLength) + " characters")
	case hashed, plain && v.plainNonce:
		return nil
	case plain:
		return invalid("plain nonce (the token carries the nonce itself, not its SHA-256)")
	default:
		return invalid("nonce mismatch")
	}
}

func (v *IDTokenVerifier) download(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	err := retry(ctx, defaultRetries, defaultBackoff, func() (bool, error) {
		actx, cancel := context.WithTimeout(ctx, v.timeout)
		defer cancel()
		body, status, err := fetch(actx, v.http, v.jwksURL, nil)
		switch {
		case err != nil:
			return true, &kakaoauth.KakaoUnavailable{Reason: "jwks: " + transportReason(actx, err)}
		case status != http.StatusOK:
			// The JWKS takes no credential, so no answer can mean the
			// token is bad: a refusal is Kakao refusing this stack.
			var ae apiError
			_ = json.Unmarshal(body, &ae)
			class := classifyAnswer(status, ae.Code)
			if class == answerTokenRefused {
				class = answerRefused
			}
			return answerError(class, "jwks: HTTP "+strconv.Itoa(status))
		}
		if err := json.Unmarshal(body, &set); err != nil {
			return false, &kakaoauth.KakaoUnavailable{Reason: "jwks: malformed"}
		}
		return false, nil
	})
	return set, err
}
