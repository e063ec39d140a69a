package workflow

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

const (
	testAppID    = 1001
	testAdminKey = "test-admin-key-0123456789"
)

func unlinkRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t)
	WithUnlinkAuth(testAppID, testAdminKey)(r.steps)
	if _, err := r.login(t, `{"access_token":"tok-1"}`); err != nil {
		t.Fatal(err)
	}
	r.audit.events = nil
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

func TestUnlinkKnownUser(t *testing.T) {
	r := unlinkRig(t)
	resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
	m, _ := r.mappings.Get(context.Background(), 1)
	u, _ := r.users.GetUser(context.Background(), "kakao_1")
	if m.Status != kakaoauth.StatusUnlinked || u.Enabled || r.users.calls["DisableAndSignOut"] != 1 {
		t.Fatalf("mapping %s, enabled %v, sign-outs %d", m.Status, u.Enabled, r.users.calls["DisableAndSignOut"])
	}
	if len(r.audit.events) != 1 {
		t.Fatalf("audit %v", r.audit.types())
	}
	e := r.audit.events[0]
	if e.Type != kakaoauth.EventUnlinked || e.KakaoID != 1 || e.Sub != m.Sub || e.Detail != "UNLINK_FROM_APPS" ||
		e.AppID != testAppID || e.SourceIP != "203.0.113.9" || e.ExecutionID != "req-9" {
		t.Fatalf("audit event %+v", e)
	}

	// The same callback again: 200, no second event, still unlinked.
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusOK {
		t.Fatalf("repeat: %d", resp.StatusCode)
	}
	if len(r.audit.events) != 1 {
		t.Fatalf("repeat wrote another event: %v", r.audit.types())
	}

	// A later login of the account, even with a fresh Kakao token, is refused.
	if _, err := r.login(t, `{"access_token":"tok-1"}`); kakaoauth.ErrorName(err) != "AccountUnlinked" {
		t.Fatalf("login after unlink: %v", err)
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
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
	if m, _ := r.mappings.Get(context.Background(), 1); m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("mapping %s", m.Status)
	}
}

func TestUnlinkBase64Body(t *testing.T) {
	r := unlinkRig(t)
	req := kakaoCallback("1001", "1", "UNLINK_FROM_ADMIN")
	req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(req.Body)), true
	if resp := callUnlink(t, r, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
}

func TestUnlinkUnknownUserIs200AndNothingElse(t *testing.T) {
	r := unlinkRig(t)
	if resp := callUnlink(t, r, kakaoCallback("1001", "987654321", "ACCOUNT_DELETE")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if r.users.calls["DisableAndSignOut"] != 0 || len(r.audit.events) != 0 {
		t.Fatalf("an unknown user caused effects: sign-outs %d, audit %v", r.users.calls["DisableAndSignOut"], r.audit.types())
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
			if m, _ := r.mappings.Get(context.Background(), 1); m.Status != kakaoauth.StatusActive || r.users.calls["DisableAndSignOut"] != 0 || len(r.audit.events) != 0 {
				t.Fatalf("a refused callback had effects: %s, %v", m.Status, r.audit.types())
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
	r := newRig(t)
	WithUnlinkAuth(testAppID, "")(r.steps)
	req := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
	req.Headers["Authorization"] = "KakaoAK "
	if resp := callUnlink(t, r, req); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// Cognito first: when disabling fails, the mapping is left active and the
// callback answered 500, so a replay does the whole unlink.
func TestUnlinkCognitoFailureChangesNothing(t *testing.T) {
	r := unlinkRig(t)
	r.users.failNext["DisableAndSignOut"] = errors.New("cognito down")
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if m, _ := r.mappings.Get(context.Background(), 1); m.Status != kakaoauth.StatusActive || len(r.audit.events) != 0 {
		t.Fatalf("mapping %s, audit %v", m.Status, r.audit.types())
	}
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusOK {
		t.Fatalf("replay: %d", resp.StatusCode)
	}
	if m, _ := r.mappings.Get(context.Background(), 1); m.Status != kakaoauth.StatusUnlinked || len(r.audit.events) != 1 {
		t.Fatalf("after replay: mapping %s, audit %v", m.Status, r.audit.types())
	}
}

// When the mapping write fails after Cognito disabled the user, the user
// cannot sign in anyway, and a replay completes the unlink with one event.
func TestUnlinkMappingFailureLeavesUserDisabled(t *testing.T) {
	r := unlinkRig(t)
	r.mappings.failNext["MarkUnlinked"] = errors.New("dynamodb down")
	failing := &failingMarkUnlinked{memMappings: r.mappings}
	WithMappings(failing)(r.steps)
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if u, _ := r.users.GetUser(context.Background(), "kakao_1"); u.Enabled {
		t.Fatal("user still enabled")
	}
	if m, _ := r.mappings.Get(context.Background(), 1); m.Status != kakaoauth.StatusActive || len(r.audit.events) != 0 {
		t.Fatalf("mapping %s, audit %v", m.Status, r.audit.types())
	}
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusOK {
		t.Fatalf("replay: %d", resp.StatusCode)
	}
	if m, _ := r.mappings.Get(context.Background(), 1); m.Status != kakaoauth.StatusUnlinked || len(r.audit.types()) != 1 {
		t.Fatalf("after replay: mapping %s, audit %v", m.Status, r.audit.types())
	}
}

// failingMarkUnlinked makes MarkUnlinked fail once via memMappings.failNext.
type failingMarkUnlinked struct{ *memMappings }

func (f *failingMarkUnlinked) MarkUnlinked(ctx context.Context, id int64, at time.Time) (bool, error) {
	f.mu.Lock()
	err := f.fail("MarkUnlinked")
	f.mu.Unlock()
	if err != nil {
		return false, err
	}
	return f.memMappings.MarkUnlinked(ctx, id, at)
}
