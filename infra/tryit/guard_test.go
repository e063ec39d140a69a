package tryit

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kakaoauth/kakaoauth/infra/localonly/localonlytest"
)

// The page's backend answers its own page only (it sends PageHeader, which
// no other site's page can send without a preflight), and only at this
// machine's addresses or its public URL. A DNS-rebinding page (its own
// name resolved to 127.0.0.1, so that its Origin matches the Host it
// sends) is refused by that Host, on every route: before, it passed the
// origin check and unlinked accounts. A request a browser marks as another
// site's is refused even without an Origin. Over real HTTP.
func TestBackendRefusesOtherSitesAndRebinding(t *testing.T) {
	var unlinks atomic.Int32
	double := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		unlinks.Add(1)
		_, _ = io.WriteString(w, `{"callback_status":200}`)
	}))
	t.Cleanup(double.Close)
	f := newFixture(t, WithDouble(double.URL), WithAccounts(fakeAccounts{4242: {KakaoID: 4242, Sub: "s-1", Status: "active"}}))
	port := strings.TrimPrefix(f.srv.URL[strings.LastIndex(f.srv.URL, ":"):], ":")
	rebound := "rebind.attacker.example:" + port

	// send sends what the page sends (its header), and header.
	send := func(method, path, host string, header map[string]string, body string) answer {
		t.Helper()
		h := map[string]string{PageHeader: "1"}
		maps.Copy(h, header)
		a := localonlytest.Send(t, nil, method, f.srv.URL+path, host, body, h)
		return answer{status: a.Status, raw: a.Body}
	}

	for name, c := range map[string]struct {
		method, path, host string
		header             map[string]string
	}{
		"rebinding: unlink": {"POST", "/tryit/api/unlink", rebound,
			map[string]string{"Content-Type": "application/json", "Origin": "http://" + rebound, "Sec-Fetch-Site": "same-origin"}},
		"rebinding: account":  {"GET", "/tryit/api/account?kakao_id=4242", rebound, map[string]string{"Sec-Fetch-Site": "same-origin"}},
		"rebinding: the page": {"GET", "/", rebound, nil},
		"rebinding: an asset": {"GET", "/tryit/assets/app.js", rebound, nil},
		"another site, Origin withheld": {"POST", "/tryit/api/unlink", "127.0.0.1:" + port,
			map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}},
		"another port of this host": {"GET", "/tryit/api/account?kakao_id=4242", "127.0.0.1:" + port,
			map[string]string{"Sec-Fetch-Site": "same-site"}},
		// An empty value sends no header: a request without the page's.
		"without the page's header": {"POST", "/tryit/api/unlink", "127.0.0.1:" + port,
			map[string]string{PageHeader: "", "Content-Type": "application/json", "Origin": "http://127.0.0.1:" + port}},
		"a read without the page's header": {"GET", "/tryit/api/account?kakao_id=4242", "127.0.0.1:" + port, map[string]string{PageHeader: ""}},
	} {
		if a := send(c.method, c.path, c.host, c.header, `{"kakao_id":4242}`); a.status != http.StatusForbidden || !strings.Contains(a.raw, `"Forbidden"`) {
			t.Errorf("%s: %d %s, want 403 Forbidden", name, a.status, a.raw)
		}
	}
	if n := unlinks.Load(); n != 0 {
		t.Fatalf("refused requests unlinked %d times", n)
	}
	// The page itself, at this machine's names and addresses.
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port} {
		h := map[string]string{"Content-Type": "application/json", "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}
		if a := send("POST", "/tryit/api/unlink", host, h, `{"kakao_id":4242}`); a.status != http.StatusOK {
			t.Errorf("the page at %s: %d %s", host, a.status, a.raw)
		}
		if a := send("GET", "/", host, nil, ""); a.status != http.StatusOK {
			t.Errorf("the page at %s: %d", host, a.status)
		}
	}
	if a := send("GET", "/tryit/api/account?kakao_id=4242", "127.0.0.1:"+port, nil, ""); a.status != http.StatusOK {
		t.Errorf("the page reading the account: %d %s", a.status, a.raw)
	}

	// kakaoauth tryit with a public URL: that name is the page's too.
	pub := newFixture(t, WithPublicURL("http://tryit.example.test:8090"))
	u, _ := url.Parse(pub.srv.URL)
	for host, want := range map[string]int{"tryit.example.test:8090": http.StatusOK, "rebind.attacker.example:" + u.Port(): http.StatusForbidden} {
		if a := localonlytest.Send(t, nil, "GET", pub.srv.URL+"/", host, "", nil); a.Status != want {
			t.Errorf("public URL page, Host %s: %d, want %d", host, a.Status, want)
		}

	}
}
