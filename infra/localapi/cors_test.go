package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func corsHandler(origins ...string) *Handler {
	exec := ExecutorFunc(func(context.Context, json.RawMessage) (Result, error) {
		return Result{Status: StatusFailed, Error: "KakaoUnavailable"}, nil
	})
	if origins == nil {
		return New(exec, nil)
	}
	return New(exec, nil, WithAllowedOrigins(origins...))
}

func serve(h http.Handler, method, origin string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, LoginPath, strings.NewReader(`{"access_token":"x"}`))
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if method == http.MethodOptions {
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var corsHeaders = []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary"}

// Only a configured origin may read the answers (success and errors alike)
// and pass the preflight; without configuration there are no CORS headers
// at all, and OPTIONS answers 204 bare, as the API's mock method does.
func TestCORS(t *testing.T) {
	h := corsHandler("http://localhost:8090", "https://app.example")

	rec := serve(h, http.MethodPost, "http://localhost:8090")
	if rec.Code != 502 || rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:8090" || rec.Header().Get("Vary") != "Origin" {
		t.Fatalf("allowed origin, error answer: %d %v", rec.Code, rec.Header())
	}
	rec = serve(h, http.MethodOptions, "https://app.example")
	want := map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600", "Vary": "Origin"}
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("preflight: %d %q", rec.Code, rec.Body)
	}
	for k, v := range want {
		if rec.Header().Get(k) != v {
			t.Errorf("preflight %s = %q, want %q", k, rec.Header().Get(k), v)
		}
	}

	// Other origins, near misses included, get Vary only.
	for _, origin := range []string{"", "http://localhost:8091", "http://localhost:8090/", "https://localhost:8090", "http://LOCALHOST:8090",
		"null", "https://app.example.evil", "http://localhost:8090,https://app.example", "*"} {
		for _, m := range []string{http.MethodPost, http.MethodOptions} {
			rec := serve(h, m, origin)
			for _, k := range corsHeaders[:4] {
				if v := rec.Header().Get(k); v != "" {
					t.Errorf("%s from %q: %s: %q", m, origin, k, v)
				}
			}
			if rec.Header().Get("Vary") != "Origin" {
				t.Errorf("%s from %q: Vary %q", m, origin, rec.Header().Get("Vary"))
			}
		}
	}

	// Not configured (nil or empty list): no CORS header whatever the
	// origin, and OPTIONS answers 204 with nothing in it.
	for _, h := range []*Handler{corsHandler(), corsHandler([]string{}...)} {
		for _, m := range []string{http.MethodPost, http.MethodOptions} {
			rec := serve(h, m, "http://localhost:8090")
			for _, k := range corsHeaders {
				if v := rec.Header().Get(k); v != "" {
					t.Errorf("unconfigured %s: %s: %q", m, k, v)
				}
			}
			if m == http.MethodOptions && (rec.Code != http.StatusNoContent || rec.Body.Len() != 0) {
				t.Errorf("unconfigured OPTIONS: %d", rec.Code)
			}
		}
	}
}

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins(" http://localhost:8090, https://app.example ,")
	if err != nil || strings.Join(got, " ") != "http://localhost:8090 https://app.example" {
		t.Fatalf("got %v %v", got, err)
	}
	if got, err := ParseOrigins(""); err != nil || got != nil {
		t.Fatalf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"localhost:8090", "http://localhost:8090/", "https://*.example", "ftp://x", "http://x/path",
		"HTTP://x", "http://X.example", "http://user@x", "http://x:8090?q", "http://[::1]:8090"} {
		if _, err := ParseOrigins(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
