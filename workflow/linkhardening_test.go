package workflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// receivedAt dates a linking request as API Gateway does (requestTimeEpoch).
func receivedAt(at time.Time) func(*events.APIGatewayProxyRequest) {
	return func(req *events.APIGatewayProxyRequest) { req.RequestContext.RequestTimeEpoch = at.UnixMilli() }
}

// lastLinkFailure is the last link_failed audit row.
func (r *rig) lastLinkFailure(t *testing.T) kakaoauth.AuditEvent {
	t.Helper()
	all := r.audit.all()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Type == kakaoauth.EventLinkFailed {
			return all[i]
		}
	}
	t.Fatalf("no link_failed audit row in %v", r.audit.types())
	return kakaoauth.AuditEvent{}
}

// The finding: a link's calls (the access token, Kakao, the pool,
// DynamoDB) could outlast the 10 s API Gateway and the function give it,
// and the caller got API Gateway's bare 504, nobody recording it. Now its
// calls work within LinkBudget of the request's arrival: one the budget
// cuts answers 504 Timeout and is audited as link_failed, with nothing
// half made.
func TestLinkRequestKeepsItsBudget(t *testing.T) {
	if LinkBudget+recordTimeout+linkAnswerMargin != LinkTimeout {
		t.Fatalf("LinkBudget %v does not leave the audit its %v within LinkTimeout %v", LinkBudget, recordTimeout, LinkTimeout)
	}
	r := newRig(t)
	alice := r.users.addNative("alice", "alice@example.com")

	// Kakao is slow: the request, received almost LinkBudget ago, runs
	// out of time while Kakao is asked.
	r.kakao.delay = 2 * time.Second
	began := time.Now()
	status, body, _ := r.linkCall(t, http.MethodPost, r.tokens.issue("alice"), `{"access_token":"tok-2"}`, receivedAt(time.Now().Add(-LinkBudget+200*time.Millisecond)))
	if took := time.Since(began); took > time.Second {
		t.Errorf("the request took %v: the budget did not cut Kakao's call", took)
	}
	wantLinkError(t, status, body, http.StatusGatewayTimeout, "Timeout")
	if ev := r.lastLinkFailure(t); ev.Error != "LoginTimeout" || ev.Sub != alice.Sub || ev.Detail != "method=POST" {
		t.Fatalf("audit %+v", ev)
	}
	if r.mappings.claim(alice.Sub) != 0 || r.mappings.row(2).KakaoID != 0 {
		t.Fatal("a link cut before its writes wrote something")
	}
	r.kakao.delay = 0

	// A request that arrives with its budget spent (a cold start, a slow
	// gateway) costs no call, for DELETE too.
	r.resetCalls()
	status, body, _ = r.linkCall(t, http.MethodDelete, r.tokens.issue("alice"), ``, receivedAt(time.Now().Add(-LinkBudget-500*time.Millisecond)))
	wantLinkError(t, status, body, http.StatusGatewayTimeout, "Timeout")
	if n := len(r.cognito()) + r.mappings.calls("GetItem"); n != 0 {
		t.Fatalf("%d calls after the budget", n)
	}
	if ev := r.lastLinkFailure(t); ev.Error != "LoginTimeout" || ev.Detail != "method=DELETE" {
		t.Fatalf("audit %+v", ev)
	}

	// An event older than any gateway waits (a fixture replayed by `sam
	// local invoke`) is timed from its arrival here.
	status, body, _ = r.linkCall(t, http.MethodDelete, r.tokens.issue("alice"), ``, receivedAt(time.Now().Add(-time.Hour)))
	wantLinkError(t, status, body, http.StatusNotFound, "NotLinked")

	// The budget runs out while the mapping is written: the write may
	// have landed, so the claim is kept (never a mapping without its
	// claim). Another Kakao account cannot take the user meanwhile; this
	// account's retry completes the link.
	deadline := time.Now().Add(-LinkBudget + 300*time.Millisecond)
	puts := 0
	r.mappings.before("PutItem", func() {
		if puts++; puts == 2 { // the claim, then the mapping
			time.Sleep(time.Until(deadline.Add(LinkBudget)) + 50*time.Millisecond)
			r.mappings.failNext("PutItem", fmt.Errorf("store: create mapping: %w", context.DeadlineExceeded))
		}
	})
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("alice"), `{"access_token":"tok-2"}`, receivedAt(deadline))
	r.mappings.before("PutItem", nil)
	wantLinkError(t, status, body, http.StatusGatewayTimeout, "Timeout")
	if ev := r.lastLinkFailure(t); ev.Error != "LoginTimeout" || ev.KakaoID != 2 || ev.Sub != alice.Sub {
		t.Fatalf("audit %+v", ev)
	}
	if r.mappings.claim(alice.Sub) != 2 {
		t.Fatal("the claim of a link whose mapping write may have landed was released")
	}
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("alice"), `{"access_token":"tok-3"}`)
	wantLinkError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
	r.link(t, "alice", "tok-2")
	if m := r.mappings.row(2); m.Sub != alice.Sub || m.Status != kakaoauth.StatusActive || r.mappings.claim(alice.Sub) != 2 {
		t.Fatalf("after the retry: mapping %+v, claim %d", m, r.mappings.claim(alice.Sub))
	}
}

// Users Cognito's custom flow cannot sign in are not linked (the status
// read from the pool, not from the access token), by the user or an
// operator: 403 KakaoSignInUnavailable, audited, nothing written.
func TestLinkRefusesUsersCustomAuthCannotSignIn(t *testing.T) {
	r := newRig(t)
	for i, status := range []string{"EXTERNAL_PROVIDER", "UNCONFIRMED", "RESET_REQUIRED"} {
		name := fmt.Sprintf("user-%d", i)
		u := r.users.addNative(name, name+"@example.com")
		r.users.setStatus(name, status)
		code, body, _ := r.linkCall(t, http.MethodPost, r.tokens.issue(name), `{"access_token":"tok-2"}`)
		wantLinkError(t, code, body, http.StatusForbidden, "KakaoSignInUnavailable")
		if ev := r.lastLinkFailure(t); ev.Error != "KakaoSignInUnavailable" || ev.Sub != u.Sub {
			t.Fatalf("%s: audit %+v", status, ev)
		}
		if r.mappings.claim(u.Sub) != 0 || r.mappings.row(2).KakaoID != 0 {
			t.Fatalf("%s: a refused link wrote something", status)
		}
		_, _, err := r.steps.LinkUser(context.Background(), 2, name, "operator")
		var unavailable *kakaoauth.KakaoSignInUnavailable
		if !errors.As(err, &unavailable) {
			t.Fatalf("%s: operator link %T %v", status, err, err)
		}
	}
}

// A linked user Cognito will not sign in through the custom flow any
// more (a password reset an administrator asked for, another provider's
// user) or whose sign-in Cognito answers with a step kakaoauth cannot take
// (MFA, a new password): the Kakao login answers KakaoSignInUnavailable
// (403), audited, with no second sign-in and no recreation, instead of a
// 500.
func TestLinkedLoginCognitoWillNotFinish(t *testing.T) {
	r := newRig(t)
	alice := r.users.addNative("alice", "alice@example.com")
	r.link(t, "alice", "tok-2")
	cases := []struct {
		name  string
		setup func()
	}{
		{"RESET_REQUIRED", func() { r.users.setStatus("alice", "RESET_REQUIRED") }},
		{"EXTERNAL_PROVIDER", func() { r.users.setStatus("alice", "EXTERNAL_PROVIDER") }},
		{"SMS_MFA", func() { r.users.setStatus("alice", "CONFIRMED"); r.users.nextChallenge = "SMS_MFA" }},
		{"NEW_PASSWORD_REQUIRED", func() { r.users.nextChallenge = "NEW_PASSWORD_REQUIRED" }},
	}
	for _, c := range cases {
		c.setup()
		r.resetCalls()
		before := len(r.audit.all())
		exec := r.fails(t, `{"access_token":"tok-2"}`, "KakaoSignInUnavailable")
		if o := kakaoauth.OutcomeOf(exec.Error); o.Status != http.StatusForbidden || o.Code != "KakaoSignInUnavailable" {
			t.Fatalf("%s: answered %+v", c.name, o)
		}
		if n := r.cognito()["AdminInitiateAuth"]; n != 1 {
			t.Fatalf("%s: %d sign-ins", c.name, n)
		}
		got := r.audit.all()[before:]
		if len(got) != 1 || got[0].Type != kakaoauth.EventLoginFailed || got[0].Error != "KakaoSignInUnavailable" || got[0].Sub != alice.Sub {
			t.Fatalf("%s: audit %+v", c.name, got)
		}
		if m := r.mappings.row(2); m.Sub != alice.Sub || m.Status != kakaoauth.StatusActive {
			t.Fatalf("%s: mapping %+v", c.name, m)
		}
	}
	// Cognito signs the person in again: so does Kakao.
	r.users.nextChallenge = ""
	if resp := r.login(t, `{"access_token":"tok-2"}`); resp.Sub != alice.Sub {
		t.Fatalf("login %+v", resp)
	}
}
