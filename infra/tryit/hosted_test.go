package tryit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostedServer scripts the hosted UI's /oauth2/token, recording forms.
type hostedServer struct {
	*httptest.Server
	mu     sync.Mutex
	forms  []url.Values
	status int
	body   string
}

func newHosted(t *testing.T) *hostedServer {
	h := &hostedServer{status: 200, body: `{"id_token":"c-id","access_token":"c-at","refresh_token":"c-rt","expires_in":3600,"token_type":"Bearer"}`}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/oauth2/token" {
			http.NotFound(w, r)
			return
		}
		_ = r.ParseForm()
		h.mu.Lock()
		h.forms = append(h.forms, r.PostForm)
		status, body := h.status, h.body
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(h.Close)
	return h
}

// Without the hosted UI the page knows of none, and its token endpoint
// does not exist; with it, the page gets the authorize URL, the client,
// Kakao as the provider and the marker of the first sign-in's link.
func TestHostedUIConfig(t *testing.T) {
	f := newFixture(t)
	if a := f.call(t, http.MethodGet, "/", "", "", ""); strings.Contains(a.raw, "hostedUI") {
		t.Fatal("a page without a hosted UI offers one")
	}
	if a := f.post(t, "/tryit/api/hosted/token", `{"code":"c","code_verifier":"v"}`); a.status != 404 {
		t.Fatalf("token endpoint without a hosted UI: %d %s", a.status, a.raw)
	}
	h := newHosted(t)
	f = newFixture(t, WithHostedUI(HostedUI{DomainURL: h.URL + "/", ClientID: "hosted-client"}))
	a := f.call(t, http.MethodGet, "/", "", "", "")
	for _, want := range []string{`"hostedUI":{"authorizeURL":"` + h.URL + `/oauth2/authorize"`, `"clientID":"hosted-client"`, `"provider":"Kakao"`,
		`"scopes":"openid email profile"`, `"linkedCode":"KakaoAccountLinked"`} {
		if !strings.Contains(a.raw, want) {
			t.Errorf("page config lacks %s", want)
		}
	}
}

// The code exchange as Amplify makes it: the public client, the page's
// redirect URI, the PKCE verifier, no secret; Cognito's refusals and
// failures mapped.
func TestHostedUIToken(t *testing.T) {
	h := newHosted(t)
	f := newFixture(t, WithHostedUI(HostedUI{DomainURL: h.URL, ClientID: "hosted-client"}))
	a := f.post(t, "/tryit/api/hosted/token", `{"code":"the-code","code_verifier":"the-verifier-0123456789012345678901234567890123"}`)
	if a.status != 200 || a.body["id_token"] != "c-id" || a.body["refresh_token"] != "c-rt" || a.body["token_type"] != "Bearer" {
		t.Fatalf("token: %d %s", a.status, a.raw)
	}
	want := url.Values{"grant_type": {"authorization_code"}, "client_id": {"hosted-client"}, "code": {"the-code"},
		"redirect_uri": {f.srv.URL + "/callback"}, "code_verifier": {"the-verifier-0123456789012345678901234567890123"}}
	if got := h.forms[0]; got.Encode() != want.Encode() {
		t.Fatalf("token request %v, want %v", got, want)
	}
	for _, c := range []struct {
		status     int
		body       string
		wantStatus int
		wantError  string
	}{
		{400, `{"error":"invalid_grant"}`, 400, "invalid_grant"},
		{400, `{}`, 400, "CognitoRefused"},
		{500, `{"error":"server_error"}`, 502, "CognitoUnavailable"},
		{200, `{"access_token":"x"}`, 502, "CognitoUnavailable"},
		{200, `<html>`, 502, "CognitoUnavailable"},
	} {
		h.status, h.body = c.status, c.body
		a := f.post(t, "/tryit/api/hosted/token", `{"code":"c","code_verifier":"v"}`)
		if a.status != c.wantStatus || a.body["error"] != c.wantError {
			t.Errorf("Cognito %d %s: got %d %s", c.status, c.body, a.status, a.raw)
		}
	}
	if a := f.post(t, "/tryit/api/hosted/token", `{"code":"c"}`); a.status != 400 {
		t.Errorf("without a verifier: %d", a.status)
	}
	if strings.Contains(f.logs.String(), "the-code") || strings.Contains(f.logs.String(), "c-at") {
		t.Errorf("a code or token reached the log:\n%s", f.logs)
	}
}

// Tokens of the hosted UI's client verify (their aud is that client);
// another aud is still refused.
func TestHostedUITokensVerify(t *testing.T) {
	h := newHosted(t)
	f := newFixture(t, WithHostedUI(HostedUI{DomainURL: h.URL, ClientID: "hosted-client"}))
	exp := time.Now().Add(time.Hour).Unix()
	for aud, ok := range map[string]bool{"hosted-client": true, clientID: true, "someone-else": false} {
		tok := f.signer.token(t, map[string]any{"iss": issuer, "aud": aud, "token_use": "id", "exp": exp, "sub": "s"})
		a := f.post(t, "/tryit/api/verify", `{"id_token":"`+tok+`"}`)
		if a.body["verified"] != ok {
			t.Errorf("aud %s: %s", aud, a.raw)
		}
	}
}
