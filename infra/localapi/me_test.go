package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/cognitojwt"
)

// verifierFunc is a stand-in for the pool's verifier: the real one is
// tested in shared/cognitojwt and end to end in infra/localstack.
type verifierFunc func(raw string, use cognitojwt.Use) (cognitojwt.Claims, error)

func (f verifierFunc) Verify(_ context.Context, raw string, use cognitojwt.Use) (cognitojwt.Claims, error) {
	return f(raw, use)
}

func TestMe(t *testing.T) {
	var gotUse cognitojwt.Use
	v := verifierFunc(func(raw string, use cognitojwt.Use) (cognitojwt.Claims, error) {
		gotUse = use
		switch raw {
		case "kakao-user":
			return cognitojwt.Claims{Sub: "s1", Username: "kakao_4242", KakaoID: "4242"}, nil
		case "native-user":
			return cognitojwt.Claims{Sub: "s2", Username: "jane"}, nil
		case "jwks-down":
			return cognitojwt.Claims{}, &cognitojwt.Unavailable{Reason: "HTTP 502"}
		}
		return cognitojwt.Claims{}, &cognitojwt.InvalidToken{Reason: "bad signature"}
	})
	unauthorized, _ := json.Marshal(map[string]string{"error": "Unauthorized", "message": kakaoauth.UnauthorizedOutcome.Message})
	cases := []struct {
		name, method, auth string
		status             int
		body               string
	}{
		{"a Kakao user's ID token", http.MethodGet, "kakao-user", 200, `{"sub":"s1","username":"kakao_4242","kakao_id":"4242"}`},
		{"a user without Kakao", http.MethodGet, "native-user", 200, `{"sub":"s2","username":"jane","kakao_id":null}`},
		{"no token", http.MethodGet, "", 401, string(unauthorized)},
		{"a refused token", http.MethodGet, "forged", 401, string(unauthorized)},
		{"the pool's keys unreadable", http.MethodGet, "jwks-down", 500, `{"error":"internal","message":"Internal error."}`},
		{"a method the route lacks", http.MethodPost, "kakao-user", 404, `{"error":"NotFound","message":"No such route."}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gotUse = ""
			req := httptest.NewRequest(c.method, MePath, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := httptest.NewRecorder()
			NewMe(v, nil).ServeHTTP(rec, req)
			if rec.Code != c.status || !sameJSON(rec.Body.String(), c.body) {
				t.Fatalf("got %d %s, want %d %s", rec.Code, rec.Body.String(), c.status, c.body)
			}
			if c.method == http.MethodGet && c.auth != "" && gotUse != cognitojwt.UseID {
				t.Fatalf("verified as %q, want the ID token (no OAuth scopes)", gotUse)
			}
		})
	}
}

func TestMeCORS(t *testing.T) {
	me := NewMe(verifierFunc(func(string, cognitojwt.Use) (cognitojwt.Claims, error) {
		return cognitojwt.Claims{}, errors.New("unused")
	}), nil, "http://localhost:8090")
	req := httptest.NewRequest(http.MethodOptions, MePath, nil)
	req.Header.Set("Origin", "http://localhost:8090")
	rec := httptest.NewRecorder()
	me.ServeHTTP(rec, req)
	h := rec.Header()
	if rec.Code != 204 || h.Get("Access-Control-Allow-Origin") != "http://localhost:8090" ||
		h.Get("Access-Control-Allow-Methods") != "GET" || h.Get("Access-Control-Allow-Headers") != "Authorization" {
		t.Fatalf("preflight %d %v", rec.Code, h)
	}
	req.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	me.ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Access-Control-Allow-Headers") != "" {
		t.Fatalf("another origin's preflight allowed: %v", rec.Header())
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
