package localstack

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// The account's whole life, end to end: Kakao (the double) reports unlinks
// and deletions through /_fake/unlink, which calls the webhook as Kakao
// does; the webhook queues; the worker, fed by the queue's event source,
// carries them out; logins go through the local endpoint; an app's backend
// listens on the lifecycle bus. Cognito calls are counted on the wire.

// Unlink, then the person comes back with a fresh Kakao consent: the same
// Cognito user and sub, enabled again, the email restored.
func TestLifecycleUnlinkThenReturn(t *testing.T) {
	s := startStack(t)
	app := s.subscribe(t)
	s.verifiedUser(t, 601)
	oldID := s.idToken(t, 601, "n-601-0123456789abcdef")
	status, first := s.login(t, map[string]string{"access_token": s.accessToken(t, 601)})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, first)
	}
	stale := s.accessToken(t, 601)
	// The check below must be able to tell: a refresh works before.
	if !s.refreshWorks(t, first["refresh_token"].(string)) {
		t.Fatal("a fresh refresh token does not work: the revocation check below would prove nothing")
	}

	if got := s.secFakeUnlink(t, 601, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("callback answered %d", got)
	}
	m := s.waitStatus(t, 601, kakaoauth.StatusUnlinked)
	ctx := context.Background()
	u, err := s.Deps().Users().GetUser(ctx, "kakao_601")
	if err != nil || u.Enabled || u.Email != "" {
		t.Fatalf("user after unlink %+v %v: want disabled, email released", u, err)
	}
	if m.Email != emailOf(601) || m.UnlinkedAt.IsZero() {
		t.Fatalf("mapping after unlink %+v: keeps the email for the return", m)
	}
	if s.refreshWorks(t, first["refresh_token"].(string)) {
		t.Fatal("a refresh token from before the unlink still works")
	}
	// Kakao revoked the access token with the unlink; an ID token from
	// before it cannot bring the account back.
	status, body := s.login(t, map[string]string{"access_token": stale})
	wantError(t, status, body, http.StatusUnauthorized, "InvalidKakaoToken")
	status, body = s.login(t, map[string]string{"id_token": oldID, "nonce": "n-601-0123456789abcdef"})
	wantError(t, status, body, http.StatusForbidden, "AccountUnlinked")

	// The return: a fresh access token.
	status, back := s.login(t, map[string]string{"access_token": s.accessToken(t, 601)})
	if status != http.StatusOK || back["sub"] != first["sub"] || back["new_user"] != false {
		t.Fatalf("return: %d %v (first sub %v)", status, back, first["sub"])
	}
	if claims := s.verifyIDToken(t, back["id_token"].(string)); claims["sub"] != first["sub"] || claims["email"] != emailOf(601) {
		t.Fatalf("ID token after the return %v", claims)
	}
	if u, _ := s.Deps().Users().GetUser(ctx, "kakao_601"); !u.Enabled || u.Email != emailOf(601) || !u.EmailVerified {
		t.Fatalf("user after the return %+v", u)
	}
	m = s.waitStatus(t, 601, kakaoauth.StatusActive)
	if !m.RelinkedAt.After(m.UnlinkedAt) {
		t.Fatalf("mapping after the return %+v", m)
	}
	got := secTypes(s.secAudit(t, 601))
	if want := "user_created,login_succeeded,unlinked,login_failed:AccountUnlinked,relinked,login_succeeded"; strings.Join(got, ",") != want {
		t.Fatalf("audit %v, want %s", got, want)
	}
	events, ok := app.WaitFor(ctx, 15*time.Second, func(e BusEvent) bool { return e.DetailType == kakaoauth.EventRelinked })
	if !ok {
		t.Fatalf("no relinked event on the bus; got %+v", events)
	}
	var types []string
	for _, e := range events {
		if e.Source != "kakaoauth" || e.Detail.KakaoID != 601 || e.Detail.Sub != first["sub"] || e.Detail.ID == "" || e.Detail.Time.IsZero() || e.DetailType != e.Detail.Type {
			t.Fatalf("event %+v", e)
		}
		types = append(types, e.DetailType)
	}
	if strings.Join(types, ",") != "user_created,unlinked,relinked" {
		t.Fatalf("events %v", types)
	}
}

// An ID token issued after the unlink brings the account back too.
func TestLifecycleReturnWithAnIDToken(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 602)
	status, first := s.login(t, map[string]string{"access_token": s.accessToken(t, 602)})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, first)
	}
	s.secFakeUnlink(t, 602, "UNLINK_FROM_APPS")
	m := s.waitStatus(t, 602, kakaoauth.StatusUnlinked)
	// ID tokens carry whole seconds: one minted in the unlink's second is
	// not provably after it.
	time.Sleep(time.Until(m.UnlinkedAt.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	id := s.idToken(t, 602, "n-602-0123456789abcdef")
	status, back := s.login(t, map[string]string{"id_token": id, "nonce": "n-602-0123456789abcdef"})
	if status != http.StatusOK || back["sub"] != first["sub"] {
		t.Fatalf("return by ID token: %d %v", status, back)
	}
	// The email stored before the unlink comes back with the account.
	if u, _ := s.Deps().Users().GetUser(context.Background(), "kakao_602"); u.Email != emailOf(602) || !u.Enabled {
		t.Fatalf("user %+v", u)
	}
}

// While an account is unlinked its email blocks nobody; when it returns
// and the email was taken meanwhile, it comes back without it.
func TestLifecycleUnlinkedEmailBlocksNobody(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 603)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 603)}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	s.secFakeUnlink(t, 603, "UNLINK_FROM_APPS")
	s.waitStatus(t, 603, kakaoauth.StatusUnlinked)
	s.kakaoUser(t, map[string]any{"id": 604, "email": emailOf(603), "is_email_verified": true, "is_email_valid": true, "nickname": "new owner"})
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 604)}); status != http.StatusOK {
		t.Fatalf("another account with the unlinked one's email: %d %v", status, body)
	}
	status, back := s.login(t, map[string]string{"access_token": s.accessToken(t, 603)})
	if status != http.StatusOK {
		t.Fatalf("return: %d %v", status, back)
	}
	if claims := s.verifyIDToken(t, back["id_token"].(string)); claims["email"] != nil {
		t.Fatalf("the returning account took back an email now someone else's: %v", claims)
	}
	if u, _ := s.Deps().Users().GetUser(context.Background(), "kakao_604"); u.Email != emailOf(603) {
		t.Fatalf("the new owner lost the email: %+v", u)
	}
}

// ACCOUNT_DELETE: the Cognito user is deleted, the mapping scrubbed (ids
// and times kept), the email free for another account at once, and apps
// are told to delete their data.
func TestLifecycleAccountDeleteFreesTheEmail(t *testing.T) {
	s := startStack(t)
	app := s.subscribe(t)
	s.verifiedUser(t, 611)
	status, first := s.login(t, map[string]string{"access_token": s.accessToken(t, 611)})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, first)
	}
	if got := s.secFakeUnlink(t, 611, "ACCOUNT_DELETE"); got != http.StatusOK {
		t.Fatalf("callback answered %d", got)
	}
	m := s.waitStatus(t, 611, kakaoauth.StatusDeleted)
	if m.Email != "" || m.PasswordNonce != "" || m.Sub != first["sub"] || m.CreatedAt.IsZero() || m.DeletedAt.IsZero() {
		t.Fatalf("mapping after deletion %+v", m)
	}
	var nf *kakaoauth.NotFound
	if _, err := s.Deps().Users().GetUser(context.Background(), "kakao_611"); !errors.As(err, &nf) {
		t.Fatalf("the Cognito user survived the deletion: %v", err)
	}
	s.kakaoUser(t, map[string]any{"id": 612, "email": emailOf(611), "is_email_verified": true, "is_email_valid": true, "nickname": "next"})
	status, other := s.login(t, map[string]string{"access_token": s.accessToken(t, 612)})
	if status != http.StatusOK {
		t.Fatalf("the deleted account's email is still taken: %d %v", status, other)
	}
	if claims := s.verifyIDToken(t, other["id_token"].(string)); claims["email"] != emailOf(611) {
		t.Fatalf("claims %v", claims)
	}
	events, ok := app.WaitFor(context.Background(), 15*time.Second, func(e BusEvent) bool { return e.DetailType == kakaoauth.EventDeleted })
	if !ok {
		t.Fatalf("no deleted event; got %+v", events)
	}
	if d := events[len(events)-1].Detail; d.KakaoID != 611 || d.Sub != first["sub"] || d.Reason != "ACCOUNT_DELETE" {
		t.Fatalf("deleted event %+v", d)
	}
}

// A Cognito user deleted behind the broker's back (here an administrator's
// AdminDeleteUser; the user's own DeleteUser with the access token the
// broker gave them does the same in Cognito, but moto answers it with a
// 500): the next login
// is 200 with a new user, the one after is 200 again, and the recreating
// login stays within its budget: no AdminSetUserPassword, two sign-ins.
func TestLifecycleUserDeletedBehindTheBrokersBack(t *testing.T) {
	s := startStack(t, withProxy)
	s.verifiedUser(t, 621)
	status, first := s.login(t, map[string]string{"access_token": s.accessToken(t, 621)})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, first)
	}
	if _, err := cip.NewFromConfig(s.direct()).AdminDeleteUser(context.Background(), &cip.AdminDeleteUserInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String("kakao_621")}); err != nil {
		t.Fatalf("AdminDeleteUser: %v", err)
	}
	s.proxy.Reset()
	status, second := s.login(t, map[string]string{"access_token": s.accessToken(t, 621)})
	if status != http.StatusOK || second["sub"] == first["sub"] || second["new_user"] != true {
		t.Fatalf("login after the deletion: %d %v", status, second)
	}
	calls := secCognitoCalls(s.proxy.Counts())
	// The app client hides a missing user (PreventUserExistenceErrors
	// ENABLED): AdminGetUser after the refused sign-in tells the broker.
	want := map[string]int{"AdminInitiateAuth": 2, "AdminGetUser": 1, "ListUsers": 1, "AdminCreateUser": 1, "AdminRespondToAuthChallenge": 1}
	if !sameCounts(calls, want) {
		t.Fatalf("Cognito calls of the recreating login %v, want %v", calls, want)
	}
	m := s.waitStatus(t, 621, kakaoauth.StatusActive)
	if m.Sub != second["sub"] || !slices.Equal(m.PreviousSubs, []string{first["sub"].(string)}) {
		t.Fatalf("mapping %+v", m)
	}
	s.proxy.Reset()
	status, third := s.login(t, map[string]string{"access_token": s.accessToken(t, 621)})
	if status != http.StatusOK || third["sub"] != second["sub"] || third["new_user"] != false {
		t.Fatalf("login after the recreation: %d %v", status, third)
	}
	if calls := secCognitoCalls(s.proxy.Counts()); !sameCounts(calls, map[string]int{"AdminInitiateAuth": 1}) {
		t.Fatalf("Cognito calls of a returning login %v", calls)
	}
	recreated := secOfType(s.secAudit(t, 621), kakaoauth.EventRecreated)
	if len(recreated) != 1 || recreated[0][store.AttrSub] != second["sub"] || !strings.Contains(recreated[0][store.AttrDetail], "previousSub="+first["sub"].(string)) {
		t.Fatalf("recreated audit %v", recreated)
	}
}

// A throttled AdminSetUserPassword (a rotation): that login answers 429
// having made no sign-in; the next login repairs the nonce with one set
// and one sign-in. Counted on the wire.
func TestLifecycleThrottledSetIsRepaired(t *testing.T) {
	s := startStack(t, withProxy, func(c *Config) { c.PasswordRotation = time.Nanosecond })
	s.verifiedUser(t, 631)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 631)}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	time.Sleep(workflow.DefaultPasswordApplyGrace) // the nonce is due now
	s.proxy.Reset()
	s.proxy.Inject("AdminSetUserPassword", faultproxy.Fault{Kind: faultproxy.Throttle, Times: 1})
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 631)})
	wantError(t, status, body, http.StatusTooManyRequests, "Throttled")
	if calls := secCognitoCalls(s.proxy.Counts()); !sameCounts(calls, map[string]int{"AdminSetUserPassword": 1}) {
		t.Fatalf("Cognito calls of the throttled login %v", calls)
	}
	if m, _ := s.Deps().Mappings().Get(context.Background(), 631); m.PasswordState != kakaoauth.PasswordFailed {
		t.Fatalf("nonce state %q after the throttled set", m.PasswordState)
	}
	s.proxy.Reset()
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 631)}); status != http.StatusOK {
		t.Fatalf("repairing login: %d %v", status, body)
	}
	if calls := secCognitoCalls(s.proxy.Counts()); !sameCounts(calls, map[string]int{"AdminSetUserPassword": 1, "AdminInitiateAuth": 1}) {
		t.Fatalf("Cognito calls of the repairing login %v", calls)
	}
}

// An unlink arrives while 20 logins run. Each ends in a defined answer
// (200, or 401/403 for those that lost to it); afterwards the account is
// unlinked and no refresh token any of them got works.
func TestLifecycleUnlinkDuringConcurrentLogins(t *testing.T) {
	s := startStack(t, withProxy)
	s.verifiedUser(t, 641)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 641)}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	const n = 20
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = s.accessToken(t, 641)
	}
	s.proxy.Reset()
	statuses := make([]int, n)
	bodies := make([]map[string]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Spread out, so the unlink lands among them. Not a timing
			// assertion: any interleaving must end as checked below.
			time.Sleep(time.Duration(i) * 15 * time.Millisecond)
			statuses[i], bodies[i] = s.login(t, map[string]string{"access_token": tokens[i]})
		})
	}
	time.Sleep(60 * time.Millisecond)
	if got := s.secFakeUnlink(t, 641, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("callback answered %d", got)
	}
	wg.Wait()
	s.waitStatus(t, 641, kakaoauth.StatusUnlinked)
	s.drainUnlinks(t)
	answers := map[string]int{}
	for i := range n {
		code, _ := bodies[i]["error"].(string)
		switch {
		case statuses[i] == http.StatusOK:
			answers["200"]++
			if s.refreshWorks(t, bodies[i]["refresh_token"].(string)) {
				t.Errorf("login %d got a refresh token that outlived the unlink", i)
			}
		case statuses[i] == http.StatusUnauthorized && code == "InvalidKakaoToken",
			statuses[i] == http.StatusForbidden && (code == "AccountUnlinked" || code == "AccountDisabled"):
			answers[code]++
		default:
			t.Errorf("login %d: %d %v", i, statuses[i], bodies[i])
		}
	}
	t.Logf("answers of %d logins racing an unlink: %v", n, answers)
	if u, _ := s.Deps().Users().GetUser(context.Background(), "kakao_641"); u.Enabled {
		t.Fatal("the user is enabled after the unlink")
	}
	calls := s.proxy.Counts()
	if calls["AdminSetUserPassword"] > n || calls["AdminInitiateAuth"] > n*workflow.MaxSignIns {
		t.Fatalf("budget exceeded: %v", secCognitoCalls(calls))
	}
	if unlinked := secOfType(s.secAudit(t, 641), kakaoauth.EventUnlinked); len(unlinked) != 1 {
		t.Fatalf("%d unlinked events", len(unlinked))
	}
}

// The worker fails (Cognito throttles the disable): the message comes back
// after the visibility timeout and the retry completes it; one that keeps
// failing lands in the dead-letter queue after maxReceiveCount receives.
func TestLifecycleUnlinkRetriesThenDeadLetters(t *testing.T) {
	s := startStack(t, withProxy)
	s.verifiedUser(t, 651)
	s.verifiedUser(t, 652)
	for _, id := range []int64{651, 652} {
		if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, id)}); status != http.StatusOK {
			t.Fatalf("login %d: %d %v", id, status, body)
		}
	}
	// Transient: the first try fails, the retry completes.
	s.proxy.Inject("AdminDisableUser", faultproxy.Fault{Kind: faultproxy.ServerError, Times: 1})
	s.secFakeUnlink(t, 651, "UNLINK_FROM_APPS")
	s.waitStatus(t, 651, kakaoauth.StatusUnlinked)
	if s.proxy.Faulted("AdminDisableUser") != 1 || s.proxy.Count("AdminDisableUser") < 2 {
		t.Fatalf("disable calls %d, faulted %d", s.proxy.Count("AdminDisableUser"), s.proxy.Faulted("AdminDisableUser"))
	}
	if n := len(secOfType(s.secAudit(t, 651), kakaoauth.EventUnlinked)); n != 1 {
		t.Fatalf("%d unlinked events after a retry", n)
	}

	// Persistent: five receives, then the dead-letter queue.
	s.proxy.Inject("AdminDisableUser", faultproxy.Fault{Kind: faultproxy.Throttle, Times: -1})
	s.secFakeUnlink(t, 652, "UNLINK_FROM_APPS")
	q := sqs.NewFromConfig(s.direct())
	deadline := time.Now().Add(60 * time.Second)
	var dead []sqstypes.Message
	for len(dead) == 0 && time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.Stack().UnlinkDLQURL), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		dead = out.Messages
	}
	if len(dead) != 1 {
		t.Fatal("the failing unlink never reached the dead-letter queue")
	}
	r, err := workflow.DecodeUnlinkRequest(aws.ToString(dead[0].Body))
	if err != nil || r.KakaoID != 652 || r.ReferrerType != "UNLINK_FROM_APPS" {
		t.Fatalf("dead letter %+v %v", r, err)
	}
	tries := 0
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"msg":"unlink failed; the message will be retried"`) && strings.Contains(line, "kakao account 652") {
			tries++
		}
	}
	if tries != 5 {
		t.Fatalf("the worker tried %d times, want the queue's maxReceiveCount (5)", tries)
	}
	if m, _ := s.Deps().Mappings().Get(context.Background(), 652); m.Status != kakaoauth.StatusActive {
		t.Fatalf("mapping %s", m.Status)
	}
	s.proxy.Inject("AdminDisableUser", faultproxy.Fault{})
}

func sameCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
