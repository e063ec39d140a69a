package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth/workflow"
)

// fakeDomain is a stack's hosted UI as smoke sees it over HTTP: the
// authorize endpoint's redirect to Kakao, the token endpoint, and the
// pool's JWKS (at the CognitoEndpoint path).
type fakeDomain struct {
	*httptest.Server
	key      *rsa.PrivateKey
	mu       sync.Mutex
	location func(domain string) string // where authorize redirects
	sub      string                     // the ID token's
	forms    []url.Values
}

const (
	smokePool   = "ap-northeast-2_Test"
	smokeClient = "hosted-client"
)

func newFakeDomain(t *testing.T) *fakeDomain {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDomain{key: key, sub: "s-1"}
	d.location = func(domain string) string {
		return "https://kauth.kakao.com/oauth/authorize?" + url.Values{"client_id": {"restkey0123"}, "redirect_uri": {domain + "/oauth2/idpresponse"},
			"response_type": {"code"}, "scope": {"openid profile_nickname account_email"}, "state": {"opaque"}}.Encode()
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("identity_provider") != "Kakao" || q.Get("client_id") != smokeClient || q.Get("state") != hostedSmokeState {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		d.mu.Lock()
		loc := d.location(d.URL)
		d.mu.Unlock()
		http.Redirect(w, r, loc, http.StatusFound)
	})
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		d.mu.Lock()
		d.forms = append(d.forms, r.PostForm)
		sub := d.sub
		d.mu.Unlock()
		if r.PostForm.Get("code") != "good-code" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		idt, _ := jwt.Signed(signer).Claims(map[string]any{
			"iss": "https://cognito-idp.ap-northeast-2.amazonaws.com/" + smokePool, "aud": smokeClient, "token_use": "id",
			"sub": sub, "cognito:username": "kakao_1", "custom:kakao_id": "1", "exp": time.Now().Add(time.Hour).Unix(),
		}).Serialize()
		_ = json.NewEncoder(w).Encode(map[string]any{"id_token": idt, "access_token": strings.Repeat("a", 300), "refresh_token": "r", "expires_in": 3600, "token_type": "Bearer"})
	})
	mux.HandleFunc("GET /"+smokePool+"/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	d.Server = httptest.NewServer(mux)
	t.Cleanup(d.Close)
	return d
}

func (d *fakeDomain) smoke(apiURL, callback string, out *bytes.Buffer) SmokeMain {
	return SmokeMain{APIURL: apiURL, AccessToken: "good-token", HTTP: http.DefaultClient, Out: out, Hosted: HostedUISmoke{
		Enabled: true, DomainURL: d.URL, ClientID: smokeClient, RedirectURI: "https://app.example.com/callback", KakaoClientID: "restkey0123",
		UserPoolID: smokePool, CognitoEndpoint: d.URL, Callback: callback,
	}}
}

// Without a callback: the authorize endpoint is checked and the address to
// sign in at is printed, with what to do with the first sign-in's error.
func TestSmokeHostedUIAuthorize(t *testing.T) {
	d := newFakeDomain(t)
	var out bytes.Buffer
	m := d.smoke(standIn(t, false), "", &out)
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"ok    hosted UI authorize", `302 to Kakao: client_id=restkey0123 scope="openid profile_nickname account_email"`,
		"skip  hosted UI sign-in", d.URL + "/oauth2/authorize?client_id=hosted-client&identity_provider=Kakao", workflow.LinkedErrorCode} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}

	// Redirects that are not what the stack configured fail, each saying why.
	for want, loc := range map[string]func(string) string{
		"client_id other, not the REST API key restkey0123": func(domain string) string {
			return "https://kauth.kakao.com/oauth/authorize?client_id=other&response_type=code&scope=openid+profile_nickname+account_email&redirect_uri=" + url.QueryEscape(domain+"/oauth2/idpresponse")
		},
		"scope lacks account_email": func(domain string) string {
			return "https://kauth.kakao.com/oauth/authorize?client_id=restkey0123&response_type=code&scope=openid+profile_nickname&redirect_uri=" + url.QueryEscape(domain+"/oauth2/idpresponse")
		},
		"goes to https://accounts.example.com/oauth/authorize": func(domain string) string {
			return "https://accounts.example.com/oauth/authorize?client_id=restkey0123&response_type=code&scope=openid+profile_nickname+account_email&redirect_uri=" + url.QueryEscape(domain+"/oauth2/idpresponse")
		},
		"redirect_uri https://elsewhere.example.com/cb": func(string) string {
			return "https://kauth.kakao.com/oauth/authorize?client_id=restkey0123&response_type=code&scope=openid+profile_nickname+account_email&redirect_uri=https://elsewhere.example.com/cb"
		},
	} {
		d.mu.Lock()
		d.location = loc
		d.mu.Unlock()
		out.Reset()
		m := d.smoke(standIn(t, false), "", &out)
		if err := m.Run(t.Context()); err == nil || !strings.Contains(out.String(), "FAIL  hosted UI authorize") || !strings.Contains(out.String(), want) {
			t.Fatalf("want a failure naming %q: %v\n%s", want, err, out.String())
		}
	}
}

// With the callback: the code gets the pool's tokens (verified against its
// JWKS), whose sub must be the broker's for the same Kakao account.
func TestSmokeHostedUISameSub(t *testing.T) {
	d := newFakeDomain(t)
	api := standIn(t, false) // its login answers sub s-1
	good := "https://app.example.com/callback?code=good-code&state=" + hostedSmokeState
	var out bytes.Buffer
	m := d.smoke(api, good, &out)
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"ok    hosted UI sign-in", "sub=s-1 username=kakao_1 custom:kakao_id=1", "ok    same sub as the broker       s-1"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	if f := d.forms[0]; f.Get("grant_type") != "authorization_code" || f.Get("client_id") != smokeClient || f.Get("redirect_uri") != "https://app.example.com/callback" {
		t.Fatalf("token request %v", f)
	}
	if longToken.MatchString(out.String()) {
		t.Fatalf("a token printed whole:\n%s", out.String())
	}

	d.mu.Lock()
	d.sub = "s-2"
	d.mu.Unlock()
	out.Reset()
	m = d.smoke(api, good, &out)
	if err := m.Run(t.Context()); err == nil || !strings.Contains(out.String(), "FAIL  same sub as the broker") {
		t.Fatalf("two subs for one Kakao account passed: %v\n%s", err, out.String())
	}

	for want, cb := range map[string]string{
		"linked the Kakao account": "https://app.example.com/callback?state=" + hostedSmokeState + "&error=invalid_request&error_description=" +
			url.QueryEscape("PreSignUp failed with error "+workflow.LinkedErrorCode+": your Kakao account is now linked; sign in again"+". "),
		"AccountConflict":             "https://app.example.com/callback?state=" + hostedSmokeState + "&error=invalid_request&error_description=PreSignUp+failed+with+error+AccountConflict%3A+x.",
		"not the answer to smoke's":   "https://app.example.com/callback?code=good-code&state=someone-else",
		"token endpoint answered 400": "https://app.example.com/callback?code=used-code&state=" + hostedSmokeState,
		"-callback has no code":       "https://app.example.com/callback?state=" + hostedSmokeState,
	} {
		out.Reset()
		m := d.smoke(api, cb, &out)
		if err := m.Run(t.Context()); err == nil || !strings.Contains(out.String(), "FAIL  hosted UI sign-in") || !strings.Contains(out.String(), want) {
			t.Fatalf("callback %s: want a failure naming %q: %v\n%s", cb, want, err, out.String())
		}
	}
}

type fakeStackWithParams struct{ outputs, params map[string]string }

func (f fakeStackWithParams) DescribeStacks(_ context.Context, _ *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	var st cfntypes.Stack
	for k, v := range f.outputs {
		st.Outputs = append(st.Outputs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	for k, v := range f.params {
		st.Parameters = append(st.Parameters, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{st}}, nil
}

// With -stack, the hosted UI's settings come from its outputs and
// parameters; a stack without the hosted UI fails the check, saying so.
func TestSmokeHostedUIFromTheStack(t *testing.T) {
	d := newFakeDomain(t)
	api := standIn(t, false)
	stack := fakeStackWithParams{
		outputs: map[string]string{"ApiUrl": api, "UserPoolId": smokePool, "HostedUiDomainUrl": d.URL, "HostedUiClientId": smokeClient},
		params: map[string]string{"HostedUi": "enabled", "HostedUiCallbackUrls": "https://app.example.com/callback,http://localhost:8090/callback",
			"KakaoRestApiKey": "restkey0123", "KakaoAuthBaseUrl": "https://kauth.kakao.com", "HostedUiKakaoScopes": "profile_nickname account_email"},
	}
	var out bytes.Buffer
	m := SmokeMain{Stack: "kakaoauth-prod", Stacks: stack, AccessToken: "good-token", HTTP: http.DefaultClient, Out: &out,
		Hosted: HostedUISmoke{Enabled: true, CognitoEndpoint: d.URL, Callback: "https://app.example.com/callback?code=good-code&state=" + hostedSmokeState}}
	if err := m.Run(t.Context()); err != nil || !strings.Contains(out.String(), "ok    same sub as the broker") {
		t.Fatalf("%v\n%s", err, out.String())
	}
	out.Reset()
	m = SmokeMain{Stack: "kakaoauth-prod", Stacks: fakeStackWithParams{outputs: map[string]string{"ApiUrl": api}}, HTTP: http.DefaultClient, Out: &out,
		Hosted: HostedUISmoke{Enabled: true}}
	if err := m.Run(t.Context()); err == nil || !strings.Contains(out.String(), "FAIL  hosted UI settings") || !strings.Contains(out.String(), "HostedUi=enabled") {
		t.Fatalf("a stack without the hosted UI: %v\n%s", err, out.String())
	}
}
