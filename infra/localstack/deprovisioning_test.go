package localstack

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// Issue 19, end to end through the local endpoint, the Kakao double and
// moto: nothing lost, nobody let back in.

// cognitoCalls are the Cognito operations among a call count.
func cognitoCalls(calls map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range calls {
		if strings.HasPrefix(op, "Admin") || op == "ListUsers" || op == "SignUp" || op == "InitiateAuth" {
			out[op] = n
		}
	}
	return out
}

// mustLogin logs in with a fresh access token and wants a 200.
func (s *testStack) mustLogin(t *testing.T, id int64) map[string]any {
	t.Helper()
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, id)})
	if status != http.StatusOK {
		t.Fatalf("login of %d: %d %v", id, status, body)
	}
	return body
}

func (s *testStack) disableInCognito(t *testing.T, username string) {
	t.Helper()
	if _, err := cip.NewFromConfig(s.direct()).AdminDisableUser(context.Background(), &cip.AdminDisableUserInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String(username)}); err != nil {
		t.Fatal(err)
	}
}

// mappingItem is the raw mapping row (what auditors and TTL see).
func (s *testStack) mappingItem(t *testing.T, kakaoID int64) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := dynamodb.NewFromConfig(s.direct()).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(s.Stack().MappingTable), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{store.AttrKakaoID: &ddbtypes.AttributeValueMemberN{Value: itoa(kakaoID)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// An administrator disables a user in Cognito (abuse, fraud); the person
// unlinks the app at Kakao and logs in again. The finding: 200, the same
// sub, the user enabled again. Now the unlink keeps the disable as a ban
// and the login answers AccountBanned from the mapping, spending no
// Cognito call, and the user stays disabled.
func TestBanHoldsThroughUnlinkAndReturn(t *testing.T) {
	s := startStack(t)
	app := s.subscribe(t)
	s.verifiedUser(t, 1901)
	first := s.mustLogin(t, 1901)
	s.disableInCognito(t, "kakao_1901")
	if got := s.secFakeUnlink(t, 1901, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("callback answered %d", got)
	}
	m := s.waitStatus(t, 1901, kakaoauth.StatusUnlinked)
	if m.Ban == nil || m.Ban.Reason != kakaoauth.BanReasonDisabledInCognito || m.Ban.By != "cognito" || !m.Ban.Until.IsZero() {
		t.Fatalf("mapping after the unlink of a disabled user: ban %+v", m.Ban)
	}

	// The return, with a token Kakao vouches for now.
	s.proxy.Reset()
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 1901)})
	wantError(t, status, body, http.StatusForbidden, "AccountBanned")
	if c := cognitoCalls(s.proxy.Counts()); len(c) != 0 {
		t.Fatalf("a banned login spent Cognito calls: %v", c)
	}
	if u, err := s.Deps().Users().GetUser(context.Background(), "kakao_1901"); err != nil || u.Enabled || u.Sub != first["sub"] {
		t.Fatalf("user after the banned login %+v %v: want still disabled", u, err)
	}
	// banned and unlinked may share a millisecond: compared as a set.
	if got := slices.Sorted(slices.Values(secTypes(s.secAudit(t, 1901)))); strings.Join(got, ",") != "banned,login_failed:AccountBanned,login_succeeded,unlinked,user_created" {
		t.Fatalf("audit %s", got)
	}
	if _, ok := app.WaitFor(context.Background(), 15*time.Second, func(e BusEvent) bool {
		return e.DetailType == kakaoauth.EventBanned && e.Detail.KakaoID == 1901 && e.Detail.Reason == workflow.ReasonCognito
	}); !ok {
		t.Fatal("no banned event on the bus")
	}
}

// The same under the delete policy: the unlink deletes the Cognito user,
// and the ban stays on the row (which then never expires) so that the
// person's return does not recreate an account an operator shut.
func TestBanHoldsThroughDeletionAndRecreation(t *testing.T) {
	s := startStack(t, func(c *Config) { c.UnlinkPolicy = workflow.UnlinkPolicyDelete })
	s.verifiedUser(t, 1902)
	s.mustLogin(t, 1902)
	s.disableInCognito(t, "kakao_1902")
	if got := s.secFakeUnlink(t, 1902, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("callback answered %d", got)
	}
	m := s.waitStatus(t, 1902, kakaoauth.StatusDeleted)
	if m.Ban == nil {
		t.Fatal("the deletion dropped the ban")
	}
	if _, expires := s.mappingItem(t, 1902)[store.AttrMappingExpiresAt]; expires {
		t.Fatal("a banned deleted row expires")
	}
	s.proxy.Reset()
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 1902)})
	wantError(t, status, body, http.StatusForbidden, "AccountBanned")
	if c := cognitoCalls(s.proxy.Counts()); len(c) != 0 {
		t.Fatalf("a banned login spent Cognito calls: %v", c)
	}
	if users := s.listUsers(t); slices.Contains(users, "kakao_1902") {
		t.Fatalf("the banned account was recreated: %v", users)
	}
}

// An operator's ban with an end (kakaoauth admin ban -until): the user is
// disabled and signed out at once; logins answer AccountBanned until the
// end, then the ban lifts itself at the next login; an unban lifts it
// now.
func TestBanWithAnEnd(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	s.verifiedUser(t, 1903)
	first := s.mustLogin(t, 1903)
	steps := s.Deps().Steps()
	if err := steps.BanAccount(ctx, 1903, time.Now().Add(2*time.Second), "abuse report 17", "operator"); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.Deps().Users().GetUser(ctx, "kakao_1903"); u.Enabled {
		t.Fatal("a banned created user is still enabled")
	}
	if s.refreshWorks(t, first["refresh_token"].(string)) {
		t.Fatal("a refresh token from before the ban still works")
	}
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 1903)})
	wantError(t, status, body, http.StatusForbidden, "AccountBanned")
	time.Sleep(2100 * time.Millisecond)
	back := s.mustLogin(t, 1903)
	if back["sub"] != first["sub"] {
		t.Fatalf("after the ban: sub %v, want %v", back["sub"], first["sub"])
	}
	m, _ := s.Deps().Mappings().Get(ctx, 1903)
	if m.Ban != nil {
		t.Fatalf("the expired ban is still there: %+v", m.Ban)
	}
	events := s.secAudit(t, 1903)
	if got := strings.Join(secTypes(events), ","); got != "user_created,login_succeeded,banned,login_failed:AccountBanned,unbanned,login_succeeded" {
		t.Fatalf("audit %s", got)
	}
	for _, e := range secOfType(events, kakaoauth.EventBanned) {
		if !strings.Contains(e["detail"], "until=") || !strings.Contains(e["detail"], "by=operator") {
			t.Fatalf("banned event %v", e)
		}
	}
	if e := secOfType(events, kakaoauth.EventUnbanned); len(e) != 1 || !strings.HasPrefix(e[0]["detail"], workflow.ReasonExpired) {
		t.Fatalf("unbanned events %v", e)
	}

	// A ban until lifted, then an unban.
	if err := steps.BanAccount(ctx, 1903, time.Time{}, "", "operator"); err != nil {
		t.Fatal(err)
	}
	status, body = s.login(t, map[string]string{"access_token": s.accessToken(t, 1903)})
	wantError(t, status, body, http.StatusForbidden, "AccountBanned")
	if lifted, err := steps.UnbanAccount(ctx, 1903, "operator"); err != nil || !lifted {
		t.Fatalf("unban: %v %v", lifted, err)
	}
	s.mustLogin(t, 1903)
}

// Kakao's callback arrives while the unlink queue is down. The finding:
// the webhook answered 500, Kakao never calls again, the unlink was lost.
// Now the webhook keeps the request in the inbox and answers 200; once the
// queue is back, the sweeper queues it and the worker carries it out.
func TestUnlinkKeptWhileTheQueueIsDown(t *testing.T) {
	s := startStack(t, withProxy)
	s.verifiedUser(t, 1904)
	s.mustLogin(t, 1904)
	s.proxy.Inject("SendMessage", faultproxy.Fault{Kind: faultproxy.ServerError, Times: -1})
	if got := s.secFakeUnlink(t, 1904, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("callback answered %d while the queue was down", got)
	}
	if s.proxy.Faulted("SendMessage") == 0 {
		t.Fatal("the queue fault never fired: the test proves nothing")
	}
	ctx := context.Background()
	kept, err := s.Deps().Operations().Pending(ctx, 10)
	if err != nil || len(kept) != 1 || kept[0].Message.MAC == "" {
		t.Fatalf("inbox %v %v", kept, err)
	}
	request := kept[0].ID
	// Still down: the sweep keeps it.
	if rep, err := s.Sweep(ctx); err != nil || rep.Queued != 0 || rep.Failures != 1 {
		t.Fatalf("sweep while down: %+v %v", rep, err)
	}
	s.proxy.Inject("SendMessage", faultproxy.Fault{})
	if rep, err := s.Sweep(ctx); err != nil || rep.Queued != 1 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	s.waitStatus(t, 1904, kakaoauth.StatusUnlinked)
	if kept, _ := s.Deps().Operations().Pending(ctx, 10); len(kept) != 0 {
		t.Fatalf("inbox after the sweep %v", kept)
	}
	// Audited with Kakao's request (the webhook's request id, Kakao's
	// address), not the sweeper's.
	if e := secOfType(s.secAudit(t, 1904), kakaoauth.EventUnlinked); len(e) != 1 || e[0]["executionId"] != request || e[0][store.AttrSourceIP] == "" {
		t.Fatalf("unlinked events %v, want one of request %s", e, request)
	}
}

// Kakao's callback is lost (it sends each once). The finding: nothing
// ever reconciled. The reconciler asks Kakao's admin API which active
// accounts are still linked and applies the unlink it missed, audited
// reconciled, on the bus, and counted in the metric the alarm watches.
func TestReconcilerCatchesADroppedCallback(t *testing.T) {
	s := startStack(t)
	app := s.subscribe(t)
	ctx := context.Background()
	for _, id := range []int64{1905, 1906} {
		s.verifiedUser(t, id)
		s.mustLogin(t, id)
	}
	status, body := s.postJSON(t, s.KakaoURL()+"/_fake/unlink", map[string]any{"user_id": 1905, "drop_callback": true})
	if status != http.StatusOK || body["dropped"] != true {
		t.Fatalf("dropped unlink: %d %v", status, body)
	}
	if m, _ := s.Deps().Mappings().Get(ctx, 1905); m.Status != kakaoauth.StatusActive {
		t.Fatal("the dropped callback reached the stack")
	}
	rep, err := s.Reconcile(ctx)
	if err != nil || rep.Checked != 2 || rep.Unlinked != 1 || !rep.PassEnded {
		t.Fatalf("reconcile: %+v %v", rep, err)
	}
	m := s.waitStatus(t, 1905, kakaoauth.StatusUnlinked)
	if u, _ := s.Deps().Users().GetUser(ctx, "kakao_1905"); u.Enabled {
		t.Fatal("the reconciled account's user is still enabled")
	}
	if other, _ := s.Deps().Mappings().Get(ctx, 1906); other.Status != kakaoauth.StatusActive {
		t.Fatal("the reconciler unlinked an account Kakao still links")
	}
	events := s.secAudit(t, 1905)
	rec := secOfType(events, kakaoauth.EventReconciled)
	unl := secOfType(events, kakaoauth.EventUnlinked)
	if len(rec) != 1 || len(unl) != 1 || !strings.HasPrefix(unl[0]["detail"], workflow.ReasonReconciled) || m.LastEvent.Reason != workflow.ReasonReconciled {
		t.Fatalf("audit %v", secTypes(events))
	}
	if _, ok := app.WaitFor(ctx, 15*time.Second, func(e BusEvent) bool {
		return e.DetailType == kakaoauth.EventUnlinked && e.Detail.KakaoID == 1905 && e.Detail.Reason == workflow.ReasonReconciled
	}); !ok {
		t.Fatal("no unlinked (reconciled) event on the bus")
	}
	// The metric the alarm watches: an EMF line CloudWatch Logs extracts.
	want := `"ReconciledUnlinks":1,"Stack":"` + s.cfg.Prefix + `","_aws":{"CloudWatchMetrics":[{"Dimensions":[["Stack"]],"Metrics":[{"Name":"ReconciledUnlinks","Unit":"Count"}],"Namespace":"kakaoauth"}]`
	if !strings.Contains(s.logs.String(), want) {
		t.Fatalf("no %s metric line in the log", workflow.MetricReconciledUnlinks)
	}
	// A second pass finds nothing more.
	if rep, err := s.Reconcile(ctx); err != nil || rep.Checked != 1 || rep.Unlinked != 0 {
		t.Fatalf("second pass: %+v %v", rep, err)
	}
}

// An app rotating its admin key (several keys per app since Kakao's
// 2025-12 change): a callback with any key the stack holds is Kakao's.
func TestUnlinkCallbackWithASecondAdminKey(t *testing.T) {
	const newKey = "rotated-admin-key-0002"
	s := startStack(t, func(c *Config) { c.ExtraAdminKeys = []string{newKey} })
	s.verifiedUser(t, 1907)
	s.mustLogin(t, 1907)
	form := url.Values{"app_id": {itoa(kakaofake.DefaultAppID)}, "user_id": {"1907"}, "referrer_type": {"UNLINK_FROM_APPS"}}.Encode()
	if status, body := s.secUnlinkRequest(t, "POST", "KakaoAK not-"+newKey, "", form); status != http.StatusUnauthorized {
		t.Fatalf("a wrong key: %d %s", status, body)
	}
	if status, body := s.secUnlinkRequest(t, "POST", "KakaoAK "+newKey, "", form); status != http.StatusOK {
		t.Fatalf("the second key: %d %s", status, body)
	}
	s.waitStatus(t, 1907, kakaoauth.StatusUnlinked)
}

// Anyone who could send to the unlink queue could delete an account and
// lock it out until a receivedAt of their choosing. Now a message without
// the webhook's MAC changes nothing: refused, audited once, retried and
// dead-lettered (which raises the dead-letter alarm).
func TestForgedQueueMessageChangesNothing(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	s.verifiedUser(t, 1908)
	first := s.mustLogin(t, 1908)
	forged, _ := json.Marshal(kakaoauth.UnlinkRequest{ID: "forged-1", KakaoID: 1908, ReferrerType: "ACCOUNT_DELETE",
		ReceivedAt: time.Now().Add(365 * 24 * time.Hour).UTC()})
	q := sqs.NewFromConfig(s.direct())
	for _, mac := range []string{"", "v1.AAAA", "v9.AAAA"} {
		in := &sqs.SendMessageInput{QueueUrl: aws.String(s.Stack().UnlinkQueueURL), MessageBody: aws.String(string(forged))}
		if mac != "" {
			in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{kakaoauth.UnlinkMACAttribute: {DataType: aws.String("String"), StringValue: aws.String(mac)}}
		}
		if _, err := q.SendMessage(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// Five receives each (visibility 1 s), then the dead-letter queue.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.Stack().UnlinkDLQURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Attributes["ApproximateNumberOfMessages"] == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters %v, want the 3 forged messages", out.Attributes)
		}
		time.Sleep(200 * time.Millisecond)
	}
	m, err := s.Deps().Mappings().Get(ctx, 1908)
	if err != nil || m.Status != kakaoauth.StatusActive || m.LastEvent.Type != kakaoauth.EventUserCreated {
		t.Fatalf("a forged message changed the mapping: %+v %v", m, err)
	}
	if u, err := s.Deps().Users().GetUser(ctx, "kakao_1908"); err != nil || !u.Enabled || u.Sub != first["sub"] {
		t.Fatalf("a forged message changed the user: %+v %v", u, err)
	}
	s.mustLogin(t, 1908)
	refused := 0
	for ev, err := range store.NewReader(dynamodb.NewFromConfig(s.direct()), s.Stack().MappingTable, s.Stack().AuditTable).Events(ctx,
		store.TimeRange{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)}, store.EventFilter{Type: kakaoauth.EventUnlinkRefused}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.KakaoID != 0 || ev.Error != "ForgedUnlinkMessage" {
			t.Fatalf("refusal audited as %+v: the forged body's account must not be believed", ev)
		}
		refused++
	}
	if refused != 3 {
		t.Fatalf("%d unlink_refused events, want one per forged message", refused)
	}
}

// A user can no longer churn DeleteUser + login without limit: after
// RecreationLimit recreations in RecreationPeriod the login answers 429
// RecreateLimitReached, creating nothing.
func TestRecreationLimit(t *testing.T) {
	s := startStack(t, func(c *Config) { c.RecreationLimit = 1 })
	ctx := context.Background()
	s.verifiedUser(t, 1909)
	s.mustLogin(t, 1909)
	idp := cip.NewFromConfig(s.direct())
	del := func() {
		if _, err := idp.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String("kakao_1909")}); err != nil {
			t.Fatal(err)
		}
	}
	del()
	s.mustLogin(t, 1909) // recreated: the first of the period
	del()
	s.proxy.Reset()
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 1909)})
	wantError(t, status, body, http.StatusTooManyRequests, "RecreateLimitReached")
	if n := s.proxy.Count("AdminCreateUser"); n != 0 {
		t.Fatalf("the refused recreation created %d users", n)
	}
	if m, _ := s.Deps().Mappings().Get(ctx, 1909); m.Recreations != 1 || len(m.PreviousSubs) != 1 {
		t.Fatalf("mapping %+v", m)
	}
}

// After a deletion the audit trail keeps no IP address or user agent
// beyond DeletedAccountPiiDays, the row expires after
// DeletedMappingRetentionDays (TTL), and an unlinked account's kept email
// goes after UnlinkedEmailRetentionDays. (0 days here: the next sweep.)
func TestGoneAccountsAreForgotten(t *testing.T) {
	s := startStack(t, func(c *Config) {
		c.Retention = &store.Retention{UnlinkedEmail: 0, DeletedPII: 0, DeletedRow: 7 * 24 * time.Hour}
	})
	ctx := context.Background()
	s.verifiedUser(t, 1910)
	s.verifiedUser(t, 1911)
	s.mustLogin(t, 1910)
	s.mustLogin(t, 1911)
	if ip := secOfType(s.secAudit(t, 1910), kakaoauth.EventLoginSucceeded)[0][store.AttrSourceIP]; ip == "" {
		t.Fatal("the login was audited without an IP: the scrub below would prove nothing")
	}
	s.secFakeUnlink(t, 1910, "ACCOUNT_DELETE")
	s.secFakeUnlink(t, 1911, "UNLINK_FROM_APPS")
	deleted := s.waitStatus(t, 1910, kakaoauth.StatusDeleted)
	unlinked := s.waitStatus(t, 1911, kakaoauth.StatusUnlinked)
	if unlinked.Email != emailOf(1911) {
		t.Fatal("the unlinked account's email was not kept: the retention below would prove nothing")
	}
	exp, ok := s.mappingItem(t, 1910)[store.AttrMappingExpiresAt].(*ddbtypes.AttributeValueMemberN)
	if !ok || exp.Value != itoa(deleted.DeletedAt.Add(7*24*time.Hour).Unix()) {
		t.Fatalf("deleted row expiresAt %v, want 7 days after %v", exp, deleted.DeletedAt)
	}
	rep, err := s.Sweep(ctx)
	if err != nil || rep.Scrubbed != 1 || rep.EmailsDropped != 1 {
		t.Fatalf("sweep %+v %v", rep, err)
	}
	for _, e := range s.secAudit(t, 1910) {
		if e[store.AttrSourceIP] != "" || e[store.AttrUserAgent] != "" {
			t.Fatalf("a deleted account's audit event keeps %q %q", e[store.AttrSourceIP], e[store.AttrUserAgent])
		}
	}
	if n := len(s.secAudit(t, 1910)); n < 3 {
		t.Fatalf("the scrub removed events (%d left): it must keep them", n)
	}
	if m, _ := s.Deps().Mappings().Get(ctx, 1911); m.Email != "" || m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("unlinked row after the retention: %+v", m)
	}
	if ip := secOfType(s.secAudit(t, 1911), kakaoauth.EventLoginSucceeded)[0][store.AttrSourceIP]; ip == "" {
		t.Fatal("an unlinked (not deleted) account's audit was scrubbed")
	}
	// Nothing is due any more: the next sweep reads no row.
	if ids, _ := s.Deps().Mappings().Due(ctx, time.Now().Add(time.Hour), 10); len(ids) != 0 {
		t.Fatalf("rows still due: %v", ids)
	}
	// The return gets no email from the mapping, only what Kakao says now.
	s.kakaoUser(t, map[string]any{"id": 1911, "nickname": "n"})
	s.mustLogin(t, 1911)
	if u, _ := s.Deps().Users().GetUser(ctx, "kakao_1911"); u.Email != "" {
		t.Fatalf("the dropped email came back: %+v", u)
	}
}

// A transition whose own run could not send its events (the bus down) is
// finished by the sweeper, without waiting for the account's next reader,
// audited with the request that made it, published once; and a later
// transition while the bus is still down does not replace it.
func TestStrandedEventsAreDelivered(t *testing.T) {
	s := startStack(t, withProxy, func(c *Config) { c.OutboxGrace = 200 * time.Millisecond })
	app := s.subscribe(t)
	ctx := context.Background()
	s.verifiedUser(t, 1912)
	s.proxy.Inject("PutEvents", faultproxy.Fault{Kind: faultproxy.ServerError, Times: -1})
	s.mustLogin(t, 1912)
	if got := s.secFakeUnlink(t, 1912, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("callback answered %d", got)
	}
	s.drainUnlinks(t)
	m, _ := s.Deps().Mappings().Get(ctx, 1912)
	if len(m.Outbox) != 2 || m.Outbox[0].Type != kakaoauth.EventUserCreated || m.Outbox[1].Type != kakaoauth.EventUnlinked {
		t.Fatalf("outbox %+v: want both transitions waiting", m.Outbox)
	}
	loginExec := secOfType(s.secAudit(t, 1912), kakaoauth.EventLoginSucceeded)[0]["executionId"]
	s.proxy.Inject("PutEvents", faultproxy.Fault{})
	time.Sleep(300 * time.Millisecond) // the runs' grace
	rep, err := s.Sweep(ctx)
	if err != nil || rep.Events != 2 || rep.Failures != 0 {
		t.Fatalf("sweep %+v %v", rep, err)
	}
	events, _ := app.WaitFor(ctx, 10*time.Second, func(e BusEvent) bool { return e.DetailType == kakaoauth.EventUnlinked })
	more, _ := app.WaitFor(ctx, 2*time.Second, func(BusEvent) bool { return false })
	ids := map[string]string{}
	for _, e := range append(events, more...) {
		if prev, dup := ids[e.Detail.ID]; dup {
			t.Fatalf("event %s (%s) published twice", e.Detail.ID, prev)
		}
		ids[e.Detail.ID] = e.DetailType
	}
	if got := slices.Sorted(maps.Values(ids)); strings.Join(got, ",") != "unlinked,user_created" {
		t.Fatalf("bus events %v", got)
	}
	// Audited with the requests that made them, not the sweeper's.
	audit := s.secAudit(t, 1912)
	if c := secOfType(audit, kakaoauth.EventUserCreated); len(c) != 1 || c[0]["executionId"] != loginExec || c[0][store.AttrSourceIP] == "" {
		t.Fatalf("user_created audited as %v (the login was %s)", c, loginExec)
	}
	if u := secOfType(audit, kakaoauth.EventUnlinked); len(u) != 1 || u[0][store.AttrUserAgent] == "" || u[0]["executionId"] == loginExec {
		t.Fatalf("unlinked audited as %v", u)
	}
	if m, _ := s.Deps().Mappings().Get(ctx, 1912); m.EventPending || len(m.Outbox) != 0 {
		t.Fatalf("outbox after the sweep %+v", m.Outbox)
	}
}

// Nothing secret of the unlink path (the admin keys, the MAC key) reaches
// a log line, the audit trail, the mapping rows (their outbox included),
// the operations table (the inbox holds bodies and MACs, not the key) or
// an event on the bus, whatever path a callback takes: queued, kept while
// the queue is down and swept, refused, forged on the queue, or caught by
// the reconciler.
func TestNoSecretsInTheUnlinkPath(t *testing.T) {
	const second = "rotated-admin-key-0003"
	s := startStack(t, withProxy, func(c *Config) { c.ExtraAdminKeys = []string{second} })
	app := s.subscribe(t)
	ctx := context.Background()
	for _, id := range []int64{1913, 1914, 1915, 1916} {
		s.verifiedUser(t, id)
		s.mustLogin(t, id)
	}
	form := func(id string) string {
		return url.Values{"app_id": {itoa(kakaofake.DefaultAppID)}, "user_id": {id}, "referrer_type": {"UNLINK_FROM_APPS"}}.Encode()
	}
	s.secFakeUnlink(t, 1913, "UNLINK_FROM_APPS")
	s.secUnlinkRequest(t, "POST", "KakaoAK "+second, "", form("1914"))
	s.secUnlinkRequest(t, "POST", "KakaoAK wrong-"+second, "", form("1914"))
	s.proxy.Inject("SendMessage", faultproxy.Fault{Kind: faultproxy.ServerError, Times: -1})
	s.secFakeUnlink(t, 1915, "UNLINK_FROM_APPS")
	s.proxy.Inject("SendMessage", faultproxy.Fault{})
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	s.postJSON(t, s.KakaoURL()+"/_fake/unlink", map[string]any{"user_id": 1916, "drop_callback": true})
	if _, err := s.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	_, _ = sqs.NewFromConfig(s.direct()).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.Stack().UnlinkQueueURL), MessageBody: aws.String(`{"id":"x"}`)})
	for _, id := range []int64{1913, 1914, 1915, 1916} {
		s.waitStatus(t, id, kakaoauth.StatusUnlinked)
	}
	events, _ := app.WaitFor(ctx, 5*time.Second, func(BusEvent) bool { return false })
	busJSON, _ := json.Marshal(events)
	if !strings.Contains(string(busJSON), kakaoauth.EventUnlinked) {
		t.Fatal("no events on the bus: the check below would be empty")
	}
	dump := func(table string) string {
		out, err := dynamodb.NewFromConfig(s.direct()).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(out.Items)
		return string(b)
	}
	mac := s.secret(t, s.Deps().Config.UnlinkMACKeySecretID)
	_, macKeys, err := config.ParsePeppers(mac) // the pepper's versioned shape
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{kakaofake.DefaultAdminKey, second}
	for _, k := range macKeys {
		secrets = append(secrets, string(k))
	}
	places := map[string]string{
		"logs": s.logs.String(), "audit": s.auditDump(t), "mappings": dump(s.Stack().MappingTable),
		"operations": dump(s.Stack().OperationsTable), "bus": string(busJSON),
	}
	if !strings.Contains(places["logs"], "unlink callback queued") || !strings.Contains(places["logs"], "kept in the inbox") {
		t.Fatal("the unlink paths logged nothing: the check below would be empty")
	}
	for where, text := range places {
		for _, secret := range secrets {
			if len(secret) < 12 {
				t.Fatalf("secret %q too short to check", secret)
			}
			if strings.Contains(text, secret) {
				t.Fatalf("%s contain a secret (%d chars)", where, len(secret))
			}
		}
	}
}

// BenchmarkEventDelay measures how long after a transition its lifecycle
// event is out: from the event's time (the transition's mapping write) to
// the moment its row's outbox is empty again, which is after PutEvents
// took it (EventBridge's own delivery to a target comes on top: about
// half a second in AWS, and not what kakaoauth controls):
//
//   - inline: the transition's own run sends it (every transition, unless
//     the bus, the audit table or the function fails then);
//   - stranded: that run's PutEvents failed, so the sweeper sends it, after
//     the run's grace (OutboxGrace) at its next run (SweepEvery). Here 1 s
//     and 1 s; in AWS store.DefaultOutboxGrace (20 s) and the schedule's
//     minute, so at most about 80 s plus the sweep itself.
//
// Run: go test ./infra/localstack -run '^$' -bench EventDelay -benchtime 5x
func BenchmarkEventDelay(b *testing.B) {
	for _, stranded := range []bool{false, true} {
		name := "inline"
		if stranded {
			name = "stranded"
		}
		b.Run(name, func(b *testing.B) {
			s := startStack(b, withProxy, func(c *Config) { c.OutboxGrace, c.SweepEvery = time.Second, time.Second })
			mappings := store.NewMappings(dynamodb.NewFromConfig(s.direct()), s.Stack().MappingTable)
			ctx := context.Background()
			id := int64(1_990_000)
			if stranded {
				id = 1_995_000
			}
			var total time.Duration
			n := 0
			for b.Loop() {
				id++
				s.verifiedUser(b, id)
				if stranded {
					s.proxy.Inject("PutEvents", faultproxy.Fault{Kind: faultproxy.ServerError, Times: 3}) // every attempt of the run's one PutEvents call
				}
				token := s.accessToken(b, id)
				// Watch the row from before the login on, so that the
				// moment its outbox empties is seen as it happens.
				out := make(chan time.Duration, 1)
				go func() {
					deadline := time.Now().Add(time.Minute)
					for time.Now().Before(deadline) {
						if m, err := mappings.Get(ctx, id); err == nil && !m.EventPending {
							out <- time.Since(m.LastEvent.Time)
							return
						}
						time.Sleep(2 * time.Millisecond)
					}
					out <- -1
				}()
				if status, body := s.login(b, map[string]string{"access_token": token}); status != http.StatusOK {
					b.Fatalf("login: %d %v", status, body)
				}
				d := <-out
				if d < 0 {
					b.Fatalf("the event of %d never went out", id)
				}
				total += d
				n++
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/event")
		})
	}
}
