package bootstrap

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
)

// The Kakao client follows no redirect: a Kakao base URL that answers 3xx
// (misconfigured, hijacked) cannot send the token's check, or the JWKS
// fetch, to another host. Kakao's answer is then unusable:
// KakaoUnavailable, not a login.
func TestKakaoClientFollowsNoRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":1,"app_id":1001,"expires_in":100,"keys":[]}`)
	}))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirecting.Close()

	d := New(config.Config{}, aws.Config{}, nil)
	resp, err := d.HTTP.Get(redirecting.URL + "/v1/user/access_token_info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want the redirect itself", resp.StatusCode)
	}
	v := kakao.ForApp(d.HTTP, redirecting.URL, redirecting.URL, 1001, []string{"k"})
	_, err = v.Verify(context.Background(), kakaoauth.KakaoTokens{AccessToken: "abc"})
	if kakaoauth.ErrorName(err) != "KakaoUnavailable" {
		t.Fatalf("access token through a redirect: %v", err)
	}
	_, err = v.Verify(context.Background(), kakaoauth.KakaoTokens{IDToken: "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiIxIn0.c2ln", Nonce: "n"})
	if kakaoauth.ErrorName(err) != "KakaoUnavailable" {
		t.Fatalf("JWKS through a redirect: %v", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect target was called %d times", n)
	}
}
