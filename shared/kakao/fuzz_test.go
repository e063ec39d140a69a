package kakao

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/kakaoauth/kakaoauth"
)

// Fuzz targets for what Kakao (or someone posing as it) sends: ID tokens
// and the JSON answers of the user APIs. Nothing here touches the network:
// the JWKS and Kakao's answers are served from memory by a RoundTripper.
// Seeds are in testdata/fuzz/<target>/ (the ID-token ones are written by
// fuzzseeds_gen.go with the test key below).

//go:generate go run fuzzseeds_gen.go

// The fuzz targets' fixed world: a test-only signing key (never used
// outside these tests), its kid, the issuer, the app keys, and a clock.
const (
	fuzzKeyFile = "testdata/fuzz-test-signing-key.pem"
	fuzzKID     = "fuzz-kid-1"
	fuzzIssuer  = "https://kauth.kakao.com"
)

var (
	fuzzAudiences = []string{"rest-key", "native-key"}
	fuzzNow       = time.Unix(1_800_000_000, 0)
)

var fuzzKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(fuzzKeyFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an RSA key", k)
	}
	return rk, nil
})

func mustFuzzKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := fuzzKey()
	if err != nil {
		tb.Fatalf("%s: %v", fuzzKeyFile, err)
	}
	return k
}

// answers is a RoundTripper serving fixed answers by path from memory, and
// counting the requests per path.
type answers struct {
	byPath map[string]answer
	mu     sync.Mutex
	hits   map[string]int
}

type answer struct {
	status int
	body   []byte
}

func (a *answers) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	a.mu.Lock()
	if a.hits == nil {
		a.hits = map[string]int{}
	}
	a.hits[req.URL.Path]++
	a.mu.Unlock()
	ans, ok := a.byPath[req.URL.Path]
	if !ok {
		ans = answer{status: http.StatusNotFound, body: []byte(`{"msg":"not found","code":-3}`)}
	}
	return &http.Response{
		StatusCode: ans.status, Status: strconv.Itoa(ans.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
		Body:    io.NopCloser(bytes.NewReader(ans.body)),
		Request: req, ContentLength: int64(len(ans.body)),
	}, nil
}

func (a *answers) hitsOf(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits[path]
}

// fuzzVerifier is one ID-token verifier over the in-memory JWKS, shared by
// a fuzz process's executions as a Lambda shares it across requests.
var fuzzVerifier = sync.OnceValues(func() (*IDTokenVerifier, error) {
	key, err := fuzzKey()
	if err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: fuzzKID, Algorithm: string(jose.RS256), Use: "sig"}}}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &answers{byPath: map[string]answer{"/.well-known/jwks.json": {http.StatusOK, body}}}}
	// A fixed clock also keeps an unknown kid from re-fetching the set.
	return NewIDTokenVerifier(hc, fuzzIssuer, "", fuzzAudiences, WithClock(func() time.Time { return fuzzNow }), WithRefetchInterval(time.Hour)), nil
})

// idTokenReasons are the only reasons an ID token is refused for: fixed
// text, so no part of the token reaches a log line or the cause.
var idTokenReasons = map[string]bool{}

func init() {
	for _, r := range []string{"malformed or not RS256", "no key id", "unknown key id", "bad signature", "wrong issuer",
		"expired", "not valid yet", "no exp", "wrong audience", "nonce mismatch", "nonce required", "sub is not a Kakao user id",
		"nonce shorter than 16 characters", "plain nonce (the token carries the nonce itself, not its SHA-256)"} {
		idTokenReasons[invalid(r).Error()] = true
	}
}

// signedByFuzzKey checks raw with nothing but crypto/rsa: a compact JWS
// whose header says RS256 and the test kid, and whose signature over the
// first two segments, exactly as sent, verifies with the key. It returns
// the payload.
func signedByFuzzKey(pub *rsa.PublicKey, raw string) ([]byte, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	headerJSON, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	payload, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, false
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(headerJSON, &header) != nil || header.Alg != "RS256" || header.Kid != fuzzKID {
		return nil, false
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return nil, false
	}
	return payload, true
}

// FuzzIDTokenVerify: whatever string arrives as an ID token, the verifier
// accepts it only if the test key signed it with RS256 (checked here with
// crypto/rsa alone) and its claims hold, and refuses everything else as
// InvalidKakaoToken with a fixed reason. The JWKS is always available, so
// no other kind of error may appear.
func FuzzIDTokenVerify(f *testing.F) {
	key := mustFuzzKey(f)
	v, err := fuzzVerifier()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw, nonce string) {
		claims, err := v.Verify(context.Background(), raw, nonce)
		if err != nil {
			var inv *kakaoauth.InvalidKakaoToken
			if !errors.As(err, &inv) || kakaoauth.ErrorName(err) != "InvalidKakaoToken" {
				t.Fatalf("error %T %v, want InvalidKakaoToken", err, err)
			}
			if !idTokenReasons[err.Error()] {
				t.Fatalf("reason %q is not one of the fixed reasons", err)
			}
			return
		}
		payload, ok := signedByFuzzKey(&key.PublicKey, raw)
		if !ok {
			t.Fatalf("accepted a token the key did not sign with RS256: %q", raw)
		}
		var c struct {
			Iss   string          `json:"iss"`
			Aud   json.RawMessage `json:"aud"`
			Sub   string          `json:"sub"`
			Exp   json.Number     `json:"exp"`
			Nonce string          `json:"nonce"`
		}
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatalf("accepted a token whose payload is not the claims JSON: %v", err)
		}
		id, _ := strconv.ParseInt(c.Sub, 10, 64)
		exp, _ := c.Exp.Float64()
		var aud any
		_ = json.Unmarshal(c.Aud, &aud)
		if list, ok := aud.([]any); ok && len(list) == 1 {
			aud = list[0]
		}
		if c.Iss != fuzzIssuer || id <= 0 || claims.KakaoID != id || aud != claims.Audience || !contains(fuzzAudiences, claims.Audience) ||
			exp < float64(fuzzNow.Add(-idTokenLeeway).Unix()) || !nonceRule(c.Nonce, nonce) {
			t.Fatalf("accepted claims %s as %+v (nonce %q)", payload, claims, nonce)
		}
	})
}

// nonceRule is the nonce rule of the hashed form (the fuzz verifier's
// setting), written out: no nonce sent and none in the token, or a nonce
// of at least 16 characters whose SHA-256, in lowercase hex, the token
// carries.
func nonceRule(tokenNonce, sent string) bool {
	if sent == "" {
		return tokenNonce == ""
	}
	sum := sha256.Sum256([]byte(sent))
	return len(sent) >= 16 && tokenNonce == fmt.Sprintf("%x", sum)
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// FuzzIDTokenClaims: tokens the key really signed, with fuzzed claims. The
// verifier accepts one exactly when OIDC's rules (as docs/api.md states them
// for Kakao) say so: issuer, exactly one trusted audience, exp present and
// not past (60 s leeway), nbf and iat not in the future, a positive
// numeric sub, and the nonce rule.
func FuzzIDTokenClaims(f *testing.F) {
	key := mustFuzzKey(f)
	v, err := fuzzVerifier()
	if err != nil {
		f.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: fuzzKID}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, iss, aud, extraAud string, audForm uint8, sub string, times uint8, exp, nbf, iat int32, tokenNonce, nonce, nickname string) {
		claims := map[string]any{"iss": iss, "sub": sub}
		var auds []string
		switch audForm % 4 {
		case 0:
			claims["aud"], auds = aud, []string{aud}
		case 1:
			claims["aud"], auds = []string{aud}, []string{aud}
		case 2:
			claims["aud"], auds = []string{aud, extraAud}, []string{aud, extraAud}
		case 3: // no aud
		}
		// times: which of exp, nbf, iat are present; each is an offset
		// in seconds from the verifier's clock.
		at := func(off int32) int64 { return fuzzNow.Unix() + int64(off) }
		hasExp, hasNbf, hasIat := times&1 == 0, times&2 != 0, times&4 != 0
		if hasExp {
			claims["exp"] = at(exp)
		}
		if hasNbf {
			claims["nbf"] = at(nbf)
		}
		if hasIat {
			claims["iat"] = at(iat)
		}
		if tokenNonce != "" {
			claims["nonce"] = tokenNonce
		}
		if nickname != "" {
			claims["nickname"] = nickname
		}
		if !utf8.ValidString(tokenNonce) || !utf8.ValidString(nickname) {
			return // JSON would carry other text than the one compared below
		}
		payload, err := json.Marshal(claims)
		if err != nil {
			return // not UTF-8 enough for JSON: not a token anyone can sign
		}
		jws, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}

		leeway := int64(idTokenLeeway / time.Second)
		now := fuzzNow.Unix()
		id, idErr := strconv.ParseInt(sub, 10, 64)
		want := iss == fuzzIssuer &&
			len(auds) == 1 && contains(fuzzAudiences, auds[0]) &&
			hasExp && at(exp) >= now-leeway &&
			(!hasNbf || at(nbf) <= now+leeway) &&
			(!hasIat || at(iat) <= now+leeway) &&
			idErr == nil && id > 0 &&
			nonceRule(tokenNonce, nonce)
		got, err := v.Verify(context.Background(), raw, nonce)
		if (err == nil) != want {
			t.Fatalf("claims %s, nonce %q: verifier says %v, the rules say valid=%v", payload, nonce, err, want)
		}
		if err != nil {
			if kakaoauth.ErrorName(err) != "InvalidKakaoToken" || !idTokenReasons[err.Error()] {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if got.KakaoID != id || got.Audience != auds[0] || got.Nickname != nickname || got.ExpiresAt.Unix() != at(exp) {
			t.Fatalf("claims %s verified as %+v", payload, got)
		}
	})
}

// Kakao's documented error codes and how the broker must treat them.
var (
	invalidTokenCodes = map[int]bool{codeInvalidToken: true, codeInvalidArg: true, codeNotRegistered: true}
	retryableCodes    = map[int]bool{codeInternal: true, codeTimeout: true, codeMaintenance: true}
	quotaCodes        = map[int]bool{codeQuota: true, codePaidLimit: true}
)

// FuzzKakaoAnswer: whatever status and body Kakao answers on
// access_token_info or /v2/user/me, the client returns the decoded answer
// (200 with a user id) or exactly the error kind and retry decision
// docs/api.md gives for it: -401/-2/-101 and other 401s are an invalid token,
// never retried; -10, -11 and other 429s are a spent quota, never retried;
// -1, -603, -9798 and 5xx are Kakao unavailable, retried; anything else is
// Kakao unavailable, not retried. The reason quotes at
// most Kakao's msg, cleaned, bounded, and never the token.
func FuzzKakaoAnswer(f *testing.F) {
	f.Fuzz(func(t *testing.T, me bool, status uint16, body []byte, token string) {
		if token == "" {
			token = "t"
		}
		status = 100 + status%500
		path := "/v1/user/access_token_info"
		if me {
			path = "/v2/user/me"
		}
		tr := &answers{byPath: map[string]answer{path: {int(status), body}}}
		c := NewClient(&http.Client{Transport: tr}, WithAPIBaseURL("https://kapi.test"), WithRetries(1), WithBackoff(time.Nanosecond))
		var err error
		var gotID int64
		if me {
			var p Profile
			p, err = c.Me(context.Background(), token)
			gotID = p.ID
		} else {
			var info TokenInfo
			info, err = c.AccessTokenInfo(context.Background(), token)
			gotID = info.ID
		}
		hits := tr.hitsOf(path)

		if status == http.StatusOK {
			var wantID int64
			var decodeErr error
			if me {
				var b meBody
				decodeErr = json.Unmarshal(body, &b)
				wantID = b.ID
			} else {
				var info TokenInfo
				decodeErr = json.Unmarshal(body, &info)
				wantID = info.ID
			}
			switch {
			case decodeErr == nil && wantID > 0:
				if err != nil || gotID != wantID || hits != 1 {
					t.Fatalf("200 %q: id %d, %v after %d calls", body, gotID, err, hits)
				}
			default:
				if kakaoauth.ErrorName(err) != "KakaoUnavailable" || hits != 1 {
					t.Fatalf("200 with an unusable body %q: %v after %d calls, want one KakaoUnavailable", body, err, hits)
				}
			}
			return
		}

		var ae apiError
		hasCode := json.Unmarshal(body, &ae) == nil && ae.Code != nil
		wantKind, wantRetry := "KakaoUnavailable", status >= 500
		switch {
		case hasCode && invalidTokenCodes[*ae.Code]:
			wantKind, wantRetry = "InvalidKakaoToken", false
		case hasCode && quotaCodes[*ae.Code]:
			wantKind, wantRetry = "KakaoQuotaExceeded", false
		case hasCode && retryableCodes[*ae.Code]:
			wantRetry = true
		case status == http.StatusTooManyRequests:
			wantKind, wantRetry = "KakaoQuotaExceeded", false
		case status == http.StatusUnauthorized:
			wantKind, wantRetry = "InvalidKakaoToken", false
		}
		wantHits := 1
		if wantRetry {
			wantHits = 2
		}
		if kakaoauth.ErrorName(err) != wantKind || hits != wantHits {
			t.Fatalf("HTTP %d %q: %T %v after %d calls, want %s after %d", status, body, err, err, hits, wantKind, wantHits)
		}
		reason := err.Error()
		if !hasCode {
			if want := fmt.Sprintf("%s: HTTP %d", path, status); !strings.HasSuffix(reason, ": "+want) {
				t.Fatalf("reason %q, want fixed text ending %q", reason, want)
			}
			return
		}
		// Only Kakao's msg is quoted: between the fixed prefix and ")".
		prefix := fmt.Sprintf("%s: HTTP %d, code %d (", path, status, *ae.Code)
		i := strings.Index(reason, prefix)
		if i < 0 || !strings.HasSuffix(reason, ")") {
			t.Fatalf("reason %q lacks %q", reason, prefix)
		}
		msg := reason[i+len(prefix) : len(reason)-1]
		if strings.Contains(msg, token) {
			t.Fatalf("reason %q quotes the token %q", reason, token)
		}
		if !utf8.ValidString(msg) || utf8.RuneCountInString(msg) > 121 || strings.ContainsFunc(msg, unicode.IsControl) {
			t.Fatalf("msg %q is not one bounded line", msg)
		}
	})
}

// FuzzKakaoProfile: with both answers 200, the identity is Kakao's user
// with this stack's app, and an email is kept only when Kakao says it is
// valid and verified.
func FuzzKakaoProfile(f *testing.F) {
	f.Fuzz(func(t *testing.T, infoBody, meBodyJSON []byte) {
		tr := &answers{byPath: map[string]answer{
			"/v1/user/access_token_info": {http.StatusOK, infoBody},
			"/v2/user/me":                {http.StatusOK, meBodyJSON},
		}}
		const appID = 1001
		v := NewVerifier(NewClient(&http.Client{Transport: tr}, WithAPIBaseURL("https://kapi.test"), WithRetries(0)), nil, appID)
		id, err := v.Verify(context.Background(), kakaoauth.KakaoTokens{AccessToken: "fuzz-access-token"})

		var info TokenInfo
		infoErr := json.Unmarshal(infoBody, &info)
		var me meBody
		meErr := json.Unmarshal(meBodyJSON, &me)
		var wantKind string
		switch {
		case infoErr != nil || info.ID <= 0:
			wantKind = "KakaoUnavailable"
		case info.AppID != appID:
			wantKind = "WrongKakaoApp"
		case meErr != nil || me.ID <= 0 || me.ID != info.ID:
			wantKind = "KakaoUnavailable"
		}
		if kakaoauth.ErrorName(err) != wantKind {
			t.Fatalf("info %q, me %q: %v, want %q", infoBody, meBodyJSON, err, wantKind)
		}
		if err != nil {
			return
		}
		a := me.KakaoAccount
		wantEmail := ""
		if a.IsEmailValid && a.IsEmailVerified {
			wantEmail = a.Email
		}
		if id.KakaoID != info.ID || id.AppID != appID || id.Email != wantEmail || !id.EmailChecked || id.Nickname != a.Profile.Nickname {
			t.Fatalf("info %q, me %q: identity %+v", infoBody, meBodyJSON, id)
		}
	})
}

var _ http.RoundTripper = (*answers)(nil)

// corpusStrings reads the string values of a committed fuzz seed (Go's
// corpus format: one `string("...")` line per argument).
func corpusStrings(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n")[1:] {
		if q, ok := strings.CutPrefix(line, "string("); ok {
			s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out = append(out, s)
		}
	}
	return out
}

// The ID-token seeds say what they are: the valid ones verify under the
// fuzz targets' clock (so the fuzzer starts from tokens that pass, and
// mutates towards the checks), and every other one is refused for the
// reason its name gives.
func TestIDTokenSeedsMeanWhatTheySay(t *testing.T) {
	v, err := fuzzVerifier()
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{
		"alg-": "malformed or not RS256", "nonce-mismatch": "nonce mismatch", "nonce-required": "nonce required",
		"nonce-plain": "plain nonce (the token carries the nonce itself, not its SHA-256)", "nonce-too-short": "nonce shorter than 16 characters",
		"wrong-issuer": "wrong issuer", "wrong-audience": "wrong audience", "two-audiences": "wrong audience",
		"expired": "expired", "not-valid-yet": "not valid yet", "issued-in-the-future": "not valid yet", "no-exp": "no exp",
		"sub-": "sub is not a Kakao user id", "tampered-": "bad signature", "other-key-same-kid": "bad signature",
		"unknown-kid": "unknown key id", "no-kid": "no key id", "finding-carriage-returns": "malformed or not RS256",
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzIDTokenVerify", "*"))
	if len(files) < 20 {
		t.Fatalf("%d seeds", len(files))
	}
	for _, file := range files {
		name := filepath.Base(file)
		args := corpusStrings(t, file)
		_, err := v.Verify(context.Background(), args[0], args[1])
		switch {
		case strings.HasPrefix(name, "valid") || name == "expired-within-leeway":
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case err == nil:
			t.Errorf("%s verified", name)
		default:
			for prefix, reason := range reasons {
				if strings.HasPrefix(name, prefix) && err.Error() != invalid(reason).Error() {
					t.Errorf("%s: %v, want %q", name, err, reason)
				}
			}
		}
	}
}
