package tryit_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// The try-it page on the local stack, in headless Chromium, clicked
// through as a developer would: the page, the double's consent page, the
// broker, Cognito (moto) and DynamoDB are all real. Each test runs its own
// stack; the tests share one browser, each in a fresh browser context.

var screenshot = flag.String("screenshot", "", "write a PNG of the logged-in page here (e.g. ../../docs/tryit.png)")

func TestMain(m *testing.M) {
	code := moto.RunTests(m)
	chromium.Shutdown()
	os.Exit(code)
}

const demoID = 4242 // kakaofake.DemoUser, which the local stack seeds

func nonEmpty(s string) bool { return s != "" }

func equals(want string) func(string) bool { return func(s string) bool { return s == want } }

func contains(want string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, want) }
}

// login clicks button on the page, agrees at the double's consent page and
// waits until the page is back and done with the login.
func login(t *testing.T, s *localstack.Main, tab *chromium.Tab, button string) {
	t.Helper()
	tab.Click(button)
	tab.WaitVisible("#consent")
	tab.Click("#consent")
	idle(t, s, tab)
}

// idle waits until the page at the stack's address has finished what it
// was doing (it marks itself aria-busy meanwhile, as it greys its buttons).
func idle(t *testing.T, s *localstack.Main, tab *chromium.Tab) {
	t.Helper()
	tab.WaitTrue("the page, done", fmt.Sprintf(`location.origin === %q && document.body.getAttribute("aria-busy") === "false"`, s.APIURL()))
}

func mapping(t *testing.T, s *localstack.Main, kakaoID int64) (kakaoauth.Mapping, bool) {
	t.Helper()
	m, err := s.Deps().Mappings().Get(context.Background(), kakaoID)
	var notFound *kakaoauth.NotFound
	if errors.As(err, &notFound) {
		return m, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return m, true
}

// shortened is how the page shows a token: never whole.
var shortened = regexp.MustCompile(`^\S{12}…\S{8} \(\d+\)$`)

func TestFirstThenReturningLogin(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml", func(c *localstack.Config) {
		if *screenshot != "" {
			// docs/tryit.png shows the addresses `make run` uses.
			c.APIAddr, c.KakaoAddr = localstack.DefaultAPIAddr, kakaofake.DefaultAddr
		}
	})
	tab := chromium.ForTest(t)
	tab.Navigate(s.APIURL() + "/")
	if got := tab.Text("#kakao-login"); got != "Log in with Kakao" {
		t.Fatalf("login button %q", got)
	}

	// The double's consent page: Kakao's, with the demo account offered.
	tab.Click("#kakao-login")
	tab.WaitVisible("#consent")
	if !strings.HasPrefix(tab.Location(), s.KakaoURL()+"/oauth/authorize?") {
		t.Fatalf("the login went to %s, not Kakao's authorize page", tab.Location())
	}
	if id, _ := tab.Eval(`document.querySelector("#account-id").value`); id != "4242" {
		t.Fatalf("consent page offers account %q", id)
	}
	tab.Click("#consent")
	idle(t, s, tab)
	sub := tab.Text("#sub")

	m, ok := mapping(t, s, demoID)
	if !ok || m.Sub != sub || m.Status != kakaoauth.StatusActive {
		t.Fatalf("page shows sub %s; mapping %+v", sub, m)
	}
	want := map[string]string{
		"#status": "200", "#error": "", "#username": "kakao_4242", "#user-kind": "new user (created by this login)",
		"#mode": "Kakao access token", "#session-state": "active",
		"#claim-sub": sub, "#claim-kakao-id": "4242", "#claim-email": kakaofake.DemoUser.Email, "#claim-email-verified": "true",
		"#signature": "verified against the pool's JWKS",
	}
	for sel, v := range want {
		if got := tab.Text(sel); got != v {
			t.Errorf("%s = %q, want %q", sel, got, v)
		}
	}
	tab.WaitText("#account-status", equals("active"))
	for _, sel := range []string{"#token-id", "#token-access", "#token-refresh"} {
		if got := tab.Text(sel); !shortened.MatchString(got) {
			t.Errorf("%s shows %q, want the token shortened", sel, got)
		}
	}
	if exp := tab.Text("#claim-exp"); !regexp.MustCompile(`^\d{10}$`).MatchString(exp) {
		t.Errorf("exp %q", exp)
	}
	hops := tab.Text("#hops")
	for _, h := range []string{"Kakao: authorize + consent", "Kakao: code → tokens", "Broker: POST /auth/kakao200", "Cognito ID token ↔ pool JWKSverified"} {
		if !strings.Contains(hops, h) {
			t.Errorf("hops %q lack %q", hops, h)
		}
	}
	if regexp.MustCompile(`\d+ ms`).FindAllString(hops, -1) == nil {
		t.Errorf("hops %q show no times", hops)
	}
	// The access-token path: the broker asked Kakao which app the token is of.
	if s.Double().Hits("/v1/user/access_token_info") == 0 {
		t.Error("the broker never called access_token_info")
	}
	if *screenshot != "" {
		if err := os.WriteFile(*screenshot, tab.Screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// In Korean now: the hooks stay, the words change.
	tab.Click("#lang")
	if got := tab.Text("#kakao-login"); got != "다시 로그인" {
		t.Fatalf("Korean login-again button %q", got)
	}
	login(t, s, tab, "#kakao-login")
	if got := tab.WaitText("#sub", nonEmpty); got != sub {
		t.Fatalf("returning login: sub %s, first %s", got, sub)
	}
	if got := tab.Text("#user-kind"); got != "돌아온 사용자" {
		t.Errorf("returning user shown as %q", got)
	}
	if got := tab.Text("#login-id-token"); got != "ID 토큰으로 로그인 (OpenID Connect)" {
		t.Errorf("Korean ID-token button %q", got)
	}
	if lang, _ := tab.Eval(`document.documentElement.lang`); lang != "ko" {
		t.Errorf("html lang %q", lang)
	}
}

func TestIDTokenLogin(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml")
	tab := chromium.ForTest(t)
	tab.Navigate(s.APIURL() + "/")
	tab.Click("#login-id-token")
	tab.WaitVisible("#consent")
	loc := tab.Location()
	for _, p := range []string{"scope=openid", "nonce=", "state="} {
		if !strings.Contains(loc, p) {
			t.Fatalf("authorize request %s lacks %s", loc, p)
		}
	}
	tab.Click("#consent")
	idle(t, s, tab)
	sub := tab.Text("#sub")
	if m, ok := mapping(t, s, demoID); !ok || m.Sub != sub {
		t.Fatalf("mapping %+v, page sub %s", m, sub)
	}
	if got := tab.Text("#mode"); got != "Kakao ID token (OIDC, with nonce)" {
		t.Errorf("mode %q", got)
	}
	if got := tab.Text("#signature"); got != "verified against the pool's JWKS" {
		t.Errorf("signature %q", got)
	}
	// The broker verified the Kakao ID token itself (its signature, aud and
	// the page's nonce): it never asked Kakao about an access token.
	if n := s.Double().Hits("/v1/user/access_token_info"); n != 0 {
		t.Errorf("an ID-token login called access_token_info %d times", n)
	}
}

// Cancel at the consent page, in Korean (a shared link: ?lang=ko).
func TestCancelAtConsent(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml")
	tab := chromium.ForTest(t)
	tab.Navigate(s.APIURL() + "/?lang=ko")
	if got := tab.Text("#kakao-login"); got != "카카오 로그인" {
		t.Fatalf("login button %q", got)
	}
	tab.Click("#kakao-login")
	tab.WaitVisible("#cancel")
	tab.Click("#cancel")
	idle(t, s, tab)
	tab.WaitText("#error", equals("access_denied"))
	if got := tab.Text("#error-message"); got != "User denied access" {
		t.Errorf("message %q", got)
	}
	if got := tab.Text("#sub"); got != "" {
		t.Errorf("sub %q after a cancel", got)
	}
	if got := tab.Text("#hops"); !strings.Contains(got, "카카오: 인가 + 동의") {
		t.Errorf("hops %q not in Korean", got)
	}
	if tab.Location() != s.APIURL()+"/" {
		t.Errorf("location %s: the callback URL should be replaced", tab.Location())
	}
	if _, ok := mapping(t, s, demoID); ok {
		t.Error("a cancelled login created a mapping")
	}
	if n := s.Double().Hits("/oauth/token"); n != 0 {
		t.Errorf("a cancelled login exchanged a code (%d calls)", n)
	}
}

// An answer whose state is not the one this page sent is refused before
// its code is used: the double's token endpoint is never called.
func TestStateMismatchIsRefused(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml")
	tab := chromium.ForTest(t)
	tab.Navigate(s.APIURL() + "/")
	tab.Click("#kakao-login") // a login is pending, with its own state
	tab.WaitVisible("#consent")
	tab.Navigate(s.APIURL() + "/callback?code=forged-code&state=forged-state")
	tab.WaitText("#error", equals("StateMismatch"))
	// And a callback with no login pending at all.
	tab.Navigate(s.APIURL() + "/callback?code=forged-code&state=")
	tab.WaitText("#error", equals("StateMismatch"))
	if n := s.Double().Hits("/oauth/token"); n != 0 {
		t.Errorf("the forged code was exchanged (%d calls)", n)
	}
	if got := tab.Text("#sub"); got != "" {
		t.Errorf("sub %q", got)
	}
}

// Kakao is down: the page shows the broker's KakaoUnavailable, and nothing
// was half-done (no Cognito user, no mapping), so the next login, once
// Kakao is back, is the account's first.
func TestKakaoOutage(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml")
	if err := s.Double().SetFault(kakaofake.Fault{Path: "/v1/user/access_token_info", Status: http.StatusInternalServerError, Count: 1000}); err != nil {
		t.Fatal(err)
	}
	tab := chromium.ForTest(t)
	tab.Navigate(s.APIURL() + "/")
	login(t, s, tab, "#kakao-login")
	tab.WaitText("#error", equals("KakaoUnavailable"))
	if got := tab.Text("#status"); got != "502" {
		t.Errorf("status %q", got)
	}
	if got := tab.Text("#error-message"); got != "Kakao is unavailable; try again shortly." {
		t.Errorf("message %q", got)
	}
	if _, ok := mapping(t, s, demoID); ok {
		t.Error("a failed login left a mapping")
	}
	var notFound *kakaoauth.NotFound
	if _, err := s.Deps().Users().GetUser(context.Background(), kakaoauth.Username(demoID)); !errors.As(err, &notFound) {
		t.Errorf("a failed login left a Cognito user (%v)", err)
	}

	if err := s.Double().SetFault(kakaofake.Fault{Path: "/v1/user/access_token_info", Count: 0}); err != nil {
		t.Fatal(err)
	}
	login(t, s, tab, "#kakao-login")
	tab.WaitText("#sub", nonEmpty)
	if got := tab.Text("#user-kind"); got != "new user (created by this login)" {
		t.Errorf("after the outage: %q", got)
	}
	if got := tab.Text("#error"); got != "" {
		t.Errorf("error %q after a successful login", got)
	}
}

func TestRefreshThenSignOut(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml")
	tab := chromium.ForTest(t)
	tab.Navigate(s.APIURL() + "/")
	login(t, s, tab, "#kakao-login")
	sub := tab.WaitText("#sub", nonEmpty)

	tab.Click("#refresh")
	idle(t, s, tab)
	tab.WaitText("#action-result", contains("refreshed with REFRESH_TOKEN_AUTH"))
	tab.WaitText("#hops", contains("Cognito: REFRESH_TOKEN_AUTH200"))
	// The refreshed ID token is verified again, for the same user.
	tab.WaitText("#hops", func(s string) bool { return strings.Count(s, "Cognito ID token ↔ pool JWKSverified") == 2 })
	if got := tab.Text("#claim-sub"); got != sub {
		t.Errorf("refreshed ID token sub %q, want %q", got, sub)
	}

	tab.Click("#signout")
	idle(t, s, tab)
	tab.WaitText("#session-state", equals("signed out"))
	if got := tab.Text("#action-result"); !strings.Contains(got, "now refused: NotAuthorizedException") {
		t.Errorf("sign-out result %q", got)
	}
	// The old refresh token no longer works.
	tab.Click("#refresh")
	tab.WaitText("#error", equals("NotAuthorizedException"))
	if got := tab.Text("#action-result"); got != "Cognito refused the refresh token." {
		t.Errorf("refresh after sign-out: %q", got)
	}
}

// Unlink at Kakao: the double calls the stack's unlink webhook, which
// queues it for the worker; the page watches the mapping's status change;
// the next Kakao login (a fresh consent) brings the same Cognito user back.
func TestUnlinkThenReturn(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml")
	tab := chromium.ForTest(t)
	tab.Navigate(s.APIURL() + "/")
	login(t, s, tab, "#kakao-login")
	sub := tab.WaitText("#sub", nonEmpty)
	tab.WaitText("#account-status", equals("active"))

	tab.Click("#unlink")
	idle(t, s, tab)
	tab.WaitText("#account-status", equals("unlinked"))
	hops := tab.Text("#hops")
	if !strings.Contains(hops, "Kakao: unlink → webhookcallback 200") || !strings.Contains(hops, "Unlink visible in the mapping") {
		t.Errorf("hops %q", hops)
	}
	if m, _ := mapping(t, s, demoID); m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("mapping status %q after the unlink", m.Status)
	}

	// The return: the same sub, a returning user, the account active again.
	login(t, s, tab, "#kakao-login")
	if got := tab.Text("#status"); got != "200" {
		t.Fatalf("status %q, error %q", got, tab.Text("#error"))
	}
	tab.WaitText("#account-status", equals("active"))
	if got := tab.Text("#sub"); got != sub {
		t.Errorf("sub after the return %q, want %q", got, sub)
	}
	if m, _ := mapping(t, s, demoID); m.Status != kakaoauth.StatusActive || m.Sub != sub || m.RelinkedAt.IsZero() {
		t.Fatalf("mapping after the return %+v", m)
	}
}
