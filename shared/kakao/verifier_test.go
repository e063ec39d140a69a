package kakao

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
)

type verifierEnv struct {
	*idEnv
	v *Verifier
}

func newVerifierEnv(t testing.TB) *verifierEnv {
	t.Helper()
	e := newIDEnv(t)
	client := NewClient(nil, WithAPIBaseURL(e.srv.URL), WithAuthBaseURL(e.srv.URL), WithBackoff(time.Millisecond))
	ids := NewIDTokenVerifier(nil, client.AuthBaseURL(), "", []string{"rest-key", "native-key"}, WithClock(e.clk.Now))
	return &verifierEnv{idEnv: e, v: NewVerifier(client, ids, e.fake.AppID())}
}

func (e *verifierEnv) apiHits() int {
	return e.fake.Hits("/v1/user/access_token_info") + e.fake.Hits("/v2/user/me")
}

func TestVerifyAccessToken(t *testing.T) {
	e := newVerifierEnv(t)
	users := []kakaofake.User{
		{ID: 11, Email: "ok@example.com", IsEmailValid: true, IsEmailVerified: true, Nickname: "ok"},
		{ID: 12, Email: "unverified@example.com", IsEmailValid: true, Nickname: "unverified"},
		{ID: 13, Email: "invalid@example.com", IsEmailVerified: true, Nickname: "invalid"},
		{ID: 14, Nickname: "no consent"},
	}
	want := []kakaoauth.KakaoIdentity{
		{KakaoID: 11, AppID: kakaofake.DefaultAppID, EmailChecked: true, Email: "ok@example.com", Nickname: "ok"},
		{KakaoID: 12, AppID: kakaofake.DefaultAppID, EmailChecked: true, Nickname: "unverified"},
		{KakaoID: 13, AppID: kakaofake.DefaultAppID, EmailChecked: true, Nickname: "invalid"},
		{KakaoID: 14, AppID: kakaofake.DefaultAppID, EmailChecked: true, Nickname: "no consent"},
	}
	for i, u := range users {
		addUser(t, e.fake, u)
		tok := mint(t, e.fake, kakaofake.TokenRequest{UserID: u.ID}).AccessToken
		got, err := e.v.Verify(context.Background(), kakaoauth.KakaoTokens{AccessToken: tok})
		if err != nil {
			t.Fatalf("%s: %v", u.Nickname, err)
		}
		if got != want[i] {
			t.Fatalf("%s: identity %+v, want %+v", u.Nickname, got, want[i])
		}
	}
}

func TestVerifyAccessTokenErrors(t *testing.T) {
	e := newVerifierEnv(t)
	ctx := context.Background()
	other := mint(t, e.fake, kakaofake.TokenRequest{UserID: gildong.ID, AppID: 999}).AccessToken
	_, err := e.v.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: other})
	var wrong *kakaoauth.WrongKakaoApp
	if !errors.As(err, &wrong) || wrong.AppID != 999 || kakaoauth.ErrorName(err) != "WrongKakaoApp" {
		t.Fatalf("other app's token: %v", err)
	}
	if e.fake.Hits("/v2/user/me") != 0 {
		t.Fatal("profile read for another app's token")
	}

	zero := int64(0)
	expired := mint(t, e.fake, kakaofake.TokenRequest{UserID: gildong.ID, ExpiresIn: &zero}).AccessToken
	for name, tok := range map[string]string{"expired": expired, "unknown": "no-such-token"} {
		_, err := e.v.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: tok})
		if kakaoauth.ErrorName(err) != "InvalidKakaoToken" || strings.Contains(err.Error(), tok) {
			t.Fatalf("%s token: %v", name, err)
		}
	}

	good := mint(t, e.fake, kakaofake.TokenRequest{UserID: gildong.ID}).AccessToken
	if err := e.fake.SetFault(kakaofake.Fault{Path: "/v2/user/me", Status: 500, Count: 10}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: good})
	if kakaoauth.ErrorName(err) != "KakaoUnavailable" || strings.Contains(err.Error(), good) {
		t.Fatalf("Kakao down: %v", err)
	}
}

func TestVerifyIDTokenOnlyIgnoresEmail(t *testing.T) {
	e := newVerifierEnv(t)
	raw := e.idToken(t, kakaofake.TokenRequest{Nonce: HashNonce(appNonce)})
	got, err := e.v.Verify(context.Background(), kakaoauth.KakaoTokens{IDToken: raw, Nonce: appNonce})
	if err != nil {
		t.Fatal(err)
	}
	// gildong's email is verified at Kakao, but the ID token cannot say so;
	// its iat is what a re-link after an unlink is judged by.
	if got != (kakaoauth.KakaoIdentity{KakaoID: gildong.ID, Nickname: gildong.Nickname, IDTokenIssuedAt: e.clk.Now().Truncate(time.Second)}) {
		t.Fatalf("identity %+v", got)
	}
	if e.apiHits() != 0 {
		t.Fatal("an ID-token-only login called the Kakao API")
	}
	_, err = e.v.Verify(context.Background(), kakaoauth.KakaoTokens{IDToken: raw, Nonce: "other"})
	wantInvalid(t, err, "nonce mismatch")
}

func TestVerifyBothTokens(t *testing.T) {
	e := newVerifierEnv(t)
	ctx := context.Background()
	both := mint(t, e.fake, kakaofake.TokenRequest{UserID: gildong.ID, OpenID: true})
	got, err := e.v.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: both.AccessToken, IDToken: both.IDToken})
	if err != nil {
		t.Fatal(err)
	}
	if got != (kakaoauth.KakaoIdentity{KakaoID: gildong.ID, AppID: kakaofake.DefaultAppID, Email: gildong.Email, EmailChecked: true, Nickname: gildong.Nickname}) {
		t.Fatalf("identity %+v", got)
	}

	mallory := kakaofake.User{ID: 666, Nickname: "mallory"}
	addUser(t, e.fake, mallory)
	theirs := mint(t, e.fake, kakaofake.TokenRequest{UserID: mallory.ID}).AccessToken
	_, err = e.v.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: theirs, IDToken: both.IDToken})
	wantInvalid(t, err, "different users")

	// A bad ID token is refused before any Kakao API call.
	before := e.apiHits()
	bad := mint(t, e.fake, kakaofake.TokenRequest{UserID: gildong.ID, OpenID: true, Aud: "elsewhere"})
	_, err = e.v.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: bad.AccessToken, IDToken: bad.IDToken})
	wantInvalid(t, err, "wrong audience")
	if e.apiHits() != before {
		t.Fatal("Kakao API called for a token pair with a bad ID token")
	}
}

func TestVerifyIDTokenNotConfigured(t *testing.T) {
	e := newIDEnv(t)
	v := NewVerifier(NewClient(nil, WithAPIBaseURL(e.srv.URL)), nil, e.fake.AppID())
	_, err := v.Verify(context.Background(), kakaoauth.KakaoTokens{IDToken: e.idToken(t, kakaofake.TokenRequest{})})
	wantInvalid(t, err, "not accepted")
}
