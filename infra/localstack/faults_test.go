package localstack

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
)

// loginOps are the AWS operations a first login puts on the wire: each is
// a target of the fault matrix.
var loginOps = []string{"AdminCreateUser", "AdminInitiateAuth", "AdminRespondToAuthChallenge", "GetItem", "PutItem", "UpdateItem", "PutEvents"}

// unretriedOps are sent once: a retry would spend Cognito's scarcest
// quotas (and count toward its lockout) again.
var unretriedOps = []string{"AdminInitiateAuth", "AdminRespondToAuthChallenge"}

var faultKinds = []faultproxy.Kind{faultproxy.Throttle, faultproxy.ServerError, faultproxy.Reset, faultproxy.Stall}

// maxCallsOfOneOp bounds the calls of any one operation in one login,
// whatever fails: PutItem failing for good is the worst, the SDK's 3
// attempts in each of 3 runs (the state machine's 2 retries) of each of
// the 2 steps that write one (UpsertUser's mapping, RecordFailure's audit).
const maxCallsOfOneOp = 3 * 3 * 2

// faultOutcome is what docs/testing.md's fault table promises: the status and
// error of a first login whose op fails with kind, once or for good.
func faultOutcome(op string, kind faultproxy.Kind, persistent bool) (int, string) {
	switch {
	case op == "PutEvents":
		// The event waits in the mapping's outbox; the login does not.
		return http.StatusOK, ""
	case kind == faultproxy.Throttle && (persistent || slices.Contains(unretriedOps, op)):
		return http.StatusTooManyRequests, "Throttled"
	case slices.Contains(unretriedOps, op), persistent:
		return http.StatusInternalServerError, kakaoauth.CodeInternal
	case kind == faultproxy.Stall && op == "UpdateItem":
		// The first UpdateItem clears the outbox after the event went out;
		// a login that cannot clear it leaves it for the next write.
		return http.StatusOK, ""
	case kind == faultproxy.Stall:
		// A stalled attempt spends the call's whole time bound.
		return http.StatusInternalServerError, kakaoauth.CodeInternal
	default:
		// One throttle, 500 or reset: the SDK's retry absorbs it.
		return http.StatusOK, ""
	}
}

// Every AWS operation of a first login × {throttling, 500, reset, a stall
// past the call's time bound}, once and for good: each login ends in its
// documented status, no operation is called more than maxCallsOfOneOp
// times, the next login of the same account succeeds, and afterwards the
// invariants hold (one user and one mapping per account, no orphan user,
// one terminal audit event per attempt whose audit write could land).
func TestAWSFaultMatrix(t *testing.T) {
	// A short bound, so a stall costs this test a second, not five.
	s := startStack(t, withProxy, func(c *Config) { c.AWSCallTimeout = time.Second })
	id := int64(8000)
	var ids []int64
	attempts := map[int64]int{}
	var table []string
	for _, op := range loginOps {
		for _, kind := range faultKinds {
			for _, persistent := range []bool{false, true} {
				id++
				ids = append(ids, id)
				s.verifiedUser(t, id)
				tok := s.accessToken(t, id)
				times, mode := 1, "once"
				if persistent {
					times, mode = -1, "for good"
				}
				s.proxy.Reset()
				s.proxy.Inject(op, faultproxy.Fault{Kind: kind, Times: times})
				status, body := s.login(t, map[string]string{"access_token": tok})
				s.proxy.Inject(op, faultproxy.Fault{})
				calls, faulted := s.proxy.Count(op), s.proxy.Faulted(op)
				// A lost audit write loses that attempt's event, nothing else.
				if !(op == "PutItem" && persistent) {
					attempts[id]++
				}
				next, nextBody := s.login(t, map[string]string{"access_token": s.accessToken(t, id)})
				attempts[id]++
				table = append(table, fmt.Sprintf("%-28s %-8s %-8s -> %d %-9v %2d calls; next login %d", op, kind, mode, status, body["error"], calls, next))

				wantStatus, wantCode := faultOutcome(op, kind, persistent)
				if status != wantStatus || (wantCode != "" && body["error"] != wantCode) {
					t.Errorf("%s %s %s: %d %v, want %d %s", op, kind, mode, status, body, wantStatus, wantCode)
				}
				if faulted == 0 {
					t.Errorf("%s %s %s: the fault never fired: the row proves nothing", op, kind, mode)
				}
				if calls > maxCallsOfOneOp {
					t.Errorf("%s %s %s: %d calls of %s, want at most %d", op, kind, mode, calls, op, maxCallsOfOneOp)
				}
				if next != http.StatusOK {
					t.Errorf("%s %s %s: the next login got %d %v", op, kind, mode, next, nextBody)
				}
			}
		}
	}
	t.Logf("fault matrix (call bound 1 s):\n%s", strings.Join(table, "\n"))
	s.checkInvariants(t, ids, attempts)
}

// The Kakao double's faults on both endpoints of an access-token login:
// a 500, Kakao's rate limit (429, -10), a reset connection, once and for
// good. Once, the client's retry absorbs it; for good, the login is 502
// KakaoUnavailable after a bounded number of calls, creates nothing, and
// is audited as an anonymous failure (Kakao never said who it was). A
// spent quota is the exception: never retried, so even once it is 502
// after exactly one call, audited as KakaoQuotaExceeded.
func TestKakaoFaultMatrix(t *testing.T) {
	s := startStack(t)
	id := int64(8500)
	var ids []int64
	attempts := map[int64]int{}
	faults := map[string]map[string]any{
		"500":        {"status": 500},
		"rate limit": {"status": 429, "code": -10},
		"reset":      {"reset": true},
		"stall":      {"delay_ms": 3500}, // past the client's 3 s per attempt
	}
	var table []string
	anonBefore := countOf(s.auditTypes(t, 0), "login_failed:KakaoUnavailable")
	outages := 0
	for _, path := range []string{"/v1/user/access_token_info", "/v2/user/me"} {
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range faults {
				if !yield(k) {
					return
				}
			}
		}) {
			for _, persistent := range []bool{false, true} {
				if name == "stall" && persistent {
					continue // ~20 s of waiting for what the 500 case shows
				}
				id++
				ids = append(ids, id)
				s.verifiedUser(t, id)
				tok := s.accessToken(t, id)
				count, mode := 1, "once"
				if persistent {
					count, mode = 1000, "for good"
				}
				f := map[string]any{"path": path, "count": count}
				for k, v := range faults[name] {
					f[k] = v
				}
				before := s.fake.Hits(path)
				s.fault(t, f)
				status, body := s.login(t, map[string]string{"access_token": tok})
				s.fault(t, map[string]any{"path": path, "count": 0})
				calls := s.fake.Hits(path) - before
				table = append(table, fmt.Sprintf("%-28s %-10s %-8s -> %d %-16v %d calls", path, name, mode, status, body["error"], calls))
				quota := name == "rate limit"
				if persistent || quota {
					outages++
					wantError(t, status, body, http.StatusBadGateway, "KakaoUnavailable")
					if _, err := s.Deps().Users().GetUser(context.Background(), kakaoauth.Username(id)); err == nil {
						t.Errorf("%s %s %s: a failed login created a user", path, name, mode)
					}
				} else {
					attempts[id]++
					if status != http.StatusOK {
						t.Errorf("%s %s %s: %d %v, want 200", path, name, mode, status, body)
					}
				}
				// 3 attempts in the client, twice (the state machine's
				// retry), each possibly sent twice by Go's transport, which
				// re-sends a GET once when a reused connection drops first.
				if calls > 12 || quota && calls != 1 {
					t.Errorf("%s %s %s: %d calls, want at most 12 (a quota: exactly 1)", path, name, mode, calls)
				}
				if next, nb := s.login(t, map[string]string{"access_token": s.accessToken(t, id)}); next != http.StatusOK {
					t.Errorf("%s %s %s: the next login got %d %v", path, name, mode, next, nb)
				}
				attempts[id]++
			}
		}
	}
	t.Logf("Kakao fault matrix:\n%s", strings.Join(table, "\n"))
	s.checkInvariants(t, ids, attempts)
	anon := s.auditTypes(t, 0)
	if got := countOf(anon, "login_failed:KakaoUnavailable") + countOf(anon, "login_failed:KakaoQuotaExceeded") - anonBefore; got != outages {
		t.Errorf("%d anonymous KakaoUnavailable and KakaoQuotaExceeded audit events for %d outages", got, outages)
	}
}

// Kakao's quota answers (-10, -11, any 429) are spent once: a login whose
// first Kakao call says the quota is gone makes no other Kakao call (the
// client does not retry it, nor does the state machine), answers 502
// KakaoUnavailable, and is audited as KakaoQuotaExceeded. Before, -10 was
// retried six times per request (3 attempts in the client, twice).
func TestKakaoQuotaIsSpentOnce(t *testing.T) {
	s := startStack(t)
	const id = 8700
	s.verifiedUser(t, id)
	for _, c := range []struct {
		path  string
		fault map[string]any
	}{
		{"/v1/user/access_token_info", map[string]any{"status": 400, "code": -10}},
		{"/v1/user/access_token_info", map[string]any{"status": 400, "code": -11}},
		{"/v1/user/access_token_info", map[string]any{"status": 429}},
		{"/v2/user/me", map[string]any{"status": 400, "code": -10}},
	} {
		tok := s.accessToken(t, id)
		infoBefore, meBefore := s.fake.Hits("/v1/user/access_token_info"), s.fake.Hits("/v2/user/me")
		anonBefore := countOf(s.auditTypes(t, 0), "login_failed:KakaoQuotaExceeded")
		f := map[string]any{"path": c.path, "count": 100}
		maps.Copy(f, c.fault)
		s.fault(t, f)
		status, body := s.login(t, map[string]string{"access_token": tok})
		s.fault(t, map[string]any{"path": c.path, "count": 0})
		wantError(t, status, body, http.StatusBadGateway, "KakaoUnavailable")
		info, me := s.fake.Hits("/v1/user/access_token_info")-infoBefore, s.fake.Hits("/v2/user/me")-meBefore
		wantInfo, wantMe := 1, 0
		if c.path == "/v2/user/me" {
			wantMe = 1
		}
		if info != wantInfo || me != wantMe {
			t.Errorf("%s %v: access_token_info %d, /v2/user/me %d calls; want %d and %d", c.path, c.fault, info, me, wantInfo, wantMe)
		}
		if got := countOf(s.auditTypes(t, 0), "login_failed:KakaoQuotaExceeded") - anonBefore; got != 1 {
			t.Errorf("%s %v: %d login_failed:KakaoQuotaExceeded audit events, want 1", c.path, c.fault, got)
		}
	}
	// The quota back, the same account logs in.
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, id)}); status != http.StatusOK {
		t.Fatalf("after the quota reset: %d %v", status, body)
	}
}

// checkInvariants reads the pool, the mapping table and the audit trail
// (past the proxy) for the given Kakao ids: each has exactly one Cognito
// user and one active mapping with that user's sub and no event waiting,
// no Kakao-linked user is without a mapping, and each id has exactly one
// terminal audit event (login_succeeded or login_failed) per attempt.
func (s *testStack) checkInvariants(t *testing.T, ids []int64, attempts map[int64]int) {
	t.Helper()
	ctx := context.Background()
	s.sweepOutboxes(t, ids)
	users := s.listUsers(t)
	for _, id := range ids {
		username := kakaoauth.Username(id)
		if n := countOf(users, username); n != 1 {
			t.Errorf("kakao %d: %d Cognito users", id, n)
			continue
		}
		u, err := s.Deps().Users().GetUser(ctx, username)
		if err != nil {
			t.Errorf("kakao %d: %v", id, err)
			continue
		}
		m, err := s.Deps().Mappings().Get(ctx, id)
		if err != nil || m.Sub != u.Sub || m.Status != kakaoauth.StatusActive || m.EventPending {
			t.Errorf("kakao %d: mapping %+v %v, user sub %s: want active, the user's sub, no event waiting", id, m, err, u.Sub)
		}
		terminal := 0
		for _, typ := range secTypes(s.secAudit(t, id)) {
			if typ == "login_succeeded" || strings.HasPrefix(typ, "login_failed") {
				terminal++
			}
		}
		if terminal != attempts[id] {
			t.Errorf("kakao %d: %d terminal audit events for %d attempts", id, terminal, attempts[id])
		}
	}
	for _, name := range users {
		digits, ok := strings.CutPrefix(name, "kakao_")
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			t.Errorf("Cognito user %s", name)
			continue
		}
		if _, err := s.Deps().Mappings().Get(ctx, id); err != nil {
			t.Errorf("orphan Cognito user %s: %v", name, err)
		}
	}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// sweepOutboxes sends what logins left in the given accounts' outboxes, as
// SweeperFunction does once a transition's grace is over: a login whose
// own publish failed (a fault, or a loaded machine outlasting the 1 s call
// bound) leaves its event there, and the sweeper, not the account's next
// login, is what delivers it. A sweep that fails a row leaves it for the
// next, as the schedule does: up to three sweeps.
func (s *testStack) sweepOutboxes(t *testing.T, ids []int64) {
	t.Helper()
	ctx := context.Background()
	for range 3 {
		var due time.Time
		for _, id := range ids {
			if m, err := s.Deps().Mappings().Get(ctx, id); err == nil && m.EventPending && m.DueAt.After(due) {
				due = m.DueAt
			}
		}
		if due.IsZero() {
			return
		}
		time.Sleep(time.Until(due) + 100*time.Millisecond)
		if _, err := s.Sweep(ctx); err != nil {
			t.Logf("sweep: %v", err)
		}
	}
}
