package workflow

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

const (
	testAppID    = 1001
	testAdminKey = "test-admin-key-0123456789"
)

func unlinkRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, WithUnlinkAuth(testAppID, testAdminKey))
	r.login(t, `{"access_token":"tok-1"}`)
	r.audit.events = nil
	r.resetCalls()
	return r
}

// kakaoCallback is the request as Kakao sends it: POST, form body.
func kakaoCallback(appID, userID, referrer string) events.APIGatewayProxyRequest {
	form := url.Values{"app_id": {appID}, "user_id": {userID}, "referrer_type": {referrer}}
	return events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodPost, Path: UnlinkPath,
		Headers: map[string]string{"Authorization": "KakaoAK " + testAdminKey, "Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
		Body:    form.Encode(),
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-9",
			Identity: events.APIGatewayRequestIdentity{SourceIP: "203.0.113.9", UserAgent: "Kakao-Callback"}},
	}
}

func callUnlink(t *testing.T, r *rig, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := r.steps.UnlinkWebhook(context.Background(), req)
	if err != nil {
		t.Fatalf("the webhook returned an error (API Gateway would answer 502): %v", err)
	}
	return resp
}

// The webhook only authenticates and queues: the answer is at once, and
// nothing about the account changes until the worker runs.
func TestUnlinkWebhookQueues(t *testing.T) {
	r := unlinkRig(t)
	resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
	if len(r.queue.requests) != 1 {
		t.Fatalf("queued %d requests", len(r.queue.requests))
	}
	q := r.queue.requests[0]
	if q.ID != "req-9" || q.KakaoID != 1 || q.AppID != testAppID || q.ReferrerType != "UNLINK_FROM_APPS" || !q.ReceivedAt.Equal(r.clock()) ||
		q.SourceIP != "203.0.113.9" || q.UserAgent != "Kakao-Callback" || q.Action != ActionPolicy || q.Actor != "" {
		t.Fatalf("queued %+v", q)
	}
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusActive || len(r.cognito()) != 0 || len(r.audit.events) != 0 {
		t.Fatalf("the webhook changed the account itself: %s %v %v", m.Status, r.cognito(), r.audit.types())
	}
}

func TestUnlinkByGETQuery(t *testing.T) {
	r := unlinkRig(t)
	resp := callUnlink(t, r, events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodGet, Path: UnlinkPath,
		// API Gateway passes header names as sent.
		MultiValueHeaders: map[string][]string{"authorization": {"KakaoAK " + testAdminKey}},
		MultiValueQueryStringParameters: map[string][]string{
			"app_id": {"1001"}, "user_id": {"1"}, "referrer_type": {"ACCOUNT_DELETE"}},
	})
	if resp.StatusCode != http.StatusOK || len(r.queue.requests) != 1 || r.queue.requests[0].ReferrerType != "ACCOUNT_DELETE" {
		t.Fatalf("status %d %s, queued %+v", resp.StatusCode, resp.Body, r.queue.requests)
	}
	if r.queue.requests[0].ID == "" {
		t.Fatal("a request without an API request id got no id")
	}
}

func TestUnlinkBase64Body(t *testing.T) {
	r := unlinkRig(t)
	req := kakaoCallback("1001", "1", "UNLINK_FROM_ADMIN")
	req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(req.Body)), true
	if resp := callUnlink(t, r, req); resp.StatusCode != http.StatusOK || len(r.queue.requests) != 1 {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
}

// Kakao never calls again: a queue that refuses is a 500 and an error log
// an operator can replay from.
func TestUnlinkQueueFailureIs500(t *testing.T) {
	r := unlinkRig(t)
	r.queue.err = errors.New("sqs down")
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusInternalServerError || strings.Contains(resp.Body, "sqs") {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
}

func TestUnlinkRefusesBadCallers(t *testing.T) {
	withHeader := func(name, value string) events.APIGatewayProxyRequest {
		req := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
		delete(req.Headers, "Authorization")
		if name != "" {
			req.Headers[name] = value
		}
		return req
	}
	twoUsers := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
	twoUsers.QueryStringParameters = map[string]string{"user_id": "2"}
	big := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
	big.Body += "&pad=" + strings.Repeat("x", maxUnlinkBody)
	json := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
	json.Headers["Content-Type"] = "application/json"
	put := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
	put.HTTPMethod = http.MethodPut
	cases := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
	}{
		{"no authorization", withHeader("", ""), 401},
		{"wrong key", withHeader("Authorization", "KakaoAK wrong-admin-key-0123456789"), 401},
		{"key as bearer", withHeader("Authorization", "Bearer "+testAdminKey), 401},
		{"key prefix only", withHeader("Authorization", "KakaoAK "+testAdminKey[:10]), 401},
		{"key with suffix", withHeader("Authorization", "KakaoAK "+testAdminKey+"x"), 401},
		{"another app id", kakaoCallback("1002", "1", "UNLINK_FROM_APPS"), 401},
		{"no user id", kakaoCallback("1001", "", "UNLINK_FROM_APPS"), 400},
		{"user id not a number", kakaoCallback("1001", "1 OR 1=1", "UNLINK_FROM_APPS"), 400},
		{"negative user id", kakaoCallback("1001", "-1", "UNLINK_FROM_APPS"), 400},
		{"odd referrer type", kakaoCallback("1001", "1", "<script>"), 400},
		{"two user ids", twoUsers, 400},
		{"oversized body", big, 400},
		{"JSON body", json, 400},
		{"PUT", put, 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := unlinkRig(t)
			resp := callUnlink(t, r, c.req)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, c.status)
			}
			if strings.Contains(resp.Body, testAdminKey) || strings.Contains(resp.Body, "1001") {
				t.Fatalf("body %s echoes the request", resp.Body)
			}
			if len(r.queue.requests) != 0 {
				t.Fatalf("a refused callback was queued: %+v", r.queue.requests)
			}
		})
	}
	// A wrong key and a wrong app id look the same to the caller.
	r := unlinkRig(t)
	a := callUnlink(t, r, withHeader("Authorization", "KakaoAK nope"))
	b := callUnlink(t, r, kakaoCallback("1002", "1", "UNLINK_FROM_APPS"))
	if a.StatusCode != b.StatusCode || a.Body != b.Body {
		t.Fatalf("wrong key %d %s, wrong app %d %s", a.StatusCode, a.Body, b.StatusCode, b.Body)
	}
}

// Without configured credentials the webhook refuses everything, including
// a request whose header is the bare scheme an empty key would produce.
func TestUnlinkFailsClosedWithoutAKey(t *testing.T) {
	r := newRig(t, WithUnlinkAuth(testAppID, ""))
	req := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
	req.Headers["Authorization"] = "KakaoAK "
	if resp := callUnlink(t, r, req); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// The authorizer in front of the webhook allows exactly the callers the
// webhook's own key check allows (one check, unlinkAuth.allows), for both
// methods of the route, and says nothing else: no Kakao or Cognito call,
// no audit event, nothing queued.
func TestUnlinkAuthorizer(t *testing.T) {
	const methodARN = "arn:aws:execute-api:ap-northeast-2:123456789012:abcdef1234/v1/POST/kakao/unlink"
	request := func(headers map[string]string, multi map[string][]string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
		return events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", MethodArn: methodARN, Headers: headers, MultiValueHeaders: multi}
	}
	r := newRig(t, WithUnlinkAuth(testAppID, testAdminKey), WithUnlinkAuthorizer("usage-key-1", nil))
	r.login(t, `{"access_token":"tok-1"}`)
	r.audit.events = nil
	r.resetCalls()
	resp, err := r.steps.UnlinkAuthorizer(context.Background(), request(map[string]string{"Authorization": "KakaoAK " + testAdminKey}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.UsageIdentifierKey != "usage-key-1" {
		t.Fatalf("usage key %q: an allowed call must spend Kakao's usage plan", resp.UsageIdentifierKey)
	}
	st := resp.PolicyDocument.Statement
	if len(st) != 1 || st[0].Effect != "Allow" || len(st[0].Resource) != 1 ||
		st[0].Resource[0] != "arn:aws:execute-api:ap-northeast-2:123456789012:abcdef1234/v1/*/kakao/unlink" || st[0].Action[0] != "execute-api:Invoke" {
		t.Fatalf("policy %+v", resp.PolicyDocument)
	}
	lower, err := r.steps.UnlinkAuthorizer(context.Background(), request(nil, map[string][]string{"authorization": {"KakaoAK " + testAdminKey}}))
	if err != nil || lower.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Fatalf("a lower-case header name: %v %+v", err, lower)
	}
	for name, req := range map[string]events.APIGatewayCustomAuthorizerRequestTypeRequest{
		"no header":       request(nil, nil),
		"wrong key":       request(map[string]string{"Authorization": "KakaoAK wrong-admin-key-0123456789"}, nil),
		"bearer":          request(map[string]string{"Authorization": "Bearer " + testAdminKey}, nil),
		"key with suffix": request(map[string]string{"Authorization": "KakaoAK " + testAdminKey + "x"}, nil),
		"twice":           request(nil, map[string][]string{"Authorization": {"KakaoAK " + testAdminKey, "KakaoAK " + testAdminKey}}),
	} {
		resp, err := r.steps.UnlinkAuthorizer(context.Background(), req)
		if err == nil || err.Error() != "Unauthorized" || len(resp.PolicyDocument.Statement) != 0 {
			t.Errorf("%s: %+v %v, want API Gateway's Unauthorized", name, resp, err)
		}
		// The webhook refuses the same caller the same way.
		webhook := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
		webhook.Headers, webhook.MultiValueHeaders = req.Headers, req.MultiValueHeaders
		if got := callUnlink(t, r, webhook); got.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: the webhook answers %d", name, got.StatusCode)
		}
	}
	// A method ARN of another route is not this authorizer's business.
	if _, err := r.steps.UnlinkAuthorizer(context.Background(), events.APIGatewayCustomAuthorizerRequestTypeRequest{
		MethodArn: "arn:aws:execute-api:ap-northeast-2:123456789012:abcdef1234/v1/POST/auth/kakao",
		Headers:   map[string]string{"Authorization": "KakaoAK " + testAdminKey}}); err == nil {
		t.Error("allowed another route")
	}
	// Without a configured key, it fails closed like the webhook.
	closed := newRig(t, WithUnlinkAuthorizer("usage-key-1", nil))
	if _, err := closed.steps.UnlinkAuthorizer(context.Background(), request(map[string]string{"Authorization": "KakaoAK " + testAdminKey}, nil)); err == nil {
		t.Error("an authorizer with no admin key allowed a caller")
	}
	if len(r.queue.requests) != 0 || len(r.cognito()) != 0 || len(r.audit.events) != 0 {
		t.Fatalf("the authorizer did something: queued %d, cognito %v, audit %v", len(r.queue.requests), r.cognito(), r.audit.types())
	}
}
