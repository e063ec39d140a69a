package kakaofake

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kakaoauth/kakaoauth/infra/localonly/localonlytest"
)

// The double is not an open door: any web page the developer opens can
// send requests to it. A DNS-rebinding page (its own name resolved to
// 127.0.0.1) is refused by its Host, on the whole double; another site's
// page cannot unlink an account, mint tokens or create users (no simple
// cross-site POST: the control API takes JSON only, and refuses requests
// a browser marks as another site's). Programs and the local page work.
// Every request goes over real HTTP to the double, whose unlink callback
// counts what reaches it.
func TestControlAPIIsNotAnOpenDoor(t *testing.T) {
	var callbacks atomic.Int32
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { callbacks.Add(1) }))
	t.Cleanup(cb.Close)
	const page = "http://127.0.0.1:8080" // the try-it page's origin
	f, srv := newFake(t, Config{UnlinkCallbackURL: cb.URL, PageOrigins: []string{page}})
	if err := f.AddUser(User{ID: 77, Nickname: "n"}); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	port := u.Port()
	unlinkBody := `{"user_id":77,"referrer_type":"UNLINK_FROM_APPS"}`

	send := func(method, path, host, contentType, body string, header map[string]string) (int, http.Header, string) {
		t.Helper()
		h := map[string]string{"Content-Type": contentType}
		maps.Copy(h, header)
		a := localonlytest.Send(t, nil, method, srv.URL+path, host, body, h)
		return a.Status, a.Header, a.Body
	}

	refused := []struct {
		name, method, path, host, contentType, body string
		header                                      map[string]string
		status                                      int
	}{
		{"DNS rebinding, control API", "POST", "/_fake/unlink", "rebind.attacker.example:" + port, "application/json", unlinkBody,
			map[string]string{"Origin": "http://rebind.attacker.example:" + port}, 403},
		{"DNS rebinding, Kakao API", "GET", "/v2/user/me", "rebind.attacker.example:" + port, "", "", nil, 403},
		{"DNS rebinding, consent page", "GET", "/oauth/authorize?client_id=" + DefaultAppKey, "rebind.attacker.example", "", "", nil, 403},
		{"no-cors fetch from another site", "POST", "/_fake/unlink", "", "text/plain;charset=UTF-8", unlinkBody,
			map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"form post from another site", "POST", "/_fake/unlink", "", "application/x-www-form-urlencoded", "user_id=77",
			map[string]string{"Origin": "https://evil.example"}, 403},
		{"a sandboxed page (Origin null)", "POST", "/_fake/unlink", "", "application/json", unlinkBody,
			map[string]string{"Origin": "null"}, 403},
		{"JSON from another site", "POST", "/_fake/unlink", "", "application/json", unlinkBody,
			map[string]string{"Origin": "https://evil.example"}, 403},
		{"another port of this host, unlisted", "POST", "/_fake/tokens", "", "application/json", `{"user_id":77}`,
			map[string]string{"Origin": "http://127.0.0.1:9999", "Sec-Fetch-Site": "same-site"}, 403},
		{"another site, Origin withheld", "POST", "/_fake/unlink", "", "application/json", unlinkBody,
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"preflight of another site", "OPTIONS", "/_fake/unlink", "", "", "",
			map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, 403},
		{"a simple text/plain body", "POST", "/_fake/unlink", "", "text/plain", unlinkBody, nil, 415},
		{"a form body", "POST", "/_fake/users", "", "application/x-www-form-urlencoded", "id=78", nil, 415},
		{"no content type", "POST", "/_fake/unlink", "", "", unlinkBody, nil, 415},
	}
	for _, c := range refused {
		status, _, body := send(c.method, c.path, c.host, c.contentType, c.body, c.header)
		if status != c.status || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
	}
	if n := callbacks.Load(); n != 0 {
		t.Fatalf("refused requests sent %d unlink callbacks", n)
	}
	if _, err := f.MintTokens(TokenRequest{UserID: 78}); err == nil {
		t.Fatal("a refused request created a user")
	}

	// What works: programs (no browser marks), the local page (CORS for
	// its origin only), this host under its loopback names and addresses,
	// and containers reaching it as host.docker.internal.
	for _, c := range []struct {
		name, host string
		header     map[string]string
	}{
		{"a program", "", nil},
		{"localhost", "localhost:" + port, nil},
		{"a name under .localhost", "kakao.localhost:" + port, nil},
		{"IPv6 loopback", "[::1]:" + port, nil},
		{"a container", DockerHostName + ":" + port, nil},
		{"the local page", "", map[string]string{"Origin": page, "Sec-Fetch-Site": "same-site"}},
		{"the double's own page", "", map[string]string{"Origin": srv.URL, "Sec-Fetch-Site": "same-origin"}},
	} {
		before := callbacks.Load()
		status, h, body := send("POST", "/_fake/unlink", c.host, "application/json", unlinkBody, c.header)
		if status != http.StatusOK || callbacks.Load() != before+1 {
			t.Errorf("%s: %d %s, %d callbacks", c.name, status, body, callbacks.Load()-before)
		}
		if origin := c.header["Origin"]; origin == page && h.Get("Access-Control-Allow-Origin") != page {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.name, h.Get("Access-Control-Allow-Origin"))
		}
	}
	status, h, _ := send("OPTIONS", "/_fake/tokens", "", "", "", map[string]string{"Origin": page, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != page || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("the local page's preflight: %d %v", status, h)
	}
	if status, _, _ := send("GET", "/.well-known/jwks.json", "localhost:"+port, "", "", nil); status != http.StatusOK {
		t.Errorf("the JWKS at localhost: %d", status)
	}
}
