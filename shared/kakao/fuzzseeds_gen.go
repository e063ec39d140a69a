//go:build ignore

// fuzzseeds_gen writes the seed corpora of this package's fuzz targets
// (fuzz_test.go) into testdata/fuzz/<target>/: `go generate` in
// shared/kakao. ID tokens are signed with the test-only key in testdata, so
// the well-formed seeds stay valid for the fuzz targets' fixed clock.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// The fuzz targets' world (fuzz_test.go).
const (
	keyFile = "testdata/fuzz-test-signing-key.pem"
	kid     = "fuzz-kid-1"
	issuer  = "https://kauth.kakao.com"
	now     = 1_800_000_000
	// rawNonce is what the app keeps and sends; its token carries the
	// hashed form (HashNonce).
	rawNonce = "n-0123456789abcdef"
)

// hashNonce is HashNonce, written out: the seeds do not lean on the code
// they test.
func hashNonce(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

func main() {
	key := loadKey()
	writeIDTokenSeeds(key)
	writeClaimSeeds()
	writeAnswerSeeds()
}

func loadKey() *rsa.PrivateKey {
	data, err := os.ReadFile(keyFile)
	check(err)
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	check(err)
	return k.(*rsa.PrivateKey)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// write stores one corpus file in Go's fuzz format.
func write(target, name string, vals ...any) {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&b, "uint8(%d)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		case int32:
			fmt.Fprintf(&b, "int32(%d)\n", v)
		default:
			log.Fatalf("%s/%s: unsupported %T", target, name, v)
		}
	}
	dir := filepath.Join("testdata", "fuzz", target)
	check(os.MkdirAll(dir, 0o755))
	check(os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func claims(change func(map[string]any)) []byte {
	c := map[string]any{"iss": issuer, "aud": "rest-key", "sub": "3141592653", "iat": now - 10, "exp": now + 3600,
		"auth_time": now - 10, "nickname": "홍길동", "email": "gildong@example.com", "nonce": hashNonce(rawNonce)}
	if change != nil {
		change(c)
	}
	out, err := json.Marshal(c)
	check(err)
	return out
}

func sign(key any, alg jose.SignatureAlgorithm, keyID string, payload []byte) string {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: keyID}}, opts)
	check(err)
	jws, err := signer.Sign(payload)
	check(err)
	raw, err := jws.CompactSerialize()
	check(err)
	return raw
}

func writeIDTokenSeeds(key *rsa.PrivateKey) {
	const t = "FuzzIDTokenVerify"
	rs := func(change func(map[string]any)) string { return sign(key, jose.RS256, kid, claims(change)) }
	valid := rs(nil)
	write(t, "valid-with-nonce", valid, rawNonce)
	write(t, "valid-without-nonce", rs(func(c map[string]any) { delete(c, "nonce") }), "")
	write(t, "valid-native-key-aud-list", rs(func(c map[string]any) { c["aud"] = []string{"native-key"} }), rawNonce)
	write(t, "nonce-mismatch", valid, rawNonce+"X")
	write(t, "nonce-plain", rs(func(c map[string]any) { c["nonce"] = rawNonce }), rawNonce)
	write(t, "nonce-too-short", rs(func(c map[string]any) { c["nonce"] = hashNonce("n-123") }), "n-123")
	write(t, "nonce-required", valid, "")
	write(t, "wrong-issuer", rs(func(c map[string]any) { c["iss"] = "https://kauth.kakao.com.evil" }), rawNonce)
	write(t, "wrong-audience", rs(func(c map[string]any) { c["aud"] = "another-app" }), rawNonce)
	write(t, "two-audiences", rs(func(c map[string]any) { c["aud"] = []string{"rest-key", "another-app"} }), rawNonce)
	write(t, "expired", rs(func(c map[string]any) { c["exp"] = now - 61 }), rawNonce)
	write(t, "expired-within-leeway", rs(func(c map[string]any) { c["exp"] = now - 59 }), rawNonce)
	write(t, "not-valid-yet", rs(func(c map[string]any) { c["nbf"] = now + 3600 }), rawNonce)
	write(t, "issued-in-the-future", rs(func(c map[string]any) { c["iat"] = now + 3600 }), rawNonce)
	write(t, "no-exp", rs(func(c map[string]any) { delete(c, "exp") }), rawNonce)
	write(t, "sub-not-numeric", rs(func(c map[string]any) { c["sub"] = "gildong" }), rawNonce)
	write(t, "sub-negative", rs(func(c map[string]any) { c["sub"] = "-5" }), rawNonce)
	write(t, "exp-as-string", rs(func(c map[string]any) { c["exp"] = "2030-01-01" }), rawNonce)

	parts := strings.Split(valid, ".")
	// Tampered: another user's claims under the original signature.
	write(t, "tampered-payload", parts[0]+"."+b64(claims(func(c map[string]any) { c["sub"] = "1" }))+"."+parts[2], rawNonce)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 1
	write(t, "tampered-signature", parts[0]+"."+parts[1]+"."+b64(sig), rawNonce)
	write(t, "signature-stripped", parts[0]+"."+parts[1]+".", rawNonce)
	write(t, "padded-base64", parts[0]+"."+parts[1]+"=."+parts[2], rawNonce)

	// Algorithm confusion: the same claims under other algorithms.
	header := func(alg string) string {
		h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
		return b64(h)
	}
	write(t, "alg-none", header("none")+"."+parts[1]+".", rawNonce)
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	check(err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	for name, secret := range map[string][]byte{"alg-hs256-public-key-pem": pubPEM, "alg-hs256-public-key-der": pubDER} {
		input := header("HS256") + "." + parts[1]
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(input))
		write(t, name, input+"."+b64(mac.Sum(nil)), rawNonce)
	}
	write(t, "alg-ps256-same-key", sign(key, jose.PS256, kid, claims(nil)), rawNonce)
	write(t, "alg-rs512-same-key", sign(key, jose.RS512, kid, claims(nil)), rawNonce)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	check(err)
	write(t, "other-key-same-kid", sign(other, jose.RS256, kid, claims(nil)), rawNonce)
	write(t, "unknown-kid", sign(key, jose.RS256, "kid-nobody-published", claims(nil)), rawNonce)
	write(t, "no-kid", sign(key, jose.RS256, "", claims(nil)), rawNonce)
	write(t, "jws-json-serialization", `{"payload":"`+parts[1]+`","protected":"`+parts[0]+`","signature":"`+parts[2]+`"}`, rawNonce)
	write(t, "empty", "", "")
	write(t, "garbage", "not-a-token", "")
	write(t, "five-segments-jwe-shape", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d", "")
}

func writeClaimSeeds() {
	const t = "FuzzIDTokenClaims"
	// iss, aud, extraAud, audForm, sub, times, exp, nbf, iat, tokenNonce, nonce, nickname
	// times: bit 0 set = no exp, bit 1 = nbf present, bit 2 = iat present.
	write(t, "valid", issuer, "rest-key", "", uint8(0), "3141592653", uint8(4), int32(3600), int32(0), int32(-10), hashNonce(rawNonce), rawNonce, "홍길동")
	write(t, "nonce-plain", issuer, "rest-key", "", uint8(0), "42", uint8(0), int32(60), int32(0), int32(0), rawNonce, rawNonce, "")
	write(t, "nonce-too-short", issuer, "rest-key", "", uint8(0), "42", uint8(0), int32(60), int32(0), int32(0), hashNonce("n-1"), "n-1", "")
	write(t, "valid-aud-list-no-nonce", issuer, "native-key", "", uint8(1), "42", uint8(0), int32(60), int32(0), int32(0), "", "", "")
	write(t, "two-audiences", issuer, "rest-key", "native-key", uint8(2), "42", uint8(0), int32(60), int32(0), int32(0), "", "", "")
	write(t, "no-audience", issuer, "rest-key", "", uint8(3), "42", uint8(0), int32(60), int32(0), int32(0), "", "", "")
	write(t, "expired-at-leeway-edge", issuer, "rest-key", "", uint8(0), "42", uint8(0), int32(-60), int32(0), int32(0), "", "", "")
	write(t, "expired-past-leeway", issuer, "rest-key", "", uint8(0), "42", uint8(0), int32(-61), int32(0), int32(0), "", "", "")
	write(t, "no-exp", issuer, "rest-key", "", uint8(0), "42", uint8(1), int32(0), int32(0), int32(0), "", "", "")
	write(t, "nbf-future", issuer, "rest-key", "", uint8(0), "42", uint8(2), int32(3600), int32(61), int32(0), "", "", "")
	write(t, "iat-future", issuer, "rest-key", "", uint8(0), "42", uint8(4), int32(3600), int32(0), int32(61), "", "", "")
	write(t, "wrong-issuer", "https://kauth.kakao.com/", "rest-key", "", uint8(0), "42", uint8(0), int32(60), int32(0), int32(0), "", "", "")
	write(t, "sub-zero", issuer, "rest-key", "", uint8(0), "0", uint8(0), int32(60), int32(0), int32(0), "", "", "")
	write(t, "sub-plus-sign", issuer, "rest-key", "", uint8(0), "+42", uint8(0), int32(60), int32(0), int32(0), "", "", "")
	write(t, "nonce-required", issuer, "rest-key", "", uint8(0), "42", uint8(0), int32(60), int32(0), int32(0), "n", "", "")
	write(t, "nonce-not-in-token", issuer, "rest-key", "", uint8(0), "42", uint8(0), int32(60), int32(0), int32(0), "", "n", "")
}

func writeAnswerSeeds() {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		check(err)
		return b
	}
	const t = "FuzzKakaoAnswer"
	// me, status, body, token
	write(t, "token-info", false, uint16(200), read("access_token_info.json"), "tok-SECRET-abc123")
	write(t, "user-me", true, uint16(200), read("user_me_full.json"), "tok-SECRET-abc123")
	write(t, "user-me-no-id", true, uint16(200), []byte(`{"kakao_account":{}}`), "tok")
	write(t, "token-info-not-json", false, uint16(200), []byte(`<html>`), "tok")
	for _, e := range []struct {
		file   string
		status uint16
	}{{"error_-401.json", 401}, {"error_-2.json", 400}, {"error_-1.json", 500}, {"error_-10.json", 429}, {"error_-11.json", 400}, {"error_-603.json", 400}, {"error_-9798.json", 503}, {"error_-3.json", 403}, {"error_500.html", 500}} {
		write(t, strings.TrimSuffix(strings.TrimSuffix(e.file, ".json"), ".html"), false, e.status, read(e.file), "tok-SECRET-abc123")
	}
	write(t, "error-401-no-code", true, uint16(401), []byte(`{"msg":"this access token does not exist"}`), "tok")
	write(t, "error-echoes-token", false, uint16(401), []byte(`{"msg":"bad token tok-SECRET-abc123","code":-401}`), "tok-SECRET-abc123")
	write(t, "error-control-characters", false, uint16(500), []byte(`{"msg":"line1\nline2\u001b[31m","code":-1}`), "tok")
	write(t, "error-long-msg", false, uint16(400), []byte(`{"msg":"`+strings.Repeat("가", 200)+`","code":-3}`), "tok")
	write(t, "error-code-null", false, uint16(502), []byte(`{"msg":"x","code":null}`), "tok")

	const p = "FuzzKakaoProfile"
	info := read("access_token_info.json")
	for _, me := range []string{"user_me_full.json", "user_me_invalid_email.json", "user_me_no_email.json", "user_me_unverified_email.json"} {
		write(p, strings.TrimSuffix(me, ".json"), info, read(me))
	}
	write(p, "other-app", []byte(`{"id":3141592653,"expires_in":100,"app_id":999}`), read("user_me_full.json"))
	write(p, "users-disagree", info, []byte(`{"id":1,"kakao_account":{"email":"x@example.com","is_email_valid":true,"is_email_verified":true}}`))
	write(p, "email-flags-as-strings", info, []byte(`{"id":3141592653,"kakao_account":{"email":"x@example.com","is_email_valid":"true","is_email_verified":"true"}}`))
}
