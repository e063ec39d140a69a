package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth"
)

// The local endpoint must answer exactly as API Gateway's templates do;
// these cases are the contract table of docs/api.md.
func TestResponseMapping(t *testing.T) {
	cases := []struct {
		name       string
		result     Result
		execErr    error
		wantStatus int
		wantBody   string
	}{
		{"succeeded", Result{Status: StatusSucceeded, Output: json.RawMessage(`{"sub":"s"}`)}, nil, 200, `{"sub":"s"}`},
		{"invalid request", Result{Status: StatusFailed, Error: "InvalidRequest", Cause: "secret cause"}, nil, 400, `"error":"InvalidRequest"`},
		{"invalid token", Result{Status: StatusFailed, Error: "InvalidKakaoToken"}, nil, 401, `"error":"InvalidKakaoToken"`},
		{"wrong app", Result{Status: StatusFailed, Error: "WrongKakaoApp"}, nil, 401, `"error":"WrongKakaoApp"`},
		{"unlinked", Result{Status: StatusFailed, Error: "AccountUnlinked"}, nil, 403, `"error":"AccountUnlinked"`},
		{"disabled", Result{Status: StatusFailed, Error: "AccountDisabled"}, nil, 403, `"error":"AccountDisabled"`},
		{"conflict", Result{Status: StatusFailed, Error: "AccountConflict"}, nil, 409, `"error":"AccountConflict"`},
		{"throttled", Result{Status: StatusFailed, Error: "Throttled"}, nil, 429, `"error":"Throttled"`},
		{"kakao down", Result{Status: StatusFailed, Error: "KakaoUnavailable"}, nil, 502, `"error":"KakaoUnavailable"`},
		{"step timeout", Result{Status: StatusFailed, Error: "States.Timeout"}, nil, 504, `"error":"Timeout"`},
		{"timed out", Result{Status: StatusTimedOut}, nil, 504, `"error":"Timeout"`},
		{"unknown error", Result{Status: StatusFailed, Error: "wrapError", Cause: "operation error Cognito: arn:aws:..."}, nil, 500, `"error":"internal"`},
		{"executor failed", Result{}, errors.New("boom"), 500, `"error":"internal"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(ExecutorFunc(func(context.Context, json.RawMessage) (Result, error) { return c.result, c.execErr }), nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, LoginPath, strings.NewReader(`{"access_token":"x"}`)))
			body := rec.Body.String()
			if rec.Code != c.wantStatus || !strings.Contains(body, c.wantBody) {
				t.Fatalf("got %d %s, want %d with %s", rec.Code, body, c.wantStatus, c.wantBody)
			}
			if c.result.Cause != "" && strings.Contains(body, c.result.Cause) {
				t.Fatal("the execution's cause reached the client")
			}
			if rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", rec.Header().Get("Content-Type"))
			}
			if c.wantStatus != 200 {
				name := c.result.Error
				if c.result.Status == StatusTimedOut {
					name = kakaoauth.ErrorTimeout
				}
				var e map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["message"] != kakaoauth.OutcomeOf(name).Message {
					t.Fatalf("error body %s: want the outcome table's message for %q", body, name)
				}
			}
		})
	}
}

// The execution input is what the API's request template builds: the raw
// body as a string, plus where the request came from.
func TestExecutionInput(t *testing.T) {
	var got executionInput
	h := New(ExecutorFunc(func(_ context.Context, in json.RawMessage) (Result, error) {
		if err := json.Unmarshal(in, &got); err != nil {
			t.Fatal(err)
		}
		return Result{Status: StatusSucceeded, Output: json.RawMessage(`{}`)}, nil
	}), nil)
	req := httptest.NewRequest(http.MethodPost, LoginPath, strings.NewReader(`{"access_token":"a\"b'c"}`))
	req.RemoteAddr = "203.0.113.9:4711"
	req.Header.Set("User-Agent", "app/1.0")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.Body != `{"access_token":"a\"b'c"}` || got.Context.SourceIP != "203.0.113.9" || got.Context.UserAgent != "app/1.0" || got.Context.RequestID == "" {
		t.Fatalf("input %+v", got)
	}
}

func TestRoutes(t *testing.T) {
	srv := httptest.NewServer(Mux(New(ExecutorFunc(func(context.Context, json.RawMessage) (Result, error) {
		return Result{Status: StatusSucceeded, Output: json.RawMessage(`{}`)}, nil
	}), nil), map[string]http.Handler{"/extra": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(299) })}))
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, LoginPath, 404}, // as API Gateway: a method the route lacks
		{http.MethodOptions, LoginPath, 204},
		{http.MethodPost, "/nope", 404},
		{http.MethodGet, "/extra", 299},
		{http.MethodPost, LoginPath, 200},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}
}

// What API Gateway refuses before its template runs is refused here too,
// without running the workflow: a body that is not application/json, a
// body past API Gateway's 10 MB. A body past the contract's 16 KiB (in
// characters, as the template counts) reaches the workflow flagged, not
// carried.
func TestRequestsBeforeTheWorkflow(t *testing.T) {
	var got *executionInput
	h := New(ExecutorFunc(func(_ context.Context, in json.RawMessage) (Result, error) {
		got = new(executionInput)
		if err := json.Unmarshal(in, got); err != nil {
			t.Fatal(err)
		}
		return Result{Status: StatusFailed, Error: "InvalidRequest"}, nil
	}), nil)
	post := func(contentType, body string) *httptest.ResponseRecorder {
		got = nil
		req := httptest.NewRequest(http.MethodPost, LoginPath, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, c := range []struct {
		contentType, body string
		ran               bool
	}{
		{"text/plain", `{"access_token":"x"}`, false},
		{"application/x-www-form-urlencoded", "access_token=x", false},
		{"multipart/form-data; boundary=x", "--x--", false},
		{"application/json; charset=utf-8", `{"access_token":"x"}`, true},
		{"", `{"access_token":"x"}`, true},
		{"application/json", strings.Repeat(" ", MaxPayloadBytes+1), false},
	} {
		rec := post(c.contentType, c.body)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"error":"InvalidRequest"`) || (got != nil) != c.ran {
			t.Errorf("%q (%d bytes): %d %s, workflow ran %v, want 400 InvalidRequest and ran %v", c.contentType, len(c.body), rec.Code, rec.Body, got != nil, c.ran)
		}
	}
	for _, c := range []struct {
		body      string
		oversized bool
	}{
		{strings.Repeat(" ", 16384), false},
		{strings.Repeat(" ", 16385), true},
		{strings.Repeat("한", 16384), false}, // 16384 characters, 49152 bytes: the workflow judges it
		{strings.Repeat("😀", 8193), true},   // 16386 UTF-16 units
	} {
		post("application/json", c.body)
		if got == nil || got.Oversized != c.oversized || (got.Body == c.body) == c.oversized || c.oversized && got.Body != "" {
			t.Errorf("%d bytes: input %+.60v, want oversized %v", len(c.body), got, c.oversized)
		}
	}
}
