package workflow

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// Linking a Kakao account to a user kakaoauth did not create, through the
// linking endpoints, the email rule and the lifecycle, over the in-memory
// ports; the pool's CUSTOM_AUTH triggers are the real handlers (memUsers
// runs them as Cognito does).

// linkCall is one request to the linking endpoints.
func (r *rig) linkCall(t *testing.T, method, accessToken, body string, opts ...func(*events.APIGatewayProxyRequest)) (int, map[string]any, events.APIGatewayProxyResponse) {
	t.Helper()
	req := events.APIGatewayProxyRequest{HTTPMethod: method, Path: LinkPath, Body: body,
		Headers:        map[string]string{"Content-Type": "application/json"},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "link-req-" + itoa(int64(len(r.audit.all()))), Identity: events.APIGatewayRequestIdentity{SourceIP: "198.51.100.8", UserAgent: "link-test"}},
	}
	for _, o := range opts {
		o(&req)
	}
	if accessToken != "" {
		req.Headers["Authorization"] = "Bearer " + accessToken
	}
	resp, err := r.steps.LinkEndpoint(context.Background(), req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, LinkPath, err)
	}
	var out map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
			t.Fatalf("%s %s: body %q", method, LinkPath, resp.Body)
		}
	}
	return resp.StatusCode, out, resp
}

// link links the Kakao account of kakaoToken to username's user through
// POST /auth/kakao/link and returns the user.
func (r *rig) link(t *testing.T, username, kakaoToken string) kakaoauth.CognitoUser {
	t.Helper()
	status, body, _ := r.linkCall(t, http.MethodPost, r.tokens.issue(username), `{"access_token":"`+kakaoToken+`"}`)
	if status != http.StatusOK || body["new_link"] != true {
		t.Fatalf("link %s to %s: %d %v", kakaoToken, username, status, body)
	}
	u, _ := r.users.user(username)
	return u.CognitoUser
}

func wantLinkError(t *testing.T, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code || body["message"] == "" {
		t.Fatalf("got %d %v, want %d %s", status, body, wantStatus, code)
	}
}

// The issue's story: a person with an email-and-password account links
// Kakao, then logs in with Kakao and is the same user (same sub), through
// CUSTOM_AUTH: one mapping read and two Cognito calls, no password set or
// derived, the person's own password unchanged.
func TestLinkThenKakaoLoginIsTheSameUser(t *testing.T) {
	r := newRig(t)
	alice := r.users.addNative("alice", "alice@example.com")
	own := r.users.password("alice")
	r.link(t, "alice", "tok-2")

	m := r.mappings.row(2)
	if m.Kind != kakaoauth.KindLinked || m.Sub != alice.Sub || m.Username != "alice" || m.Status != kakaoauth.StatusActive || m.PasswordNonce != "" {
		t.Fatalf("mapping %+v", m)
	}
	if r.mappings.claim(alice.Sub) != 2 {
		t.Fatal("the user is not claimed by its Kakao account")
	}
	if got := r.events.types(); !slices.Equal(got, []string{kakaoauth.EventLinked}) {
		t.Fatalf("events %v", got)
	}
	if ev := r.events.all()[0]; ev.Reason != "user" || ev.Sub != alice.Sub || ev.KakaoID != 2 {
		t.Fatalf("linked event %+v", ev)
	}

	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, pathReady...)
	resp := decode(t, exec)
	if resp.Sub != alice.Sub || resp.Username != "alice" || resp.NewUser || resp.RefreshToken == "" {
		t.Fatalf("Kakao login of the linked account: %+v", resp)
	}
	assertCalls(t, "linked login", r.cognito(), map[string]int{"AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1})
	if n := r.mappings.calls("GetItem"); n != 1 {
		t.Errorf("linked login read the mapping %d times, want 1", n)
	}
	if r.users.password("alice") != own {
		t.Fatal("kakaoauth changed the linked user's password")
	}
	if u, _ := r.users.user("alice"); u.Email != "alice@example.com" || !u.Enabled || u.KakaoID != 0 {
		t.Fatalf("kakaoauth changed the linked user: %+v", u)
	}
	if m := r.mappings.row(2); m.LastLoginAt.IsZero() || m.Email != "" {
		t.Fatalf("mapping after the login %+v", m)
	}
	// The state never carried a password nonce for a linked user.
	for _, in := range r.inputs["IssueTokens"] {
		var st LoginState
		_ = json.Unmarshal([]byte(in), &st)
		if st.Subject.Linked && st.Password.Nonce != "" {
			t.Fatalf("IssueTokens input %s", in)
		}
	}
}

// The conflicts answer their codes, and each refusal is audited.
func TestLinkConflicts(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`) // kakao_1, kakaoauth's own user
	r.users.addNative("bob", "bob@example.com")
	carol := r.users.addNative("carol", "carol@example.com")
	r.link(t, "carol", "tok-2")

	status, body, _ := r.linkCall(t, http.MethodPost, r.tokens.issue("bob"), `{"access_token":"tok-1"}`)
	wantLinkError(t, status, body, http.StatusConflict, "KakaoAccountInUse")
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("bob"), `{"access_token":"tok-2"}`)
	wantLinkError(t, status, body, http.StatusConflict, "KakaoAccountInUse")
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("carol"), `{"access_token":"tok-3"}`)
	wantLinkError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
	// kakaoauth's own user is its Kakao account: linking that is a no-op,
	// another one a conflict.
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("kakao_1"), `{"access_token":"tok-1"}`)
	if status != http.StatusOK || body["new_link"] != false || body["username"] != "kakao_1" {
		t.Fatalf("kakao_1 linking its own account: %d %v", status, body)
	}
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("kakao_1"), `{"access_token":"tok-3"}`)
	wantLinkError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
	// Linking again what is linked: 200, nothing changes.
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("carol"), `{"access_token":"tok-2"}`)
	if status != http.StatusOK || body["new_link"] != false || body["sub"] != carol.Sub {
		t.Fatalf("linking again: %d %v", status, body)
	}

	// The Cognito token: none, not Bearer, revoked.
	revoked := r.tokens.issue("bob")
	r.tokens.revoke(revoked)
	for name, tok := range map[string]string{"none": "", "revoked": revoked} {
		status, body, resp := r.linkCall(t, http.MethodPost, tok, `{"access_token":"tok-3"}`)
		wantLinkError(t, status, body, http.StatusUnauthorized, "InvalidCognitoToken")
		if !strings.HasPrefix(resp.Headers["WWW-Authenticate"], "Bearer") {
			t.Fatalf("%s: no WWW-Authenticate: %v", name, resp.Headers)
		}
	}
	// The Kakao token, exactly as a login checks it.
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("bob"), `{"access_token":"no-such-token"}`)
	wantLinkError(t, status, body, http.StatusUnauthorized, "InvalidKakaoToken")
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("bob"), `{"access_token":"tok-3","email_verified":true}`)
	wantLinkError(t, status, body, http.StatusBadRequest, "InvalidRequest")
	status, body, _ = r.linkCall(t, http.MethodPut, r.tokens.issue("bob"), ``)
	wantLinkError(t, status, body, http.StatusNotFound, "NotFound")

	var refused []string
	for _, e := range r.audit.all() {
		if e.Type == kakaoauth.EventLinkFailed {
			refused = append(refused, e.Error)
		}
	}
	want := []string{"KakaoAccountInUse", "KakaoAccountInUse", "UserAlreadyLinked", "UserAlreadyLinked",
		"InvalidCognitoToken", "InvalidCognitoToken", "InvalidKakaoToken", "InvalidRequest"}
	if !slices.Equal(refused, want) {
		t.Fatalf("link_failed audit %v, want %v", refused, want)
	}
	if r.mappings.row(3).KakaoID != 0 {
		t.Fatal("a refused link wrote a mapping")
	}
}

// Two Kakao accounts cannot both be linked to one user: the claim on the
// user decides, also against a link that died between its claim and its
// mapping (respected for claimGrace, then taken over).
func TestOneKakaoAccountPerUser(t *testing.T) {
	r := newRig(t)
	dave := r.users.addNative("dave", "dave@example.com")
	// Kakao account 3's link took the claim and is writing its mapping.
	if err := r.mappings.ClaimUser(context.Background(), dave.Sub, 3, 0, r.clock()); err != nil {
		t.Fatal(err)
	}
	status, body, _ := r.linkCall(t, http.MethodPost, r.tokens.issue("dave"), `{"access_token":"tok-2"}`)
	wantLinkError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
	// It never wrote its mapping: after the grace its claim is stale.
	r.advance(claimGrace + time.Second)
	r.link(t, "dave", "tok-2")
	if r.mappings.claim(dave.Sub) != 2 {
		t.Fatal("the stale claim was not taken over")
	}
	// And a live link is respected however old.
	r.advance(time.Hour)
	status, body, _ = r.linkCall(t, http.MethodPost, r.tokens.issue("dave"), `{"access_token":"tok-3"}`)
	wantLinkError(t, status, body, http.StatusConflict, "UserAlreadyLinked")
}

// DELETE removes the link: Kakao's unlink API first, then the link,
// forgotten; the user is untouched, and may link again. A user kakaoauth
// created cannot: Kakao is its only way in.
func TestUnlinkByTheUser(t *testing.T) {
	r := newRig(t)
	alice := r.users.addNative("alice", "alice@example.com")
	own := r.users.password("alice")
	r.link(t, "alice", "tok-2")
	first := r.login(t, `{"access_token":"tok-2"}`)
	r.advance(time.Minute)

	// Kakao down: nothing changes, the app tries again.
	r.accounts.unErr = &kakaoauth.KakaoUnavailable{Reason: "unlink: HTTP 503"}
	status, body, _ := r.linkCall(t, http.MethodDelete, r.tokens.issue("alice"), "")
	wantLinkError(t, status, body, http.StatusBadGateway, "KakaoUnavailable")
	if m := r.mappings.row(2); m.Status != kakaoauth.StatusActive {
		t.Fatalf("a failed unlink changed the mapping: %+v", m)
	}
	r.accounts.unErr = nil

	status, body, _ = r.linkCall(t, http.MethodDelete, r.tokens.issue("alice"), "")
	if status != http.StatusOK || body["kakao_id"] != 2.0 || body["sub"] != alice.Sub {
		t.Fatalf("DELETE: %d %v", status, body)
	}
	if !slices.Equal(r.accounts.unlinked, []int64{2}) {
		t.Fatalf("Kakao's unlink API calls %v", r.accounts.unlinked)
	}
	m := r.mappings.row(2)
	if m.Status != kakaoauth.StatusDeleted || m.Kind != kakaoauth.KindLinked || m.Sub != alice.Sub || m.LastEvent.Reason != ReferrerUser {
		t.Fatalf("mapping %+v", m)
	}
	if r.mappings.claim(alice.Sub) != 0 {
		t.Fatal("the user is still claimed")
	}
	if u, _ := r.users.user("alice"); !u.Enabled || r.users.password("alice") != own || !r.users.refreshWorks(first.RefreshToken) {
		t.Fatalf("the unlink touched the user or its sessions: %+v", u)
	}
	if got := r.events.types(); !slices.Equal(got, []string{kakaoauth.EventLinked, kakaoauth.EventUnlinked}) {
		t.Fatalf("events %v", got)
	}
	status, body, _ = r.linkCall(t, http.MethodDelete, r.tokens.issue("alice"), "")
	wantLinkError(t, status, body, http.StatusNotFound, "NotLinked")

	// A later Kakao login starts over (no verified email: its own user).
	r.advance(time.Minute)
	again := r.login(t, `{"access_token":"tok-2"}`)
	if again.Sub == alice.Sub || again.Username != "kakao_2" || !again.NewUser {
		t.Fatalf("login after the user's unlink: %+v", again)
	}
	status, body, _ = r.linkCall(t, http.MethodDelete, r.tokens.issue("kakao_2"), "")
	wantLinkError(t, status, body, http.StatusConflict, "KakaoOnlyAccount")
}

// Kakao's unlink of a linked account (the worker, under the disable
// policy) leaves the user enabled and its sessions alone; a fresh Kakao
// login brings the link back (same sub, relinked). ACCOUNT_DELETE forgets
// the link, and still leaves the user enabled.
func TestKakaoUnlinkOfALinkedAccount(t *testing.T) {
	r := newRig(t)
	alice := r.users.addNative("alice", "alice@example.com")
	r.link(t, "alice", "tok-2")
	first := r.login(t, `{"access_token":"tok-2"}`)
	r.advance(time.Minute)
	r.resetCalls()

	if resp := r.worker(t, r.unlinkRequest(1, 2, "UNLINK_FROM_APPS")); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("worker: %+v", resp)
	}
	if m := r.mappings.row(2); m.Status != kakaoauth.StatusUnlinked || m.Sub != alice.Sub {
		t.Fatalf("mapping %+v", m)
	}
	assertCalls(t, "unlink of a linked account", r.cognito(), map[string]int{})
	if u, _ := r.users.user("alice"); !u.Enabled || !r.users.refreshWorks(first.RefreshToken) {
		t.Fatal("the unlink disabled the user or signed it out")
	}
	if r.mappings.claim(alice.Sub) != 0 {
		t.Fatal("a dormant link still holds the user")
	}
	// A token Kakao vouched for before the unlink cannot bring it back.
	r.kakao.ids["tok-2-old"] = kakaoauth.KakaoIdentity{KakaoID: 2, AppID: 1001, EmailChecked: true, IDTokenIssuedAt: t0}
	r.fails(t, `{"access_token":"tok-2-old"}`, "AccountUnlinked")

	r.advance(time.Minute)
	back := r.login(t, `{"access_token":"tok-2"}`)
	if back.Sub != alice.Sub || back.Username != "alice" || back.NewUser {
		t.Fatalf("return after the unlink: %+v", back)
	}
	if m := r.mappings.row(2); m.Status != kakaoauth.StatusActive || r.mappings.claim(alice.Sub) != 2 {
		t.Fatalf("after the return: %+v", m)
	}

	r.advance(time.Minute)
	r.worker(t, r.unlinkRequest(2, 2, "ACCOUNT_DELETE"))
	if m := r.mappings.row(2); m.Status != kakaoauth.StatusDeleted || m.Kind != kakaoauth.KindLinked {
		t.Fatalf("after ACCOUNT_DELETE: %+v", m)
	}
	if u, ok := r.users.user("alice"); !ok || !u.Enabled {
		t.Fatal("ACCOUNT_DELETE deleted or disabled the linked user")
	}
	if got := r.events.types(); !slices.Equal(got, []string{kakaoauth.EventLinked, kakaoauth.EventUnlinked, kakaoauth.EventRelinked, kakaoauth.EventUnlinked}) {
		t.Fatalf("events %v", got)
	}
}

// The verified-email rule, both ways. Off: a Kakao email that is another
// user's is AccountConflict, found by Cognito's refusal (no ListUsers).
// On: the account is linked to that user, found then.
func TestEmailRule(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		r := newRig(t)
		r.users.addNative("erin", "one@example.com")
		r.resetCalls()
		exec := r.fails(t, `{"access_token":"tok-1"}`, "AccountConflict")
		assertPath(t, exec, pathUpsertErr...)
		assertCalls(t, "conflict", r.cognito(), map[string]int{"AdminCreateUser": 1})
		if len(r.mappings.rows) != 0 {
			t.Fatal("a mapping was written")
		}
	})
	t.Run("off, the taken email answered as a taken username", func(t *testing.T) {
		// As Cognito has been seen to answer (UsernameExistsException,
		// "An account with the given email already exists."): the
		// username is free, so it is the email.
		r := newRig(t)
		r.users.aliasAsUsernameExists = true
		r.users.addNative("erin", "one@example.com")
		r.resetCalls()
		r.fails(t, `{"access_token":"tok-1"}`, "AccountConflict")
		assertCalls(t, "conflict", r.cognito(), map[string]int{"AdminCreateUser": 1, "AdminGetUser": 1})
	})
	t.Run("on", func(t *testing.T) {
		r := newRig(t, WithLinkByVerifiedEmail(true))
		erin := r.users.addNative("erin", "one@example.com")
		r.resetCalls()
		resp := r.login(t, `{"access_token":"tok-1"}`)
		if resp.Sub != erin.Sub || resp.Username != "erin" || resp.NewUser {
			t.Fatalf("login: %+v", resp)
		}
		assertCalls(t, "linked by email", r.cognito(), map[string]int{"AdminCreateUser": 1, "ListUsers": 1, "AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1})
		if ev := r.events.all(); len(ev) != 1 || ev[0].Type != kakaoauth.EventLinked || ev[0].Reason != "email" {
			t.Fatalf("events %+v", ev)
		}
		// Kakao account 3 has the same email: erin is taken.
		r.fails(t, `{"access_token":"tok-3"}`, "AccountConflict")
		// The person removes the link: the rule does not put it back.
		r.advance(time.Minute)
		if status, body, _ := r.linkCall(t, http.MethodDelete, r.tokens.issue("erin"), ""); status != http.StatusOK {
			t.Fatalf("DELETE: %d %v", status, body)
		}
		r.advance(time.Minute)
		r.fails(t, `{"access_token":"tok-1"}`, "AccountConflict")
	})
	t.Run("on, owner's email not verified", func(t *testing.T) {
		r := newRig(t, WithLinkByVerifiedEmail(true))
		r.users.addNative("frank", "one@example.com")
		r.users.users["frank"].EmailVerified = false
		resp := r.login(t, `{"access_token":"tok-1"}`)
		if resp.Username != "kakao_1" || !resp.NewUser {
			t.Fatalf("an unverified owner was linked: %+v", resp)
		}
	})
	t.Run("pool that creates no users", func(t *testing.T) {
		r := newRig(t)
		r.users.noCreate = true
		r.users.addNative("erin", "one@example.com")
		r.fails(t, `{"access_token":"tok-1"}`, "AccountNotLinked")
		on := newRig(t, WithLinkByVerifiedEmail(true))
		on.users.noCreate = true
		erin := on.users.addNative("erin", "one@example.com")
		if resp := on.login(t, `{"access_token":"tok-1"}`); resp.Sub != erin.Sub {
			t.Fatalf("login: %+v", resp)
		}
		on.fails(t, `{"access_token":"tok-2"}`, "AccountNotLinked") // no email: nothing to link by
	})
}

// A linked user the team deleted: the Kakao login finds it missing and
// the account starts over (its own user now), releasing the claim.
func TestLinkedUserDeletedByTheTeam(t *testing.T) {
	r := newRig(t)
	alice := r.users.addNative("alice", "alice@example.com")
	r.link(t, "alice", "tok-2")
	r.users.deleteBehindTheBrokersBack("alice")
	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens", "AfterUserMissing", "RecreateUser", "CountSignIn", "IssueTokens")
	resp := decode(t, exec)
	m := r.mappings.row(2)
	if resp.Username != "kakao_2" || m.Kind != kakaoauth.KindCreated || m.Sub != resp.Sub || !slices.Equal(m.PreviousSubs, []string{alice.Sub}) {
		t.Fatalf("after the linked user's deletion: %+v %+v", resp, m)
	}
	if r.mappings.claim(alice.Sub) != 0 {
		t.Fatal("the deleted user is still claimed")
	}
	// The app client hides the missing user (PreventUserExistenceErrors
	// ENABLED): the refused answer, one AdminGetUser, then a new user's
	// calls.
	assertCalls(t, "start over", r.cognito(), map[string]int{"AdminInitiateAuth": 2, "AdminRespondToAuthChallenge": 2, "AdminGetUser": 1, "AdminCreateUser": 1})
}

// A linked account's login that loses a race with an unlink revokes only
// the refresh token it got: the user's other sessions are the team's.
func TestLinkedLoginLostToAnUnlink(t *testing.T) {
	r := newRig(t)
	r.users.addNative("alice", "alice@example.com")
	r.link(t, "alice", "tok-2")
	other := r.login(t, `{"access_token":"tok-2"}`)
	r.advance(time.Minute)
	r.resetCalls()
	r.mappings.before("UpdateItem", func() {
		r.mappings.before("UpdateItem", nil)
		r.worker(t, r.unlinkRequest(3, 2, "UNLINK_FROM_APPS"))
	})
	r.fails(t, `{"access_token":"tok-2"}`, "AccountUnlinked")
	assertCalls(t, "lost login", r.cognito(), map[string]int{"AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1, "RevokeToken": 1})
	if !r.users.refreshWorks(other.RefreshToken) {
		t.Fatal("the user's other session was revoked")
	}
	if len(r.users.refresh) != 1 {
		t.Fatalf("refresh tokens %v: the lost login's one must be revoked", r.users.refresh)
	}
}

// An operator links by username (migrations), audited with the operator.
func TestOperatorLink(t *testing.T) {
	r := newRig(t)
	gina := r.users.addNative("gina", "gina@example.com")
	m, created, err := r.steps.LinkUser(context.Background(), 2, "gina", "arn:aws:iam::123456789012:user/ops")
	if err != nil || !created || m.Sub != gina.Sub || m.Kind != kakaoauth.KindLinked {
		t.Fatalf("admin link: %+v %v %v", m, created, err)
	}
	var linked []kakaoauth.AuditEvent
	for _, e := range r.audit.all() {
		if e.Type == kakaoauth.EventLinked {
			linked = append(linked, e)
		}
	}
	if len(linked) != 1 || !strings.Contains(linked[0].Detail, "by=arn:aws:iam::123456789012:user/ops") || !strings.HasPrefix(linked[0].Detail, "admin") {
		t.Fatalf("audit %+v", linked)
	}
	if _, created, err := r.steps.LinkUser(context.Background(), 2, "gina", "ops"); err != nil || created {
		t.Fatalf("linking again: %v %v", created, err)
	}
	if _, _, err := r.steps.LinkUser(context.Background(), 1, "kakao_none", "ops"); err == nil {
		t.Fatal("linked a user that does not exist")
	}
	if resp := r.login(t, `{"access_token":"tok-2"}`); resp.Sub != gina.Sub {
		t.Fatalf("login after the operator's link: %+v", resp)
	}
}

// The hosted UI on a linked account: the Kakao identity is linked to the
// team's user, whose password stays its own.
func TestPreSignUpLinksToTheLinkedUser(t *testing.T) {
	h := newHostedRig(t)
	alice := h.users.addNative("alice", "alice@example.com")
	own := h.users.password("alice")
	h.link(t, "alice", "tok-2")
	rec := h.linked(t, 2)
	if rec.username != "alice" || rec.sub != alice.Sub {
		t.Fatalf("hosted UI link %+v", rec)
	}
	if h.users.calls("AdminSetUserPassword") != 0 || h.users.password("alice") != own {
		t.Fatal("the hosted-UI link set the linked user's password")
	}
}

// A ban of a linked account (a user of the team's, not kakaoauth's): its
// Kakao login answers AccountBanned before any Cognito call, through the
// broker and the hosted UI alike, and the user is never disabled or
// signed out: enabled, its own password, its sessions. Only what
// kakaoauth made goes: the hosted UI's link of the Kakao identity. The ban
// is the Kakao account's: it holds through Kakao's unlink and the
// person's own removal of the link, and refuses linking that Kakao account
// to anyone; lifted, the account links again.
func TestBanOfALinkedAccount(t *testing.T) {
	h := newHostedRig(t)
	ctx := context.Background()
	alice := h.users.addNative("alice", "alice@example.com")
	bob := h.users.addNative("bob", "bob@example.com")
	own := h.users.password("alice")
	h.link(t, "alice", "tok-2")
	h.linked(t, 2)
	session := h.login(t, `{"access_token":"tok-2"}`)
	h.advance(time.Minute)
	h.resetCalls()

	if err := h.steps.BanAccount(ctx, 2, time.Time{}, "abuse report 4", "operator"); err != nil {
		t.Fatal(err)
	}
	if h.links.linkedTo(2) != "" {
		t.Fatal("the hosted UI's link of a banned Kakao account is still there")
	}
	exec := h.fails(t, `{"access_token":"tok-2"}`, "AccountBanned")
	assertPath(t, exec, pathUpsertErr...)
	h.refused(t, 2, "AccountBanned")
	assertCalls(t, "ban of a linked account and its refused logins", h.cognito(), map[string]int{})
	intact := func(when string) {
		t.Helper()
		u, _ := h.users.user("alice")
		if !u.Enabled || u.Sub != alice.Sub || h.users.password("alice") != own || !h.users.refreshWorks(session.RefreshToken) {
			t.Fatalf("%s: the team's user was disabled, changed or signed out: %+v", when, u)
		}
	}
	intact("after the ban")

	// Kakao's unlink: the link goes dormant, the ban stays, and a fresh
	// Kakao login (which would restore a dormant link) is still refused.
	h.worker(t, h.unlinkRequest(1, 2, "UNLINK_FROM_APPS"))
	if m := h.mappings.row(2); m.Status != kakaoauth.StatusUnlinked || m.Ban == nil || m.Sub != alice.Sub {
		t.Fatalf("after Kakao's unlink: %+v", m)
	}
	h.advance(time.Minute)
	h.fails(t, `{"access_token":"tok-2"}`, "AccountBanned")
	intact("after Kakao's unlink")

	// The person removes the dormant link: forgotten, still banned.
	h.advance(time.Minute)
	if status, body, _ := h.linkCall(t, http.MethodDelete, h.tokens.issue("alice"), ""); status != http.StatusOK {
		t.Fatalf("DELETE: %d %v", status, body)
	}
	if m := h.mappings.row(2); m.Status != kakaoauth.StatusDeleted || m.Ban == nil {
		t.Fatalf("after the person's unlink: %+v", m)
	}
	intact("after the person's unlink")
	// Nobody may link the banned Kakao account now, the person or another.
	for _, who := range []string{"alice", "bob"} {
		status, body, _ := h.linkCall(t, http.MethodPost, h.tokens.issue(who), `{"access_token":"tok-2"}`)
		wantLinkError(t, status, body, http.StatusForbidden, "AccountBanned")
	}
	if _, _, err := h.steps.LinkUser(ctx, 2, "bob", "operator"); err == nil || kakaoauth.ErrorName(err) != "AccountBanned" {
		t.Fatalf("an operator linked a banned Kakao account: %v", err)
	}
	if h.mappings.claim(bob.Sub) != 0 {
		t.Fatal("a refused link claimed the user")
	}
	h.fails(t, `{"access_token":"tok-2"}`, "AccountBanned")

	// Lifted: the Kakao account links again, and logs in as that user.
	if lifted, err := h.steps.UnbanAccount(ctx, 2, "operator"); err != nil || !lifted {
		t.Fatalf("unban: %v %v", lifted, err)
	}
	h.link(t, "bob", "tok-2")
	if resp := h.login(t, `{"access_token":"tok-2"}`); resp.Sub != bob.Sub {
		t.Fatalf("login after the unban: %+v", resp)
	}
	if u, _ := h.users.user("bob"); !u.Enabled || h.users.password("bob") != "native-password-bob" {
		t.Fatalf("bob after his link: %+v", u)
	}
	want := []string{kakaoauth.EventLinked, kakaoauth.EventBanned, kakaoauth.EventUnlinked, kakaoauth.EventUnlinked, kakaoauth.EventUnbanned, kakaoauth.EventLinked}
	if got := h.events.types(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	var refusedLinks int
	for _, e := range h.audit.all() {
		if e.Type == kakaoauth.EventLinkFailed && e.Error == "AccountBanned" && e.KakaoID == 2 {
			refusedLinks++
		}
	}
	if refusedLinks != 2 {
		t.Fatalf("%d refused links audited, want 2", refusedLinks)
	}
}

// The reconciler on a linked account whose Kakao callback was lost: the
// link goes dormant (reconciled), the claim on the user is released, and
// the team's user is never read, disabled or signed out.
func TestReconcilerUnlinksALinkedAccount(t *testing.T) {
	r := newRig(t)
	alice := r.users.addNative("alice", "alice@example.com")
	r.link(t, "alice", "tok-2")
	session := r.login(t, `{"access_token":"tok-2"}`)
	r.login(t, `{"access_token":"tok-1"}`) // a created account Kakao still links
	r.advance(time.Minute)
	WithReconciler(&memKakaoLinks{linked: map[int64]bool{1: true}}, memActive{m: r.mappings, pageSize: 100}, &memCursor{}, nil, ReconcilerSettings{})(r.steps)
	r.resetCalls()
	rep, err := r.steps.Reconcile(context.Background(), ReconcileEvent{})
	if err != nil || rep.Checked != 2 || rep.Unlinked != 1 || !rep.PassEnded {
		t.Fatalf("reconcile: %+v %v", rep, err)
	}
	m := r.mappings.row(2)
	if m.Status != kakaoauth.StatusUnlinked || m.Kind != kakaoauth.KindLinked || m.Sub != alice.Sub || m.LastEvent.Reason != ReasonReconciled {
		t.Fatalf("mapping %+v", m)
	}
	if r.mappings.claim(alice.Sub) != 0 {
		t.Fatal("the dormant link still claims the user")
	}
	assertCalls(t, "reconciled unlink of a linked account", r.cognito(), map[string]int{})
	if u, _ := r.users.user("alice"); !u.Enabled || !r.users.refreshWorks(session.RefreshToken) {
		t.Fatal("the reconciler disabled the team's user or signed it out")
	}
	if ev := r.events.all(); ev[len(ev)-1].Type != kakaoauth.EventUnlinked || ev[len(ev)-1].KakaoID != 2 {
		t.Fatalf("events %+v", ev)
	}
	// The person's next Kakao login (Kakao vouches for it now) restores it.
	r.advance(time.Minute)
	if resp := r.login(t, `{"access_token":"tok-2"}`); resp.Sub != alice.Sub {
		t.Fatalf("return: %+v", resp)
	}
}

// A web app on another origin links Kakao from the browser: its preflight
// (OPTIONS, which a browser sends for a DELETE or an Authorization header)
// allows both methods and the Authorization header for the stack's
// CorsAllowedOrigins only, and the answers themselves carry the origin.
func TestLinkEndpointCORS(t *testing.T) {
	const app = "https://app.example.com"
	r := newRig(t, WithCORSOrigins(app))
	r.users.addNative("alice", "alice@example.com")
	call := func(method, origin, token, body string) events.APIGatewayProxyResponse {
		t.Helper()
		req := events.APIGatewayProxyRequest{HTTPMethod: method, Path: LinkPath, Body: body,
			Headers: map[string]string{"Content-Type": "application/json", "Origin": origin}}
		if token != "" {
			req.Headers["Authorization"] = "Bearer " + token
		}
		resp, err := r.steps.LinkEndpoint(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	pre := call(http.MethodOptions, app, "", "")
	if pre.StatusCode != http.StatusNoContent || pre.Headers["Access-Control-Allow-Origin"] != app ||
		!strings.Contains(pre.Headers["Access-Control-Allow-Methods"], "DELETE") || !strings.Contains(pre.Headers["Access-Control-Allow-Headers"], "Authorization") {
		t.Fatalf("preflight from %s: %d %v", app, pre.StatusCode, pre.Headers)
	}
	if other := call(http.MethodOptions, "https://attacker.example", "", ""); other.Headers["Access-Control-Allow-Origin"] != "" || other.Headers["Access-Control-Allow-Headers"] != "" {
		t.Fatalf("preflight from another site allowed: %v", other.Headers)
	}
	for _, c := range []struct{ method, body string }{
		{http.MethodPost, `{"access_token":"tok-2"}`},
		{http.MethodDelete, ""},
	} {
		resp := call(c.method, app, r.tokens.issue("alice"), c.body)
		if resp.StatusCode != http.StatusOK || resp.Headers["Access-Control-Allow-Origin"] != app || resp.Headers["Vary"] != "Origin" {
			t.Fatalf("%s from %s: %d %v %s", c.method, app, resp.StatusCode, resp.Headers, resp.Body)
		}
	}
}
