package kakao

import (
	"context"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
)

// BenchmarkIDTokenVerify measures the per-request cost once the JWKS is
// cached: parsing, one RSA verification, claim checks.
func BenchmarkIDTokenVerify(b *testing.B) {
	e := newIDEnv(b)
	v := e.verifier()
	raw := e.idToken(b, kakaofake.TokenRequest{Nonce: HashNonce(appNonce)})
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw, appNonce); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw, appNonce); err != nil {
			b.Fatal(err)
		}
	}
	if e.jwksHits() != 1 {
		b.Fatalf("JWKS fetched %d times", e.jwksHits())
	}
}

// BenchmarkVerifyAccessToken measures a full access-token verification
// (token info + profile) against the local double over loopback HTTP.
func BenchmarkVerifyAccessToken(b *testing.B) {
	e := newVerifierEnv(b)
	tok := kakaoauth.KakaoTokens{AccessToken: mint(b, e.fake, kakaofake.TokenRequest{UserID: gildong.ID}).AccessToken}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
