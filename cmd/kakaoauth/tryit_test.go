package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// freePort picks a port for the page before the stack that must allow its
// origin starts.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// startTryIt runs `kakaoauth tryit` against the local stack's API, pool
// and Kakao double as if they were deployed, and returns what it printed
// up to its CORS check.
func startTryIt(t *testing.T, s *localstack.Main, motoURL, port string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"tryit", "-api-url", s.APIURL(), "-user-pool-id", s.Stack().UserPoolID,
			"-user-pool-client-id", s.Stack().UserPoolClientID, "-endpoint-url", motoURL,
			"-kakao-auth-url", s.KakaoURL(), "-kakao-client-id", kakaofake.DefaultAppKey, "-addr", "127.0.0.1:" + port}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("tryit: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("tryit did not stop")
		}
	})
	var out strings.Builder
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "The stack must allow") {
			break
		}
	}
	// The CORS check's verdict, if any, is the next line; read on in the
	// background so the command never blocks on its output.
	verdict := make(chan string, 1)
	go func() {
		if lines.Scan() {
			verdict <- lines.Text()
		}
		close(verdict)
		io.Copy(io.Discard, pr)
	}()
	select {
	case v := <-verdict:
		out.WriteString(v + "\n")
	case <-time.After(2 * time.Second):
	}
	return out.String()
}

// `kakaoauth tryit` against a stack (here the local one, standing in for
// a deployed stack: its own origin, CORS, the pool through the public app
// client with no credentials), clicked through in Chromium; and a page on
// an origin the stack does not allow, which the browser refuses.
func TestTryItCommandInTheBrowser(t *testing.T) {
	motoURL := moto.ForTest(t).URL()
	allowed, other := freePort(t), freePort(t)
	s := localstack.ForTest(t, "../../template.yaml", func(c *localstack.Config) {
		c.CORSOrigins = []string{"http://localhost:" + allowed}
	})

	out := startTryIt(t, s, motoURL, allowed)
	for _, want := range []string{
		"kakaoauth tryit: open http://localhost:" + allowed + "/",
		"Platform > Web > Site domain   http://localhost:" + allowed,
		"Kakao Login > Redirect URI     http://localhost:" + allowed + "/callback",
		"CorsAllowedOrigins=http://localhost:" + allowed,
		"POST " + s.APIURL() + "/auth/kakao",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("tryit printed no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warning") {
		t.Fatalf("tryit warns about an origin the API allows:\n%s", out)
	}

	tab := chromium.ForTest(t)
	// Kakao returns to the registered origin only: the page sends other
	// host names there first.
	tab.Navigate("http://127.0.0.1:" + allowed + "/")
	if got := tab.Location(); got != "http://localhost:"+allowed+"/" {
		t.Fatalf("page at %s, want the registered origin", got)
	}
	tab.Click("#kakao-login")
	tab.WaitVisible("#consent")
	if !strings.Contains(tab.Location(), "redirect_uri=http%3A%2F%2Flocalhost%3A"+allowed+"%2Fcallback") {
		t.Fatalf("authorize request %s", tab.Location())
	}
	tab.Click("#consent")
	tab.WaitTrue("the page, done", `location.origin === "http://localhost:`+allowed+`" && document.body.getAttribute("aria-busy") === "false"`)
	sub := tab.Text("#sub")
	if m, err := s.Deps().Mappings().Get(context.Background(), kakaofake.DemoUser.ID); err != nil || m.Sub != sub {
		t.Fatalf("mapping %+v %v, page sub %s", m, err, sub)
	}
	if got := tab.Text("#signature"); got != "verified against the pool's JWKS" {
		t.Errorf("signature %q", got)
	}
	if got := tab.Text("#target"); got != "stack "+s.APIURL() {
		t.Errorf("target %q", got)
	}
	// No local-only buttons against a deployed stack.
	if hidden, _ := tab.Eval(`String(document.querySelector("#unlink").hidden)`); hidden != "true" {
		t.Error("unlink is offered against a deployed stack")
	}
	// A stack without GET /me and without an identity pool (the
	// parameters' defaults): the page says so, and offers neither.
	for sel, want := range map[string]string{
		"#me":          "This stack has no GET /me: its EnableMeRoute parameter is off.",
		"#credentials": "This stack has no identity pool: its EnableIdentityPool parameter is off.",
	} {
		if got := tab.Text(sel + "-outcome .outcome-text"); got != want {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
		if disabled, _ := tab.Eval(`String(document.querySelector("` + sel + `").disabled)`); disabled != "true" {
			t.Errorf("%s is offered", sel)
		}
	}
	// The refresh goes from the page's origin to Cognito, as a deployed
	// page's does (Cognito's CORS, the page's connect-src).
	tab.Click("#refresh")
	tab.WaitText("#refresh-outcome", func(s string) bool { return strings.Contains(s, "refreshed with REFRESH_TOKEN_AUTH") })

	// A page on another origin: tryit warns, and the browser refuses the
	// API's answer.
	out = startTryIt(t, s, motoURL, other)
	if !strings.Contains(out, "warning: the API does not allow http://localhost:"+other) {
		t.Fatalf("tryit does not warn about an origin the API refuses:\n%s", out)
	}
	tab.Navigate("http://localhost:" + other + "/")
	tab.Click("#kakao-login")
	tab.WaitVisible("#consent")
	tab.Click("#consent")
	tab.WaitText("#error", func(s string) bool { return s == "NetworkError" })
}

// -stack reads the API URL and the pool from the stack's outputs; the
// region comes from the pool id when the AWS config has none.
func TestTryItFromStackOutputs(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions && r.URL.Path == "/v1/auth/kakao" {
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	var out bytes.Buffer
	m := TryItMain{Stack: "kakaoauth-prod", Stacks: fakeStacks{outputs: map[string]string{
		"ApiUrl": api.URL + "/v1", "UserPoolId": "ap-northeast-2_AbCdEf123", "UserPoolClientId": "client123"}},
		KakaoAuthURL: "https://kauth.kakao.com", KakaoClientID: "restkey123", Addr: "127.0.0.1:0", Out: &out}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !regexp.MustCompile(`^http://localhost:\d+$`).MatchString(m.URL()) {
		t.Fatalf("URL %q", m.URL())
	}
	for _, want := range []string{"POST " + api.URL + "/v1/auth/kakao", "ap-northeast-2_AbCdEf123 (app client client123, ap-northeast-2)", "REST API key restkey123 at https://kauth.kakao.com\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "warning") {
		t.Errorf("warning for an allowed origin:\n%s", out.String())
	}
	// The page carries the stack's settings, and the Kakao app's secret
	// would never be among them.
	resp, err := http.Get(m.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`"apiURL":"` + api.URL + `/v1"`, `"authorizeURL":"https://kauth.kakao.com/oauth/authorize"`,
		`"clientID":"restkey123"`, `"redirectURI":"` + m.URL() + `/callback"`, `"unlink":false`, `"accounts":false`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page config lacks %s", want)
		}
	}

	for _, bad := range []TryItMain{
		{Stack: "nope", Stacks: fakeStacks{}, KakaoClientID: "k", Addr: "127.0.0.1:0"},
		{APIURL: api.URL, UserPoolID: "ap-northeast-2_x", UserPoolClientID: "c", Addr: "127.0.0.1:0"},
		{APIURL: api.URL, KakaoClientID: "k", Addr: "127.0.0.1:0"},
	} {
		if err := bad.Run(context.Background()); err == nil {
			bad.Close()
			t.Errorf("%+v: want an error", bad)
		}
	}
}
