package kakaofake

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/jwks"
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

func newFake(t *testing.T, cfg Config) (*Fake, *httptest.Server) {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	return f, srv
}

var alice = User{ID: 1234567890, Email: "alice@example.com", IsEmailValid: true, IsEmailVerified: true, Nickname: "alice"}

func mustAddUser(t *testing.T, f *Fake, u User) {
	t.Helper()
	if err := f.AddUser(u); err != nil {
		t.Fatal(err)
	}
}

func mustMint(t *testing.T, f *Fake, req TokenRequest) Tokens {
	t.Helper()
	tok, err := f.MintTokens(req)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func do(t *testing.T, method, u, token string, body io.Reader, contentType string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("body %q: %v", raw, err)
		}
	}
	return r
}

func postJSON(t *testing.T, u string, v any) response {
	t.Helper()
	b, _ := json.Marshal(v)
	return do(t, http.MethodPost, u, "", strings.NewReader(string(b)), "application/json")
}

func postForm(t *testing.T, u string, form url.Values) response {
	t.Helper()
	return do(t, http.MethodPost, u, "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

func wantKakaoError(t *testing.T, r response, status int, code float64) {
	t.Helper()
	if r.status != status || r.body["code"] != code {
		t.Fatalf("got %d %s, want %d with code %v", r.status, r.raw, status, code)
	}
	if _, ok := r.body["msg"].(string); !ok {
		t.Fatalf("error body has no msg: %s", r.raw)
	}
}

func TestAccessTokenInfo(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	f, srv := newFake(t, Config{Clock: clk.Now})
	mustAddUser(t, f, alice)
	tok := mustMint(t, f, TokenRequest{UserID: alice.ID})

	r := do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", tok.AccessToken, nil, "")
	if r.status != 200 || r.body["id"] != float64(alice.ID) || r.body["app_id"] != float64(DefaultAppID) ||
		r.body["expires_in"] != float64(DefaultExpiresIn) {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	clk.Add(100 * time.Second)
	r = do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", tok.AccessToken, nil, "")
	if r.body["expires_in"] != float64(DefaultExpiresIn-100) {
		t.Fatalf("expires_in does not count down: %s", r.raw)
	}

	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", "nope", nil, ""), 401, -401)
	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", "", nil, ""), 401, -401)

	clk.Add(DefaultExpiresIn * time.Second)
	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", tok.AccessToken, nil, ""), 401, -401)

	if got := f.Hits("/v1/user/access_token_info"); got != 5 {
		t.Fatalf("hits = %d, want 5", got)
	}
}

func TestMintedTokenForOtherAppAndExpired(t *testing.T) {
	f, srv := newFake(t, Config{})
	mustAddUser(t, f, alice)
	other := mustMint(t, f, TokenRequest{UserID: alice.ID, AppID: 999})
	r := do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", other.AccessToken, nil, "")
	if r.body["app_id"] != float64(999) {
		t.Fatalf("app_id not honoured: %s", r.raw)
	}
	zero := int64(0)
	expired := mustMint(t, f, TokenRequest{UserID: alice.ID, ExpiresIn: &zero})
	if expired.ExpiresIn != 0 {
		t.Fatalf("expires_in = %d", expired.ExpiresIn)
	}
	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v2/user/me", expired.AccessToken, nil, ""), 401, -401)
	if _, err := f.MintTokens(TokenRequest{UserID: 42}); err == nil {
		t.Fatal("minted tokens for an unknown user")
	}
}

func TestMe(t *testing.T) {
	f, srv := newFake(t, Config{})
	mustAddUser(t, f, alice)
	noEmail := User{ID: 77, Nickname: "quiet"}
	mustAddUser(t, f, noEmail)
	a := mustMint(t, f, TokenRequest{UserID: alice.ID}).AccessToken
	q := mustMint(t, f, TokenRequest{UserID: noEmail.ID}).AccessToken

	account := func(r response) map[string]any {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
		acc, _ := r.body["kakao_account"].(map[string]any)
		return acc
	}

	full := account(do(t, http.MethodGet, srv.URL+"/v2/user/me", a, nil, ""))
	if full["email"] != alice.Email || full["is_email_valid"] != true || full["is_email_verified"] != true ||
		full["profile"].(map[string]any)["nickname"] != alice.Nickname {
		t.Fatalf("full profile: %v", full)
	}

	keys := url.Values{"property_keys": {`["kakao_account.profile"]`}}
	only := account(do(t, http.MethodGet, srv.URL+"/v2/user/me?"+keys.Encode(), a, nil, ""))
	if _, ok := only["email"]; ok {
		t.Fatalf("email returned though not asked for: %v", only)
	}
	if only["profile"] == nil {
		t.Fatalf("profile missing: %v", only)
	}

	keys = url.Values{"property_keys": {`["kakao_account.email"]`}}
	post := account(do(t, http.MethodPost, srv.URL+"/v2/user/me", a, strings.NewReader(keys.Encode()), "application/x-www-form-urlencoded"))
	if post["email"] != alice.Email || post["profile"] != nil {
		t.Fatalf("POST with property_keys: %v", post)
	}

	quiet := account(do(t, http.MethodGet, srv.URL+"/v2/user/me", q, nil, ""))
	if _, ok := quiet["email"]; ok || quiet["email_needs_agreement"] != true {
		t.Fatalf("no-consent user: %v", quiet)
	}

	bad := url.Values{"property_keys": {`kakao_account.email`}}
	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v2/user/me?"+bad.Encode(), a, nil, ""), 400, -2)
}

func TestUnlinkByToken(t *testing.T) {
	f, srv := newFake(t, Config{})
	mustAddUser(t, f, alice)
	tok := mustMint(t, f, TokenRequest{UserID: alice.ID}).AccessToken
	other := mustMint(t, f, TokenRequest{UserID: alice.ID}).AccessToken
	r := do(t, http.MethodPost, srv.URL+"/v1/user/unlink", tok, nil, "")
	if r.status != 200 || r.body["id"] != float64(alice.ID) {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	// Unlinking ends every session of the user with the app.
	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v2/user/me", other, nil, ""), 401, -401)
}

func TestOAuthCodeFlow(t *testing.T) {
	f, srv := newFake(t, Config{})
	mustAddUser(t, f, alice)
	mustAddUser(t, f, User{ID: alice.ID + 1, Nickname: "bob"})
	const redirect = "http://app.example/cb?x=1"

	authorize := func(params url.Values) response {
		return do(t, http.MethodGet, srv.URL+"/oauth/authorize?"+params.Encode(), "", nil, "")
	}
	// Without user_id, a browser gets the consent page, prefilled with the
	// lowest user id; agreeing redirects back with a code.
	r := authorize(url.Values{"client_id": {DefaultAppKey}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid profile_nickname"}, "nonce": {"n-1"}, "state": {"s-1"}})
	page := consentForm(t, r)
	if page.Get("id") != "1234567890" || page.Get("email") != alice.Email {
		t.Fatalf("consent page prefilled with %v, want the lowest user id", page)
	}
	page.Set("action", "consent")
	r = postForm(t, srv.URL+"/oauth/authorize", page)
	if r.status != http.StatusFound {
		t.Fatalf("consent: %d %s", r.status, r.raw)
	}
	loc, _ := url.Parse(r.header.Get("Location"))
	code := loc.Query().Get("code")
	if loc.Host != "app.example" || loc.Query().Get("state") != "s-1" || loc.Query().Get("x") != "1" || code == "" {
		t.Fatalf("redirect %s", loc)
	}

	exchange := url.Values{"grant_type": {"authorization_code"}, "client_id": {DefaultAppKey}, "redirect_uri": {redirect}, "code": {code}}
	r = postForm(t, srv.URL+"/oauth/token", exchange)
	if r.status != 200 || r.body["token_type"] != "bearer" || r.body["refresh_token"] == nil || r.body["expires_in"] != float64(DefaultExpiresIn) {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	claims := verifyWithJWKS(t, srv.URL, r.body["id_token"].(string))
	if claims["sub"] != "1234567890" || claims["aud"] != DefaultAppKey || claims["nonce"] != "n-1" || claims["iss"] != srv.URL {
		t.Fatalf("id token claims %v", claims)
	}
	info := do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", r.body["access_token"].(string), nil, "")
	if info.body["id"] != float64(alice.ID) {
		t.Fatalf("access token from the code flow: %s", info.raw)
	}

	// Codes are single use.
	r = postForm(t, srv.URL+"/oauth/token", exchange)
	if r.status != 400 || r.body["error"] != "invalid_grant" || r.body["error_code"] != "KOE320" {
		t.Fatalf("reused code: %d %s", r.status, r.raw)
	}

	// Refresh: a new access token and, for openid, a new ID token without nonce.
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {DefaultAppKey}, "refresh_token": {postFormRefresh(t, srv.URL, redirect)}}
	r = postForm(t, srv.URL+"/oauth/token", refresh)
	if r.status != 200 || r.body["access_token"] == nil || r.body["refresh_token"] != nil {
		t.Fatalf("refresh: %d %s", r.status, r.raw)
	}
	if c := verifyWithJWKS(t, srv.URL, r.body["id_token"].(string)); c["nonce"] != nil || c["sub"] != "1234567891" {
		t.Fatalf("refreshed id token claims %v", c)
	}

	// Errors.
	if r := authorize(url.Values{"client_id": {"other"}, "redirect_uri": {redirect}, "response_type": {"code"}}); r.status != 400 || r.body["error"] != "invalid_client" {
		t.Fatalf("unknown client: %d %s", r.status, r.raw)
	}
	if r := authorize(url.Values{"client_id": {DefaultAppKey}, "redirect_uri": {redirect}, "response_type": {"code"}, "user_id": {"5"}}); r.status != 400 {
		t.Fatalf("unknown user: %d %s", r.status, r.raw)
	}
	if r := postForm(t, srv.URL+"/oauth/token", url.Values{"grant_type": {"password"}, "client_id": {DefaultAppKey}}); r.body["error"] != "unsupported_grant_type" {
		t.Fatalf("grant type: %d %s", r.status, r.raw)
	}
	if r := postForm(t, srv.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"other"}}); r.status != 401 {
		t.Fatalf("unknown client at token: %d %s", r.status, r.raw)
	}
}

// postFormRefresh runs a code flow for the second user without openid
// nonce and returns its refresh token; it also checks redirect_uri binding.
func postFormRefresh(t *testing.T, base, redirect string) string {
	t.Helper()
	r := do(t, http.MethodGet, base+"/oauth/authorize?"+url.Values{"client_id": {DefaultAppKey}, "redirect_uri": {redirect},
		"response_type": {"code"}, "scope": {"openid"}, "user_id": {"1234567891"}}.Encode(), "", nil, "")
	loc, _ := url.Parse(r.header.Get("Location"))
	code := loc.Query().Get("code")
	wrong := postForm(t, base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {DefaultAppKey},
		"redirect_uri": {"http://evil.example/cb"}, "code": {code}})
	if wrong.status != 400 || wrong.body["error"] != "invalid_grant" {
		t.Fatalf("redirect mismatch: %d %s", wrong.status, wrong.raw)
	}
	// The failed exchange burnt the code: authorize again.
	r = do(t, http.MethodGet, base+"/oauth/authorize?"+url.Values{"client_id": {DefaultAppKey}, "redirect_uri": {redirect},
		"response_type": {"code"}, "scope": {"openid"}, "user_id": {"1234567891"}}.Encode(), "", nil, "")
	loc, _ = url.Parse(r.header.Get("Location"))
	ok := postForm(t, base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {DefaultAppKey},
		"redirect_uri": {redirect}, "code": {loc.Query().Get("code")}})
	rt, _ := ok.body["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %s", ok.raw)
	}
	return rt
}

// verifyWithJWKS checks an ID token against the fake's published keys.
func verifyWithJWKS(t *testing.T, base, raw string) map[string]any {
	t.Helper()
	claims, err := jwks.Verify(context.Background(), http.DefaultClient, base+"/.well-known/jwks.json", raw)
	if err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestDiscoveryAndJWKS(t *testing.T) {
	f, srv := newFake(t, Config{})
	r := do(t, http.MethodGet, srv.URL+"/.well-known/openid-configuration", "", nil, "")
	if r.body["issuer"] != srv.URL || r.body["jwks_uri"] != srv.URL+"/.well-known/jwks.json" ||
		r.body["token_endpoint"] != srv.URL+"/oauth/token" {
		t.Fatalf("discovery %s", r.raw)
	}
	f.SetBaseURL("https://kauth.local/")
	r = do(t, http.MethodGet, srv.URL+"/.well-known/openid-configuration", "", nil, "")
	if r.body["issuer"] != "https://kauth.local" || r.body["authorization_endpoint"] != "https://kauth.local/oauth/authorize" {
		t.Fatalf("discovery after SetBaseURL %s", r.raw)
	}

	jwks := func() []any {
		r := do(t, http.MethodGet, srv.URL+"/.well-known/jwks.json", "", nil, "")
		keys, _ := r.body["keys"].([]any)
		return keys
	}
	keys := jwks()
	if len(keys) != 1 {
		t.Fatalf("keys %v", keys)
	}
	k := keys[0].(map[string]any)
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["kid"] == "" || k["d"] != nil {
		t.Fatalf("key %v", k)
	}
	r = postJSON(t, srv.URL+"/_fake/keys/rotate", struct{}{})
	newKid, _ := r.body["kid"].(string)
	keys = jwks()
	if len(keys) != 2 || keys[0].(map[string]any)["kid"] != newKid || keys[1].(map[string]any)["kid"] != k["kid"] {
		t.Fatalf("after rotation %v", keys)
	}
	if _, err := f.RotateKey(); err != nil {
		t.Fatal(err)
	}
	if keys := jwks(); len(keys) != 2 || keys[1].(map[string]any)["kid"] != newKid {
		t.Fatalf("rotation keeps current and previous only: %v", keys)
	}
}

func TestControlUsersAndTokens(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	_, srv := newFake(t, Config{AppID: 55, AppKeys: []string{"rest-key", "native-key"}, Clock: clk.Now})

	r := postJSON(t, srv.URL+"/_fake/users", map[string]any{"id": 9, "email": nil, "nickname": "n"})
	if r.status != 201 || r.body["id"] != float64(9) {
		t.Fatalf("users: %d %s", r.status, r.raw)
	}
	if r := postJSON(t, srv.URL+"/_fake/users", map[string]any{"id": 0}); r.status != 400 {
		t.Fatalf("id 0 accepted: %d", r.status)
	}
	if r := postJSON(t, srv.URL+"/_fake/users", map[string]any{"id": 3, "mail": "typo"}); r.status != 400 {
		t.Fatalf("unknown field accepted: %d", r.status)
	}

	r = postJSON(t, srv.URL+"/_fake/tokens", map[string]any{"user_id": 9, "openid": true, "nonce": "abc"})
	if r.status != 200 || r.body["expires_in"] != float64(DefaultExpiresIn) {
		t.Fatalf("tokens: %d %s", r.status, r.raw)
	}
	info := do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", r.body["access_token"].(string), nil, "")
	if info.body["app_id"] != float64(55) {
		t.Fatalf("app_id default: %s", info.raw)
	}
	c := verifyWithJWKS(t, srv.URL, r.body["id_token"].(string))
	if c["aud"] != "rest-key" || c["nonce"] != "abc" || c["sub"] != "9" || c["iss"] != srv.URL ||
		c["exp"] != float64(clk.Now().Unix()+DefaultExpiresIn) || c["nickname"] != "n" || c["email"] != nil {
		t.Fatalf("claims %v", c)
	}

	r = postJSON(t, srv.URL+"/_fake/tokens", map[string]any{"user_id": 9, "aud": "native-key", "openid": true, "expires_in": -5})
	c = verifyWithJWKS(t, srv.URL, r.body["id_token"].(string))
	if c["aud"] != "native-key" || c["exp"].(float64) > float64(clk.Now().Add(-time.Hour).Unix()) || c["nonce"] != nil {
		t.Fatalf("expired token claims %v", c)
	}
	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", r.body["access_token"].(string), nil, ""), 401, -401)

	if r := postJSON(t, srv.URL+"/_fake/tokens", map[string]any{"user_id": 9}); r.body["id_token"] != nil {
		t.Fatalf("id token without openid: %s", r.raw)
	}
	if r := postJSON(t, srv.URL+"/_fake/tokens", map[string]any{"user_id": 10}); r.status != 404 {
		t.Fatalf("unknown user: %d", r.status)
	}

	cfgIss, srv2 := newFake(t, Config{Issuer: "https://kauth.kakao.com"})
	mustAddUser(t, cfgIss, alice)
	r = postJSON(t, srv2.URL+"/_fake/tokens", map[string]any{"user_id": alice.ID, "openid": true})
	if c := verifyWithJWKS(t, srv2.URL, r.body["id_token"].(string)); c["iss"] != "https://kauth.kakao.com" {
		t.Fatalf("configured issuer ignored: %v", c)
	}
}

func TestFaults(t *testing.T) {
	f, srv := newFake(t, Config{})
	mustAddUser(t, f, alice)
	tok := mustMint(t, f, TokenRequest{UserID: alice.ID}).AccessToken
	me := srv.URL + "/v2/user/me"

	r := postJSON(t, srv.URL+"/_fake/faults", Fault{Path: "/v2/user/me", Status: 500, Count: 2})
	if r.status != http.StatusNoContent {
		t.Fatalf("faults: %d %s", r.status, r.raw)
	}
	for range 2 {
		r := do(t, http.MethodGet, me, tok, nil, "")
		wantKakaoError(t, r, 500, -1)
		if r.body["msg"] != "internal error" {
			t.Fatalf("msg %s", r.raw)
		}
	}
	if r := do(t, http.MethodGet, me, tok, nil, ""); r.status != 200 {
		t.Fatalf("fault outlived its count: %d", r.status)
	}
	if got := f.Hits("/v2/user/me"); got != 3 {
		t.Fatalf("hits %d", got)
	}

	for _, c := range []struct {
		fault      Fault
		wantStatus int
		wantCode   float64
	}{
		{Fault{Status: 503}, 503, -9798},
		{Fault{Status: 429}, 429, -10},
		{Fault{Status: 400, Code: -10}, 400, -10},
		{Fault{Status: 401}, 401, -401},
		{Fault{Status: 400}, 400, -2},
		{Fault{Status: 502}, 502, -1},
	} {
		c.fault.Path, c.fault.Count = "/v1/user/access_token_info", 1
		if err := f.SetFault(c.fault); err != nil {
			t.Fatal(err)
		}
		wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v1/user/access_token_info", tok, nil, ""), c.wantStatus, c.wantCode)
	}

	// count 0 clears.
	_ = f.SetFault(Fault{Path: "/v2/user/me", Status: 500, Count: 5})
	_ = f.SetFault(Fault{Path: "/v2/user/me", Count: 0})
	if r := do(t, http.MethodGet, me, tok, nil, ""); r.status != 200 {
		t.Fatalf("cleared fault still fires: %d", r.status)
	}

	// A delay longer than the caller waits: the caller times out.
	_ = f.SetFault(Fault{Path: "/v2/user/me", Count: 1, DelayMS: 5000})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, me, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed call: %v", err)
	}
	// A delay-only fault that the caller waits out serves normally.
	_ = f.SetFault(Fault{Path: "/v2/user/me", Count: 1, DelayMS: 10})
	if r := do(t, http.MethodGet, me, tok, nil, ""); r.status != 200 {
		t.Fatalf("delay-only fault: %d", r.status)
	}

	// A reset: the connection drops with no answer.
	_ = f.SetFault(Fault{Path: "/v2/user/me", Count: 1, Reset: true})
	req, _ = http.NewRequest(http.MethodGet, me, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	// A fresh connection: on a reused one Go's transport would quietly
	// retry a GET that got no answer.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset fault answered %d", resp.StatusCode)
	}
	if r := do(t, http.MethodGet, me, tok, nil, ""); r.status != 200 {
		t.Fatalf("after the reset: %d", r.status)
	}

	for _, bad := range []map[string]any{
		{"path": "/v2/user/me", "status": 500, "reset": true, "count": 1},
		{"path": "/_fake/users", "status": 500, "count": 1},
		{"path": "v2/user/me", "status": 500, "count": 1},
		{"path": "/v2/user/me", "status": 302, "count": 1},
		{"path": "/v2/user/me", "count": 1},
		{"path": "/v2/user/me", "status": 500, "count": -1},
	} {
		if r := postJSON(t, srv.URL+"/_fake/faults", bad); r.status != 400 {
			t.Fatalf("fault %v accepted: %d", bad, r.status)
		}
	}
}

type callback struct {
	mu     sync.Mutex
	status int
	calls  []*http.Request
	forms  []url.Values
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, r)
	c.forms = append(c.forms, r.PostForm)
	w.WriteHeader(c.status)
}

func TestUnlinkCallback(t *testing.T) {
	cb := &callback{status: 200}
	cbSrv := httptest.NewServer(cb)
	defer cbSrv.Close()
	f, srv := newFake(t, Config{AppID: 77, AdminKey: "adm", UnlinkCallbackURL: cbSrv.URL + "/kakao/unlink"})
	mustAddUser(t, f, alice)
	tok := mustMint(t, f, TokenRequest{UserID: alice.ID}).AccessToken

	r := postJSON(t, srv.URL+"/_fake/unlink", map[string]any{"user_id": alice.ID, "referrer_type": "ACCOUNT_DELETE"})
	if r.status != 200 || r.body["callback_status"] != float64(200) {
		t.Fatalf("unlink: %d %s", r.status, r.raw)
	}
	if len(cb.calls) != 1 {
		t.Fatalf("callback calls %d", len(cb.calls))
	}
	call, form := cb.calls[0], cb.forms[0]
	if call.Method != http.MethodPost || call.URL.Path != "/kakao/unlink" || call.Header.Get("Authorization") != "KakaoAK adm" ||
		call.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("callback request %s %s %v", call.Method, call.URL, call.Header)
	}
	if form.Get("app_id") != "77" || form.Get("user_id") != "1234567890" || form.Get("referrer_type") != "ACCOUNT_DELETE" {
		t.Fatalf("callback form %v", form)
	}
	wantKakaoError(t, do(t, http.MethodGet, srv.URL+"/v2/user/me", tok, nil, ""), 401, -401)

	// Unknown users are sent too; the default referrer is UNLINK_FROM_APPS;
	// the caller sees the callback's status.
	cb.mu.Lock()
	cb.status = 500
	cb.mu.Unlock()
	r = postJSON(t, srv.URL+"/_fake/unlink", map[string]any{"user_id": 5})
	if r.status != 500 || r.body["callback_status"] != float64(500) || cb.forms[1].Get("referrer_type") != "UNLINK_FROM_APPS" {
		t.Fatalf("unlink with failing callback: %d %s %v", r.status, r.raw, cb.forms[1])
	}

	if r := postJSON(t, srv.URL+"/_fake/unlink", map[string]any{"user_id": 5, "referrer_type": "BOGUS"}); r.status != 400 {
		t.Fatalf("bad referrer: %d", r.status)
	}
	_, srvNoCB := newFake(t, Config{})
	if r := postJSON(t, srvNoCB.URL+"/_fake/unlink", map[string]any{"user_id": 5}); r.status != 409 {
		t.Fatalf("no callback configured: %d", r.status)
	}
	cbSrv.Close()
	if r := postJSON(t, srv.URL+"/_fake/unlink", map[string]any{"user_id": 5}); r.status != 502 {
		t.Fatalf("unreachable callback: %d %s", r.status, r.raw)
	}
}

func TestConcurrentUse(t *testing.T) {
	f, srv := newFake(t, Config{})
	mustAddUser(t, f, alice)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			tok, err := f.MintTokens(TokenRequest{UserID: alice.ID, OpenID: i%2 == 0})
			if err != nil {
				t.Error(err)
				return
			}
			resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
			if err == nil {
				resp.Body.Close()
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/user/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if got := f.Hits("/v2/user/me"); got != 16 {
		t.Fatalf("hits %d", got)
	}
}

// consentField matches the consent page's form fields: hidden, text,
// number and email inputs with their values, and checked checkboxes.
var consentField = regexp.MustCompile(`<input type="(hidden|text|number|email|checkbox)" name="([a-z_]+)"[^>]*?(?: value="([^"]*)")?(?: (checked))?>`)

// consentForm reads the consent page r as a browser would submit it
// (without the action, which is the button pressed).
func consentForm(t *testing.T, r response) url.Values {
	t.Helper()
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("want the consent page, got %d %s %s", r.status, r.header.Get("Content-Type"), r.raw)
	}
	for _, id := range []string{`id="consent"`, `id="cancel"`} {
		if !strings.Contains(string(r.raw), id) {
			t.Fatalf("consent page lacks %s", id)
		}
	}
	form := url.Values{}
	for _, m := range consentField.FindAllStringSubmatch(string(r.raw), -1) {
		switch {
		case m[1] != "checkbox":
			form.Set(m[2], html.UnescapeString(m[3]))
		case m[4] == "checked":
			form.Set(m[2], "on")
		}
	}
	if form.Get("request") == "" {
		t.Fatalf("consent page without a request id:\n%s", r.raw)
	}
	return form
}

// The consent page behaves like Kakao's: cancel redirects back with
// access_denied and the state, agree with a code and the state; the
// account is created as entered, without an email when its consent is
// withheld; a request is used once; every value is escaped.
func TestConsentPage(t *testing.T) {
	f, srv := newFake(t, Config{})
	const redirect = "http://app.example/cb?x=1"
	params := url.Values{"client_id": {DefaultAppKey}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"st <1>&"}}
	authorize := func() url.Values {
		return consentForm(t, do(t, http.MethodGet, srv.URL+"/oauth/authorize?"+params.Encode(), "", nil, ""))
	}

	// No user yet: the form suggests the demo user, who does not exist
	// until the user agrees.
	form := authorize()
	if form.Get("id") != "4242" || form.Get("consent_email") != "on" {
		t.Fatalf("empty double: form %v", form)
	}
	if strings.Contains(string(do(t, http.MethodGet, srv.URL+"/oauth/authorize?"+params.Encode(), "", nil, "").raw), "st <1>") {
		t.Fatal("the state reached the page unescaped")
	}

	// Cancel: Kakao's error redirect, state kept, nothing issued.
	form.Set("action", "cancel")
	r := postForm(t, srv.URL+"/oauth/authorize", form)
	if r.status != http.StatusFound {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "http://app.example/cb?x=1&error=access_denied&error_description=User%20denied%20access&state=") {
		t.Fatalf("cancel redirect %s", loc)
	}
	u, _ := url.Parse(loc)
	if u.Query().Get("state") != "st <1>&" || u.Query().Get("code") != "" {
		t.Fatalf("cancel redirect %s", loc)
	}
	if f.AddUser(User{}) == nil {
		t.Fatal("AddUser accepted id 0")
	}
	if _, err := f.MintTokens(TokenRequest{UserID: 4242}); err == nil {
		t.Fatal("a cancelled consent created the account")
	}
	// The request was used: submitting it again is refused.
	form.Set("action", "consent")
	if r := postForm(t, srv.URL+"/oauth/authorize", form); r.status != 400 || r.body["error"] != "invalid_request" {
		t.Fatalf("reused request: %d %s", r.status, r.raw)
	}

	// Agree as a new account without email consent.
	form = authorize()
	form.Set("id", "777")
	form.Set("nickname", "seven")
	form.Set("email", "seven@example.com")
	form.Del("consent_email")
	form.Set("action", "consent")
	r = postForm(t, srv.URL+"/oauth/authorize", form)
	u, _ = url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || u.Query().Get("state") != "st <1>&" || u.Query().Get("code") == "" || u.Query().Get("x") != "1" {
		t.Fatalf("consent: %d %s", r.status, r.header.Get("Location"))
	}
	tok := postForm(t, srv.URL+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {DefaultAppKey},
		"redirect_uri": {redirect}, "code": {u.Query().Get("code")}})
	me := do(t, http.MethodGet, srv.URL+"/v2/user/me", tok.body["access_token"].(string), nil, "")
	account, _ := me.body["kakao_account"].(map[string]any)
	if me.body["id"] != 777.0 || account["email"] != nil || account["email_needs_agreement"] != true || at(account, "profile", "nickname") != "seven" {
		t.Fatalf("account after consent without email: %s", me.raw)
	}

	// Bad forms.
	form = authorize()
	form.Set("id", "-3")
	form.Set("action", "consent")
	if r := postForm(t, srv.URL+"/oauth/authorize", form); r.status != 400 {
		t.Fatalf("negative id: %d %s", r.status, r.raw)
	}
	form = authorize()
	form.Set("action", "jump")
	if r := postForm(t, srv.URL+"/oauth/authorize", form); r.status != 400 {
		t.Fatalf("unknown action: %d %s", r.status, r.raw)
	}
}

// The consent page's request expires like a Kakao login session.
func TestConsentRequestExpires(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	_, srv := newFake(t, Config{Clock: clk.Now})
	form := consentForm(t, do(t, http.MethodGet, srv.URL+"/oauth/authorize?"+url.Values{"client_id": {DefaultAppKey},
		"redirect_uri": {"http://app.example/cb"}, "response_type": {"code"}}.Encode(), "", nil, ""))
	clk.Add(authRequestTTL)
	form.Set("action", "consent")
	if r := postForm(t, srv.URL+"/oauth/authorize", form); r.status != 400 || r.body["error_code"] != "KOE102" {
		t.Fatalf("expired request: %d %s", r.status, r.raw)
	}
}

func at(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}
