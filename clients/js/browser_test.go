package jsclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// The JavaScript client as a web app uses it, with the real aws-amplify
// from npm: test/browser/page.js, bundled by esbuild, in headless
// Chromium against the local stack (moto with the layer, the Kakao
// double, the broker). A person logs in through the double's consent
// page; Amplify sees the session; a refresh goes through Cognito; GET /me
// answers through Amplify's REST API; Amplify's identity-pool provider
// gets credentials whose caller is the identity pool's role; Amplify
// Storage, with those credentials, writes, lists and reads a file under
// the identity's own prefix of the stack's bucket in moto's S3; sign-out
// revokes the refresh token.

func TestMain(m *testing.M) {
	code := moto.RunTests(m)
	chromium.Shutdown()
	os.Exit(code)
}

var bundled struct {
	once sync.Once
	js   []byte
	err  error
}

// pageBundle is test/browser/page.js bundled with esbuild (from
// node_modules, which `make test` installs with npm ci).
func pageBundle(t *testing.T) []byte {
	t.Helper()
	bundled.once.Do(func() {
		esbuild := filepath.Join("node_modules", ".bin", "esbuild")
		if _, err := os.Stat(esbuild); err != nil {
			bundled.err = fmt.Errorf("esbuild is not installed in clients/js: run `make tools` (infra/install-tools.sh runs npm ci there): %v", err)
			return
		}
		out := filepath.Join(os.TempDir(), fmt.Sprintf("kakaoauth-page-%d.js", os.Getpid()))
		defer os.Remove(out)
		cmd := exec.Command(esbuild, filepath.Join("test", "browser", "page.js"), "--bundle", "--format=esm",
			"--platform=browser", "--target=es2022", "--minify", "--log-level=warning", "--outfile="+out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			bundled.err = fmt.Errorf("esbuild: %v\n%s", err, msg)
			return
		}
		bundled.js, bundled.err = os.ReadFile(out)
	})
	if bundled.err != nil {
		t.Fatal(bundled.err)
	}
	return bundled.js
}

// webApp serves the test page and what its backend does: the Kakao code
// exchange (done server-side, as the Kakao client secret would be).
type webApp struct {
	*httptest.Server
	mu     sync.Mutex
	config map[string]any
	kakao  string
}

func newWebApp(t *testing.T, js []byte) *webApp {
	t.Helper()
	index, err := os.ReadFile(filepath.Join("test", "browser", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	a := &webApp{}
	mux := http.NewServeMux()
	serve := func(ctype string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(body)
		}
	}
	mux.HandleFunc("GET /{$}", serve("text/html; charset=utf-8", index))
	mux.HandleFunc("GET /callback", serve("text/html; charset=utf-8", index))
	mux.HandleFunc("GET /page.js", serve("text/javascript; charset=utf-8", js))
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a.config)
	})
	mux.HandleFunc("POST /exchange", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Code, RedirectURI string }
		_ = json.NewDecoder(r.Body).Decode(&struct {
			Code        *string `json:"code"`
			RedirectURI *string `json:"redirect_uri"`
		}{&req.Code, &req.RedirectURI})
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {kakaofake.DefaultAppKey},
			"redirect_uri": {req.RedirectURI}, "code": {req.Code}}
		resp, err := http.PostForm(a.kakao+"/oauth/token", form)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

// idle waits until the page at the app's origin has finished what it was
// doing (it marks itself aria-busy meanwhile).
func idle(tab *chromium.Tab, origin string) {
	tab.WaitTrue("the page, done", fmt.Sprintf(`location.origin === %q && document.body.getAttribute("aria-busy") === "false"`, origin))
}

func TestWebAppWithAmplify(t *testing.T) {
	js := pageBundle(t)
	t.Logf("page bundle (the client, aws-amplify's auth, api and storage, minified): %d bytes", len(js))
	app := newWebApp(t, js)
	s := localstack.ForTest(t, "../../template.yaml", func(c *localstack.Config) { c.CORSOrigins = []string{app.URL} })
	st := s.Stack()
	app.kakao = s.KakaoURL()
	app.config = map[string]any{
		"apiUrl": s.APIURL(), "region": moto.Region, "userPoolId": st.UserPoolID, "userPoolClientId": st.UserPoolClientID,
		"cognitoEndpoint": s.MotoURL() + "/", "identityPoolId": st.IdentityPoolID, "stsEndpoint": s.MotoURL(),
		"kakaoAuthorizeUrl": s.KakaoURL() + "/oauth/authorize", "kakaoClientId": kakaofake.DefaultAppKey,
		"signInWith": "access_token", "userFilesBucket": st.UserFilesBucket, "storageText": storageText,
	}

	tab := chromium.ForTest(t)
	tab.Navigate(app.URL + "/")
	idle(tab, app.URL)
	if got := tab.Text("#sub"); got != "" {
		t.Fatalf("signed in before logging in: %q", got)
	}

	// A person logs in with Kakao: the double's consent page, then back.
	tab.Click("#kakao-login")
	tab.WaitVisible("#consent")
	if loc := tab.Location(); !strings.HasPrefix(loc, s.KakaoURL()+"/oauth/authorize?") || !strings.Contains(loc, "nonce=") {
		t.Fatalf("the login went to %s", loc)
	}
	tab.Click("#consent")
	idle(tab, app.URL)
	if e := tab.Text("#error"); e != "" {
		t.Fatalf("login failed: %s %s", e, tab.Text("#error-message"))
	}
	m, err := s.Deps().Mappings().Get(context.Background(), kakaofake.DemoUser.ID)
	if err != nil {
		t.Fatal(err)
	}
	sub := tab.Text("#sub")
	want := map[string]string{
		"#sub": m.Sub, "#new-user": "true", "#amplify-sub": m.Sub, "#amplify-same-token": "true",
		"#amplify-username": "kakao_4242", "#amplify-user-id": m.Sub,
	}
	check := func(want map[string]string) {
		t.Helper()
		for sel, v := range want {
			if got := tab.Text(sel); got != v {
				t.Errorf("%s = %q, want %q", sel, got, v)
			}
		}
	}
	check(want)

	// A refresh through Cognito (moto), asked of Amplify.
	tab.Click("#refresh")
	idle(tab, app.URL)
	check(map[string]string{"#error": "", "#refreshed": "true"})

	// GET /me through Amplify's REST API with the ID token.
	tab.Click("#me")
	idle(tab, app.URL)
	check(map[string]string{"#error": "", "#me-sub": sub, "#me-kakao-id": "4242"})

	// AWS credentials: Amplify's identity-pool provider with the client's
	// ID token; STS, signed by Amplify with them, names the pool's role.
	tab.Click("#credentials")
	idle(tab, app.URL)
	roleName := st.IdentityRoleARN[strings.LastIndex(st.IdentityRoleARN, "/")+1:]
	check(map[string]string{"#error": ""})
	identityID := tab.Text("#identity-id")
	if arn := tab.Text("#caller-arn"); !strings.HasSuffix(arn, ":assumed-role/"+roleName+"/CognitoIdentityCredentials") {
		t.Errorf("caller %q, want the identity pool's role %s", arn, roleName)
	}
	// The identity is the user's for good: another sign-in of the same
	// person gets the same one.
	if got := identityOf(t, s, sub); got != identityID {
		t.Errorf("identity %q on the page, %q for a new sign-in", identityID, got)
	}

	// Amplify Storage with those credentials, against moto's S3.
	checkStorage(t, s, tab, app.URL, identityID)

	// Sign-out revokes: the old refresh token is refused, Amplify sees nobody.
	tab.Click("#sign-out")
	idle(tab, app.URL)
	check(map[string]string{"#error": "", "#signed-out": "true", "#old-refresh": "NotAuthorizedException",
		"#amplify-after": "no tokens UserUnAuthenticatedException"})
}

// storageText is what the page uploads: Korean, so that the bytes are
// checked, not only ASCII.
const storageText = "안녕하세요, Kakao! hello.txt"

// checkStorage has the page upload, list and download a file under its
// identity's prefix with Amplify Storage, and checks what moto's S3 holds.
// Amplify calls S3 at the AWS hostname it builds
// (https://<bucket>.s3.<region>.amazonaws.com) and has no setting for a
// local one: customEndpoint must be a bare host name reached over HTTPS,
// and dangerouslyConnectToHttpEndpointForTesting (a fixed
// http://localhost:20005) throws InvalidCustomEndpoint in
// @aws-amplify/storage 6.17.0, whose s3data/base.mjs accepts that endpoint
// and then refuses it for containing "://". So the tab routes that
// hostname to moto, path-style (the moto layer answers only its own host
// name); the browser still does everything else, CORS preflights included.
func checkStorage(t *testing.T, s *localstack.Main, tab *chromium.Tab, origin, identityID string) {
	t.Helper()
	ctx := context.Background()
	bucket := s.Stack().UserFilesBucket
	pathStyle, err := url.Parse(s.MotoURL() + "/" + bucket)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var signedBy []string // each S3 request's method and SigV4 access key id
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(pathStyle)
		if _, cred, ok := strings.Cut(r.In.Header.Get("Authorization"), "Credential="); ok {
			key, _, _ := strings.Cut(cred, "/")
			mu.Lock()
			signedBy = append(signedBy, r.In.Method+" "+key)
			mu.Unlock()
		}
	}}
	tab.Route("https://"+bucket+".s3."+moto.Region+".amazonaws.com/*", proxy)

	tab.Click("#storage")
	idle(tab, origin)
	if e := tab.Text("#error"); e != "" {
		t.Fatalf("storage: %s %s", e, tab.Text("#error-message"))
	}
	key := "private/" + identityID + "/hello.txt"
	size := len([]byte(storageText))
	want := map[string]string{"#storage-path": key, "#storage-list": fmt.Sprintf("%s %d", key, size), "#storage-text": storageText}
	for sel, v := range want {
		if got := tab.Text(sel); got != v {
			t.Errorf("%s = %q, want %q", sel, got, v)
		}
	}
	// Every S3 call was signed with the identity pool's credentials that
	// Amplify holds for this login: PUT, then the list and the download.
	accessKey := tab.Text("#storage-access-key")
	mu.Lock()
	got := slices.Clone(signedBy)
	mu.Unlock()
	if wantSigned := []string{"PUT " + accessKey, "GET " + accessKey, "GET " + accessKey}; accessKey == "" || !slices.Equal(got, wantSigned) {
		t.Errorf("S3 requests signed by %q, want %q", got, wantSigned)
	}

	// Server truth: moto's bucket holds exactly that object, with those
	// bytes, under the identity's prefix.
	api := s3.NewFromConfig(moto.AWSConfig(ctx, s.MotoURL()), func(o *s3.Options) { o.UsePathStyle = true })
	listed, err := api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range listed.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if !slices.Equal(keys, []string{key}) {
		t.Errorf("bucket %s holds %q, want %q", bucket, keys, key)
	}
	obj, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if b, _ := io.ReadAll(obj.Body); string(b) != storageText {
		t.Errorf("%s holds %q, want %q", key, b, storageText)
	}
}

// identityOf signs the user (sub) in again with the broker's flow and asks
// the identity pool which identity that login is.
func identityOf(t *testing.T, s *localstack.Main, sub string) string {
	t.Helper()
	ctx := context.Background()
	resp, err := http.Post(s.KakaoURL()+"/_fake/tokens", "application/json", strings.NewReader(fmt.Sprintf(`{"user_id":%d}`, kakaofake.DemoUser.ID)))
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	body, _ := json.Marshal(map[string]any{"access_token": tok["access_token"]})
	resp, err = http.Post(s.APIURL()+"/auth/kakao", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if login["sub"] != sub {
		t.Fatalf("second login: %v", login)
	}
	cfg := moto.AWSConfig(ctx, s.MotoURL())
	out, err := ci.NewFromConfig(cfg).GetId(ctx, &ci.GetIdInput{IdentityPoolId: aws.String(s.Stack().IdentityPoolID),
		Logins: map[string]string{"cognito-idp." + moto.Region + ".amazonaws.com/" + s.Stack().UserPoolID: login["id_token"].(string)}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.IdentityId)
}
