package workflow

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// --- bans -----------------------------------------------------------------

// A hosted-UI sign-in (PreSignUp) of a banned account is refused with the
// ban's code; nothing is enabled, linked or created.
func TestPreSignUpRespectsABan(t *testing.T) {
	h := newHostedRig(t)
	h.login(t, `{"access_token":"tok-1"}`)
	h.linked(t, 1)
	h.advance(time.Minute)
	if err := h.steps.BanAccount(context.Background(), 1, time.Time{}, "", "operator"); err != nil {
		t.Fatal(err)
	}
	if resp := h.worker(t, h.unlinkRequest(1, 1, "UNLINK_FROM_APPS")); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("unlink failed: %v", resp.BatchItemFailures)
	}
	h.advance(time.Minute)
	h.resetCalls()
	h.refused(t, 1, "AccountBanned")
	if u, _ := h.users.user("kakao_1"); u.Enabled {
		t.Fatal("a hosted-UI sign-up enabled a banned user")
	}
	if c := h.cognito(); c["AdminEnableUser"]+c["AdminLinkProviderForUser"]+c["AdminCreateUser"] != 0 {
		t.Fatalf("calls %v", c)
	}
}

// A ban of an account whose user kakaoauth did not create (a linked user)
// refuses its Kakao login but never disables, enables or signs out that
// user (link_test.go's TestBanOfALinkedAccount: the whole story).
func TestBanOfALinkedUserLeavesTheUserAlone(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	at := r.clock()
	r.users.users["native-7"] = &memUser{CognitoUser: kakaoauth.CognitoUser{Username: "native-7", Sub: "sub-native-7", Enabled: true}}
	r.mappings.put(kakaoauth.Mapping{KakaoID: 1, Sub: "sub-native-7", Username: "native-7", Kind: kakaoauth.KindLinked, Status: kakaoauth.StatusActive, CreatedAt: at, ActiveSince: at})
	if err := r.steps.BanAccount(ctx, 1, time.Time{}, "", "operator"); err != nil {
		t.Fatal(err)
	}
	r.fails(t, `{"access_token":"tok-1"}`, "AccountBanned")
	if lifted, err := r.steps.UnbanAccount(ctx, 1, "operator"); err != nil || !lifted {
		t.Fatalf("unban %v %v", lifted, err)
	}
	if c := r.cognito(); len(c) != 0 {
		t.Fatalf("a linked user's ban called Cognito: %v", c)
	}
	// Nor does an unlink that finds the native user disabled turn that
	// into a ban: kakaoauth never owned its enabled state.
	_ = r.users.DisableUser(ctx, "native-7")
	r.users.resetCalls()
	r.worker(t, r.unlinkRequest(1, 1, "UNLINK_FROM_APPS"))
	if m := r.mappings.row(1); m.Ban != nil {
		t.Fatalf("a linked user's disable became a ban: %+v", m.Ban)
	}
}

// An unlink retried after its own disable landed (and its mapping write
// failed) must not mistake that disable for an administrator's: the
// request marks itself under way first.
func TestUnlinkRetryIsNotAnOperatorsDisable(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	req := r.unlinkRequest(1, 1, "UNLINK_FROM_APPS")
	r.mappings.failNext("UpdateItem", nil, errors.New("dynamodb down")) // BeginUnlink passes, MarkUnlinked fails
	if resp := r.worker(t, req); len(resp.BatchItemFailures) != 1 {
		t.Fatalf("first try: %v", resp.BatchItemFailures)
	}
	if u, _ := r.users.user("kakao_1"); u.Enabled {
		t.Fatal("the first try did not disable the user: the retry proves nothing")
	}
	if resp := r.worker(t, req); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: %v", resp.BatchItemFailures)
	}
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusUnlinked || m.Ban != nil || m.Unlinking != "" {
		t.Fatalf("after the retry: status %s ban %+v unlinking %q", m.Status, m.Ban, m.Unlinking)
	}
	// The person comes back: not banned.
	r.advance(time.Minute)
	r.login(t, `{"access_token":"tok-1"}`)
}

// --- the recreation limit ---------------------------------------------------

// The window restarts after the period; within it, the limit holds before
// any Cognito call.
func TestRecreationWindow(t *testing.T) {
	r := newRig(t, WithRecreationLimit(RecreationLimit{Max: 2, Period: time.Hour}))
	first := r.login(t, `{"access_token":"tok-1"}`)
	del := func() { _ = r.users.DeleteUser(context.Background(), "kakao_1") }
	del()
	r.login(t, `{"access_token":"tok-1"}`)
	del()
	r.login(t, `{"access_token":"tok-1"}`)
	del()
	r.resetCalls()
	r.fails(t, `{"access_token":"tok-1"}`, "RecreateLimitReached")
	if c := r.cognito(); c["AdminCreateUser"] != 0 {
		t.Fatalf("calls %v", c)
	}
	r.advance(time.Hour)
	again := r.login(t, `{"access_token":"tok-1"}`)
	m := r.mappings.row(1)
	if again.Sub == first.Sub || m.Recreations != 1 || !m.RecreatedSince.Equal(r.clock()) || len(m.PreviousSubs) != 3 {
		t.Fatalf("after the period: %+v", m)
	}
}

// --- the unlink route -------------------------------------------------------

func authorizerEvent(auth, ip string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type: "REQUEST", MethodArn: "arn:aws:execute-api:ap-northeast-2:123456789012:abc123/v1/POST/kakao/unlink",
		Headers: map[string]string{"authorization": auth},
	}
	ev.RequestContext.Identity.SourceIP = ip
	return ev
}

// The authorizer lets Kakao's key through (any of the app's keys) and ties
// it to Kakao's usage plan; anything else is 401, or 403 from outside the
// allow-list; unconfigured, it refuses everything.
func TestUnlinkAuthorizerKeysAndSources(t *testing.T) {
	sources := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	s := New(WithUnlinkAuth(testAppID, "old-admin-key-0001", testAdminKey), WithUnlinkAuthorizer("usage-key-1", sources))
	ctx := context.Background()
	for _, key := range []string{"old-admin-key-0001", testAdminKey} {
		resp, err := s.UnlinkAuthorizer(ctx, authorizerEvent("KakaoAK "+key, "203.0.113.9"))
		if err != nil || resp.UsageIdentifierKey != "usage-key-1" || resp.PolicyDocument.Statement[0].Effect != "Allow" ||
			resp.PolicyDocument.Statement[0].Resource[0] != "arn:aws:execute-api:ap-northeast-2:123456789012:abc123/v1/*/kakao/unlink" {
			t.Fatalf("key %s: %+v %v", key, resp, err)
		}
	}
	for _, auth := range []string{"", "KakaoAK wrong", "Bearer " + testAdminKey, testAdminKey, "KakaoAK " + testAdminKey + " "} {
		if _, err := s.UnlinkAuthorizer(ctx, authorizerEvent(auth, "203.0.113.9")); !errors.Is(err, ErrUnauthorized) || err.Error() != "Unauthorized" {
			t.Fatalf("%q: %v", auth, err)
		}
	}
	resp, err := s.UnlinkAuthorizer(ctx, authorizerEvent("KakaoAK "+testAdminKey, "198.51.100.1"))
	if err != nil || resp.PolicyDocument.Statement[0].Effect != "Deny" || resp.UsageIdentifierKey != "" {
		t.Fatalf("outside the allow-list: %+v %v", resp, err)
	}
	if _, err := New(WithUnlinkAuth(testAppID, testAdminKey)).UnlinkAuthorizer(ctx, authorizerEvent("KakaoAK "+testAdminKey, "203.0.113.9")); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("without a usage key: %v", err)
	}
	// Any source, without an allow-list.
	open := New(WithUnlinkAuth(testAppID, testAdminKey), WithUnlinkAuthorizer("usage-key-1", nil))
	if resp, err := open.UnlinkAuthorizer(ctx, authorizerEvent("KakaoAK "+testAdminKey, "198.51.100.1")); err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Fatalf("no allow-list: %+v %v", resp, err)
	}
}

// Several admin keys at once (a rotation): the webhook takes a callback
// with either.
func TestUnlinkWebhookTakesEveryAdminKey(t *testing.T) {
	r := newRig(t, WithUnlinkAuth(testAppID, "old-admin-key-0001", testAdminKey))
	r.login(t, `{"access_token":"tok-1"}`)
	for _, key := range []string{"old-admin-key-0001", testAdminKey} {
		req := kakaoCallback("1001", "1", "UNLINK_FROM_APPS")
		req.Headers["Authorization"] = "KakaoAK " + key
		if resp := callUnlink(t, r, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("key %s: %d", key, resp.StatusCode)
		}
	}
	if len(r.queue.requests) != 2 {
		t.Fatalf("queued %d", len(r.queue.requests))
	}
}

// The queue down: the webhook keeps the request (signed) in the inbox and
// answers 200; with the inbox down too, 500. The sweeper queues what was
// kept, oldest first, and keeps what the queue still refuses.
func TestUnlinkInbox(t *testing.T) {
	inbox := &memInbox{}
	r := newRig(t, WithUnlinkAuth(testAppID, testAdminKey), WithInbox(inbox))
	r.login(t, `{"access_token":"tok-1"}`)
	r.queue.err = errors.New("sqs down")
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusOK {
		t.Fatalf("queue down: %d", resp.StatusCode)
	}
	if len(inbox.entries) != 1 || inbox.entries[0].ID != "req-9" || r.steps.verifyUnlink(inbox.entries[0].Message) != nil {
		t.Fatalf("inbox %+v: want the request, with the webhook's MAC", inbox.entries)
	}
	inbox.err = errors.New("dynamodb down")
	if resp := callUnlink(t, r, kakaoCallback("1001", "1", "UNLINK_FROM_APPS")); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("queue and inbox down: %d", resp.StatusCode)
	}
	inbox.err = nil
	rep, err := r.steps.Sweep(context.Background(), SweepEvent{})
	if err != nil || rep.Queued != 0 || rep.Failures != 1 || len(inbox.entries) != 1 {
		t.Fatalf("sweep with the queue down: %+v %v, inbox %d", rep, err, len(inbox.entries))
	}
	r.queue.err = nil
	if rep, err := r.steps.Sweep(context.Background(), SweepEvent{}); err != nil || rep.Queued != 1 || len(inbox.entries) != 0 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	if len(r.queue.messages) != 1 || r.steps.verifyUnlink(r.queue.messages[0]) != nil || r.queue.requests[0].ID != "req-9" {
		t.Fatalf("queued %+v", r.queue.messages)
	}
}

// The worker believes a message only with the webhook's MAC: none, a
// wrong one, one of a key version it does not hold, or a body changed
// after signing are refused (reported for retry and the dead-letter
// queue), audited once and anonymously (the body is not believed), and
// change nothing. A MAC of an older version it holds still passes (a key
// rotation).
func TestWorkerRefusesForgedMessages(t *testing.T) {
	r := newRig(t, WithUnlinkMACKeys(2, map[int][]byte{1: testMACKey, 2: []byte("fedcba9876543210fedcba9876543210-mac-2")}))
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	r.audit.events = nil
	r.resetCalls()
	req := r.unlinkRequest(1, 1, "ACCOUNT_DELETE")
	good, _ := r.steps.SignUnlink(req)
	if !strings.HasPrefix(good.MAC, "v2.") {
		t.Fatalf("signed with %q, want the current version 2", good.MAC)
	}
	later := req
	later.ReceivedAt = req.ReceivedAt.Add(24 * time.Hour)
	changedBody, _ := r.steps.SignUnlink(later)
	var ev events.SQSEvent
	for i, m := range []kakaoauth.UnlinkMessage{
		{Body: good.Body},
		{Body: good.Body, MAC: "v2.forged"},
		{Body: good.Body, MAC: "v7." + unlinkMAC(testMACKey, []byte(good.Body))},
		{Body: changedBody.Body, MAC: good.MAC},
		{Body: good.Body, MAC: "nonsense"},
	} {
		ev.Records = append(ev.Records, sqsRecord("f"+itoa(int64(i)), m.Body, m.MAC))
	}
	ev.Records[4].Attributes["ApproximateReceiveCount"] = "2" // a redelivery: not audited again
	resp, err := r.steps.UnlinkWorker(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 5 {
		t.Fatalf("forged batch: %+v %v", resp, err)
	}
	if m := r.mappings.row(1); m.Status != kakaoauth.StatusActive || len(r.cognito()) != 0 {
		t.Fatalf("a forged message changed the account: %s, calls %v", m.Status, r.cognito())
	}
	refused := r.audit.all()
	if len(refused) != 4 {
		t.Fatalf("audit %v", r.audit.types())
	}
	for _, e := range refused {
		if e.Type != kakaoauth.EventUnlinkRefused || e.KakaoID != 0 || e.Error != "ForgedUnlinkMessage" {
			t.Fatalf("refusal audited as %+v", e)
		}
	}
	// Signed with version 1 (before the rotation): believed.
	old := New(WithUnlinkMACKeys(1, map[int][]byte{1: testMACKey}))
	m, _ := old.SignUnlink(req)
	if resp, _ := r.steps.UnlinkWorker(context.Background(), events.SQSEvent{Records: []events.SQSMessage{sqsRecord("ok", m.Body, m.MAC)}}); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("a version-1 MAC: %v", resp.BatchItemFailures)
	}
	if r.mappings.row(1).Status != kakaoauth.StatusDeleted {
		t.Fatal("the genuine message did nothing")
	}
}

// --- the reconciler ---------------------------------------------------------

type memKakaoLinks struct {
	linked map[int64]bool
	err    error
	asked  [][]int64
}

func (l *memKakaoLinks) Linked(_ context.Context, ids []int64) (map[int64]bool, error) {
	l.asked = append(l.asked, slices.Clone(ids))
	if l.err != nil {
		return nil, l.err
	}
	out := map[int64]bool{}
	for _, id := range ids {
		if l.linked[id] {
			out[id] = true
		}
	}
	return out, nil
}

// memActive pages over the rig's mappings in id order, pageSize rows at a
// time.
type memActive struct {
	m        *memMappings
	pageSize int
}

func (a memActive) Page(_ context.Context, after int64, _ int32) ([]int64, int64, error) {
	a.m.mu.Lock()
	var ids []int64
	for id := range a.m.rows {
		if id > after {
			ids = append(ids, id)
		}
	}
	a.m.mu.Unlock()
	slices.Sort(ids)
	next := int64(0)
	if len(ids) > a.pageSize {
		ids, next = ids[:a.pageSize], ids[a.pageSize-1]
	}
	var active []int64
	for _, id := range ids {
		if a.m.row(id).Status == kakaoauth.StatusActive {
			active = append(active, id)
		}
	}
	return active, next, nil
}

type memCursor struct{ c kakaoauth.ReconcileCursor }

func (m *memCursor) Cursor(context.Context) (kakaoauth.ReconcileCursor, error) { return m.c, nil }
func (m *memCursor) SetCursor(_ context.Context, c kakaoauth.ReconcileCursor) error {
	m.c = c
	return nil
}

type memMetrics struct{ counts map[string][]int }

func (m *memMetrics) Count(_ context.Context, name string, v int) error {
	if m.counts == nil {
		m.counts = map[string][]int{}
	}
	m.counts[name] = append(m.counts[name], v)
	return nil
}

// Kakao fails (a quota answer): the run stops at once, asks nothing more,
// keeps its cursor before the page it could not check, and the next run
// goes on from there. Each unlink it applies is one Kakao no longer links
// and nobody signed in to since Kakao was asked.
func TestReconcilerStopsAtKakaosFailureAndResumes(t *testing.T) {
	r := newRig(t)
	for _, tok := range []string{"tok-1", "tok-2"} {
		r.login(t, `{"access_token":"`+tok+`"}`)
	}
	r.advance(time.Minute)
	links := &memKakaoLinks{linked: map[int64]bool{1: true}, err: &kakaoauth.KakaoUnavailable{Reason: "code -10"}}
	cursor, metrics := &memCursor{}, &memMetrics{}
	WithReconciler(links, memActive{m: r.mappings, pageSize: 1}, cursor, metrics, ReconcilerSettings{RequestsPerSecond: 100})(r.steps)
	rep, err := r.steps.Reconcile(context.Background(), ReconcileEvent{})
	if err != nil || rep.Checked != 0 || rep.Stopped != "Kakao: KakaoUnavailable" || len(links.asked) != 1 || cursor.c.After != 0 {
		t.Fatalf("quota: %+v %v, asked %v, cursor %+v", rep, err, links.asked, cursor.c)
	}
	links.err = nil
	rep, err = r.steps.Reconcile(context.Background(), ReconcileEvent{})
	if err != nil || rep.Checked != 2 || rep.Unlinked != 1 || !rep.PassEnded || cursor.c != (kakaoauth.ReconcileCursor{}) {
		t.Fatalf("second run: %+v %v, cursor %+v", rep, err, cursor.c)
	}
	if r.mappings.row(2).Status != kakaoauth.StatusUnlinked || r.mappings.row(1).Status != kakaoauth.StatusActive {
		t.Fatal("statuses after the reconcile")
	}
	if !slices.Equal(metrics.counts[MetricReconciledUnlinks], []int{0, 1}) {
		t.Fatalf("metrics %v", metrics.counts)
	}
}

// A Kakao answer that suddenly names nobody must not unlink everyone: a
// run stops at ReconcileMaxUnlinksPerRun (and the alarm calls someone).
func TestReconcilerGuardsAgainstAnAnswerOfNobody(t *testing.T) {
	r := newRig(t)
	for _, tok := range []string{"tok-1", "tok-2"} {
		r.login(t, `{"access_token":"`+tok+`"}`)
	}
	r.advance(time.Minute)
	links := &memKakaoLinks{}
	WithReconciler(links, memActive{m: r.mappings, pageSize: 100}, &memCursor{}, nil, ReconcilerSettings{MaxUnlinksPerRun: 1})(r.steps)
	rep, err := r.steps.Reconcile(context.Background(), ReconcileEvent{})
	if err != nil || rep.Unlinked != 1 || !strings.Contains(rep.Stopped, "1 unlinks") {
		t.Fatalf("%+v %v", rep, err)
	}
	if n := len(slices.DeleteFunc([]int64{1, 2}, func(id int64) bool { return r.mappings.row(id).Status == kakaoauth.StatusActive })); n != 1 {
		t.Fatalf("%d unlinked, want 1", n)
	}
}

// An account that signed in after Kakao was asked is not unlinked: Kakao
// vouched for it since.
func TestReconcilerSkipsAnAccountThatSignedInSince(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.advance(time.Minute)
	links := &memKakaoLinks{}
	WithReconciler(links, memActive{m: r.mappings, pageSize: 100}, &memCursor{}, nil, ReconcilerSettings{})(r.steps)
	r.mappings.before("GetItem", func() {
		r.mappings.before("GetItem", nil)
		_ = r.mappings.RecordLogin(context.Background(), kakaoauth.LoginRecord{KakaoID: 1, At: r.clock().Add(time.Second)})
	})
	rep, err := r.steps.Reconcile(context.Background(), ReconcileEvent{})
	if err != nil || rep.Unlinked != 0 || r.mappings.row(1).Status != kakaoauth.StatusActive {
		t.Fatalf("%+v %v", rep, err)
	}
}

// --- the inbox (in memory) ----------------------------------------------------

type memInbox struct {
	entries []kakaoauth.InboxEntry
	err     error
}

func (b *memInbox) Keep(_ context.Context, e kakaoauth.InboxEntry) error {
	if b.err != nil {
		return b.err
	}
	b.entries = append(b.entries, e)
	return nil
}

func (b *memInbox) Pending(_ context.Context, limit int) ([]kakaoauth.InboxEntry, error) {
	return slices.Clone(b.entries[:min(limit, len(b.entries))]), b.err
}

func (b *memInbox) Done(_ context.Context, e kakaoauth.InboxEntry) error {
	b.entries = slices.DeleteFunc(b.entries, func(x kakaoauth.InboxEntry) bool { return x.ID == e.ID })
	return nil
}
