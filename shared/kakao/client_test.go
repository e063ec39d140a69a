package kakao

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
)

const secretToken = "tok-SECRET-abc123"

// recorded serves one testdata body for every request and counts them.
type recorded struct {
	status int
	file   string
	hits   atomic.Int32
	last   atomic.Pointer[http.Request]
}

func (rec *recorded) server(t *testing.T) *httptest.Server {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", rec.file))
	if err != nil {
		t.Fatal(err)
	}
	ct := "application/json;charset=UTF-8"
	if strings.HasSuffix(rec.file, ".html") {
		ct = "text/html"
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.hits.Add(1)
		rec.last.Store(r)
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testClient(base string, opts ...Option) *Client {
	return NewClient(nil, append([]Option{WithAPIBaseURL(base), WithBackoff(time.Millisecond)}, opts...)...)
}

func TestAccessTokenInfoRecorded(t *testing.T) {
	rec := &recorded{status: 200, file: "access_token_info.json"}
	srv := rec.server(t)
	info, err := testClient(srv.URL).AccessTokenInfo(context.Background(), secretToken)
	if err != nil {
		t.Fatal(err)
	}
	if info != (TokenInfo{ID: 3141592653, ExpiresIn: 21538, AppID: 1001}) {
		t.Fatalf("info %+v", info)
	}
	r := rec.last.Load()
	if r.Method != http.MethodGet || r.URL.Path != "/v1/user/access_token_info" || r.Header.Get("Authorization") != "Bearer "+secretToken {
		t.Fatalf("request %s %s %q", r.Method, r.URL, r.Header.Get("Authorization"))
	}
}

func TestMeRecorded(t *testing.T) {
	for _, c := range []struct {
		file string
		want Profile
	}{
		{"user_me_full.json", Profile{ID: 3141592653, Email: "gildong@example.com", IsEmailValid: true, IsEmailVerified: true, Nickname: "홍길동"}},
		{"user_me_no_email.json", Profile{ID: 3141592653, Nickname: "홍길동"}},
		{"user_me_unverified_email.json", Profile{ID: 3141592653, Email: "gildong@example.com", IsEmailValid: true, Nickname: "홍길동"}},
		{"user_me_invalid_email.json", Profile{ID: 3141592653, Email: "gildong@example.com", IsEmailVerified: true, Nickname: "홍길동"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			rec := &recorded{status: 200, file: c.file}
			srv := rec.server(t)
			p, err := testClient(srv.URL).Me(context.Background(), secretToken)
			if err != nil {
				t.Fatal(err)
			}
			if p != c.want {
				t.Fatalf("got %+v, want %+v", p, c.want)
			}
			r := rec.last.Load()
			if r.URL.Path != "/v2/user/me" || r.URL.Query().Get("property_keys") != `["kakao_account.email","kakao_account.profile"]` ||
				r.Header.Get("Authorization") != "Bearer "+secretToken {
				t.Fatalf("request %s %q", r.URL, r.Header.Get("Authorization"))
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	for _, c := range []struct {
		file     string
		status   int
		wantKind string
		wantHits int32 // with 2 retries: 3 means retried, 1 means not
	}{
		{"error_-401.json", 401, "InvalidKakaoToken", 1},
		{"error_-2.json", 400, "InvalidKakaoToken", 1},
		{"error_-1.json", 400, "KakaoUnavailable", 3},
		{"error_-1.json", 500, "KakaoUnavailable", 3},
		{"error_-10.json", 400, "KakaoQuotaExceeded", 1},
		{"error_-11.json", 400, "KakaoQuotaExceeded", 1},
		{"error_-10.json", 429, "KakaoQuotaExceeded", 1},
		{"error_-603.json", 400, "KakaoUnavailable", 3},
		{"error_500.html", 429, "KakaoQuotaExceeded", 1},
		{"error_-9798.json", 503, "KakaoUnavailable", 3},
		{"error_-3.json", 403, "KakaoUnavailable", 1},
		{"error_500.html", 500, "KakaoUnavailable", 3},
		{"error_500.html", 502, "KakaoUnavailable", 3},
		{"error_500.html", 401, "InvalidKakaoToken", 1},
		{"error_500.html", 404, "KakaoUnavailable", 1},
		{"error_500.html", 200, "KakaoUnavailable", 1}, // a 200 that is not JSON
	} {
		t.Run(c.file+"/"+http.StatusText(c.status), func(t *testing.T) {
			for _, call := range []string{"info", "me"} {
				rec := &recorded{status: c.status, file: c.file}
				srv := rec.server(t)
				cl := testClient(srv.URL)
				var err error
				if call == "info" {
					_, err = cl.AccessTokenInfo(context.Background(), secretToken)
				} else {
					_, err = cl.Me(context.Background(), secretToken)
				}
				if got := kakaoauth.ErrorName(err); got != c.wantKind {
					t.Fatalf("%s: error %v (%s), want %s", call, err, got, c.wantKind)
				}
				if got := rec.hits.Load(); got != c.wantHits {
					t.Fatalf("%s: %d calls, want %d", call, got, c.wantHits)
				}
				if strings.Contains(err.Error(), secretToken) {
					t.Fatalf("error leaks the token: %v", err)
				}
			}
		})
	}
}

func TestErrorRedactsEchoedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"msg":"token ` + secretToken + ` does not exist","code":-401}`))
	}))
	defer srv.Close()
	_, err := testClient(srv.URL).AccessTokenInfo(context.Background(), secretToken)
	var inv *kakaoauth.InvalidKakaoToken
	if !errors.As(err, &inv) || strings.Contains(err.Error(), secretToken) || !strings.Contains(err.Error(), "-401") {
		t.Fatalf("error %v", err)
	}
}

// fakeServer runs the Kakao double with one user and returns an access token.
func fakeServer(t testing.TB, cfg kakaofake.Config) (*kakaofake.Fake, *httptest.Server) {
	t.Helper()
	f, err := kakaofake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	f.SetBaseURL(srv.URL) // the issuer of tokens minted through the Go API
	return f, srv
}

var gildong = kakaofake.User{ID: 3141592653, Email: "gildong@example.com", IsEmailValid: true, IsEmailVerified: true, Nickname: "홍길동"}

func addUser(t testing.TB, f *kakaofake.Fake, u kakaofake.User) {
	t.Helper()
	if err := f.AddUser(u); err != nil {
		t.Fatal(err)
	}
}

func mint(t testing.TB, f *kakaofake.Fake, req kakaofake.TokenRequest) kakaofake.Tokens {
	t.Helper()
	tok, err := f.MintTokens(req)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRetries(t *testing.T) {
	f, srv := fakeServer(t, kakaofake.Config{})
	addUser(t, f, gildong)
	tok := mint(t, f, kakaofake.TokenRequest{UserID: gildong.ID}).AccessToken
	const path = "/v1/user/access_token_info"

	for _, c := range []struct {
		name     string
		retries  int
		fault    kakaofake.Fault
		wantKind string // "" for success
		wantHits int
	}{
		{"two 500s then success", 2, kakaofake.Fault{Status: 500, Count: 2}, "", 3},
		{"three 500s exhaust two retries", 2, kakaofake.Fault{Status: 500, Count: 3}, "KakaoUnavailable", 3},
		{"maintenance then success", 1, kakaofake.Fault{Status: 503, Count: 1}, "", 2},
		{"quota (-10) is never retried", 2, kakaofake.Fault{Status: 400, Code: -10, Count: 1}, "KakaoQuotaExceeded", 1},
		{"a paid API's limit (-11) is never retried", 2, kakaofake.Fault{Status: 400, Code: -11, Count: 1}, "KakaoQuotaExceeded", 1},
		{"429 is a quota whatever its code", 2, kakaofake.Fault{Status: 429, Code: -5, Count: 1}, "KakaoQuotaExceeded", 1},
		{"a timeout inside Kakao (-603) is retried", 1, kakaofake.Fault{Status: 400, Code: -603, Count: 1}, "", 2},
		{"no retries configured", 0, kakaofake.Fault{Status: 500, Count: 1}, "KakaoUnavailable", 1},
		{"-401 is never retried", 2, kakaofake.Fault{Status: 401, Count: 1}, "InvalidKakaoToken", 1},
		{"other 4xx is never retried", 2, kakaofake.Fault{Status: 403, Code: -5, Count: 1}, "KakaoUnavailable", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.Hits(path)
			c.fault.Path = path
			if err := f.SetFault(c.fault); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = f.SetFault(kakaofake.Fault{Path: path}) })
			info, err := testClient(srv.URL, WithRetries(c.retries)).AccessTokenInfo(context.Background(), tok)
			if got := kakaoauth.ErrorName(err); got != c.wantKind {
				t.Fatalf("error %v, want kind %q", err, c.wantKind)
			}
			if err == nil && info.ID != gildong.ID {
				t.Fatalf("info %+v", info)
			}
			if got := f.Hits(path) - before; got != c.wantHits {
				t.Fatalf("%d calls, want %d", got, c.wantHits)
			}
		})
	}
}

func TestTimeoutIsUnavailableAndRetried(t *testing.T) {
	f, srv := fakeServer(t, kakaofake.Config{})
	addUser(t, f, gildong)
	tok := mint(t, f, kakaofake.TokenRequest{UserID: gildong.ID}).AccessToken
	if err := f.SetFault(kakaofake.Fault{Path: "/v2/user/me", Count: 2, DelayMS: 10_000}); err != nil {
		t.Fatal(err)
	}
	_, err := testClient(srv.URL, WithTimeout(250*time.Millisecond), WithRetries(1)).Me(context.Background(), tok)
	var ku *kakaoauth.KakaoUnavailable
	if !errors.As(err, &ku) || !strings.Contains(ku.Reason, "timeout") {
		t.Fatalf("error %v", err)
	}
	if got := f.Hits("/v2/user/me"); got != 2 {
		t.Fatalf("%d calls, want 2 (one retry)", got)
	}
}

func TestNetworkErrorIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, err := testClient(srv.URL).AccessTokenInfo(context.Background(), secretToken)
	var ku *kakaoauth.KakaoUnavailable
	if !errors.As(err, &ku) || !strings.Contains(ku.Reason, "network error") {
		t.Fatalf("error %v", err)
	}
}

func TestCanceledContextStopsRetrying(t *testing.T) {
	var hits atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		cancel() // the caller gives up while Kakao is failing
		w.WriteHeader(500)
	}))
	defer srv.Close()
	_, err := testClient(srv.URL, WithRetries(5), WithBackoff(time.Hour)).Me(ctx, secretToken)
	if kakaoauth.ErrorName(err) != "KakaoUnavailable" || hits.Load() != 1 {
		t.Fatalf("error %v after %d calls", err, hits.Load())
	}
}

func TestMeAgainstFake(t *testing.T) {
	f, srv := fakeServer(t, kakaofake.Config{})
	addUser(t, f, gildong)
	quiet := kakaofake.User{ID: 99, Nickname: "quiet"}
	addUser(t, f, quiet)
	cl := testClient(srv.URL)
	p, err := cl.Me(context.Background(), mint(t, f, kakaofake.TokenRequest{UserID: gildong.ID}).AccessToken)
	if err != nil || p != (Profile{ID: gildong.ID, Email: gildong.Email, IsEmailValid: true, IsEmailVerified: true, Nickname: gildong.Nickname}) {
		t.Fatalf("profile %+v, %v", p, err)
	}
	p, err = cl.Me(context.Background(), mint(t, f, kakaofake.TokenRequest{UserID: quiet.ID}).AccessToken)
	if err != nil || p != (Profile{ID: 99, Nickname: "quiet"}) {
		t.Fatalf("profile %+v, %v", p, err)
	}
}

func TestClientDefaults(t *testing.T) {
	c := NewClient(nil)
	if c.apiBase != DefaultAPIBaseURL || c.AuthBaseURL() != DefaultAuthBaseURL || c.timeout != 3*time.Second || c.retries != 2 {
		t.Fatalf("defaults %+v", c)
	}
	c = NewClient(nil, WithAuthBaseURL("http://x/"), WithRetries(-3))
	if c.AuthBaseURL() != "http://x" || c.retries != 0 {
		t.Fatalf("options %+v", c)
	}
}
