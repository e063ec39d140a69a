package tryit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth"
)

// The page's backend, endpoint by endpoint, against scripted Kakao and
// Cognito answers: the error mapping, the checks, what never leaves it.
// The browser tests (browser_test.go) run the same code against the
// Kakao double and moto.

// fakeCognito scripts Cognito's answers to the team app's password
// sign-in (the real one is exercised against moto by the browser tests).
type fakeCognito struct{}

func (f *fakeCognito) InitiateAuth(_ context.Context, in *cip.InitiateAuthInput, _ ...func(*cip.Options)) (*cip.InitiateAuthOutput, error) {
	if in.AuthFlow != types.AuthFlowTypeUserPasswordAuth || aws.ToString(in.ClientId) != teamClientID {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterException", Message: "flow", Fault: smithy.FaultClient}
	}
	if in.AuthParameters["USERNAME"] != "demo@example.com" || in.AuthParameters["PASSWORD"] != "pw-good" {
		return nil, &types.NotAuthorizedException{Message: aws.String("Incorrect username or password.")}
	}
	return &cip.InitiateAuthOutput{AuthenticationResult: &types.AuthenticationResultType{IdToken: aws.String("team-id"),
		AccessToken: aws.String("team-access"), RefreshToken: aws.String("team-rt"), ExpiresIn: 3600, TokenType: aws.String("Bearer")}}, nil
}

// kakaoServer answers POST /oauth/token with status and body, recording
// the forms it got.
type kakaoServer struct {
	*httptest.Server
	mu     sync.Mutex
	forms  []url.Values
	status int
	body   string
}

func newKakao(t *testing.T) *kakaoServer {
	k := &kakaoServer{status: 200, body: `{"access_token":"kakao-at","id_token":"kakao-idt","refresh_token":"kakao-rt","expires_in":21599,"scope":"openid"}`}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		k.mu.Lock()
		k.forms = append(k.forms, r.PostForm)
		status, body := k.status, k.body
		k.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(k.Close)
	return k
}

// signer signs pool-like ID tokens and serves its JWKS.
type signer struct {
	key  *rsa.PrivateKey
	jwks *httptest.Server
	sign jose.Signer
}

func newSigner(t *testing.T) *signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &signer{key: key}
	s.sign, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	s.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.jwks.Close)
	return s
}

func (s *signer) token(t *testing.T, claims map[string]any) string {
	t.Helper()
	raw, err := jwt.Signed(s.sign).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

const (
	poolID       = "ap-northeast-2_Test"
	clientID     = "appclient1"
	teamClientID = "teamclient1"
	issuer       = "https://cognito-idp.ap-northeast-2.amazonaws.com/" + poolID
)

type fixture struct {
	page    *Page
	srv     *httptest.Server
	kakao   *kakaoServer
	cognito *fakeCognito
	signer  *signer
	logs    *bytes.Buffer
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{kakao: newKakao(t), cognito: &fakeCognito{}, signer: newSigner(t), logs: &bytes.Buffer{}}
	pool := Pool{ID: poolID, ClientID: clientID, Issuer: issuer, JWKSURL: f.signer.jwks.URL, API: f.cognito,
		Region: "ap-northeast-2", Endpoint: "https://cognito-idp.ap-northeast-2.amazonaws.com"}
	opts = append([]Option{WithLogger(slog.New(slog.NewJSONHandler(f.logs, nil)))}, opts...)
	p, err := New(Kakao{AuthURL: f.kakao.URL + "/", ClientID: "restkey", ClientSecret: "kakao-secret"}, pool, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.page = p
	f.srv = httptest.NewServer(p)
	t.Cleanup(f.srv.Close)
	return f
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (f *fixture) call(t *testing.T, method, path, contentType, origin, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	// What the page sends with every request to its backend.
	req.Header.Set(PageHeader, "1")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// post calls an endpoint as the page does: JSON, from its own origin.
func (f *fixture) post(t *testing.T, path, body string) answer {
	t.Helper()
	return f.call(t, http.MethodPost, path, "application/json", f.srv.URL, body)
}

func TestExchange(t *testing.T) {
	f := newFixture(t)
	a := f.post(t, "/tryit/api/exchange", `{"code":"the-code"}`)
	if a.status != 200 || a.body["access_token"] != "kakao-at" || a.body["id_token"] != "kakao-idt" {
		t.Fatalf("exchange: %d %s", a.status, a.raw)
	}
	if strings.Contains(a.raw, "kakao-rt") {
		t.Error("Kakao's refresh token reached the browser")
	}
	form := f.kakao.forms[0]
	want := url.Values{"grant_type": {"authorization_code"}, "client_id": {"restkey"}, "client_secret": {"kakao-secret"},
		"redirect_uri": {f.srv.URL + "/callback"}, "code": {"the-code"}}
	for k := range want {
		if form.Get(k) != want.Get(k) {
			t.Errorf("token request %s = %q, want %q", k, form.Get(k), want.Get(k))
		}
	}

	for _, c := range []struct {
		status     int
		body       string
		wantStatus int
		wantError  string
	}{
		{400, `{"error":"invalid_grant","error_description":"authorization code not found","error_code":"KOE320"}`, 400, "invalid_grant"},
		{401, `{"error":"invalid_client","error_description":"bad client","error_code":"KOE010"}`, 400, "invalid_client"},
		{400, `{}`, 400, "KakaoRefused"},
		{500, `{"error":"server_error"}`, 502, "KakaoUnavailable"},
		{503, `<html>maintenance</html>`, 502, "KakaoUnavailable"},
		{200, `{"token_type":"bearer"}`, 502, "KakaoUnavailable"},
		{200, `not json`, 502, "KakaoUnavailable"},
	} {
		f.kakao.status, f.kakao.body = c.status, c.body
		a := f.post(t, "/tryit/api/exchange", `{"code":"c"}`)
		if a.status != c.wantStatus || a.body["error"] != c.wantError || a.body["message"] == "" {
			t.Errorf("Kakao %d %s: got %d %s, want %d %s", c.status, c.body, a.status, a.raw, c.wantStatus, c.wantError)
		}
	}
	f.kakao.status, f.kakao.body = 400, `{"error":"invalid_grant","error_description":"authorization code not found","error_code":"KOE320"}`
	if a := f.post(t, "/tryit/api/exchange", `{"code":"c"}`); a.body["message"] != "Kakao refused the code exchange (KOE320): authorization code not found" {
		t.Errorf("message %v", a.body["message"])
	}
	f.kakao.Close()
	if a := f.post(t, "/tryit/api/exchange", `{"code":"c"}`); a.status != 502 || a.body["error"] != "KakaoUnavailable" {
		t.Errorf("Kakao unreachable: %d %s", a.status, a.raw)
	}
	if strings.Contains(f.logs.String(), "the-code") || strings.Contains(f.logs.String(), "kakao-at") || strings.Contains(f.logs.String(), "kakao-secret") {
		t.Errorf("a code, token or secret reached the log:\n%s", f.logs)
	}
}

// The endpoints answer their own page only, with strict JSON.
func TestRequestsAreChecked(t *testing.T) {
	f := newFixture(t, WithDouble("http://127.0.0.1:1"), WithTeamApp(TeamApp{ClientID: teamClientID}))
	for _, c := range []struct {
		contentType, origin, body string
		wantStatus                int
	}{
		{"application/json", "http://evil.example", `{"code":"c"}`, 403},
		{"text/plain", "", `{"code":"c"}`, 415},
		{"application/x-www-form-urlencoded", "", `code=c`, 415},
		{"application/json", "", `{"code":"c","extra":1}`, 400},
		{"application/json", "", `{"code":"c"} {}`, 400},
		{"application/json", "", `{"code":""}`, 400},
		{"application/json", "", `[]`, 400},
		{"application/json", "", `{"code":"` + strings.Repeat("x", maxBody) + `"}`, 400},
	} {
		if a := f.call(t, http.MethodPost, "/tryit/api/exchange", c.contentType, c.origin, c.body); a.status != c.wantStatus || a.body["error"] == "" {
			t.Errorf("%s from %q, %.40s: %d %s, want %d", c.contentType, c.origin, c.body, a.status, a.raw, c.wantStatus)
		}
	}
	if len(f.kakao.forms) != 0 {
		t.Errorf("refused requests reached Kakao %d times", len(f.kakao.forms))
	}
	for _, path := range []string{"/tryit/api/verify", "/tryit/api/unlink", "/tryit/api/password"} {
		if a := f.call(t, http.MethodPost, path, "application/json", "http://evil.example", `{}`); a.status != 403 {
			t.Errorf("%s from another origin: %d", path, a.status)
		}
		if a := f.post(t, path, `{}`); a.status != 400 || a.body["error"] != "InvalidRequest" {
			t.Errorf("%s without its field: %d %s", path, a.status, a.raw)
		}
	}
	// The browser refreshes and signs out itself, through the JavaScript client.
	for _, path := range []string{"/tryit/api/refresh", "/tryit/api/signout"} {
		if a := f.post(t, path, `{"refresh_token":"rt"}`); a.status != 404 || a.body["error"] != "NotFound" {
			t.Errorf("%s: %d %s", path, a.status, a.raw)
		}
	}
	if a := f.call(t, http.MethodGet, "/tryit/api/exchange", "", "", ""); a.status != 404 || a.body["error"] != "NotFound" {
		t.Errorf("GET exchange: %d %s", a.status, a.raw)
	}
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	now := time.Now().Unix()
	good := map[string]any{"sub": "s-1", "custom:kakao_id": "4242", "email": "a@b.c", "email_verified": true, "iss": issuer,
		"aud": clientID, "token_use": "id", "exp": now + 3600, "iat": now, "cognito:username": "kakao_4242", "auth_time": now}
	a := f.post(t, "/tryit/api/verify", `{"id_token":"`+f.signer.token(t, good)+`"}`)
	claims, _ := a.body["claims"].(map[string]any)
	if a.status != 200 || a.body["verified"] != true || claims["sub"] != "s-1" || claims["custom:kakao_id"] != "4242" || claims["auth_time"] != nil {
		t.Fatalf("good token: %d %s", a.status, a.raw)
	}

	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range good {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	for what, c := range map[string]map[string]any{
		"aud":       with("aud", "another-client"),
		"iss":       with("iss", "https://cognito-idp.ap-northeast-2.amazonaws.com/other"),
		"token_use": with("token_use", "access"),
		"expired":   with("exp", now-10),
	} {
		a := f.post(t, "/tryit/api/verify", `{"id_token":"`+f.signer.token(t, c)+`"}`)
		if a.status != 200 || a.body["verified"] != false || len(a.body["problems"].([]any)) != 1 {
			t.Errorf("%s: %d %s", what, a.status, a.raw)
		}
	}
	// Signed by a key the pool does not publish.
	other := newSigner(t)
	a = f.post(t, "/tryit/api/verify", `{"id_token":"`+other.token(t, good)+`"}`)
	if a.body["verified"] != false || a.body["claims"] != nil || !strings.Contains(a.raw, "jwks") {
		t.Errorf("foreign signature: %s", a.raw)
	}
	// Not a JWT at all.
	if a := f.post(t, "/tryit/api/verify", `{"id_token":"garbage"}`); a.body["verified"] != false {
		t.Errorf("garbage: %s", a.raw)
	}
}

func TestPage(t *testing.T) {
	f := newFixture(t, WithAPIURL("https://api.example/v1/"))
	a := f.call(t, http.MethodGet, "/", "", "", "")
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", a.status, a.header)
	}
	for _, want := range []string{`"apiURL":"https://api.example/v1"`, `"authorizeURL":"` + f.kakao.URL + `/oauth/authorize"`,
		`"clientID":"restkey"`, `"redirectURI":"` + f.srv.URL + `/callback"`, `"unlink":false`, `"accounts":false`, `id="kakao-login"`, `id="sub"`, `id="error"`} {
		if !strings.Contains(a.raw, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(a.raw, "kakao-secret") {
		t.Error("the Kakao client secret reached the page")
	}
	csp := a.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example https://cognito-idp.ap-northeast-2.amazonaws.com;") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP %q", csp)
	}
	if a := f.call(t, http.MethodGet, "/callback?code=x&state=y", "", "", ""); a.status != 200 || !strings.Contains(a.raw, `id="kakao-login"`) {
		t.Errorf("callback: %d", a.status)
	}
	if a := f.call(t, http.MethodGet, "/tryit/assets/app.js", "", "", ""); a.status != 200 || !strings.Contains(a.raw, "kakao-login") {
		t.Errorf("app.js: %d", a.status)
	}
	for _, path := range []string{"/nope", "/tryit/nope", "/tryit/api/nope", "/auth/kakao"} {
		if a := f.call(t, http.MethodGet, path, "", "", ""); a.status != 404 || a.body["error"] != "NotFound" {
			t.Errorf("%s: %d %s", path, a.status, a.raw)
		}
	}
	// Local-only endpoints say so against a deployed stack.
	if a := f.post(t, "/tryit/api/unlink", `{"kakao_id":1}`); a.status != 404 || a.body["error"] != "NotAvailable" {
		t.Errorf("unlink: %d %s", a.status, a.raw)
	}
	if a := f.call(t, http.MethodGet, "/tryit/api/account?kakao_id=1", "", "", ""); a.status != 404 || a.body["error"] != "NotAvailable" {
		t.Errorf("account: %d %s", a.status, a.raw)
	}
}

// With a public URL (kakaoauth tryit), the page lives on that origin only:
// Kakao redirects there, so a login must start there.
func TestPublicURL(t *testing.T) {
	f := newFixture(t, WithPublicURL("http://localhost:8090"))
	a := f.call(t, http.MethodGet, "/", "", "", "")
	if a.status != http.StatusFound || a.header.Get("Location") != "http://localhost:8090/" {
		t.Fatalf("page on another host: %d %s", a.status, a.header.Get("Location"))
	}
	// The exchange uses the registered redirect URI, and the page's origin
	// is the public one.
	if a := f.call(t, http.MethodPost, "/tryit/api/exchange", "application/json", "http://localhost:8090", `{"code":"c"}`); a.status != 200 {
		t.Fatalf("exchange: %d %s", a.status, a.raw)
	}
	if got := f.kakao.forms[0].Get("redirect_uri"); got != "http://localhost:8090/callback" {
		t.Errorf("redirect_uri %q", got)
	}
	if a := f.call(t, http.MethodPost, "/tryit/api/exchange", "application/json", f.srv.URL, `{"code":"c"}`); a.status != 403 {
		t.Errorf("exchange from the listener's own origin: %d", a.status)
	}
}

func TestNewRefusesIncompleteSettings(t *testing.T) {
	pool := Pool{ID: poolID, ClientID: clientID, Issuer: issuer, JWKSURL: "http://x", API: &fakeCognito{}}
	for what, c := range map[string]struct {
		k    Kakao
		p    Pool
		opts []Option
	}{
		"no client id":    {Kakao{AuthURL: "http://k"}, pool, nil},
		"no auth url":     {Kakao{ClientID: "c"}, pool, nil},
		"no pool":         {Kakao{AuthURL: "http://k", ClientID: "c"}, Pool{}, nil},
		"bad public url":  {Kakao{AuthURL: "http://k", ClientID: "c"}, pool, []Option{WithPublicURL("localhost:8090")}},
		"public url path": {Kakao{AuthURL: "http://k", ClientID: "c"}, pool, []Option{WithPublicURL("http://localhost:8090/x")}},
	} {
		if _, err := New(c.k, c.p, c.opts...); err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
	p := NewPool(&fakeCognito{}, "ap-northeast-2", poolID, clientID, "")
	if p.Issuer != issuer || p.JWKSURL != issuer+"/.well-known/jwks.json" {
		t.Errorf("AWS pool %+v", p)
	}
	p = NewPool(&fakeCognito{}, "us-east-1", "us-east-1_x", clientID, "http://127.0.0.1:5000")
	if p.Issuer != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x" || p.JWKSURL != "http://127.0.0.1:5000/us-east-1_x/.well-known/jwks.json" {
		t.Errorf("moto pool %+v", p)
	}
}

type fakeAccounts map[int64]kakaoauth.Mapping

func (f fakeAccounts) Get(_ context.Context, id int64) (kakaoauth.Mapping, error) {
	if id == 13 {
		return kakaoauth.Mapping{}, errors.New("dynamodb: boom")
	}
	m, ok := f[id]
	if !ok {
		return m, &kakaoauth.NotFound{What: "mapping"}
	}
	return m, nil
}

// The local extras relay what the double and the store say, including
// failures, rather than assume the unlink worked.
func TestUnlinkAndAccount(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	var headers []http.Header
	answer := `{"callback_status":200}`
	status := 200
	double := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, body)
		headers = append(headers, r.Header)
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer double.Close()
	at := time.Date(2026, 11, 25, 1, 2, 3, 4e6, time.UTC)
	f := newFixture(t, WithDouble(double.URL+"/"), WithAccounts(fakeAccounts{
		4242: {KakaoID: 4242, Sub: "s-2", Username: "kakao_4242", Status: "active", Email: "private@example.com",
			CreatedAt: at.Add(-time.Hour), ActiveSince: at, LastLoginAt: at, UnlinkedAt: at.Add(-time.Minute), RelinkedAt: at,
			PreviousSubs: []string{"s-1"}, PasswordNonce: "secret-nonce",
			LastEvent: kakaoauth.LifecycleEvent{ID: "e1", Type: kakaoauth.EventRelinked, KakaoID: 4242, Sub: "s-2", Time: at, Reason: "login"}},
		4343: {KakaoID: 4343, Sub: "s-native", Username: "demo-native", Kind: kakaoauth.KindLinked, Status: "active", CreatedAt: at, ActiveSince: at},
	}))

	if a := f.post(t, "/tryit/api/unlink", `{"kakao_id":4242}`); a.status != 200 || a.body["callback_status"] != 200.0 {
		t.Fatalf("unlink: %d %s", a.status, a.raw)
	}
	if got[0]["user_id"] != 4242.0 || got[0]["referrer_type"] != "UNLINK_FROM_APPS" {
		t.Errorf("the double was asked %v", got[0])
	}
	// As the page itself would ask the double's control API.
	if h := headers[0]; h.Get(PageHeader) != "1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("the double was asked with headers %v", h)
	}
	// The webhook refused: the page is told the status it answered Kakao.
	answer, status = `{"callback_status":401}`, 401
	if a := f.post(t, "/tryit/api/unlink", `{"kakao_id":4242}`); a.status != 200 || a.body["callback_status"] != 401.0 {
		t.Errorf("refused callback: %d %s", a.status, a.raw)
	}
	// The double could not call back at all.
	answer, status = `{"error":"no unlink callback URL configured"}`, 409
	if a := f.post(t, "/tryit/api/unlink", `{"kakao_id":4242}`); a.status != 502 || a.body["error"] != "UnlinkNotDelivered" {
		t.Errorf("undelivered: %d %s", a.status, a.raw)
	}
	if a := f.post(t, "/tryit/api/unlink", `{"kakao_id":-1}`); a.status != 400 {
		t.Errorf("bad id: %d", a.status)
	}

	// The mapping's state and history, which the page reads to say what
	// a login did (here: re-linked, the same sub as before).
	a := f.call(t, http.MethodGet, "/tryit/api/account?kakao_id=4242", "", "", "")
	want := `{"kakao_id":4242,"status":"active","kind":"created","sub":"s-2","username":"kakao_4242","created_at":"2026-11-25T00:02:03.004Z",` +
		`"active_since":"2026-11-25T01:02:03.004Z","last_login_at":"2026-11-25T01:02:03.004Z","unlinked_at":"2026-11-25T01:01:03.004Z",` +
		`"relinked_at":"2026-11-25T01:02:03.004Z","previous_subs":["s-1"],` +
		`"last_event":{"type":"relinked","time":"2026-11-25T01:02:03.004Z","sub":"s-2","reason":"login"}}`
	if a.status != 200 || strings.TrimSpace(a.raw) != want {
		t.Fatalf("account: %d\n%s\nwant\n%s", a.status, a.raw, want)
	}
	// A Kakao account linked to a person of the pool says so.
	if a := f.call(t, http.MethodGet, "/tryit/api/account?kakao_id=4343", "", "", ""); a.status != 200 || a.body["kind"] != kakaoauth.KindLinked || a.body["username"] != "demo-native" {
		t.Fatalf("linked account: %d %s", a.status, a.raw)
	}
	for _, secret := range []string{"secret-nonce", "private@example.com"} {
		if strings.Contains(a.raw, secret) {
			t.Errorf("%s reached the page", secret)
		}
	}
	for q, want := range map[string]int{"kakao_id=7": 404, "kakao_id=13": 502, "kakao_id=x": 400, "": 400} {
		if a := f.call(t, http.MethodGet, "/tryit/api/account?"+q, "", "", ""); a.status != want {
			t.Errorf("account?%s: %d %s, want %d", q, a.status, a.raw, want)
		}
	}
	if a := f.call(t, http.MethodGet, "/tryit/api/account?kakao_id=4242", "", "http://evil.example", ""); a.status != 403 {
		t.Errorf("account from another origin: %d", a.status)
	}
}

// The team's own app's password sign-in (the local stack's linking
// story): the person's own email and password through the team's public
// client, Cognito's refusals passed on, nothing secret in the log; the
// page learns the client and where to link; refresh and sign-out of these
// tokens use the team's client.
func TestTeamAppPasswordSignIn(t *testing.T) {
	none := newFixture(t)
	if a := none.post(t, "/tryit/api/password", `{"username":"demo@example.com","password":"pw-good"}`); a.status != 404 {
		t.Fatalf("without a team app: %d %s", a.status, a.raw)
	}
	f := newFixture(t, WithTeamApp(TeamApp{ClientID: teamClientID, Username: "demo@example.com", Password: "pw-good"}), WithAPIURL("http://127.0.0.1:9/"))
	a := f.post(t, "/tryit/api/password", `{"username":"demo@example.com","password":"pw-good"}`)
	if a.status != 200 || a.body["access_token"] != "team-access" || a.body["refresh_token"] != "team-rt" {
		t.Fatalf("sign-in: %d %s", a.status, a.raw)
	}
	a = f.post(t, "/tryit/api/password", `{"username":"demo@example.com","password":"wrong"}`)
	if a.status != 401 || a.body["error"] != "NotAuthorizedException" {
		t.Fatalf("a wrong password: %d %s", a.status, a.raw)
	}
	if a := f.post(t, "/tryit/api/password", `{"username":"demo@example.com"}`); a.status != 400 {
		t.Fatalf("no password: %d %s", a.status, a.raw)
	}
	if a := f.call(t, http.MethodPost, "/tryit/api/password", "application/json", "https://evil.example", `{"username":"demo@example.com","password":"pw-good"}`); a.status != 403 {
		t.Fatalf("another site's page: %d %s", a.status, a.raw)
	}
	if strings.Contains(f.logs.String(), "pw-good") || strings.Contains(f.logs.String(), "team-access") {
		t.Fatalf("a password or token reached the log:\n%s", f.logs)
	}
	page := f.call(t, http.MethodGet, "/", "", "", "")
	if !strings.Contains(page.raw, `"teamApp":{"clientID":"teamclient1","username":"demo@example.com","password":"pw-good","linkURL":"http://127.0.0.1:9/auth/kakao/link"}`) {
		t.Fatalf("the page's config lacks the team app: %s", page.raw)
	}
}
