package cognitojwt

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	region = "ap-northeast-2"
	poolID = "ap-northeast-2_Test1234"
	client = "appclient0123456789"
)

var now = time.Unix(1_800_000_000, 0)

// pool signs tokens as a user pool does and publishes its key.
type pool struct {
	key    *rsa.PrivateKey
	kid    string
	srv    *httptest.Server
	status atomic.Int32 // JWKS answer status; 0 is 200
}

func newPool(t *testing.T) *pool {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &pool{key: k, kid: "pool-key-1"}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := p.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		if r.URL.Path != "/"+poolID+"/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: p.kid, Algorithm: "RS256", Use: "sig"}}})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pool) verifier() *Verifier {
	return New(nil, Issuer(region, poolID), JWKSURL(region, poolID, p.srv.URL), []string{client}, WithClock(func() time.Time { return now }))
}

// claims of a token the pool issues now to client, for use.
func claims(use Use) map[string]any {
	c := map[string]any{
		"iss": Issuer(region, poolID), "sub": "5f0c6e1a-sub", "token_use": string(use),
		"iat": now.Unix() - 60, "exp": now.Unix() + 3600, "auth_time": now.Unix() - 60,
	}
	if use == UseID {
		c["aud"] = client
		c["cognito:username"] = "kakao_4242"
		c["custom:kakao_id"] = "4242"
		c["email"] = "a@example.com"
		c["email_verified"] = true
	} else {
		c["client_id"] = client
		c["username"] = "kakao_4242"
		c["scope"] = "aws.cognito.signin.user.admin"
	}
	return c
}

func sign(t *testing.T, key any, kid string, alg jose.SignatureAlgorithm, c map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (p *pool) token(t *testing.T, c map[string]any) string {
	return sign(t, p.key, p.kid, jose.RS256, c)
}

func TestValidTokens(t *testing.T) {
	p := newPool(t)
	v := p.verifier()
	got, err := v.Verify(context.Background(), p.token(t, claims(UseID)), UseID)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Sub: "5f0c6e1a-sub", TokenUse: UseID, ClientID: client, Username: "kakao_4242", KakaoID: "4242",
		Email: "a@example.com", EmailVerified: true, ExpiresAt: now.Add(time.Hour), IssuedAt: now.Add(-time.Minute)}
	if got != want {
		t.Errorf("ID token claims %+v, want %+v", got, want)
	}
	// moto writes email_verified as a string.
	c := claims(UseID)
	c["email_verified"] = "true"
	if got, err := v.Verify(context.Background(), p.token(t, c), UseID); err != nil || !got.EmailVerified {
		t.Errorf("email_verified \"true\": %+v %v", got, err)
	}
	got, err = v.Verify(context.Background(), p.token(t, claims(UseAccess)), UseAccess)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "kakao_4242" || got.ClientID != client || got.Scope != "aws.cognito.signin.user.admin" || got.KakaoID != "" {
		t.Errorf("access token claims %+v", got)
	}
}

func wantInvalid(t *testing.T, err error, reason string) {
	t.Helper()
	var inv *InvalidToken
	if !errors.As(err, &inv) || inv.Reason != reason {
		t.Errorf("got %v, want invalid: %s", err, reason)
	}
}

func TestRefusals(t *testing.T) {
	p := newPool(t)
	v := p.verifier()
	ctx := context.Background()
	with := func(use Use, k string, val any) map[string]any {
		c := claims(use)
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := []struct {
		name, token string
		use         Use
		reason      string
	}{
		{"access token where the ID token is required", p.token(t, claims(UseAccess)), UseID, "token_use is not id"},
		{"ID token where the access token is required", p.token(t, claims(UseID)), UseAccess, "token_use is not access"},
		{"another client's ID token", p.token(t, with(UseID, "aud", "otherclient")), UseID, "issued to another app client"},
		{"another client's access token", p.token(t, with(UseAccess, "client_id", "otherclient")), UseAccess, "issued to another app client"},
		{"another pool", p.token(t, with(UseID, "iss", Issuer(region, "ap-northeast-2_Other"))), UseID, "not this pool's issuer"},
		{"expired a second ago", p.token(t, with(UseID, "exp", now.Unix()-1)), UseID, "expired"},
		{"expiring now", p.token(t, with(UseID, "exp", now.Unix())), UseID, "expired"},
		{"no exp", p.token(t, with(UseID, "exp", nil)), UseID, "expired"},
		{"no sub", p.token(t, with(UseID, "sub", nil)), UseID, "no sub"},
		{"two audiences", p.token(t, with(UseID, "aud", []string{client, "x"})), UseID, "not one audience"},
		{"signed by another key under the pool's kid", sign(t, other, p.kid, jose.RS256, claims(UseID)), UseID, "bad signature"},
		{"unknown kid", sign(t, other, "forged", jose.RS256, claims(UseID)), UseID, "unknown key id"},
		{"no kid", sign(t, p.key, "", jose.RS256, claims(UseID)), UseID, "no key id"},
		{"HS256 keyed with anything", sign(t, []byte("secret-secret-secret-secret-1234"), p.kid, jose.HS256, claims(UseID)), UseID, "malformed or not RS256"},
		{"not a JWT", "abc.def", UseID, "malformed or not RS256"},
		{"with a line break", strings.Replace(p.token(t, claims(UseID)), ".", ".\n", 1), UseID, "malformed or not RS256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(ctx, c.token, c.use)
			wantInvalid(t, err, c.reason)
		})
	}
}

// alg "none" is refused whatever the header says.
func TestAlgNone(t *testing.T) {
	p := newPool(t)
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "none", "kid": p.kid})
	body, _ := json.Marshal(claims(UseID))
	unsigned := enc.EncodeToString(head) + "." + enc.EncodeToString(body) + "."
	_, err := p.verifier().Verify(context.Background(), unsigned, UseID)
	wantInvalid(t, err, "malformed or not RS256")
	// Nor an HS256 token keyed with the public key's bytes.
	mac := hmac.New(sha256.New, p.key.PublicKey.N.Bytes())
	head, _ = json.Marshal(map[string]string{"alg": "HS256", "kid": p.kid})
	signingInput := enc.EncodeToString(head) + "." + enc.EncodeToString(body)
	mac.Write([]byte(signingInput))
	_, err = p.verifier().Verify(context.Background(), signingInput+"."+enc.EncodeToString(mac.Sum(nil)), UseID)
	wantInvalid(t, err, "malformed or not RS256")
}

// The pool's JWKS failing is not the caller's fault: Unavailable, not
// InvalidToken, and the endpoint is tried twice for a 5xx.
func TestKeySetUnavailable(t *testing.T) {
	p := newPool(t)
	p.status.Store(http.StatusBadGateway)
	_, err := p.verifier().Verify(context.Background(), p.token(t, claims(UseID)), UseID)
	var u *Unavailable
	if !errors.As(err, &u) || u.Reason != "HTTP 502" {
		t.Fatalf("JWKS 502: %v", err)
	}
	p.status.Store(0)
	if _, err := p.verifier().Verify(context.Background(), p.token(t, claims(UseID)), UseID); err != nil {
		t.Fatal(err)
	}
}

func TestIssuerAndJWKSURL(t *testing.T) {
	if got := Issuer("us-east-1", "us-east-1_abc"); got != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc" {
		t.Error(got)
	}
	if got := JWKSURL("us-east-1", "us-east-1_abc", ""); got != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json" {
		t.Error(got)
	}
	if got := JWKSURL("us-east-1", "us-east-1_abc", "http://127.0.0.1:5000/"); got != "http://127.0.0.1:5000/us-east-1_abc/.well-known/jwks.json" {
		t.Error(got)
	}
}
