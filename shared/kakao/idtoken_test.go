package kakao

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type idEnv struct {
	fake *kakaofake.Fake
	srv  *httptest.Server
	clk  *clock
}

func newIDEnv(t testing.TB) *idEnv {
	t.Helper()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	f, srv := fakeServer(t, kakaofake.Config{AppKeys: []string{"rest-key", "native-key"}, Clock: clk.Now})
	addUser(t, f, gildong)
	return &idEnv{fake: f, srv: srv, clk: clk}
}

func (e *idEnv) verifier(opts ...IDTokenOption) *IDTokenVerifier {
	return NewIDTokenVerifier(nil, e.srv.URL, "", []string{"rest-key", "native-key"}, append([]IDTokenOption{WithClock(e.clk.Now)}, opts...)...)
}

func (e *idEnv) idToken(t testing.TB, req kakaofake.TokenRequest) string {
	t.Helper()
	if req.UserID == 0 {
		req.UserID = gildong.ID
	}
	req.OpenID = true
	return mint(t, e.fake, req).IDToken
}

func (e *idEnv) jwksHits() int { return e.fake.Hits("/.well-known/jwks.json") }

func wantInvalid(t *testing.T, err error, reason string) {
	t.Helper()
	var inv *kakaoauth.InvalidKakaoToken
	if !errors.As(err, &inv) || kakaoauth.ErrorName(err) != "InvalidKakaoToken" || !strings.Contains(inv.Reason, reason) {
		t.Fatalf("error %v, want InvalidKakaoToken %q", err, reason)
	}
}

func TestIDTokenValid(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	raw := e.idToken(t, kakaofake.TokenRequest{Aud: "native-key", Nonce: HashNonce(appNonce)})
	c, err := v.Verify(context.Background(), raw, appNonce)
	if err != nil {
		t.Fatal(err)
	}
	want := IDClaims{KakaoID: gildong.ID, Audience: "native-key", Email: gildong.Email, Nickname: gildong.Nickname,
		ExpiresAt: e.clk.Now().Add(kakaofake.DefaultExpiresIn * time.Second), IssuedAt: e.clk.Now().Truncate(time.Second)}
	if c != want {
		t.Fatalf("claims %+v, want %+v", c, want)
	}
}

func TestIDTokenRejections(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	ctx := context.Background()
	valid := e.idToken(t, kakaofake.TokenRequest{})
	other := e.idToken(t, kakaofake.TokenRequest{Aud: "native-key"})

	parts, otherParts := strings.Split(valid, "."), strings.Split(other, ".")
	tampered := parts[0] + "." + otherParts[1] + "." + parts[2]
	_, err := v.Verify(ctx, tampered, "")
	wantInvalid(t, err, "bad signature")

	_, err = v.Verify(ctx, e.idToken(t, kakaofake.TokenRequest{Aud: "someone-elses-key"}), "")
	wantInvalid(t, err, "wrong audience")

	zero := int64(0)
	_, err = v.Verify(ctx, e.idToken(t, kakaofake.TokenRequest{ExpiresIn: &zero}), "")
	wantInvalid(t, err, "expired")

	kakaoIssuer := NewIDTokenVerifier(nil, DefaultAuthBaseURL, e.srv.URL+"/.well-known/jwks.json", []string{"rest-key"}, WithClock(e.clk.Now))
	_, err = kakaoIssuer.Verify(ctx, valid, "")
	wantInvalid(t, err, "wrong issuer")

	_, err = v.Verify(ctx, "not.a.jwt", "")
	wantInvalid(t, err, "malformed")
	_, err = v.Verify(ctx, "", "")
	wantInvalid(t, err, "malformed")
}

func TestIDTokenLeeway(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	life := int64(10)
	raw := e.idToken(t, kakaofake.TokenRequest{ExpiresIn: &life})
	e.clk.Add(50 * time.Second) // 40 s past exp: within the 60 s leeway
	if _, err := v.Verify(context.Background(), raw, ""); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	e.clk.Add(21 * time.Second) // 61 s past exp
	_, err := v.Verify(context.Background(), raw, "")
	wantInvalid(t, err, "expired")
}

// appNonce is the raw nonce an app keeps; it passes HashNonce(appNonce)
// to Kakao, which signs that into the ID token.
const appNonce = "n-0123456789abcdef"

func TestIDTokenNonce(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	ctx := context.Background()
	withNonce := e.idToken(t, kakaofake.TokenRequest{Nonce: HashNonce(appNonce)})
	without := e.idToken(t, kakaofake.TokenRequest{})

	if _, err := v.Verify(ctx, withNonce, appNonce); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(ctx, withNonce, appNonce+"2")
	wantInvalid(t, err, "nonce mismatch")
	_, err = v.Verify(ctx, withNonce, "")
	wantInvalid(t, err, "nonce required")
	_, err = v.Verify(ctx, without, appNonce)
	wantInvalid(t, err, "nonce mismatch")
	if _, err := v.Verify(ctx, without, ""); err != nil {
		t.Fatal(err)
	}
}

// The hashed nonce binds a token to the app instance that holds the raw
// nonce: the token carries only its SHA-256, so whoever steals the token
// cannot send the nonce it needs. Sending the claim itself (the plain
// form, the way to replay a token whose payload anyone can read) is
// refused unless the stack allows the plain form, which then lets that
// replay through, for hashed tokens too.
func TestIDTokenHashedNonce(t *testing.T) {
	e := newIDEnv(t)
	ctx := context.Background()
	hashed := e.idToken(t, kakaofake.TokenRequest{Nonce: HashNonce(appNonce)})
	plain := e.idToken(t, kakaofake.TokenRequest{Nonce: appNonce})
	const short = "n-1234"
	shortHashed := e.idToken(t, kakaofake.TokenRequest{Nonce: HashNonce(short)})
	if got := HashNonce("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashNonce(abc) = %s, want SHA-256 in lowercase hex (FIPS 180-2's example)", got)
	}

	v := e.verifier(WithNonceRequired(true))
	if _, err := v.Verify(ctx, hashed, appNonce); err != nil {
		t.Fatalf("hashed form: %v", err)
	}
	_, err := v.Verify(ctx, hashed, HashNonce(appNonce)) // the replay: the nonce read from the payload
	wantInvalid(t, err, "plain nonce (the token carries the nonce itself, not its SHA-256)")
	_, err = v.Verify(ctx, plain, appNonce)
	wantInvalid(t, err, "plain nonce (the token carries the nonce itself, not its SHA-256)")
	_, err = v.Verify(ctx, shortHashed, short)
	wantInvalid(t, err, "nonce shorter than 16 characters")
	_, err = v.Verify(ctx, hashed, strings.ToUpper(HashNonce(appNonce)))
	wantInvalid(t, err, "nonce mismatch")

	lax := e.verifier(WithNonceRequired(true), WithPlainNonce(true))
	for name, c := range map[string]struct{ token, nonce string }{
		"hashed":             {hashed, appNonce},
		"plain":              {plain, appNonce},
		"a hashed replay":    {hashed, HashNonce(appNonce)},
		"a short plain form": {e.idToken(t, kakaofake.TokenRequest{Nonce: short}), short},
	} {
		if _, err := lax.Verify(ctx, c.token, c.nonce); err != nil {
			t.Errorf("plain form allowed, %s: %v", name, err)
		}
	}
	_, err = lax.Verify(ctx, hashed, "something else")
	wantInvalid(t, err, "nonce mismatch")
}

func TestJWKSFetchedOnceAndCached(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	raw := e.idToken(t, kakaofake.TokenRequest{})
	var wg sync.WaitGroup
	var failures atomic.Int32
	// Concurrent first use shares one fetch.
	for range 32 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), raw, ""); err != nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	for range 50 {
		if _, err := v.Verify(context.Background(), raw, ""); err != nil {
			failures.Add(1)
		}
	}
	if failures.Load() != 0 {
		t.Fatalf("%d verifications failed", failures.Load())
	}
	if got := e.jwksHits(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", got)
	}
}

func TestJWKSRefetchOnKeyRotation(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	ctx := context.Background()
	old := e.idToken(t, kakaofake.TokenRequest{})
	if _, err := v.Verify(ctx, old, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.RotateKey(); err != nil {
		t.Fatal(err)
	}
	rotated := e.idToken(t, kakaofake.TokenRequest{})

	// Within the re-fetch interval of the first fetch an unknown kid is
	// refused without calling Kakao.
	_, err := v.Verify(ctx, rotated, "")
	wantInvalid(t, err, "unknown key id")
	if got := e.jwksHits(); got != 1 {
		t.Fatalf("JWKS fetched %d times inside the interval", got)
	}

	e.clk.Add(31 * time.Second)
	if _, err := v.Verify(ctx, rotated, ""); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if got := e.jwksHits(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", got)
	}
	// Known kids, old and new, need no further fetch.
	for _, raw := range []string{old, rotated, rotated} {
		if _, err := v.Verify(ctx, raw, ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.jwksHits(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", got)
	}
}

func TestUnknownKidIsRateLimited(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	ctx := context.Background()
	if _, err := v.Verify(ctx, e.idToken(t, kakaofake.TokenRequest{}), ""); err != nil {
		t.Fatal(err)
	}
	forger := newSigner(t)
	forged := forger.sign(t, jose.RS256, "forged-kid", validClaims(e))
	for range 10 {
		_, err := v.Verify(ctx, forged, "")
		wantInvalid(t, err, "unknown key id")
	}
	if got := e.jwksHits(); got != 1 {
		t.Fatalf("forged kids caused %d JWKS fetches, want 1", got)
	}
	e.clk.Add(31 * time.Second)
	for range 10 {
		_, err := v.Verify(ctx, forged, "")
		wantInvalid(t, err, "unknown key id")
	}
	if got := e.jwksHits(); got != 2 {
		t.Fatalf("JWKS fetched %d times after the interval, want 2", got)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	raw := e.idToken(t, kakaofake.TokenRequest{})
	if err := e.fake.SetFault(kakaofake.Fault{Path: "/.well-known/jwks.json", Status: 500, Count: 3}); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(context.Background(), raw, "")
	if kakaoauth.ErrorName(err) != "KakaoUnavailable" {
		t.Fatalf("error %v", err)
	}
	if got := e.jwksHits(); got != 3 {
		t.Fatalf("JWKS attempts %d, want 3 (two retries)", got)
	}
	// A failed fetch is not cached: the next request tries again.
	if _, err := v.Verify(context.Background(), raw, ""); err != nil {
		t.Fatalf("after Kakao recovered: %v", err)
	}
}

// A quota answer of the JWKS endpoint is spent once: no retry, and the
// next request (the quota may have reset) tries again.
func TestJWKSQuotaIsNotRetried(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier()
	raw := e.idToken(t, kakaofake.TokenRequest{})
	if err := e.fake.SetFault(kakaofake.Fault{Path: "/.well-known/jwks.json", Status: 429, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), raw, ""); kakaoauth.ErrorName(err) != "KakaoQuotaExceeded" {
		t.Fatalf("error %v, want KakaoQuotaExceeded", err)
	}
	if got := e.jwksHits(); got != 1 {
		t.Fatalf("JWKS attempts %d, want 1", got)
	}
	if _, err := v.Verify(context.Background(), raw, ""); err != nil {
		t.Fatalf("after the quota reset: %v", err)
	}
}

// signer makes tokens a test controls fully, served from its own JWKS.
type signer struct {
	key *rsa.PrivateKey
}

func newSigner(t testing.TB) *signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{key: k}
}

func (s *signer) sign(t testing.TB, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	var key any = s.key
	if alg == jose.HS256 {
		// The classic confusion attack: HMAC keyed with the public key.
		key = x509.MarshalPKCS1PublicKey(&s.key.PublicKey)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := sig.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *signer) jwks(t testing.TB, kid string) *httptest.Server {
	t.Helper()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}}}
	b, _ := json.Marshal(set)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) }))
	t.Cleanup(srv.Close)
	return srv
}

func validClaims(e *idEnv) map[string]any {
	now := e.clk.Now()
	return map[string]any{"iss": e.srv.URL, "aud": "rest-key", "sub": "3141592653", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func TestCraftedTokens(t *testing.T) {
	const iss = "https://kauth.example"
	s := newSigner(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	v := NewIDTokenVerifier(nil, iss, s.jwks(t, "k1").URL, []string{"rest-key", "js-key"}, WithClock(clk.Now))
	ctx := context.Background()
	base := func() map[string]any {
		return map[string]any{"iss": iss, "aud": "rest-key", "sub": "3141592653", "iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Hour).Unix()}
	}
	if c, err := v.Verify(ctx, s.sign(t, jose.RS256, "k1", base()), ""); err != nil || c.KakaoID != 3141592653 {
		t.Fatalf("crafted valid token: %+v %v", c, err)
	}

	b64 := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(base())
	none := b64([]byte(`{"alg":"none","kid":"k1"}`)) + "." + b64(payload) + "."
	_, err := v.Verify(ctx, none, "")
	wantInvalid(t, err, "not RS256")

	_, err = v.Verify(ctx, s.sign(t, jose.HS256, "k1", base()), "")
	wantInvalid(t, err, "not RS256")

	_, err = v.Verify(ctx, s.sign(t, jose.PS256, "k1", base()), "")
	wantInvalid(t, err, "not RS256")

	for name, c := range map[string]struct {
		edit   func(map[string]any)
		reason string
	}{
		"no exp":              {func(m map[string]any) { delete(m, "exp") }, "no exp"},
		"sub not a number":    {func(m map[string]any) { m["sub"] = "abc" }, "sub"},
		"sub zero":            {func(m map[string]any) { m["sub"] = "0" }, "sub"},
		"untrusted extra aud": {func(m map[string]any) { m["aud"] = []string{"rest-key", "evil"} }, "wrong audience"},
		"no aud":              {func(m map[string]any) { delete(m, "aud") }, "wrong audience"},
		"issued in future":    {func(m map[string]any) { m["iat"] = clk.Now().Add(time.Hour).Unix() }, "not valid yet"},
		"issuer prefix":       {func(m map[string]any) { m["iss"] = iss + ".evil" }, "wrong issuer"},
	} {
		t.Run(name, func(t *testing.T) {
			claims := base()
			c.edit(claims)
			_, err := v.Verify(ctx, s.sign(t, jose.RS256, "k1", claims), "")
			wantInvalid(t, err, c.reason)
		})
	}

	noKid := s.sign(t, jose.RS256, "", base())
	_, err = v.Verify(ctx, noKid, "")
	wantInvalid(t, err, "no key id")
}

func TestIDTokenDefaults(t *testing.T) {
	v := NewIDTokenVerifier(nil, "", "", nil)
	if v.issuer != DefaultAuthBaseURL || v.jwksURL != DefaultAuthBaseURL+"/.well-known/jwks.json" || v.refetchInterval != 30*time.Second ||
		v.maxAge != DefaultJWKSMaxAge || v.nonceRequired {
		t.Fatalf("defaults %+v", v)
	}
}

// A warm verifier trusts a key set for its max age only: a key Kakao
// withdraws (here: rotated out of the double's JWKS) verifies tokens until
// then, and not after; a set past its max age that cannot be fetched again
// is not used (the token cannot be verified: KakaoUnavailable).
func TestJWKSMaxAgeDropsWithdrawnKeys(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier(WithJWKSMaxAge(10 * time.Minute))
	ctx := context.Background()
	old := e.idToken(t, kakaofake.TokenRequest{})
	if _, err := v.Verify(ctx, old, ""); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the double keeps two keys: the original is withdrawn
		if _, err := e.fake.RotateKey(); err != nil {
			t.Fatal(err)
		}
	}
	e.clk.Add(10*time.Minute - time.Second)
	if _, err := v.Verify(ctx, old, ""); err != nil || e.jwksHits() != 1 {
		t.Fatalf("within the max age: %v, %d fetches", err, e.jwksHits())
	}
	e.clk.Add(time.Second)
	_, err := v.Verify(ctx, old, "")
	wantInvalid(t, err, "unknown key id")
	if got := e.jwksHits(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (once more at the max age)", got)
	}
	fresh := e.idToken(t, kakaofake.TokenRequest{})
	if _, err := v.Verify(ctx, fresh, ""); err != nil {
		t.Fatal(err)
	}

	e.clk.Add(10 * time.Minute)
	if err := e.fake.SetFault(kakaofake.Fault{Path: "/.well-known/jwks.json", Status: 500, Count: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, fresh, ""); kakaoauth.ErrorName(err) != "KakaoUnavailable" {
		t.Fatalf("a set past its max age was used when the refresh failed: %v", err)
	}
	if _, err := v.Verify(ctx, fresh, ""); err != nil {
		t.Fatalf("after Kakao is back: %v", err)
	}
}

// With WithNonceRequired (the stack's default), an ID token presented
// without a nonce is refused, whether or not it carries one.
func TestIDTokenNonceRequired(t *testing.T) {
	e := newIDEnv(t)
	v := e.verifier(WithNonceRequired(true))
	ctx := context.Background()
	withNonce := e.idToken(t, kakaofake.TokenRequest{Nonce: HashNonce(appNonce)})
	without := e.idToken(t, kakaofake.TokenRequest{})
	if _, err := v.Verify(ctx, withNonce, appNonce); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(ctx, without, "")
	wantInvalid(t, err, "no nonce")
	_, err = v.Verify(ctx, withNonce, "")
	wantInvalid(t, err, "nonce required")
	_, err = v.Verify(ctx, without, appNonce)
	wantInvalid(t, err, "nonce mismatch")
}
