package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
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
	if err := m.Create(ctx, mapping(5)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	if err := m.RecordLogin(ctx, 5, at, aws.String("new@example.com")); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Get(ctx, 5)
	if !got.LastLoginAt.Equal(at.Truncate(time.Millisecond)) || got.Email != "new@example.com" {
		t.Fatalf("after login %+v", got)
	}
	if err := m.RecordLogin(ctx, 5, at.Add(time.Hour), aws.String("")); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get(ctx, 5); got.Email != "" || !got.LastLoginAt.Equal(at.Add(time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("after login without email %+v", got)
	}
	var nf *kakaoauth.NotFound
	if err := m.RecordLogin(ctx, 404, at, nil); !errors.As(err, &nf) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := m.Get(ctx, 404); !errors.As(err, &nf) {
		t.Fatal("RecordLogin created a row")
	}
}

func TestSwapPasswordNonce(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	if err := m.Create(ctx, mapping(9)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	if err := m.SwapPasswordNonce(ctx, 9, "", "n1", at); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Get(ctx, 9)
	if got.PasswordNonce != "n1" || !got.PasswordSetAt.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("after first swap %+v", got)
	}

	var changed *kakaoauth.NonceChanged
	if err := m.SwapPasswordNonce(ctx, 9, "", "n2", at); !errors.As(err, &changed) || kakaoauth.ErrorName(err) != "NonceChanged" {
		t.Fatalf("swap from none when set: %T %v", err, err)
	}
	if err := m.SwapPasswordNonce(ctx, 9, "stale", "n2", at); !errors.As(err, &changed) {
		t.Fatalf("swap from a stale nonce: %v", err)
	}
	var nf *kakaoauth.NotFound
	if err := m.SwapPasswordNonce(ctx, 404, "", "n1", at); !errors.As(err, &nf) {
		t.Fatalf("missing row: %T %v", err, err)
	}
	if err := m.SwapPasswordNonce(ctx, 9, "n1", "", at); err == nil {
		t.Fatal("accepted an empty next nonce")
	}

	// Concurrent rotations from the same nonce: exactly one wins.
	const racers = 20
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { errs[i] = m.SwapPasswordNonce(ctx, 9, "n1", "r"+strconv.Itoa(i), at.Add(time.Second)) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("racers %d and %d both swapped", winner, i)
			}
			winner = i
		case errors.As(err, &changed):
		default:
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("nobody swapped")
	}
	if got, _ := m.Get(ctx, 9); got.PasswordNonce != "r"+strconv.Itoa(winner) {
		t.Fatalf("stored nonce %s, winner r%d", got.PasswordNonce, winner)
	}
}

func TestMarkUnlinked(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	if err := m.Create(ctx, mapping(8)); err != nil {
		t.Fatal(err)
	}
	changed, err := m.MarkUnlinked(ctx, 8, t0)
	if err != nil || !changed {
		t.Fatalf("first unlink: %v %v", changed, err)
	}
	if got, _ := m.Get(ctx, 8); got.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("status %s", got.Status)
	}
	changed, err = m.MarkUnlinked(ctx, 8, t0.Add(time.Second))
	if err != nil || changed {
		t.Fatalf("second unlink: %v %v", changed, err)
	}
	var nf *kakaoauth.NotFound
	if _, err := m.MarkUnlinked(ctx, 404, t0); !errors.As(err, &nf) {
		t.Fatalf("missing: %v", err)
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

	// An event without a Kakao id: the day's anon partition, stamped by the clock.
	anon := query(t, db, &dynamodb.QueryInput{
		TableName:                 &stack.AuditTable,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(AnonPK(Day(clock)))},
	})
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
