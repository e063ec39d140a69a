package localstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The local adapter must hand the handler what API Gateway's proxy
// integration would, and write back exactly what the handler answered.
func TestProxyHandlerBuildsTheAPIGatewayEvent(t *testing.T) {
	var got events.APIGatewayProxyRequest
	h := ProxyHandler(func(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = req
		return events.APIGatewayProxyResponse{StatusCode: 202, Headers: map[string]string{"X-One": "1"},
			MultiValueHeaders: map[string][]string{"X-Two": {"a", "b"}}, Body: "done"}, nil
	}, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/kakao/unlink?user_id=1&user_id=2&app_id=9", strings.NewReader("a=b&c=d"))
	req.Header.Set("Authorization", "KakaoAK k")
	req.Header.Add("X-Multi", "x")
	req.Header.Add("X-Multi", "y")
	req.Header.Set("User-Agent", "kakao-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(body) != "done" || resp.Header.Get("X-One") != "1" || !slices.Equal(resp.Header.Values("X-Two"), []string{"a", "b"}) {
		t.Fatalf("response %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got.HTTPMethod != "POST" || got.Path != "/kakao/unlink" || got.Body != "a=b&c=d" || got.IsBase64Encoded {
		t.Fatalf("request %+v", got)
	}
	if got.Headers["Authorization"] != "KakaoAK k" || !slices.Equal(got.MultiValueHeaders["X-Multi"], []string{"x", "y"}) || got.Headers["X-Multi"] != "y" {
		t.Fatalf("headers %v / %v", got.Headers, got.MultiValueHeaders)
	}
	if !slices.Equal(got.MultiValueQueryStringParameters["user_id"], []string{"1", "2"}) || got.QueryStringParameters["app_id"] != "9" {
		t.Fatalf("query %v / %v", got.QueryStringParameters, got.MultiValueQueryStringParameters)
	}
	if got.RequestContext.Identity.SourceIP != "127.0.0.1" || got.RequestContext.Identity.UserAgent != "kakao-test" || got.RequestContext.RequestID == "" {
		t.Fatalf("request context %+v", got.RequestContext)
	}
}

func TestProxyHandlerBinaryAndFailures(t *testing.T) {
	var got events.APIGatewayProxyRequest
	answer := events.APIGatewayProxyResponse{StatusCode: 200, Body: base64.StdEncoding.EncodeToString([]byte{0xff, 0x00}), IsBase64Encoded: true}
	var fail error
	h := ProxyHandler(func(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		got = req
		return answer, fail
	}, nil)
	serve := func(body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x", bytes.NewReader(body)))
		return rec
	}

	rec := serve([]byte{0xfe, 0x01})
	if !got.IsBase64Encoded || got.Body != base64.StdEncoding.EncodeToString([]byte{0xfe, 0x01}) {
		t.Fatalf("binary body %+v", got)
	}
	if !bytes.Equal(rec.Body.Bytes(), []byte{0xff, 0x00}) {
		t.Fatalf("base64 response written as %q", rec.Body.Bytes())
	}

	fail = errors.New("boom")
	if rec := serve(nil); rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("handler error: %d %s", rec.Code, rec.Body.String())
	}
	fail, answer = nil, events.APIGatewayProxyResponse{}
	if rec := serve(nil); rec.Code != http.StatusBadGateway {
		t.Fatalf("malformed response (status 0): %d", rec.Code)
	}
	if rec := serve(bytes.Repeat([]byte("a"), maxProxyBody+1)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", rec.Code)
	}
}

// The local endpoint runs the unlink callback's authorizer as API Gateway
// does, with the template's gateway responses: no header is refused
// before the authorizer is asked, its "Unauthorized" is 401, a policy
// that does not allow the method is 403 (the template's ACCESS_DENIED),
// an authorizer failure 500; an allowed call reaches the handler.
func TestAuthorizedAsAPIGateway(t *testing.T) {
	var asked []events.APIGatewayCustomAuthorizerRequestTypeRequest
	policy := func(effect, resource string) events.APIGatewayCustomAuthorizerResponse {
		return events.APIGatewayCustomAuthorizerResponse{PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Statement: []events.IAMPolicyStatement{{Effect: effect, Action: []string{"execute-api:Invoke"}, Resource: []string{resource}}}}}
	}
	authz := func(_ context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		asked = append(asked, req)
		switch req.Headers["Authorization"] {
		case "good":
			return policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:local/v1/*/kakao/unlink"), nil
		case "other-route":
			return policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:local/v1/*/auth/kakao"), nil
		case "deny":
			return policy("Deny", "*"), nil
		case "broken":
			return events.APIGatewayCustomAuthorizerResponse{}, errors.New("secrets manager down")
		}
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}
	reached := 0
	h := Authorized(authz, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusOK)
	}), nil)
	for _, c := range []struct {
		header string
		status int
		body   string
	}{
		{"", 401, `"error":"Unauthorized"`},
		{"wrong", 401, `"error":"Unauthorized"`},
		{"deny", 403, `"error":"Forbidden"`},
		{"other-route", 403, `"error":"Forbidden"`},
		{"broken", 500, `"error":"internal"`},
		{"good", 200, ""},
	} {
		req := httptest.NewRequest(http.MethodPost, "/kakao/unlink?x=1", strings.NewReader("app_id=1"))
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("Authorization %q: %d %s, want %d %s", c.header, rec.Code, rec.Body.String(), c.status, c.body)
		}
	}
	if reached != 1 || len(asked) != 5 {
		t.Fatalf("handler reached %d times, authorizer asked %d times", reached, len(asked))
	}
	last := asked[len(asked)-1]
	if last.MethodArn != "arn:aws:execute-api:us-east-1:123456789012:local/v1/POST/kakao/unlink" || last.QueryStringParameters["x"] != "1" || last.Type != "REQUEST" {
		t.Fatalf("authorizer event %+v", last)
	}
}
