package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// tables provisions both tables from template.yaml under names of tb's own.
func tables(tb testing.TB) (*dynamodb.Client, provision.Stack) {
	tb.Helper()
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(tb).URL())
	prefix := "st-" + unsafeName.ReplaceAllString(strings.ToLower(tb.Name()), "-")
	stack, err := provision.Provision(ctx, cfg, "../../template.yaml", provision.NamesFor(prefix))
	if err != nil {
		tb.Fatal(err)
	}
	return dynamodb.NewFromConfig(cfg), stack
}

// t0 is 2 March in Seoul but still 1 March in UTC.
var t0 = time.Date(2026, 3, 2, 7, 59, 58, 123_456_789, time.FixedZone("KST", 9*3600))

func mapping(id int64) kakaoauth.Mapping {
	return kakaoauth.Mapping{
		KakaoID:   id,
		Sub:       fmt.Sprintf("sub-%d", id),
		Username:  kakaoauth.Username(id),
		Email:     fmt.Sprintf("u%d@example.com", id),
		Status:    kakaoauth.StatusActive,
		CreatedAt: t0,
	}
}

func TestCreateAndGet(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)

	want := mapping(1)
	want.LastLoginAt = t0.Add(time.Second)
	if err := m.Create(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Stored in UTC with millisecond precision.
	if !got.CreatedAt.Equal(t0.Truncate(time.Millisecond)) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("createdAt %v", got.CreatedAt)
	}
	if got.KakaoID != 1 || got.Sub != want.Sub || got.Username != "kakao_1" || got.Email != want.Email ||
		got.Status != kakaoauth.StatusActive || !got.LastLoginAt.Equal(want.LastLoginAt.Truncate(time.Millisecond)) ||
		got.PasswordNonce != "" || !got.PasswordSetAt.IsZero() {
		t.Fatalf("got %+v", got)
	}

	raw := rawItem(t, db, stack.MappingTable, map[string]types.AttributeValue{AttrKakaoID: n(1)})
	if _, ok := raw[AttrKakaoID].(*types.AttributeValueMemberN); !ok {
		t.Fatalf("kakaoId stored as %T", raw[AttrKakaoID])
	}
	if v := raw[AttrCreatedAt].(*types.AttributeValueMemberS).Value; v != "2026-03-01T22:59:58.123Z" {
		t.Fatalf("createdAt stored as %s", v)
	}
	// The UTC day, not the local one.
	if v := raw[AttrCreatedDay].(*types.AttributeValueMemberS).Value; v != "2026-03-01" {
		t.Fatalf("createdDay %s", v)
	}

	noEmail := mapping(2)
	noEmail.Email, noEmail.Status = "", ""
	if err := m.Create(ctx, noEmail); err != nil {
		t.Fatal(err)
	}
	raw = rawItem(t, db, stack.MappingTable, map[string]types.AttributeValue{AttrKakaoID: n(2)})
	if _, ok := raw[AttrEmail]; ok {
		t.Fatal("empty email stored")
	}
	if got, _ := m.Get(ctx, 2); got.Status != kakaoauth.StatusActive {
		t.Fatalf("default status %q", got.Status)
	}

	var nf *kakaoauth.NotFound
	if _, err := m.Get(ctx, 404); !errors.As(err, &nf) || kakaoauth.ErrorName(err) != "NotFound" {
		t.Fatalf("missing: %T %v", err, err)
	}
	for _, bad := range []kakaoauth.Mapping{{}, {KakaoID: 3}, {KakaoID: 3, Sub: "s", Username: "u"}} {
		if err := m.Create(ctx, bad); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
	}
}

func TestConcurrentCreateHasOneWinner(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)

	const racers = 20
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			mp := mapping(77)
			mp.Sub = fmt.Sprintf("sub-racer-%d", i)
			errs[i] = m.Create(ctx, mp)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		var exists *kakaoauth.MappingExists
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("racers %d and %d both created the mapping", winner, i)
			}
			winner = i
		case errors.As(err, &exists) && kakaoauth.ErrorName(err) == "MappingExists" && exists.KakaoID == 77:
		default:
			t.Fatalf("racer %d: %T %v", i, err, err)
		}
	}
	if winner < 0 {
		t.Fatal("nobody won")
	}
	got, err := m.Get(ctx, 77)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sub != fmt.Sprintf("sub-racer-%d", winner) {
		t.Fatalf("stored %s, winner was %d", got.Sub, winner)
	}
}

func TestGetBySub(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	for id := int64(10); id < 13; id++ {
		if err := m.Create(ctx, mapping(id)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.GetBySub(ctx, "sub-11")
	if err != nil {
		t.Fatal(err)
	}
	if got.KakaoID != 11 || got.Username != "kakao_11" {
		t.Fatalf("got %+v", got)
	}
	var nf *kakaoauth.NotFound
	if _, err := m.GetBySub(ctx, "sub-404"); !errors.As(err, &nf) {
		t.Fatalf("missing sub: %v", err)
	}
}

func TestRecordLogin(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	mp := mapping(5)
	mp.PasswordNonce, mp.PasswordState = "n1", kakaoauth.PasswordTemporary
	if err := m.Create(ctx, mp); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	if err := m.RecordLogin(ctx, kakaoauth.LoginRecord{KakaoID: 5, At: at, Email: aws.String("new@example.com")}); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Get(ctx, 5)
	if !got.LastLoginAt.Equal(at.Truncate(time.Millisecond)) || got.Email != "new@example.com" || got.PasswordState != kakaoauth.PasswordTemporary {
		t.Fatalf("after login %+v", got)
	}
	// A sign-in that proved nonce n1 marks it applied.
	if err := m.RecordLogin(ctx, kakaoauth.LoginRecord{KakaoID: 5, At: at.Add(time.Hour), Email: aws.String(""), AppliedNonce: "n1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 5); got.Email != "" || !got.LastLoginAt.Equal(at.Add(time.Hour).Truncate(time.Millisecond)) || got.PasswordState != kakaoauth.PasswordApplied {
		t.Fatalf("after login without email %+v", got)
	}
	// A proof for a nonce that is no longer current still records the
	// login, but marks nothing.
	if err := m.SetPasswordState(ctx, 5, "n1", kakaoauth.PasswordPending); err != nil {
		t.Fatal(err)
	}
	if err := m.RecordLogin(ctx, kakaoauth.LoginRecord{KakaoID: 5, At: at.Add(2 * time.Hour), AppliedNonce: "old"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 5); got.PasswordState != kakaoauth.PasswordPending || !got.LastLoginAt.Equal(at.Add(2*time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("after login with a stale nonce %+v", got)
	}

	var nf *kakaoauth.NotFound
	if err := m.RecordLogin(ctx, kakaoauth.LoginRecord{KakaoID: 404, At: at}); !errors.As(err, &nf) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := m.Get(ctx, 404); !errors.As(err, &nf) {
		t.Fatal("RecordLogin created a row")
	}
	// An unlink won the race: the login must not record itself.
	if changed, err := m.MarkUnlinked(ctx, 5, at.Add(3*time.Hour), event("e1", kakaoauth.EventUnlinked)); err != nil || !changed {
		t.Fatalf("unlink: %v %v", changed, err)
	}
	var notActive *kakaoauth.NotActive
	if err := m.RecordLogin(ctx, kakaoauth.LoginRecord{KakaoID: 5, At: at.Add(4 * time.Hour)}); !errors.As(err, &notActive) || notActive.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("login after unlink: %T %v", err, err)
	}
}

func event(id, typ string) kakaoauth.LifecycleEvent {
	return kakaoauth.LifecycleEvent{ID: id, Type: typ, Sub: "sub-x", Time: t0.Add(24 * time.Hour), Reason: "test"}
}

func TestClaimPassword(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	if err := m.Create(ctx, mapping(9)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	// A row from before nonces had states: no nonce, no state.
	if err := m.ClaimPassword(ctx, 9, kakaoauth.PasswordClaim{}, "n1", 1, at); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Get(ctx, 9)
	if got.PasswordNonce != "n1" || got.PasswordState != kakaoauth.PasswordPending || !got.PasswordSetAt.Equal(at.Truncate(time.Millisecond)) || got.PepperVersion != 1 {
		t.Fatalf("after first claim %+v", got)
	}

	var changed *kakaoauth.NonceChanged
	if err := m.ClaimPassword(ctx, 9, kakaoauth.PasswordClaim{}, "n2", 1, at); !errors.As(err, &changed) || kakaoauth.ErrorName(err) != "NonceChanged" {
		t.Fatalf("claim from none when set: %T %v", err, err)
	}
	if err := m.ClaimPassword(ctx, 9, kakaoauth.PasswordClaim{Nonce: "n1", State: kakaoauth.PasswordApplied}, "n2", 1, at); !errors.As(err, &changed) {
		t.Fatalf("claim expecting another state: %v", err)
	}
	var nf *kakaoauth.NotFound
	if err := m.ClaimPassword(ctx, 404, kakaoauth.PasswordClaim{}, "n1", 1, at); !errors.As(err, &nf) {
		t.Fatalf("missing row: %T %v", err, err)
	}
	if err := m.ClaimPassword(ctx, 9, kakaoauth.PasswordClaim{Nonce: "n1"}, "", 1, at); err == nil {
		t.Fatal("accepted an empty next nonce")
	}
	if err := m.SetPasswordState(ctx, 9, "n1", kakaoauth.PasswordFailed); err != nil {
		t.Fatal(err)
	}
	if err := m.SetPasswordState(ctx, 9, "other", kakaoauth.PasswordApplied); !errors.As(err, &changed) {
		t.Fatalf("state of a stale nonce: %v", err)
	}

	// Concurrent claims of the same failed nonce: exactly one wins.
	const racers = 20
	prev := kakaoauth.PasswordClaim{Nonce: "n1", State: kakaoauth.PasswordFailed}
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { errs[i] = m.ClaimPassword(ctx, 9, prev, "r"+strconv.Itoa(i), 1, at.Add(time.Second)) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("racers %d and %d both claimed", winner, i)
			}
			winner = i
		case errors.As(err, &changed):
		default:
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("nobody claimed")
	}
	if got, _ := m.Get(ctx, 9); got.PasswordNonce != "r"+strconv.Itoa(winner) {
		t.Fatalf("stored nonce %s, winner r%d", got.PasswordNonce, winner)
	}
	// A claim records the pepper version its nonce derives with: after an
	// operator's rotation, the current one.
	cur, _ := m.Get(ctx, 9)
	if err := m.ClaimPassword(ctx, 9, kakaoauth.PasswordClaim{Nonce: cur.PasswordNonce, State: cur.PasswordState}, "v2", 2, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 9); got.PasswordNonce != "v2" || got.PepperVersion != 2 {
		t.Fatalf("after a claim with version 2: %+v", got)
	}
	// No claim on a mapping that is not active.
	if _, err := m.MarkUnlinked(ctx, 9, at.Add(time.Hour), event("e", kakaoauth.EventUnlinked)); err != nil {
		t.Fatal(err)
	}
	cur, _ = m.Get(ctx, 9)
	var notActive *kakaoauth.NotActive
	if err := m.ClaimPassword(ctx, 9, kakaoauth.PasswordClaim{Nonce: cur.PasswordNonce, State: cur.PasswordState}, "z", 1, at); !errors.As(err, &notActive) {
		t.Fatalf("claim on an unlinked mapping: %T %v", err, err)
	}
}

// The account lifecycle on the row: unlink, re-link, deletion, recreation,
// each conditional on what the caller saw, and the outbox flag.
func TestLifecycleWrites(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	mp := mapping(8)
	mp.PasswordNonce, mp.PasswordState, mp.PasswordSetAt = "n1", kakaoauth.PasswordApplied, t0
	if err := m.Create(ctx, mp); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Get(ctx, 8)
	if !got.ActiveSince.Equal(got.CreatedAt) {
		t.Fatalf("activeSince %v, createdAt %v", got.ActiveSince, got.CreatedAt)
	}

	// An unlink request from before the mapping existed is stale.
	if changed, err := m.MarkUnlinked(ctx, 8, t0.Add(-time.Second), event("stale", kakaoauth.EventUnlinked)); err != nil || changed {
		t.Fatalf("stale unlink: %v %v", changed, err)
	}
	received := t0.Add(time.Hour)
	if changed, err := m.MarkUnlinked(ctx, 8, received, event("u1", kakaoauth.EventUnlinked)); err != nil || !changed {
		t.Fatalf("unlink: %v %v", changed, err)
	}
	got, _ = m.Get(ctx, 8)
	if got.Status != kakaoauth.StatusUnlinked || !got.UnlinkedAt.Equal(received.Truncate(time.Millisecond)) ||
		got.LastEvent.ID != "u1" || got.LastEvent.Type != kakaoauth.EventUnlinked || !got.EventPending || got.Email != mp.Email {
		t.Fatalf("after unlink %+v", got)
	}
	if changed, err := m.MarkUnlinked(ctx, 8, received.Add(time.Second), event("u2", kakaoauth.EventUnlinked)); err != nil || changed {
		t.Fatalf("second unlink: %v %v", changed, err)
	}
	if err := m.EventDone(ctx, 8, "u1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 8); got.EventPending {
		t.Fatal("outbox flag still set")
	}

	// Re-link: only from the unlink the caller saw.
	relinkAt := received.Add(time.Hour)
	stale := kakaoauth.Relink{KakaoID: 8, UnlinkedAt: received.Add(-time.Minute), At: relinkAt, Event: event("r0", kakaoauth.EventRelinked)}
	var staleErr *kakaoauth.StaleTransition
	if err := m.MarkRelinked(ctx, stale); !errors.As(err, &staleErr) {
		t.Fatalf("re-link of another unlink: %T %v", err, err)
	}
	if err := m.MarkRelinked(ctx, kakaoauth.Relink{KakaoID: 8, UnlinkedAt: got.UnlinkedAt, At: relinkAt, Event: event("r1", kakaoauth.EventRelinked)}); err != nil {
		t.Fatal(err)
	}
	got, _ = m.Get(ctx, 8)
	if got.Status != kakaoauth.StatusActive || !got.ActiveSince.Equal(relinkAt.Truncate(time.Millisecond)) || !got.RelinkedAt.Equal(got.ActiveSince) ||
		got.Email != "" || got.LastEvent.ID != "r1" || !got.EventPending {
		t.Fatalf("after re-link %+v", got)
	}
	// The unlink redelivered after the re-link changes nothing.
	if changed, err := m.MarkUnlinked(ctx, 8, received, event("u1", kakaoauth.EventUnlinked)); err != nil || changed {
		t.Fatalf("redelivered unlink: %v %v", changed, err)
	}
	// EventDone of an older event leaves the newer one pending.
	if err := m.EventDone(ctx, 8, "u1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 8); !got.EventPending {
		t.Fatal("an old event cleared the outbox")
	}

	// Deletion scrubs the email and the nonce, keeps ids and times.
	if err := m.RecordLogin(ctx, kakaoauth.LoginRecord{KakaoID: 8, At: relinkAt, Email: aws.String("back@example.com")}); err != nil {
		t.Fatal(err)
	}
	delReceived := relinkAt.Add(time.Hour)
	del := event("d1", kakaoauth.EventDeleted)
	del.Time = delReceived.Add(time.Second)
	if changed, err := m.MarkDeleted(ctx, 8, delReceived, del); err != nil || !changed {
		t.Fatalf("delete: %v %v", changed, err)
	}
	got, _ = m.Get(ctx, 8)
	if got.Status != kakaoauth.StatusDeleted || got.Email != "" || got.PasswordNonce != "" || got.PasswordState != "" ||
		got.Sub != mp.Sub || got.CreatedAt.IsZero() || !got.DeletedAt.Equal(del.Time.Truncate(time.Millisecond)) ||
		!got.UnlinkedAt.Equal(delReceived.Truncate(time.Millisecond)) || got.LastLoginAt.IsZero() {
		t.Fatalf("after delete %+v", got)
	}
	raw := rawItem(t, db, stack.MappingTable, map[string]types.AttributeValue{AttrKakaoID: n(8)})
	for _, gone := range []string{AttrEmail, AttrPwNonce, AttrPwState, AttrPwSetAt} {
		if _, ok := raw[gone]; ok {
			t.Errorf("deleted row still has %s", gone)
		}
	}
	if changed, err := m.MarkDeleted(ctx, 8, delReceived.Add(time.Minute), event("d2", kakaoauth.EventDeleted)); err != nil || changed {
		t.Fatalf("second delete: %v %v", changed, err)
	}

	// Recreation: a new user, the old sub kept, a temporary password.
	// Seen as still active: the deletion that landed since wins.
	raced := kakaoauth.Repoint{KakaoID: 8, FromSub: mp.Sub, FromStatus: kakaoauth.StatusActive, User: kakaoauth.CognitoUser{Sub: "sub-raced", Username: "kakao_8"},
		Nonce: "n8", At: del.Time.Add(time.Minute), Event: event("c0", kakaoauth.EventRecreated)}
	if err := m.Repoint(ctx, raced); !errors.As(err, &staleErr) {
		t.Fatalf("repoint of a row deleted since it was read: %T %v", err, err)
	}
	re := kakaoauth.Repoint{KakaoID: 8, FromSub: mp.Sub, FromStatus: kakaoauth.StatusDeleted, User: kakaoauth.CognitoUser{Sub: "sub-new", Username: "kakao_8"},
		Email: "again@example.com", Nonce: "n9", At: del.Time.Add(time.Hour), Event: event("c1", kakaoauth.EventRecreated)}
	if err := m.Repoint(ctx, re); err != nil {
		t.Fatal(err)
	}
	if err := m.Repoint(ctx, re); !errors.As(err, &staleErr) {
		t.Fatalf("second repoint from the old sub: %T %v", err, err)
	}
	re2 := re
	re2.FromSub, re2.FromStatus, re2.User.Sub, re2.Nonce = "sub-new", kakaoauth.StatusActive, "sub-newer", "n10"
	if err := m.Repoint(ctx, re2); err != nil {
		t.Fatal(err)
	}
	got, _ = m.Get(ctx, 8)
	if got.Sub != "sub-newer" || got.Status != kakaoauth.StatusActive || !slices.Equal(got.PreviousSubs, []string{mp.Sub, "sub-new"}) ||
		got.PasswordNonce != "n10" || got.PasswordState != kakaoauth.PasswordTemporary || got.Email != "again@example.com" || !got.DeletedAt.IsZero() {
		t.Fatalf("after repoint %+v", got)
	}
	if bySub, err := m.GetBySub(ctx, "sub-newer"); err != nil || bySub.KakaoID != 8 {
		t.Fatalf("by new sub: %+v %v", bySub, err)
	}

	var nf *kakaoauth.NotFound
	if _, err := m.MarkUnlinked(ctx, 404, t0, event("x", kakaoauth.EventUnlinked)); !errors.As(err, &nf) {
		t.Fatalf("missing: %v", err)
	}
	if err := m.EventDone(ctx, 404, "x"); err != nil {
		t.Fatalf("event done of a missing row: %v", err)
	}
}

func TestAuditRecord(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	clock := t0.Add(30 * time.Minute)
	a := NewAudit(db, stack.AuditTable, 400*24*time.Hour, func() time.Time { return clock })

	events := []kakaoauth.AuditEvent{
		{Time: t0, Type: kakaoauth.EventUserCreated, Outcome: "success", KakaoID: 42, Sub: "sub-42", ExecutionID: "exec-1", SourceIP: "203.0.113.7", UserAgent: "app/1.0", AppID: 1001},
		{Time: t0.Add(time.Millisecond), Type: kakaoauth.EventLoginSucceeded, Outcome: "success", KakaoID: 42, Sub: "sub-42", ExecutionID: "exec-1"},
		{Type: kakaoauth.EventLoginFailed, Outcome: "failure", Error: "InvalidKakaoToken", ExecutionID: "exec-2", UserAgent: strings.Repeat("é", 400)},
	}
	for _, e := range events {
		if err := a.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Record(ctx, kakaoauth.AuditEvent{KakaoID: 1}); err == nil {
		t.Fatal("recorded an event without a type")
	}

	// A user's history: one Query on the key, in time order.
	user := query(t, db, &dynamodb.QueryInput{
		TableName:                 &stack.AuditTable,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(42))},
	})
	if len(user) != 2 {
		t.Fatalf("%d events for kakao#42", len(user))
	}
	first := user[0]
	for name, want := range map[string]string{
		AttrType: kakaoauth.EventUserCreated, AttrOutcome: "success", AttrSub: "sub-42", AttrExecutionID: "exec-1",
		AttrSourceIP: "203.0.113.7", AttrUserAgent: "app/1.0", AttrTime: "2026-03-01T22:59:58.123Z", AttrDay: "2026-03-01",
	} {
		if got := str(first, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if v := first[AttrKakaoID].(*types.AttributeValueMemberN).Value; v != "42" {
		t.Errorf("kakaoId %s", v)
	}
	if v := first[AttrAppID].(*types.AttributeValueMemberN).Value; v != "1001" {
		t.Errorf("appId %s", v)
	}
	wantExp := strconv.FormatInt(t0.Add(400*24*time.Hour).Unix(), 10)
	if v := first[AttrExpiresAt].(*types.AttributeValueMemberN).Value; v != wantExp {
		t.Errorf("expiresAt %s, want %s", v, wantExp)
	}
	if !strings.HasPrefix(str(first, AttrSK), "2026-03-01T22:59:58.123Z#"+str(first, AttrEventID)) {
		t.Errorf("sk %s", str(first, AttrSK))
	}
	if _, ok := first[AttrError]; ok {
		t.Error("empty error stored")
	}
	if str(user[1], AttrType) != kakaoauth.EventLoginSucceeded {
		t.Errorf("second event %s: not in time order", str(user[1], AttrType))
	}

	// An event without a Kakao id: one of the day's anon partitions, stamped by the clock.
	anon := anonEvents(t, db, stack.AuditTable, Day(clock))
	if len(anon) != 1 || str(anon[0], AttrTime) != FormatTime(clock) || str(anon[0], AttrError) != "InvalidKakaoToken" {
		t.Fatalf("anon events %v", anon)
	}
	if _, ok := anon[0][AttrKakaoID]; ok {
		t.Error("anon event has a kakaoId")
	}
	if ua := str(anon[0], AttrUserAgent); len(ua) > maxFreeText || !strings.HasPrefix(ua, "éé") || strings.ContainsRune(ua, '\uFFFD') {
		t.Errorf("user agent not truncated cleanly: %d bytes", len(ua))
	}

	// Across users by time range: the byDay index, no Scan.
	byDay := query(t, db, &dynamodb.QueryInput{
		TableName:                &stack.AuditTable,
		IndexName:                aws.String(IndexByDay),
		KeyConditionExpression:   aws.String("#day = :day AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#day": AttrDay, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":day": s("2026-03-01"), ":from": s(FormatTime(t0)), ":to": s(FormatTime(clock) + "#~"),
		},
	})
	if len(byDay) != 3 {
		t.Fatalf("byDay found %d events, want 3", len(byDay))
	}
}

// anonEvents reads every shard of day's anonymous partitions.
func anonEvents(t *testing.T, db *dynamodb.Client, table, day string) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	for shard := range AnonShards {
		out = append(out, query(t, db, &dynamodb.QueryInput{
			TableName:                 &table,
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(AnonPK(day, shard))},
		})...)
	}
	return out
}

// Anonymous events (logins whose Kakao account is unknown) spread over
// the day's AnonShards partitions, not one hot key, and expire after their
// own retention; the byDay index still finds them all. An account's events
// keep theirs.
func TestAuditAnonymousEventsAreShardedAndExpireSooner(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	a := NewAudit(db, stack.AuditTable, 400*24*time.Hour, nil, WithAnonymousRetention(30*24*time.Hour))
	const n = 200
	for range n {
		if err := a.Record(ctx, kakaoauth.AuditEvent{Time: t0, Type: kakaoauth.EventLoginFailed, Outcome: "failure", Error: "InvalidKakaoToken"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Record(ctx, kakaoauth.AuditEvent{Time: t0, Type: kakaoauth.EventLoginSucceeded, Outcome: "success", KakaoID: 9}); err != nil {
		t.Fatal(err)
	}
	anon := anonEvents(t, db, stack.AuditTable, Day(t0))
	perShard := map[string]int{}
	for _, e := range anon {
		perShard[str(e, AttrPK)]++
		if want := strconv.FormatInt(t0.Add(30*24*time.Hour).Unix(), 10); e[AttrExpiresAt].(*types.AttributeValueMemberN).Value != want {
			t.Fatalf("anonymous event expires at %v, want %s", e[AttrExpiresAt], want)
		}
	}
	if len(anon) != n || len(perShard) != AnonShards {
		t.Fatalf("%d anonymous events over %d partitions, want %d over %d", len(anon), len(perShard), n, AnonShards)
	}
	for pk, c := range perShard {
		if !strings.HasPrefix(pk, "anon#"+Day(t0)+"#") || c > n/AnonShards*3 {
			t.Errorf("partition %s holds %d of %d events", pk, c, n)
		}
	}
	user := query(t, db, &dynamodb.QueryInput{
		TableName:                 &stack.AuditTable,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(9))},
	})
	if want := strconv.FormatInt(t0.Add(400*24*time.Hour).Unix(), 10); len(user) != 1 || user[0][AttrExpiresAt].(*types.AttributeValueMemberN).Value != want {
		t.Fatalf("account event %v, want expiry %s", user, want)
	}
	var got []EventRecord
	for e, err := range NewReader(db, stack.MappingTable, stack.AuditTable).Events(ctx, TimeRange{Since: t0.Add(-time.Second), Until: t0.Add(time.Second)}, EventFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != n+1 {
		t.Fatalf("byDay finds %d events, want %d", len(got), n+1)
	}
}

// An audit write never replaces an event: it is conditional on the key
// being new (attribute_not_exists), so a second write of the same event
// id, whatever it says, leaves the first one as it was.
func TestAuditNeverOverwritesAnEvent(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	a := NewAudit(db, stack.AuditTable, 0, nil)
	first := kakaoauth.AuditEvent{ID: "0b7c6c52-6f3e-5b1a-9d0e-6a8f3c2d1e01", Time: t0, Type: kakaoauth.EventUnlinked, Outcome: "success", KakaoID: 8, Detail: "UNLINK_FROM_APPS"}
	forged := first
	forged.Type, forged.Detail, forged.Sub = kakaoauth.EventRelinked, "admin by=someone-else", "sub-forged"
	for _, e := range []kakaoauth.AuditEvent{first, forged} {
		if err := a.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	items := query(t, db, &dynamodb.QueryInput{
		TableName:                 &stack.AuditTable,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(8))},
	})
	if len(items) != 1 || str(items[0], AttrType) != kakaoauth.EventUnlinked || str(items[0], AttrDetail) != "UNLINK_FROM_APPS" || str(items[0], AttrSub) != "" {
		t.Fatalf("items %v: the second write replaced the first", items)
	}
}

// A lifecycle event carries its own id: retrying its write (a worker's
// redelivery, a later login finishing the outbox) writes it once.
func TestAuditRecordWithIDIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	a := NewAudit(db, stack.AuditTable, 0, nil)
	e := kakaoauth.AuditEvent{ID: "0b7c6c52-6f3e-5b1a-9d0e-6a8f3c2d1e00", Time: t0, Type: kakaoauth.EventUnlinked, Outcome: "success", KakaoID: 7, Detail: "UNLINK_FROM_APPS"}
	for range 3 {
		if err := a.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	items := query(t, db, &dynamodb.QueryInput{
		TableName:                 &stack.AuditTable,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(7))},
	})
	if len(items) != 1 || str(items[0], AttrEventID) != e.ID || str(items[0], AttrSK) != FormatTime(t0)+"#"+e.ID {
		t.Fatalf("items %v", items)
	}
	if err := a.Record(ctx, kakaoauth.AuditEvent{ID: "x", Type: kakaoauth.EventUnlinked}); err == nil {
		t.Fatal("an event with an id but no time was recorded")
	}
}

func TestAuditWithoutRetentionKeepsForever(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	a := NewAudit(db, stack.AuditTable, 0, nil)
	if err := a.Record(ctx, kakaoauth.AuditEvent{Type: kakaoauth.EventUnlinked, KakaoID: 3, Detail: "UNLINK_FROM_APPS"}); err != nil {
		t.Fatal(err)
	}
	items := query(t, db, &dynamodb.QueryInput{
		TableName:                 &stack.AuditTable,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(3))},
	})
	if len(items) != 1 || str(items[0], AttrDetail) != "UNLINK_FROM_APPS" {
		t.Fatalf("items %v", items)
	}
	if _, ok := items[0][AttrExpiresAt]; ok {
		t.Fatal("expiresAt set without retention")
	}
}

func TestThrottlingIsThrottled(t *testing.T) {
	for _, cause := range []error{
		&types.ProvisionedThroughputExceededException{},
		&types.RequestLimitExceeded{},
		&smithy.GenericAPIError{Code: "ThrottlingException"},
	} {
		err := classify("get mapping", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: cause})
		if _, ok := err.(*kakaoauth.Throttled); !ok {
			t.Errorf("%T classified as %T", cause, err)
		}
	}
	if err := classify("get mapping", &smithy.OperationError{Err: &types.InternalServerError{}}); kakaoauth.ErrorName(err) == "Throttled" {
		t.Fatal("internal error classified as throttling")
	}
}

func TestTruncate(t *testing.T) {
	for _, in := range []string{"", "short", strings.Repeat("a", maxFreeText), strings.Repeat("a", maxFreeText+1), strings.Repeat("한", 300)} {
		out := truncate(in)
		if len(out) > maxFreeText || !strings.HasPrefix(in, out) || (len(in) <= maxFreeText && out != in) {
			t.Errorf("truncate(%d bytes) = %d bytes", len(in), len(out))
		}
		if len(in) > maxFreeText && len(out) < maxFreeText-3 {
			t.Errorf("truncate cut too much: %d bytes", len(out))
		}
	}
}

func rawItem(t *testing.T, db *dynamodb.Client, table string, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: key})
	if err != nil || out.Item == nil {
		t.Fatalf("raw item: %v", err)
	}
	return out.Item
}

func query(t *testing.T, db *dynamodb.Client, in *dynamodb.QueryInput) []map[string]types.AttributeValue {
	t.Helper()
	out, err := db.Query(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Items
}

func BenchmarkMappingGet(b *testing.B) {
	ctx := context.Background()
	db, stack := tables(b)
	m := NewMappings(db, stack.MappingTable)
	if err := m.Create(ctx, mapping(1)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Get(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// Claims keep one Kakao account per user, in the mapping table but out of
// its indexes and readers: free or own is taken, another holder's is
// refused with who holds it and since when, a stale holder named by the
// caller is replaced, and only the holder frees it.
func TestClaims(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	const sub = "7d2b6f1e-5c3a-4b8d-9e0f-112233445566"
	if k := ClaimKey(sub); k >= 0 || k != ClaimKey(sub) || k == ClaimKey(sub+"x") {
		t.Fatalf("claim key %d", k)
	}
	var nf *kakaoauth.NotFound
	if _, err := m.ClaimOf(ctx, sub); !errors.As(err, &nf) {
		t.Fatalf("no claim yet: %v", err)
	}
	if err := m.ClaimUser(ctx, sub, 11, 0, t0); err != nil {
		t.Fatal(err)
	}
	if err := m.ClaimUser(ctx, sub, 11, 0, t0.Add(time.Second)); err != nil {
		t.Fatalf("taking one's own claim again: %v", err)
	}
	var held *kakaoauth.UserClaimed
	if err := m.ClaimUser(ctx, sub, 12, 0, t0); !errors.As(err, &held) || held.KakaoID != 11 || !held.At.Equal(t0.Add(time.Second).UTC().Truncate(time.Millisecond)) {
		t.Fatalf("another's claim: %+v %v", held, err)
	}
	if err := m.ClaimUser(ctx, sub, 12, 13, t0); !errors.As(err, &held) {
		t.Fatalf("a wrong stale holder: %v", err)
	}
	if holder, err := m.ClaimOf(ctx, sub); err != nil || holder != 11 {
		t.Fatalf("holder %d %v", holder, err)
	}
	if err := m.ReleaseUser(ctx, sub, 12); err != nil {
		t.Fatal(err)
	}
	if holder, _ := m.ClaimOf(ctx, sub); holder != 11 {
		t.Fatal("someone else freed the claim")
	}
	if err := m.ClaimUser(ctx, sub, 12, 11, t0); err != nil {
		t.Fatalf("taking over a stale claim: %v", err)
	}
	if err := m.ReleaseUser(ctx, sub, 12); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ClaimOf(ctx, sub); !errors.As(err, &nf) {
		t.Fatalf("after the release: %v", err)
	}
	if err := m.ReleaseUser(ctx, sub, 12); err != nil {
		t.Fatalf("releasing nothing: %v", err)
	}
	// A held claim is invisible to the mapping readers and indexes.
	if err := m.ClaimUser(ctx, sub, 11, 0, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetBySub(ctx, sub); !errors.As(err, &nf) {
		t.Fatalf("the bySub index sees a claim: %v", err)
	}
	usage, err := CountPepperVersions(ctx, db, stack.MappingTable)
	if err != nil || len(usage) != 0 {
		t.Fatalf("pepper count sees a claim: %v %v", usage, err)
	}
}

// A mapping says what kind of account it is; a row from before kinds is a
// created one; a re-point to a linked user drops every password field.
func TestMappingKinds(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	created := mapping(31)
	created.PasswordNonce, created.PasswordState, created.PasswordSetAt, created.PepperVersion = "nonce-31", kakaoauth.PasswordApplied, t0, 2
	if err := m.Create(ctx, created); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, 31)
	if err != nil || got.Kind != kakaoauth.KindCreated || got.Linked() {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &stack.MappingTable, Key: map[string]types.AttributeValue{AttrKakaoID: n(31)},
		UpdateExpression: aws.String("REMOVE #k"), ExpressionAttributeNames: map[string]string{"#k": AttrKind}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 31); got.Kind != kakaoauth.KindCreated {
		t.Fatalf("a row without a kind reads as %q", got.Kind)
	}
	if _, err := m.MarkDeleted(ctx, 31, t0.Add(time.Minute), event("e1", kakaoauth.EventDeleted)); err != nil {
		t.Fatal(err)
	}
	native := kakaoauth.CognitoUser{Username: "alice", Sub: "sub-alice"}
	err = m.Repoint(ctx, kakaoauth.Repoint{KakaoID: 31, FromSub: "sub-31", FromStatus: kakaoauth.StatusDeleted, User: native, Kind: kakaoauth.KindLinked,
		At: t0.Add(2 * time.Minute), Event: event("e2", kakaoauth.EventLinked)})
	if err != nil {
		t.Fatal(err)
	}
	got, err = m.Get(ctx, 31)
	if err != nil || got.Kind != kakaoauth.KindLinked || got.Sub != "sub-alice" || got.Username != "alice" || got.Status != kakaoauth.StatusActive ||
		got.PasswordNonce != "" || got.PasswordState != "" || !got.PasswordSetAt.IsZero() || got.PepperVersion != 0 ||
		!slices.Equal(got.PreviousSubs, []string{"sub-31"}) {
		t.Fatalf("after the re-point to a linked user: %+v %v", got, err)
	}
	if err := m.Repoint(ctx, kakaoauth.Repoint{KakaoID: 31, FromSub: "sub-alice", FromStatus: kakaoauth.StatusActive, User: native, Kind: kakaoauth.KindLinked, Nonce: "n"}); err == nil {
		t.Fatal("a linked user got a password nonce")
	}
}
