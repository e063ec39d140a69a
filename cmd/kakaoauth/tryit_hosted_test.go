package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// stubHostedUI stands in for Cognito's hosted UI where a test needs
// answers the local one (moto's layer, TestLocalHostedUIInTheBrowser)
// cannot be made to give, such as a link reported on every sign-in, so
// that the try-it page's handling of them can be clicked through in
// Chromium. It checks the authorize request an app must make
// (identity_provider, the client, the code flow with PKCE S256), runs
// Kakao's consent on the Kakao double as Cognito would (and keeps a
// "Kakao session", so that a restarted sign-in asks nothing), and answers
// the first sign-in of each Kakao account as an earlier PreSignUp trigger
// (or Cognito before 2023) made Cognito answer it, the case the page must
// still survive: an error at the app's redirect URI carrying that
// trigger's text. The sign-in
// after it is given the pool's real tokens for the account, from the
// broker (which is the user the trigger links to), behind a code that only
// the matching PKCE verifier redeems. So what this tests is the page, not
// Cognito: the trigger is tested as a Go handler (workflow), its link
// request on the wire (shared/cognito, infra/rie).
type stubHostedUI struct {
	*httptest.Server
	clientID, kakaoURL, apiURL string

	mu         sync.Mutex
	pending    map[string]url.Values // the page's authorize request, by the stub's own state
	codes      map[string]issuedCode
	linked     map[int64]bool
	authorizes int
	// linkedAlways answers the link on every sign-in (a stack that keeps
	// failing); refuse, when set, is a trigger refusal to answer instead.
	linkedAlways bool
	refuse       string
}

type issuedCode struct {
	tokens      map[string]any
	challenge   string
	redirectURI string
}

func newStubHostedUI(t *testing.T, clientID, kakaoURL, apiURL string) *stubHostedUI {
	s := &stubHostedUI{clientID: clientID, kakaoURL: kakaoURL, apiURL: apiURL,
		pending: map[string]url.Values{}, codes: map[string]issuedCode{}, linked: map[int64]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/authorize", s.authorize)
	mux.HandleFunc("GET /oauth2/idpresponse", s.idpResponse)
	mux.HandleFunc("POST /oauth2/token", s.token)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *stubHostedUI) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("identity_provider") != kakaoauth.HostedUIProvider, q.Get("client_id") != s.clientID, q.Get("response_type") != "code",
		q.Get("code_challenge_method") != "S256", len(q.Get("code_challenge")) < 43, q.Get("state") == "",
		!strings.Contains(" "+q.Get("scope")+" ", " openid "), err != nil || !redirect.IsAbs():
		http.Error(w, "not the authorize request an app makes: "+q.Encode(), http.StatusBadRequest)
		return
	}
	key := randomKey()
	s.mu.Lock()
	s.authorizes++
	s.pending[key] = q
	s.mu.Unlock()
	if c, err := r.Cookie("kakao-session"); err == nil {
		s.finish(w, r, key, c.Value)
		return
	}
	http.Redirect(w, r, s.kakaoURL+"/oauth/authorize?"+url.Values{
		"client_id": {kakaofake.DefaultAppKey}, "redirect_uri": {s.URL + "/oauth2/idpresponse"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {key},
	}.Encode(), http.StatusFound)
}

// idpResponse is Cognito's /oauth2/idpresponse: Kakao's code exchanged
// for Kakao's tokens.
func (s *stubHostedUI) idpResponse(w http.ResponseWriter, r *http.Request) {
	resp, err := http.PostForm(s.kakaoURL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {kakaofake.DefaultAppKey},
		"redirect_uri": {s.URL + "/oauth2/idpresponse"}, "code": {r.URL.Query().Get("code")},
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.NewDecoder(resp.Body).Decode(&tok) != nil || tok.AccessToken == "" {
		http.Error(w, "kakao token exchange failed", http.StatusBadGateway)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "kakao-session", Value: tok.AccessToken, Path: "/", HttpOnly: true})
	s.finish(w, r, r.URL.Query().Get("state"), tok.AccessToken)
}

// finish ends a sign-in at the page's redirect URI: the linked error,
// a refusal, or a code.
func (s *stubHostedUI) finish(w http.ResponseWriter, r *http.Request, key, kakaoToken string) {
	s.mu.Lock()
	q, ok := s.pending[key]
	delete(s.pending, key)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "unknown sign-in", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(q.Get("redirect_uri"))
	answer := url.Values{"state": {q.Get("state")}}
	kakaoID, err := s.kakaoID(kakaoToken)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	s.mu.Lock()
	first := !s.linked[kakaoID] || s.linkedAlways
	s.linked[kakaoID] = true
	refuse := s.refuse
	s.mu.Unlock()
	switch {
	case refuse != "":
		answer.Set("error", "invalid_request")
		answer.Set("error_description", "PreSignUp failed with error "+refuse+". ")
	case first:
		// Cognito's text around the trigger's message.
		answer.Set("error", "invalid_request")
		answer.Set("error_description", "PreSignUp failed with error "+workflow.LinkedErrorCode+": your Kakao account is now linked; sign in again"+". ")
	default:
		tokens, err := s.brokerTokens(kakaoToken)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		code := randomKey()
		s.mu.Lock()
		s.codes[code] = issuedCode{tokens: tokens, challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
		s.mu.Unlock()
		answer.Set("code", code)
	}
	back.RawQuery = answer.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (s *stubHostedUI) kakaoID(token string) (int64, error) {
	req, _ := http.NewRequest(http.MethodGet, s.kakaoURL+"/v1/user/access_token_info", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var info struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.ID == 0 {
		return 0, fmt.Errorf("access_token_info: %v", err)
	}
	return info.ID, nil
}

func (s *stubHostedUI) brokerTokens(kakaoToken string) (map[string]any, error) {
	body, _ := json.Marshal(map[string]string{"access_token": kakaoToken})
	resp, err := http.Post(s.apiURL+"/auth/kakao", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("broker: %d %v", resp.StatusCode, out)
	}
	return map[string]any{"id_token": out["id_token"], "access_token": out["access_token"], "refresh_token": out["refresh_token"],
		"expires_in": out["expires_in"], "token_type": "Bearer"}, nil
}

// token is /oauth2/token for the code flow with PKCE.
func (s *stubHostedUI) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	s.mu.Lock()
	c, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code"))
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	w.Header().Set("Content-Type", "application/json")
	if !ok || f.Get("grant_type") != "authorization_code" || f.Get("client_id") != s.clientID || f.Get("redirect_uri") != c.redirectURI ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(c.tokens)
}

func (s *stubHostedUI) authorized() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authorizes
}

// `kakaoauth tryit` against a stack with the hosted UI, in Chromium: the
// page offers the hosted-UI sign-in, and a person who logged in through
// the broker first signs in through it with one consent at Kakao; the
// first sign-in's linked error restarts the sign-in once, by itself, and
// the page ends on the same Cognito user (same sub) as the broker's. A
// second sign-in needs no restart; a refusal shows its code; a stack that
// keeps answering the link is not restarted forever.
func TestTryItHostedUIInTheBrowser(t *testing.T) {
	motoURL := moto.ForTest(t).URL()
	port := freePort(t)
	s := localstack.ForTest(t, "../../template.yaml", func(c *localstack.Config) {
		c.CORSOrigins = []string{"http://localhost:" + port}
	})
	stub := newStubHostedUI(t, "hostedui-client", s.KakaoURL(), s.APIURL())

	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	m := TryItMain{APIURL: s.APIURL(), UserPoolID: s.Stack().UserPoolID, UserPoolClientID: s.Stack().UserPoolClientID,
		CognitoEndpoint: motoURL, KakaoAuthURL: s.KakaoURL(), KakaoClientID: kakaofake.DefaultAppKey,
		HostedUIDomain: stub.URL, HostedUIClientID: "hostedui-client", Addr: "127.0.0.1:" + port, Out: &out}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); m.Close() })
	if want := "its HostedUiCallbackUrls must include http://localhost:" + port + "/callback"; !strings.Contains(out.String(), want) {
		t.Fatalf("tryit printed no %q:\n%s", want, out.String())
	}
	page := "http://localhost:" + port
	idle := func(tab *chromium.Tab) {
		tab.WaitTrue("the page, done", `location.origin === "`+page+`" && document.body.getAttribute("aria-busy") === "false"`)
	}

	tab := chromium.ForTest(t)
	tab.Navigate(page + "/")
	if got := tab.Text("#hosted-ui-login"); got != "Sign in through Cognito's hosted UI" {
		t.Fatalf("hosted-UI button %q", got)
	}
	// The broker first (the native app, say).
	tab.Click("#kakao-login")
	tab.WaitVisible("#consent")
	tab.Click("#consent")
	idle(tab)
	brokerSub := tab.Text("#sub")
	if brokerSub == "" || tab.Text("#mode") != "Kakao access token" {
		t.Fatalf("broker login: sub %q mode %q", brokerSub, tab.Text("#mode"))
	}

	// The hosted UI: Kakao's consent once, then the page does the rest.
	tab.Click("#hosted-ui-login")
	tab.WaitVisible("#consent")
	if !strings.HasPrefix(tab.Location(), s.KakaoURL()+"/oauth/authorize?") {
		t.Fatalf("the hosted UI went to %s, not Kakao", tab.Location())
	}
	tab.Click("#consent")
	idle(tab)
	want := map[string]string{
		"#sub": brokerSub, "#error": "", "#status": "200", "#username": "kakao_4242", "#user-kind": "signed in through the hosted UI",
		"#mode": "Cognito's hosted UI (Kakao as OpenID Connect provider)", "#claim-kakao-id": "4242",
		"#same-user": "yes: the broker and the hosted UI signed in the same Cognito user", "#signature": "verified against the pool's JWKS",
	}
	for sel, v := range want {
		if got := tab.Text(sel); got != v {
			t.Errorf("%s = %q, want %q", sel, got, v)
		}
	}
	if hops := tab.Text("#hops"); !strings.Contains(hops, "First sign-in: Kakao account linked, signing in again") || !strings.Contains(hops, "/oauth2/token") {
		t.Errorf("hops:\n%s", hops)
	}
	if n := stub.authorized(); n != 2 {
		t.Fatalf("%d authorize requests, want 2 (the first and its one restart)", n)
	}

	// Signed in again later: linked, so no restart.
	tab.Click("#hosted-ui-login")
	idle(tab)
	if got := tab.Text("#sub"); got != brokerSub || stub.authorized() != 3 {
		t.Fatalf("second hosted-UI sign-in: sub %q after %d authorize requests", got, stub.authorized())
	}

	// A refusal of the trigger: its code, its message.
	stub.mu.Lock()
	stub.refuse = "AccountConflict: The email of this Kakao account belongs to another user."
	stub.mu.Unlock()
	tab.Click("#hosted-ui-login")
	idle(tab)
	if got := tab.Text("#error"); got != "AccountConflict" {
		t.Fatalf("refused sign-in shows %q", got)
	}

	// The link reported again after the restart: shown, not looped.
	stub.mu.Lock()
	stub.refuse, stub.linkedAlways = "", true
	before := stub.authorizes
	stub.mu.Unlock()
	tab.Click("#hosted-ui-login")
	idle(tab)
	time.Sleep(200 * time.Millisecond) // a page that looped would be on its way again
	idle(tab)
	if got := tab.Text("#error"); got != workflow.LinkedErrorCode || stub.authorized() != before+2 {
		t.Fatalf("error %q after %d more authorize requests, want %s after 2", got, stub.authorized()-before, workflow.LinkedErrorCode)
	}
}

// -stack also reads the hosted UI's outputs: the page then offers it; a
// stack without them gets no hosted-UI button.
func TestTryItHostedUIFromStackOutputs(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer api.Close()
	outputs := map[string]string{"ApiUrl": api.URL + "/v1", "UserPoolId": "ap-northeast-2_AbCdEf123", "UserPoolClientId": "client123",
		"HostedUiDomainUrl": "https://kakaoauth-prod.auth.ap-northeast-2.amazoncognito.com", "HostedUiClientId": "hosted123"}
	var out bytes.Buffer
	m := TryItMain{Stack: "kakaoauth-prod", Stacks: fakeStacks{outputs: outputs}, KakaoAuthURL: "https://kauth.kakao.com", KakaoClientID: "restkey123",
		Addr: "127.0.0.1:0", Out: &out}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if want := "The stack's hosted UI   https://kakaoauth-prod.auth.ap-northeast-2.amazoncognito.com (app client hosted123)"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	resp, err := http.Get(m.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"hostedUI":{"authorizeURL":"https://kakaoauth-prod.auth.ap-northeast-2.amazoncognito.com/oauth2/authorize","clientID":"hosted123"`) {
		t.Errorf("page config: %s", body)
	}
	half := TryItMain{APIURL: api.URL, UserPoolID: "ap-northeast-2_x", UserPoolClientID: "c", KakaoClientID: "k", HostedUIDomain: "https://x", Addr: "127.0.0.1:0"}
	if err := half.Run(context.Background()); err == nil {
		half.Close()
		t.Error("a hosted UI domain without its client was accepted")
	}
}

// The try-it page of `kakaoauth local` (the local stack with the hosted
// UI) in Chromium, against the local hosted UI that moto's layer serves:
// no stand-in. A person who logged in through the broker signs in through
// the hosted UI; the stack's own PreSignUp trigger links the identity on
// the first sign-in, the page restarts it, and it ends on the broker's
// user. The double keeps no Kakao login session, so its consent shows
// again on the restart (Kakao would not ask).
func TestLocalHostedUIInTheBrowser(t *testing.T) {
	s := localstack.ForTest(t, "../../template.yaml", func(c *localstack.Config) { c.HostedUI = true })
	home := s.APIURL() + "/"
	idle := func(tab *chromium.Tab) {
		tab.WaitTrue("the page, done", `location.href.startsWith("`+home+`") && document.body.getAttribute("aria-busy") === "false"`)
	}
	tab := chromium.ForTest(t)
	tab.Navigate(home)
	// The broker first, as the double's demo account.
	tab.Click("#kakao-login")
	tab.WaitVisible("#consent")
	tab.Click("#consent")
	idle(tab)
	brokerSub := tab.Text("#sub")
	if brokerSub == "" {
		t.Fatalf("broker login: no sub (error %q)", tab.Text("#error"))
	}

	tab.Click("#hosted-ui-login")
	tab.WaitVisible("#consent")
	if !strings.HasPrefix(tab.Location(), s.KakaoURL()+"/oauth/authorize?") || !strings.Contains(tab.Location(), "oauth2%2Fidpresponse") {
		t.Fatalf("the hosted UI went to %s, not Kakao with Cognito's idpresponse", tab.Location())
	}
	firstConsent := tab.Location()
	tab.Click("#consent")
	// The first sign-in lands linked at once (PreSignUp links and lets it
	// through: docs/hosted-ui.md), with no second trip to Kakao.
	tab.WaitTrue("the page done",
		`location.href !== "`+firstConsent+`" && location.href.startsWith("`+home+`") && document.body.getAttribute("aria-busy") === "false"`)
	idle(tab)
	if got := tab.Text("#sub"); got != brokerSub || tab.Text("#error") != "" || !strings.HasPrefix(tab.Text("#username"), "kakao_") {
		t.Fatalf("hosted-UI sign-in: sub %q (broker %q), username %q, error %q\nhops:\n%s", got, brokerSub, tab.Text("#username"), tab.Text("#error"), tab.Text("#hops"))
	}
	if hops := tab.Text("#hops"); strings.Contains(hops, "signing in again") {
		t.Errorf("the first sign-in was refused and restarted; hops:\n%s", hops)
	}
	// The hosted UI's session, refreshed and signed out from the browser
	// by the JavaScript client with the hosted UI's app client.
	tab.Click("#refresh")
	idle(tab)
	if got := tab.Text("#refresh-outcome .outcome-text"); !strings.Contains(got, "refreshed with REFRESH_TOKEN_AUTH") {
		t.Errorf("refresh of the hosted UI's session: %q (%s)", got, tab.Text("#refresh-outcome"))
	}
	tab.Click("#signout")
	idle(tab)
	if got := tab.Text("#signout-outcome .outcome-text"); !strings.Contains(got, "The old refresh token is now refused (NotAuthorizedException)") {
		t.Errorf("sign-out of the hosted UI's session: %q (%s)", got, tab.Text("#signout-outcome"))
	}
}
