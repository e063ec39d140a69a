package tryit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// pageConfigOf reads the configuration the page's script gets.
func pageConfigOf(t *testing.T, raw string) pageConfig {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script[^>]*id="config"[^>]*>(.*?)</script>`).FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("no config in the page")
	}
	var c pageConfig
	if err := json.Unmarshal([]byte(m[1]), &c); err != nil {
		t.Fatalf("config %s: %v", m[1], err)
	}
	return c
}

// The page gets what the JavaScript client needs: its module, the pool's
// public client and endpoint; the identity pool and GET /me only when the
// stack has them; and may connect to exactly those Cognito endpoints.
func TestClientConfig(t *testing.T) {
	f := newFixture(t)
	a := f.call(t, http.MethodGet, "/", "", "", "")
	c := pageConfigOf(t, a.raw).Client
	want := clientConfig{ClientModule: ClientModulePath, Region: "ap-northeast-2", UserPoolClientID: clientID,
		CognitoEndpoint: "https://cognito-idp.ap-northeast-2.amazonaws.com/"}
	if c != want {
		t.Errorf("client config %+v, want %+v", c, want)
	}

	f = newFixture(t, WithIdentityPool("ap-northeast-2:abc", "", ""), WithMeRoute(), WithAPIURL("https://api.example/v1"))
	a = f.call(t, http.MethodGet, "/", "", "", "")
	c = pageConfigOf(t, a.raw).Client
	if c.IdentityPoolID != "ap-northeast-2:abc" || c.IdentityEndpoint != "https://cognito-identity.ap-northeast-2.amazonaws.com/" || c.MeURL != "https://api.example/v1/me" {
		t.Errorf("client config %+v", c)
	}
	csp := a.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example https://cognito-idp.ap-northeast-2.amazonaws.com https://cognito-identity.ap-northeast-2.amazonaws.com;") {
		t.Errorf("CSP %q", csp)
	}
	// The local stack: GET /me on the page's own origin.
	f = newFixture(t, WithMeRoute())
	if c := pageConfigOf(t, f.call(t, http.MethodGet, "/", "", "", "").raw).Client; c.MeURL != f.srv.URL+"/me" {
		t.Errorf("local me URL %q", c.MeURL)
	}
}

// The client's modules are served as they are, as JavaScript.
func TestClientModules(t *testing.T) {
	f := newFixture(t)
	for _, m := range []string{"index.js", "client.js", "nonce.js", "errors.js"} {
		a := f.call(t, http.MethodGet, "/tryit/client/"+m, "", "", "")
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/javascript") || !strings.Contains(a.raw, "export") {
			t.Errorf("%s: %d %s", m, a.status, a.header.Get("Content-Type"))
		}
	}
	if a := f.call(t, http.MethodGet, "/tryit/client/nope.js", "", "", ""); a.status != 404 {
		t.Errorf("missing module: %d", a.status)
	}
}

// GetCallerIdentity with the identity pool's credentials, signed with
// them, at the configured STS; refused when the stack has no identity
// pool or from another origin.
func TestCaller(t *testing.T) {
	var auth string
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
			`<Arn>arn:aws:sts::123456789012:assumed-role/authn/CognitoIdentityCredentials</Arn><UserId>AROA:CognitoIdentityCredentials</UserId>` +
			`<Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`))
	}))
	defer sts.Close()
	body := `{"access_key_id":"ASIAEXAMPLE","secret_access_key":"secret-secret","session_token":"session-token"}`

	f := newFixture(t)
	if a := f.call(t, http.MethodPost, "/tryit/api/caller", "application/json", "", body); a.status != 404 {
		t.Errorf("without an identity pool: %d", a.status)
	}
	f = newFixture(t, WithIdentityPool("ap-northeast-2:abc", "", sts.URL))
	a := f.call(t, http.MethodPost, "/tryit/api/caller", "application/json", f.srv.URL, body)
	if a.status != 200 || a.body["arn"] != "arn:aws:sts::123456789012:assumed-role/authn/CognitoIdentityCredentials" || a.body["account"] != "123456789012" {
		t.Fatalf("caller: %d %v", a.status, a.body)
	}
	if !strings.Contains(auth, "Credential=ASIAEXAMPLE/") {
		t.Errorf("not signed with the given credentials: %q", auth)
	}
	if a := f.call(t, http.MethodPost, "/tryit/api/caller", "application/json", "https://evil.example", body); a.status != 403 {
		t.Errorf("another origin: %d", a.status)
	}
	if a := f.call(t, http.MethodPost, "/tryit/api/caller", "application/json", "", `{"access_key_id":"x"}`); a.status != 400 {
		t.Errorf("no secret: %d", a.status)
	}
	if strings.Contains(f.logs.String(), "secret-secret") || strings.Contains(f.logs.String(), "session-token") {
		t.Error("the credentials reached the log")
	}
}
