package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kakaoauth/kakaoauth"
)

func key(id int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrKakaoID: n(id)}
}

func causedEvent(id, typ string, at time.Time) kakaoauth.LifecycleEvent {
	e := event(id, typ)
	e.Time = at.UTC().Truncate(time.Millisecond)
	e.Cause = kakaoauth.EventCause{ExecutionID: "exec-" + id, SourceIP: "203.0.113.9", UserAgent: "ua", AppID: 1001, Actor: "op"}
	return e
}

// The outbox is a list: a later transition appends, never replaces an
// event still waiting; each keeps the request that caused it (which
// lastEvent does not); EventDone takes out the one it names, from any
// place, and the row is on the byDue index exactly while it has work.
func TestOutboxKeepsEveryWaitingEvent(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable, WithOutboxGrace(time.Second))
	row := mapping(11)
	row.LastEvent, row.EventPending = causedEvent("created", kakaoauth.EventUserCreated, t0), true
	if err := m.Create(ctx, row); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	if ok, err := m.MarkUnlinked(ctx, 11, at, causedEvent("unlinked", kakaoauth.EventUnlinked, at)); err != nil || !ok {
		t.Fatalf("unlink %v %v", ok, err)
	}
	got, _ := m.Get(ctx, 11)
	if len(got.Outbox) != 2 || got.Outbox[0].ID != "created" || got.Outbox[1].ID != "unlinked" || !got.EventPending ||
		got.Outbox[1].Cause != causedEvent("unlinked", kakaoauth.EventUnlinked, at).Cause || got.LastEvent.Cause != (kakaoauth.EventCause{}) {
		t.Fatalf("outbox %+v, last %+v", got.Outbox, got.LastEvent)
	}
	if due, _ := m.Due(ctx, t0.Add(time.Hour), 10); !slices.Equal(due, []int64{11}) {
		t.Fatalf("due %v", due)
	}
	// Out of order: the second first.
	if err := m.EventDone(ctx, 11, "unlinked"); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 11); len(got.Outbox) != 1 || got.Outbox[0].ID != "created" {
		t.Fatalf("after the second is done: %+v", got.Outbox)
	}
	if err := m.EventDone(ctx, 11, "created"); err != nil {
		t.Fatal(err)
	}
	if err := m.EventDone(ctx, 11, "created"); err != nil { // twice: nothing to do
		t.Fatal(err)
	}
	got, _ = m.Get(ctx, 11)
	item := rawItem(t, db, stack.MappingTable, key(11))
	// No event waits; the kept email's end is the row's only due work.
	if len(got.Outbox) != 0 || got.EventPending || item[AttrOutbox] != nil || str(item, AttrDue) != DueMarker || !got.DueAt.Equal(got.EmailKeptUntil) {
		t.Fatalf("after both: %+v, due %q at %v (email until %v)", got.Outbox, str(item, AttrDue), got.DueAt, got.EmailKeptUntil)
	}
	// A row written before the outbox was a list (lastEvent and
	// eventPending only) is read and finished the same way.
	legacy := encodeMapping(mapping(12))
	legacy[AttrLastEvent], legacy[AttrEventPend] = encodeEvent(event("old", kakaoauth.EventUserCreated), false), &types.AttributeValueMemberBOOL{Value: true}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &stack.MappingTable, Item: legacy}); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 12); len(got.Outbox) != 1 || got.Outbox[0].ID != "old" || !got.EventPending {
		t.Fatalf("legacy row %+v", got)
	}
	if err := m.EventDone(ctx, 12, "old"); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 12); got.EventPending || len(got.Outbox) != 0 {
		t.Fatalf("legacy row after done %+v", got)
	}
	// The usual case, a transition's only work, leaves the index in one
	// write.
	fresh := mapping(13)
	fresh.LastEvent, fresh.EventPending = causedEvent("c13", kakaoauth.EventUserCreated, t0), true
	_ = m.Create(ctx, fresh)
	if err := m.EventDone(ctx, 13, "c13"); err != nil {
		t.Fatal(err)
	}
	if item := rawItem(t, db, stack.MappingTable, key(13)); item[AttrDue] != nil || item[AttrDueAt] != nil || item[AttrOutbox] != nil {
		t.Fatalf("row 13 still due: %v", item)
	}
}

// Bans: set, inferred only on an active row without a ban or an unlink
// under way, lifted only as read; a deletion keeps a banned row (no
// expiry), gives an unbanned one its expiry, and the lift restores it.
func TestBansAndDeletedRows(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable, WithRetention(Retention{UnlinkedEmail: time.Hour, DeletedPII: 2 * time.Hour, DeletedRow: 24 * time.Hour}))
	for _, id := range []int64{21, 22, 23} {
		if err := m.Create(ctx, mapping(id)); err != nil {
			t.Fatal(err)
		}
	}
	ban := kakaoauth.Ban{At: t0.UTC().Truncate(time.Millisecond), Until: t0.Add(time.Hour).UTC().Truncate(time.Millisecond), Reason: "abuse", By: "op"}
	if err := m.SetBan(ctx, 21, ban, causedEvent("b21", kakaoauth.EventBanned, t0)); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 21); got.Ban == nil || *got.Ban != ban {
		t.Fatalf("ban %+v", got.Ban)
	}
	if err := m.BeginUnlink(ctx, 22, "req-1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.InferBan(ctx, 22, ban, causedEvent("b22", kakaoauth.EventBanned, t0)); err != nil || ok {
		t.Fatalf("inferred with an unlink under way: %v %v", ok, err)
	}
	if ok, err := m.InferBan(ctx, 21, ban, causedEvent("b21b", kakaoauth.EventBanned, t0)); err != nil || ok {
		t.Fatalf("inferred over a ban: %v %v", ok, err)
	}
	if ok, err := m.InferBan(ctx, 23, ban, causedEvent("b23", kakaoauth.EventBanned, t0)); err != nil || !ok {
		t.Fatalf("inferred: %v %v", ok, err)
	}
	del := t0.Add(time.Minute)
	for _, id := range []int64{21, 22} {
		if ok, err := m.MarkDeleted(ctx, id, del, causedEvent("d"+strconv.FormatInt(id, 10), kakaoauth.EventDeleted, del)); err != nil || !ok {
			t.Fatalf("delete %d: %v %v", id, ok, err)
		}
	}
	if item := rawItem(t, db, stack.MappingTable, key(21)); item[AttrMappingExpiresAt] != nil || item[AttrBan] == nil {
		t.Fatalf("banned deleted row %v", item)
	}
	deletedAt := del.UTC().Truncate(time.Millisecond)
	item := rawItem(t, db, stack.MappingTable, key(22))
	if num, _ := item[AttrMappingExpiresAt].(*types.AttributeValueMemberN); num == nil || num.Value != strconv.FormatInt(deletedAt.Add(24*time.Hour).Unix(), 10) {
		t.Fatalf("deleted row expiry %v", item[AttrMappingExpiresAt])
	}
	if got, _ := m.Get(ctx, 22); got.Unlinking != "" || !got.PIIScrubAt.Equal(deletedAt.Add(2*time.Hour)) {
		t.Fatalf("deleted row %+v", got)
	}
	if err := m.LiftBan(ctx, 21, ban.At.Add(time.Second), causedEvent("u21x", kakaoauth.EventUnbanned, del)); err == nil {
		t.Fatal("lifted a ban it did not read")
	}
	if err := m.LiftBan(ctx, 21, ban.At, causedEvent("u21", kakaoauth.EventUnbanned, del)); err != nil {
		t.Fatal(err)
	}
	if item := rawItem(t, db, stack.MappingTable, key(21)); item[AttrBan] != nil || item[AttrMappingExpiresAt] == nil {
		t.Fatalf("after the lift %v", item)
	}
	// A ban on a deleted row takes its expiry away.
	if err := m.SetBan(ctx, 22, ban, causedEvent("b22b", kakaoauth.EventBanned, del)); err != nil {
		t.Fatal(err)
	}
	if item := rawItem(t, db, stack.MappingTable, key(22)); item[AttrMappingExpiresAt] != nil {
		t.Fatalf("a banned row expires: %v", item)
	}
}

// The sweeper's retention writes, and the rescheduling that follows each.
func TestRetentionWrites(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable, WithOutboxGrace(time.Second), WithRetention(Retention{UnlinkedEmail: time.Hour, DeletedPII: time.Hour, DeletedRow: 0}))
	for _, id := range []int64{31, 32} {
		if err := m.Create(ctx, mapping(id)); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(time.Minute)
	_, _ = m.MarkUnlinked(ctx, 31, at, causedEvent("u31", kakaoauth.EventUnlinked, at))
	_, _ = m.MarkDeleted(ctx, 32, at, causedEvent("d32", kakaoauth.EventDeleted, at))
	_ = m.EventDone(ctx, 31, "u31")
	_ = m.EventDone(ctx, 32, "d32")
	if item := rawItem(t, db, stack.MappingTable, key(32)); item[AttrMappingExpiresAt] != nil {
		t.Fatal("DeletedRow 0 must keep deleted rows")
	}
	if due, _ := m.Due(ctx, at.Add(30*time.Minute), 10); len(due) != 0 {
		t.Fatalf("due before the retention ends: %v", due)
	}
	due, _ := m.Due(ctx, at.Add(2*time.Hour), 10)
	if slices.Sort(due); !slices.Equal(due, []int64{31, 32}) {
		t.Fatalf("due %v", due)
	}
	r31, _ := m.Get(ctx, 31)
	if ok, err := m.DropKeptEmail(ctx, 31, r31.EmailKeptUntil.Add(time.Second)); err != nil || ok {
		t.Fatalf("dropped for another time: %v %v", ok, err)
	}
	if ok, err := m.DropKeptEmail(ctx, 31, r31.EmailKeptUntil); err != nil || !ok {
		t.Fatalf("drop %v %v", ok, err)
	}
	r32, _ := m.Get(ctx, 32)
	if ok, err := m.ScrubDone(ctx, 32, r32.PIIScrubAt); err != nil || !ok {
		t.Fatalf("scrub done %v %v", ok, err)
	}
	for _, id := range []int64{31, 32} {
		item := rawItem(t, db, stack.MappingTable, key(id))
		if item[AttrDue] != nil || item[AttrEmail] != nil || item[AttrEmailKeptUntil] != nil || item[AttrPIIScrubAt] != nil {
			t.Fatalf("row %d after its retention: %v", id, item)
		}
	}
	// Reschedule of a row with nothing to do writes nothing.
	if err := m.Reschedule(ctx, 31); err != nil {
		t.Fatal(err)
	}
}

// The inbox keeps kept requests oldest first until done; the reconciler's
// cursor survives runs; the audit scrub keeps the events and drops their
// IP addresses and user agents; the reconciler's pass visits every active
// account once.
func TestOperationsScrubAndPass(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	ops := NewOperations(db, stack.OperationsTable)
	for i, id := range []string{"b", "a"} {
		if err := ops.Keep(ctx, kakaoauth.InboxEntry{ID: id, ReceivedAt: t0.Add(time.Duration(i) * time.Second), Message: kakaoauth.UnlinkMessage{Body: "{" + id + "}", MAC: "v1.x"}}); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := ops.Pending(ctx, 10)
	if err != nil || len(kept) != 2 || kept[0].ID != "b" || kept[1].Message.Body != "{a}" {
		t.Fatalf("pending %+v %v", kept, err)
	}
	item := rawItem(t, db, stack.OperationsTable, map[string]types.AttributeValue{AttrOpsPK: s(opsInbox), AttrOpsSK: s(inboxSK(kept[0]))})
	if exp, _ := item[AttrOpsExpires].(*types.AttributeValueMemberN); exp == nil || exp.Value != strconv.FormatInt(kept[0].ReceivedAt.Add(InboxRetention).Unix(), 10) {
		t.Fatalf("inbox entry expiry %v", item[AttrOpsExpires])
	}
	_ = ops.Done(ctx, kept[0])
	if kept, _ := ops.Pending(ctx, 10); len(kept) != 1 || kept[0].ID != "a" {
		t.Fatalf("after done %+v", kept)
	}
	if c, err := ops.Cursor(ctx); err != nil || c != (kakaoauth.ReconcileCursor{}) {
		t.Fatalf("first cursor %+v %v", c, err)
	}
	want := kakaoauth.ReconcileCursor{After: 42, PassStartedAt: t0.UTC().Truncate(time.Millisecond)}
	if err := ops.SetCursor(ctx, want); err != nil {
		t.Fatal(err)
	}
	if c, _ := ops.Cursor(ctx); c != want {
		t.Fatalf("cursor %+v", c)
	}

	audit := NewAudit(db, stack.AuditTable, time.Hour, nil)
	for i := range 3 {
		_ = audit.Record(ctx, kakaoauth.AuditEvent{Time: t0.Add(time.Duration(i) * time.Second), Type: "login_succeeded", KakaoID: 41, SourceIP: "203.0.113.9", UserAgent: "app/1"})
	}
	_ = audit.Record(ctx, kakaoauth.AuditEvent{Time: t0, Type: "login_succeeded", KakaoID: 42, SourceIP: "203.0.113.10"})
	if n, err := audit.ScrubPII(ctx, 41); err != nil || n != 3 {
		t.Fatalf("scrubbed %d %v", n, err)
	}
	rows := query(t, db, &dynamodb.QueryInput{TableName: &stack.AuditTable, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(41))}})
	for _, r := range rows {
		if r[AttrSourceIP] != nil || r[AttrUserAgent] != nil || r[AttrType] == nil {
			t.Fatalf("scrubbed event %v", r)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d events left, want all 3", len(rows))
	}
	other := query(t, db, &dynamodb.QueryInput{TableName: &stack.AuditTable, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(42))}})
	if str(other[0], AttrSourceIP) == "" {
		t.Fatal("another account's event was scrubbed")
	}

	m := NewMappings(db, stack.MappingTable)
	for id := int64(51); id <= 57; id++ {
		row := mapping(id)
		if id%3 == 0 {
			row.Status = kakaoauth.StatusUnlinked
		}
		_ = m.Create(ctx, row)
	}
	pass := NewActiveAccounts(db, stack.MappingTable)
	var seen []int64
	after, pages := int64(0), 0
	for {
		ids, next, err := pass.Page(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		seen, after, pages = append(seen, ids...), next, pages+1
		if next == 0 || pages > 10 {
			break
		}
	}
	slices.Sort(seen)
	want2 := []int64{} // 51, 54 and 57 are unlinked
	for id := int64(51); id <= 57; id++ {
		if id%3 != 0 {
			want2 = append(want2, id)
		}
	}
	if !slices.Equal(seen, want2) || pages < 4 {
		t.Fatalf("pass saw %v in %d pages, want %v over several pages", seen, pages, want2)
	}
}

// The reconciler's pass walks a table that holds linked accounts' claims
// too (items under negative keys): it never lists a claim, and a page
// that ends at one (every item ends a page here) still leads on to the
// next, so the pass reaches the end instead of starting over.
func TestActiveAccountsPassOverClaims(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	var want []int64
	for id := int64(61); id <= 66; id++ {
		row := mapping(id)
		if id%2 == 0 {
			row.Kind, row.Username, row.Sub = kakaoauth.KindLinked, fmt.Sprintf("native-%d", id), fmt.Sprintf("native-sub-%d", id)
			if err := m.ClaimUser(ctx, row.Sub, id, 0, t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Create(ctx, row); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	pass := NewActiveAccounts(db, stack.MappingTable)
	var seen []int64
	after, pages, claimEnds := int64(0), 0, 0
	for pages < 40 {
		ids, next, err := pass.Page(ctx, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		seen, after, pages = append(seen, ids...), next, pages+1
		if next < 0 {
			claimEnds++
		}
		if next == 0 {
			break
		}
	}
	if after != 0 {
		t.Fatalf("the pass did not end in %d pages (seen %v)", pages, seen)
	}
	if claimEnds != 3 {
		t.Fatalf("%d pages ended at a claim, want 3: the test proves nothing", claimEnds)
	}
	slices.Sort(seen)
	if !slices.Equal(seen, want) {
		t.Fatalf("pass saw %v, want each active account once: %v", seen, want)
	}
}
