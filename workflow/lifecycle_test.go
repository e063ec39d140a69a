package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// unlinkRequest is what the webhook queues for Kakao's callback now.
func (r *rig) unlinkRequest(id, kakaoID int64, referrer string) kakaoauth.UnlinkRequest {
	return kakaoauth.UnlinkRequest{ID: "req-" + itoa(id), KakaoID: kakaoID, AppID: 1001, ReferrerType: referrer, ReceivedAt: r.clock(), SourceIP: "203.0.113.9"}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// signed is the SQS record the webhook's message for q becomes.
func (r *rig) signed(t testing.TB, id string, q kakaoauth.UnlinkRequest) events.SQSMessage {
	t.Helper()
	m, err := r.steps.SignUnlink(q)
	if err != nil {
		t.Fatal(err)
	}
	return sqsRecord(id, m.Body, m.MAC)
}

// sqsRecord is a record as Lambda delivers it, with the MAC attribute
// when mac is set.
func sqsRecord(id, body, mac string) events.SQSMessage {
	rec := events.SQSMessage{MessageId: id, Body: body, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
	if mac != "" {
		rec.MessageAttributes = map[string]events.SQSMessageAttribute{kakaoauth.UnlinkMACAttribute: {StringValue: &mac, DataType: "String"}}
	}
	return rec
}

// worker delivers requests as SQS records to the worker.
func (r *rig) worker(t *testing.T, reqs ...kakaoauth.UnlinkRequest) events.SQSEventResponse {
	t.Helper()
	var ev events.SQSEvent
	for i, q := range reqs {
		ev.Records = append(ev.Records, r.signed(t, "m"+itoa(int64(i)), q))
	}
	resp, err := r.steps.UnlinkWorker(context.Background(), ev)
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	return resp
}

func TestUnlinkDisablesSignsOutAndReleasesTheEmail(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-1"}`)
	rt := r.users.refresh
	var refreshTokens []string
	for k := range rt {
		refreshTokens = append(refreshTokens, k)
	}
	r.resetCalls()
	r.advance(time.Minute)
	// Disable before the sign-out: no login can slip in between.
	signedOutEnabled := true
	r.users.before("AdminUserGlobalSignOut", func() {
		u, _ := r.users.user("kakao_1")
		signedOutEnabled = u.Enabled
	})
	req := r.unlinkRequest(1, 1, "UNLINK_FROM_APPS")
	if resp := r.worker(t, req); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	u, _ := r.users.user("kakao_1")
	m := r.mappings.row(1)
	if u.Enabled || u.Email != "" || m.Status != kakaoauth.StatusUnlinked || !m.UnlinkedAt.Equal(req.ReceivedAt) || m.Email != "one@example.com" || m.EventPending {
		t.Fatalf("after unlink: user %+v mapping %+v", u, m)
	}
	for _, tok := range refreshTokens {
		if r.users.refreshWorks(tok) {
			t.Fatal("a refresh token issued before the unlink still works")
		}
	}
	if signedOutEnabled {
		t.Fatal("the user was signed out while still enabled: a login could slip in before the disable")
	}
	// AdminGetUser first: a user found disabled before the unlink was an
	// administrator's disable, kept as a ban (TestUnlinkKeepsACognitoDisableAsABan).
	assertCalls(t, "unlink", r.cognito(), map[string]int{"AdminGetUser": 1, "AdminDisableUser": 1, "AdminUserGlobalSignOut": 1, "AdminUpdateUserAttributes": 1})
	evs := r.events.all()
	if len(evs) != 2 || evs[1].Type != kakaoauth.EventUnlinked || evs[1].KakaoID != 1 || evs[1].Sub != first.Sub || evs[1].Reason != "UNLINK_FROM_APPS" {
		t.Fatalf("events %+v", evs)
	}
	audit := r.audit.all()
	last := audit[len(audit)-1]
	if last.Type != kakaoauth.EventUnlinked || last.ID != evs[1].ID || last.Detail != "UNLINK_FROM_APPS" || last.ExecutionID != req.ID || last.SourceIP != "203.0.113.9" {
		t.Fatalf("audit %+v", last)
	}

	// The email no longer blocks another Kakao account.
	r.login(t, `{"access_token":"tok-3"}`)
	if u3, _ := r.users.user("kakao_3"); u3.Email != "one@example.com" {
		t.Fatalf("another account with the released email: %+v", u3)
	}

	// A redelivered message changes nothing more.
	r.resetCalls()
	nEvents, nAudit := len(r.events.all()), len(r.audit.all())
	if resp := r.worker(t, req); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery failed: %v", resp.BatchItemFailures)
	}
	if len(r.cognito()) != 0 || len(r.events.all()) != nEvents || len(r.audit.all()) != nAudit {
		t.Fatalf("redelivery had effects: %v", r.cognito())
	}
}

// Return after unlink: a fresh Kakao login re-links the same user and sub;
// the email comes back only if nobody took it meanwhile.
func TestReturnAfterUnlink(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.worker(t, r.unlinkRequest(1, 1, "UNLINK_FROM_APPS"))
	r.advance(time.Minute)
	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-1"}`)
	assertPath(t, exec, pathReady...)
	back := decode(t, exec)
	if back.Sub != first.Sub || back.NewUser {
		t.Fatalf("return: %+v, first %+v", back, first)
	}
	u, _ := r.users.user("kakao_1")
	m := r.mappings.row(1)
	if !u.Enabled || u.Email != "one@example.com" || m.Status != kakaoauth.StatusActive || !m.RelinkedAt.Equal(m.ActiveSince) || m.EventPending {
		t.Fatalf("after return: user %+v mapping %+v", u, m)
	}
	if got := r.events.types(); strings.Join(got, ",") != "user_created,unlinked,relinked" {
		t.Fatalf("events %v", got)
	}
	// Enabled, then signed out once more (in case the unlink's sign-out
	// was refused for the disabled user), then the email: 1 sign-in.
	assertCalls(t, "return", r.cognito(), map[string]int{
		"AdminEnableUser": 1, "AdminUserGlobalSignOut": 1, "AdminUpdateUserAttributes": 1, "AdminInitiateAuth": 1,
	})

	// A redelivered copy of the old unlink cannot undo the return.
	r.worker(t, kakaoauth.UnlinkRequest{ID: "req-1", KakaoID: 1, ReferrerType: "UNLINK_FROM_APPS", ReceivedAt: m.UnlinkedAt})
	if got := r.mappings.row(1).Status; got != kakaoauth.StatusActive {
		t.Fatalf("a stale unlink changed the status to %s", got)
	}
}

func TestReturnAfterUnlinkWithoutTheTakenEmail(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.worker(t, r.unlinkRequest(1, 1, "UNLINK_FROM_APPS"))
	r.login(t, `{"access_token":"tok-3"}`) // takes the released email
	r.advance(time.Minute)
	back := r.login(t, `{"access_token":"tok-1"}`)
	if back.Sub != first.Sub {
		t.Fatalf("return: %+v", back)
	}
	if u, _ := r.users.user("kakao_1"); u.Email != "" || !u.Enabled {
		t.Fatalf("user after return: %+v", u)
	}
	if m := r.mappings.row(1); m.Email != "" {
		t.Fatalf("mapping email %q", m.Email)
	}
}

// An ID token cannot be revoked: only one issued after the unlink re-links.
func TestReturnByIDTokenNeedsOneIssuedAfterTheUnlink(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-1"}`)
	r.kakao.ids["old.id.token"] = kakaoauth.KakaoIdentity{KakaoID: 1, IDTokenIssuedAt: r.clock().Truncate(time.Second)}
	r.advance(time.Minute)
	r.worker(t, r.unlinkRequest(1, 1, "UNLINK_FROM_APPS"))
	exec := r.fails(t, `{"id_token":"old.id.token"}`, "AccountUnlinked")
	assertPath(t, exec, pathUpsertErr...)
	// Issued in the same second as the unlink: not provably after it.
	r.kakao.ids["same.second.token"] = kakaoauth.KakaoIdentity{KakaoID: 1, IDTokenIssuedAt: r.mappings.row(1).UnlinkedAt.Truncate(time.Second)}
	r.fails(t, `{"id_token":"same.second.token"}`, "AccountUnlinked")
	r.advance(2 * time.Second)
	r.kakao.ids["new.id.token"] = kakaoauth.KakaoIdentity{KakaoID: 1, IDTokenIssuedAt: r.clock().Truncate(time.Second)}
	back := r.login(t, `{"id_token":"new.id.token"}`)
	if back.Sub != first.Sub {
		t.Fatalf("return by ID token: %+v", back)
	}
	// The email stored before the unlink is restored: it is still free.
	if u, _ := r.users.user("kakao_1"); u.Email != "one@example.com" {
		t.Fatalf("user %+v", u)
	}
}

// A login that checked its access token with Kakao before the unlink was
// reported cannot re-link: Kakao revoked that token since.
func TestTokenCheckedBeforeTheUnlinkCannotRelink(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.mappings.before("GetItem", func() {
		r.mappings.before("GetItem", nil)
		r.advance(time.Second)
		r.worker(t, r.unlinkRequest(1, 1, "UNLINK_FROM_APPS"))
	})
	r.fails(t, `{"access_token":"tok-1"}`, "AccountUnlinked")
}

// ACCOUNT_DELETE: the Cognito user is deleted, the mapping scrubbed, the
// email free for another account at once.
func TestAccountDeleteScrubsAndFreesTheEmail(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.resetCalls()
	req := r.unlinkRequest(1, 1, "ACCOUNT_DELETE")
	r.worker(t, req)
	assertCalls(t, "deletion", r.cognito(), map[string]int{"AdminGetUser": 1, "AdminDeleteUser": 1})
	if _, ok := r.users.user("kakao_1"); ok {
		t.Fatal("the Cognito user was not deleted")
	}
	m := r.mappings.row(1)
	if m.Status != kakaoauth.StatusDeleted || m.Email != "" || m.PasswordNonce != "" || m.Sub != first.Sub || m.DeletedAt.IsZero() || m.CreatedAt.IsZero() {
		t.Fatalf("mapping after deletion %+v", m)
	}
	if got := r.events.types(); strings.Join(got, ",") != "user_created,deleted" {
		t.Fatalf("events %v", got)
	}
	r.login(t, `{"access_token":"tok-3"}`)
	// Redelivered: nothing more.
	r.resetCalls()
	r.worker(t, req)
	if len(r.cognito()) != 0 {
		t.Fatalf("redelivered deletion: %v", r.cognito())
	}
}

// The delete policy applies to every unlink; a person who comes back gets
// a new user (new sub), the old sub kept for auditors.
func TestDeletePolicyThenReturnRecreates(t *testing.T) {
	r := newRig(t, WithUnlinkPolicy(UnlinkPolicyDelete))
	first := r.login(t, `{"access_token":"tok-2"}`)
	r.advance(time.Minute)
	r.worker(t, r.unlinkRequest(1, 2, "UNLINK_FROM_APPS"))
	if m := r.mappings.row(2); m.Status != kakaoauth.StatusDeleted {
		t.Fatalf("status %s under the delete policy", m.Status)
	}
	r.advance(time.Minute)
	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, pathReady...)
	back := decode(t, exec)
	if back.Sub == first.Sub || !back.NewUser {
		t.Fatalf("return after deletion: %+v", back)
	}
	m := r.mappings.row(2)
	if m.Sub != back.Sub || m.Status != kakaoauth.StatusActive || !slices.Equal(m.PreviousSubs, []string{first.Sub}) {
		t.Fatalf("mapping %+v", m)
	}
	assertCalls(t, "return after deletion", r.cognito(), map[string]int{"AdminCreateUser": 1, "AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1})
	evs := r.events.all()
	if last := evs[len(evs)-1]; last.Type != kakaoauth.EventRecreated || last.Sub != back.Sub || last.PreviousSub != first.Sub {
		t.Fatalf("last event %+v", last)
	}
}

// A Cognito user deleted behind the broker's back (AdminDeleteUser, or
// the user's own DeleteUser): the next login is 200 with a new user, and
// the one after is an ordinary returning login. A missing user is never
// retried in the password loop, and costs no AdminSetUserPassword. The
// stack's app client (PreventUserExistenceErrors ENABLED) answers the
// sign-in of a missing user as a wrong password, so one AdminGetUser tells
// the broker; a LEGACY client says UserNotFound itself.
func TestUserDeletedBehindTheBrokersBack(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(map[bool]string{false: "ENABLED", true: "LEGACY"}[legacy], func(t *testing.T) {
			r := newRig(t)
			r.users.legacyExistenceErrors = legacy
			first := r.login(t, `{"access_token":"tok-1"}`)
			r.users.deleteBehindTheBrokersBack("kakao_1")
			r.resetCalls()
			exec := r.run(t, `{"access_token":"tok-1"}`)
			assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens",
				"AfterUserMissing", "RecreateUser", "CountSignIn", "IssueTokens")
			second := decode(t, exec)
			if second.Sub == first.Sub || !second.NewUser {
				t.Fatalf("login after the deletion: %+v", second)
			}
			// The new user is created first: no ListUsers.
			want := map[string]int{"AdminInitiateAuth": 2, "AdminCreateUser": 1, "AdminRespondToAuthChallenge": 1}
			if !legacy {
				want["AdminGetUser"] = 1
			}
			assertCalls(t, "recreation", r.cognito(), want)
			m := r.mappings.row(1)
			if m.Sub != second.Sub || !slices.Equal(m.PreviousSubs, []string{first.Sub}) || m.Email != "one@example.com" {
				t.Fatalf("mapping %+v", m)
			}
			evs := r.events.all()
			if last := evs[len(evs)-1]; last.Type != kakaoauth.EventRecreated || last.PreviousSub != first.Sub {
				t.Fatalf("events %+v", evs)
			}
			r.resetCalls()
			third := r.login(t, `{"access_token":"tok-1"}`)
			if third.Sub != second.Sub || third.NewUser {
				t.Fatalf("login after the recreation: %+v", third)
			}
			assertCalls(t, "returning", r.cognito(), map[string]int{"AdminInitiateAuth": 1})
		})
	}
}

// The one AdminGetUser cannot answer (throttled): the login goes the lost
// race's way, whose AdminSetUserPassword finds the user missing, and
// recreates it; still within the budget.
func TestUserMissingWhenAdminGetUserFails(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-1"}`)
	r.users.deleteBehindTheBrokersBack("kakao_1")
	r.resetCalls()
	r.users.failNext("AdminGetUser", &kakaoauth.Throttled{Reason: "cognito get user"})
	exec := r.run(t, `{"access_token":"tok-1"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens",
		"AfterPasswordRotated", "SetPassword", "AfterUserMissing", "RecreateUser", "CountSignIn", "IssueTokens")
	if second := decode(t, exec); second.Sub == first.Sub || !second.NewUser {
		t.Fatalf("login after the deletion: %+v", second)
	}
	got := r.cognito()
	if got["AdminInitiateAuth"] > MaxSignIns || got["AdminSetUserPassword"] > 1 || got["AdminGetUser"] != 1 {
		t.Fatalf("calls %v: want at most %d AdminInitiateAuth and 1 AdminSetUserPassword, and one AdminGetUser", got, MaxSignIns)
	}
}

// A user gone while SetPassword rotates: recreated too, within budget.
func TestUserDeletedBeforeARotation(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-2"}`)
	r.users.deleteBehindTheBrokersBack("kakao_2")
	r.advance(2 * time.Hour)
	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "SetPassword", "AfterUserMissing", "RecreateUser", "CountSignIn", "IssueTokens")
	if got := decode(t, exec); got.Sub == first.Sub {
		t.Fatal("same sub after recreation")
	}
	assertCalls(t, "rotation of a missing user", r.cognito(), map[string]int{
		"AdminSetUserPassword": 1, "AdminCreateUser": 1, "AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1,
	})
}

// Unlink in the middle of a login, after its sign-in: the login's final
// write finds the mapping unlinked, revokes what it got and answers 403.
func TestUnlinkBetweenSignInAndRecordLogin(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.resetCalls()
	r.mappings.before("UpdateItem", func() {
		r.mappings.before("UpdateItem", nil)
		r.worker(t, r.unlinkRequest(2, 1, "UNLINK_FROM_APPS"))
	})
	exec := r.fails(t, `{"access_token":"tok-1"}`, "AccountUnlinked")
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens", "RecordFailure", "LoginFailed")
	for tok := range r.users.refresh {
		t.Fatalf("refresh token %s survived the unlink", tok)
	}
	// The login's sign-in and its own revocation, and the unlink's calls.
	assertCalls(t, "login and unlink", r.cognito(), map[string]int{
		"AdminInitiateAuth": 1, "AdminUserGlobalSignOut": 2, "AdminGetUser": 1, "AdminDisableUser": 1, "AdminUpdateUserAttributes": 1,
	})
}

// Unlink before the sign-in: the disabled user is refused, and the answer
// says unlinked.
func TestUnlinkBeforeSignIn(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.users.before("AdminInitiateAuth", func() {
		r.users.before("AdminInitiateAuth", nil)
		r.worker(t, r.unlinkRequest(2, 1, "UNLINK_FROM_APPS"))
	})
	r.fails(t, `{"access_token":"tok-1"}`, "AccountUnlinked")
}

// An administrator disabled the user (no unlink): 403 AccountDisabled.
func TestDisabledByAnAdministrator(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	_ = r.users.DisableUser(context.Background(), "kakao_1")
	r.fails(t, `{"access_token":"tok-1"}`, "AccountDisabled")
}

// The worker reports only the records that failed, so SQS retries just
// those; a message it cannot read is reported (retried, then kept in the
// dead-letter queue), never guessed at.
func TestWorkerReportsPartialBatchFailures(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.login(t, `{"access_token":"tok-2"}`)
	r.advance(time.Minute)
	r.users.failNext("AdminDisableUser", &kakaoauth.Throttled{Reason: "cognito disable"})
	good := r.unlinkRequest(7, 2, "UNLINK_FROM_APPS")
	failing := r.unlinkRequest(8, 1, "UNLINK_FROM_APPS")
	var ev events.SQSEvent
	for i, body := range []string{mustJSON(failing), mustJSON(good), `{"kakaoId":1,"extra":true}`, `not json`} {
		m := r.signedBody(body)
		ev.Records = append(ev.Records, sqsRecord("m"+itoa(int64(i)), m.Body, m.MAC))
	}
	resp, err := r.steps.UnlinkWorker(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"m0", "m2", "m3"}) {
		t.Fatalf("reported %v", failed)
	}
	if r.mappings.row(2).Status != kakaoauth.StatusUnlinked || r.mappings.row(1).Status != kakaoauth.StatusActive {
		t.Fatal("statuses after the batch")
	}
	// The retry of the failed one completes it.
	if resp := r.worker(t, failing); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: %v", resp.BatchItemFailures)
	}
	if r.mappings.row(1).Status != kakaoauth.StatusUnlinked {
		t.Fatal("the retried unlink did not complete")
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// A bus that is down after the transition: the worker's message fails and
// is retried, and the retry sends the same event (same id) without
// touching the account again.
func TestUnlinkEventIsRetriedWithTheMessage(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.events.fail = []error{errors.New("eventbridge down")}
	req := r.unlinkRequest(3, 1, "UNLINK_FROM_APPS")
	if resp := r.worker(t, req); len(resp.BatchItemFailures) != 1 {
		t.Fatalf("a lost event must fail the message: %v", resp.BatchItemFailures)
	}
	m := r.mappings.row(1)
	if m.Status != kakaoauth.StatusUnlinked || !m.EventPending {
		t.Fatalf("mapping %+v", m)
	}
	r.resetCalls()
	if resp := r.worker(t, req); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: %v", resp.BatchItemFailures)
	}
	if len(r.cognito()) != 0 || r.mappings.row(1).EventPending {
		t.Fatalf("retry: calls %v, pending %v", r.cognito(), r.mappings.row(1).EventPending)
	}
	evs := r.events.all()
	if last := evs[len(evs)-1]; last.Type != kakaoauth.EventUnlinked || last.ID != m.LastEvent.ID {
		t.Fatalf("events %+v", evs)
	}
	unlinked := 0
	for _, e := range r.audit.all() {
		if e.Type == kakaoauth.EventUnlinked {
			unlinked++
		}
	}
	if unlinked != 1 {
		t.Fatalf("%d unlinked audit events", unlinked)
	}
}

// A login does not fail because the bus is down: the user_created event
// stays in the outbox and the next login sends it.
func TestLoginLeavesAFailedEventInTheOutbox(t *testing.T) {
	r := newRig(t)
	r.events.fail = []error{errors.New("eventbridge down")}
	r.login(t, `{"access_token":"tok-2"}`)
	if m := r.mappings.row(2); !m.EventPending || m.LastEvent.Type != kakaoauth.EventUserCreated {
		t.Fatalf("mapping %+v", m)
	}
	r.login(t, `{"access_token":"tok-2"}`)
	if got := r.events.types(); strings.Join(got, ",") != "user_created" || r.mappings.row(2).EventPending {
		t.Fatalf("events %v pending %v", got, r.mappings.row(2).EventPending)
	}
}

// An operator's unlink, re-link and deletion go through the same code, are
// audited with the operator's identity, and the re-link needs no Kakao
// login.
func TestOperatorActions(t *testing.T) {
	r := newRig(t, WithUnlinkPolicy(UnlinkPolicyDelete))
	first := r.login(t, `{"access_token":"tok-1"}`)
	ctx := context.Background()
	unlink := kakaoauth.UnlinkRequest{ID: "op-1", KakaoID: 1, ReferrerType: "OPERATOR", ReceivedAt: r.clock(), Actor: "arn:aws:iam::1:user/ops", Action: ActionUnlink}
	if out, err := r.steps.UnlinkAccount(ctx, unlink); err != nil || out != UnlinkDone {
		t.Fatalf("unlink: %s %v", out, err)
	}
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("an operator's unlink under the delete policy: %s", m.Status)
	}
	audit := r.audit.all()
	if last := audit[len(audit)-1]; last.Detail != "admin by=arn:aws:iam::1:user/ops" {
		t.Fatalf("audit detail %q", last.Detail)
	}
	if err := r.steps.RelinkAccount(ctx, 1, "arn:aws:iam::1:user/ops"); err != nil {
		t.Fatal(err)
	}
	if u, _ := r.users.user("kakao_1"); !u.Enabled || u.Email != "one@example.com" {
		t.Fatalf("user after the operator's re-link %+v", u)
	}
	if err := r.steps.RelinkAccount(ctx, 1, "ops"); err == nil {
		t.Fatal("re-linked an active account")
	}
	if back := r.login(t, `{"access_token":"tok-1"}`); back.Sub != first.Sub {
		t.Fatalf("login after the re-link %+v", back)
	}
	r.advance(time.Second)
	del := kakaoauth.UnlinkRequest{ID: "op-2", KakaoID: 1, ReferrerType: "OPERATOR", ReceivedAt: r.clock(), Actor: "ops", Action: ActionDelete}
	if out, err := r.steps.UnlinkAccount(ctx, del); err != nil || out != UnlinkDone {
		t.Fatalf("delete: %s %v", out, err)
	}
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusDeleted {
		t.Fatalf("status %s", m.Status)
	}
	if got := r.events.types(); strings.Join(got, ",") != "user_created,unlinked,relinked,deleted" {
		t.Fatalf("events %v", got)
	}
}

// An unlink that lands between a login's UserMissing and its RecreateUser
// wins: the recreation is refused as the login's token was vouched for
// before the unlink, and no user is created.
func TestUnlinkBetweenUserMissingAndRecreation(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	vouched := r.clock()
	r.users.deleteBehindTheBrokersBack("kakao_1")
	r.advance(time.Minute)
	r.worker(t, r.unlinkRequest(1, 1, "UNLINK_FROM_APPS"))
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("mapping %s after the unlink", m.Status)
	}
	r.resetCalls()
	_, err := r.steps.UpsertUser(context.Background(), LoginState{Subject: Subject{KakaoID: 1, VouchedAt: vouched}, Recreate: true})
	var unlinked *kakaoauth.AccountUnlinked
	if !errors.As(err, &unlinked) {
		t.Fatalf("recreation after the unlink: %v, want AccountUnlinked", err)
	}
	if calls := r.cognito(); calls["AdminCreateUser"] != 0 {
		t.Fatalf("Cognito calls %v: a user was created", calls)
	}
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("mapping %s: the recreation reactivated it", m.Status)
	}
}

// FORCED_ACCOUNT_DELETE (Kakao deleted the account itself) is a deletion
// too, whatever the unlink policy, and says so in the event.
func TestForcedAccountDeleteDeletes(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.resetCalls()
	r.worker(t, r.unlinkRequest(1, 1, "FORCED_ACCOUNT_DELETE"))
	if _, ok := r.users.user("kakao_1"); ok {
		t.Fatal("the Cognito user was not deleted")
	}
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusDeleted || m.Email != "" {
		t.Fatalf("mapping %+v", m)
	}
	evs := r.events.all()
	if last := evs[len(evs)-1]; last.Type != kakaoauth.EventDeleted || last.Reason != "FORCED_ACCOUNT_DELETE" {
		t.Fatalf("event %+v", last)
	}
}
