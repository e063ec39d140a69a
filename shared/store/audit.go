package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

// maxFreeText bounds client-controlled text (user agent, detail) so an
// event stays small whatever a client sends.
const maxFreeText = 512

// Audit is the audit table as a kakaoauth.AuditLog.
type Audit struct {
	api           API
	table         string
	retention     time.Duration
	anonRetention time.Duration
	now           func() time.Time
}

var _ kakaoauth.AuditLog = (*Audit)(nil)

// AuditOption configures an Audit.
type AuditOption func(*Audit)

// WithAnonymousRetention gives events whose Kakao account is unknown (a
// bad token or body: anyone can make them, and they name nobody) their own
// retention; without it they keep the events' retention.
func WithAnonymousRetention(d time.Duration) AuditOption {
	return func(a *Audit) { a.anonRetention = d }
}

// NewAudit returns the audit log in table. Each event expires (DynamoDB
// TTL) retention after its time; retention <= 0 keeps events forever. now
// stamps events that carry no time; nil means time.Now.
func NewAudit(api API, table string, retention time.Duration, now func() time.Time, opts ...AuditOption) *Audit {
	if now == nil {
		now = time.Now
	}
	a := &Audit{api: api, table: table, retention: retention, anonRetention: retention, now: now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Record appends e. An event is never overwritten: the write is
// conditional on its key being new. Without an ID each event gets a fresh
// time-ordered one; with one (lifecycle events, which a retry may write
// again) the key is the event's own, and writing it twice is a no-op.
func (a *Audit) Record(ctx context.Context, e kakaoauth.AuditEvent) error {
	if e.Type == "" {
		return errors.New("store: audit event without a type")
	}
	at := e.Time
	if at.IsZero() {
		if e.ID != "" {
			return errors.New("store: an audit event with an id needs its time")
		}
		at = a.now()
	}
	at = at.UTC()
	id := e.ID
	if id == "" {
		v7, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("store: audit event id: %w", err)
		}
		id = v7.String()
	}
	ts, day := FormatTime(at), Day(at)
	pk, retention := UserPK(e.KakaoID), a.retention
	if e.KakaoID == 0 {
		pk, retention = AnonPK(day, anonShard(id)), a.anonRetention
	}
	item := map[string]types.AttributeValue{
		AttrPK:      s(pk),
		AttrSK:      s(ts + "#" + id),
		AttrDay:     s(day),
		AttrEventID: s(id),
		AttrTime:    s(ts),
		AttrType:    s(e.Type),
	}
	for name, v := range map[string]string{
		AttrOutcome:     e.Outcome,
		AttrError:       e.Error,
		AttrSub:         e.Sub,
		AttrExecutionID: e.ExecutionID,
		AttrSourceIP:    e.SourceIP,
		AttrUserAgent:   truncate(e.UserAgent),
		AttrDetail:      truncate(e.Detail),
	} {
		if v != "" {
			item[name] = s(v)
		}
	}
	if e.KakaoID != 0 {
		item[AttrKakaoID] = n(e.KakaoID)
	}
	if e.AppID != 0 {
		item[AttrAppID] = n(e.AppID)
	}
	if retention > 0 {
		item[AttrExpiresAt] = n(at.Add(retention).Unix())
	}
	_, err := a.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &a.table,
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	})
	if failed, _ := conditionFailed(err); failed {
		if e.ID != "" {
			return nil // written before, by an earlier try of the same transition
		}
		return fmt.Errorf("store: audit event %s exists already", id)
	}
	if err != nil {
		return classify("record audit event", err)
	}
	return nil
}

// anonShard spreads anonymous events over AnonShards partitions by their
// (random) event id.
func anonShard(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % AnonShards)
}

func truncate(v string) string {
	if len(v) <= maxFreeText {
		return v
	}
	// Cut at a character boundary, not through one.
	cut := maxFreeText
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strings.ToValidUTF8(v[:cut], "")
}

// AuditOf is the stack's audit table as a function's configuration names
// it: the table, the retention of events and of anonymous events (those
// of logins whose Kakao account was never known). The one way the stack's
// functions and the CLI open the audit log.
func AuditOf(api API, c config.Config) *Audit {
	return NewAudit(api, c.AuditTable, c.AuditRetention, time.Now, WithAnonymousRetention(c.AnonAuditRetention))
}
