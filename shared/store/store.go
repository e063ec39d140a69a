// Package store keeps the broker's rows in DynamoDB: the mapping from a
// Kakao account to its Cognito user (Mappings) and the audit trail (Audit).
// Attribute and index names are exported for the auditors' CLI; they match
// template.yaml.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth"
)

// Mapping table attributes and indexes.
const (
	AttrKakaoID     = "kakaoId" // N, the key
	AttrSub         = "sub"
	AttrUsername    = "username"
	AttrKind        = "kind"  // created | linked; absent: created (rows from before kinds)
	AttrEmail       = "email" // verified only; absent when none
	AttrStatus      = "status"
	AttrCreatedAt   = "createdAt"
	AttrCreatedDay  = "createdDay" // yyyy-mm-dd UTC of createdAt
	AttrLastLoginAt = "lastLoginAt"
	AttrActiveSince = "activeSince" // when the mapping last became active
	AttrPwNonce     = "pwNonce"
	AttrPwState     = "pwState" // temporary | pending | applied | failed
	AttrPwSetAt     = "pwSetAt"
	AttrPwPepper    = "pwPepper"   // N: the pepper version pwNonce derives with; absent: 1
	AttrUnlinkedAt  = "unlinkedAt" // when Kakao reported the last unlink or deletion
	AttrRelinkedAt  = "relinkedAt"
	AttrDeletedAt   = "deletedAt"
	AttrPrevSubs    = "previousSubs" // L of S: subs of earlier Cognito users
	AttrLastEvent   = "lastEvent"    // M: the last lifecycle transition (outbox)
	AttrEventPend   = "eventPending" // BOOL, present while lastEvent is not out

	IndexBySub        = "bySub"        // sub -> mapping
	IndexByCreatedDay = "byCreatedDay" // createdDay, createdAt -> sub, username, status
)

// Mapping table attributes of issue 19: bans, the outbox, retention.
const (
	AttrOutbox         = "outbox"         // L of M: transitions whose events are not out yet, oldest first
	AttrBan            = "ban"            // M: an operator's ban (at, until, reason, by)
	AttrUnlinking      = "unlinking"      // the id of an unlink request under way
	AttrRecreatedSince = "recreatedSince" // start of the current recreation window
	AttrRecreations    = "recreations"    // N: recreations in that window
	AttrEmailKeptUntil = "emailKeptUntil" // when an unlinked account's kept email goes
	AttrPIIScrubAt     = "piiScrubAt"     // when a deleted account's audit events lose IP and user agent
	// AttrDue and AttrDueAt index the rows with pending work (the outbox,
	// the email's retention, the audit scrub) for the sweeper: AttrDue is
	// DueMarker while there is any, AttrDueAt the earliest moment to look.
	AttrDue   = "due"
	AttrDueAt = "dueAt"
	// AttrMappingExpiresAt (N, epoch seconds) is the mapping table's TTL
	// attribute: only deleted rows carry it, and never with a ban.
	AttrMappingExpiresAt = "expiresAt"

	IndexByDue = "byDue" // due, dueAt -> keys: rows with pending work
	// DueMarker is the value of AttrDue on a row with pending work.
	DueMarker = "due"
)

// Audit table attributes and indexes. kakaoId and sub reuse the mapping
// names.
const (
	AttrPK          = "pk" // "kakao#<id>" or "anon#<yyyy-mm-dd>#<shard>"
	AttrSK          = "sk" // "<time>#<event id>"
	AttrDay         = "day"
	AttrEventID     = "eventId"
	AttrTime        = "time"
	AttrType        = "type"
	AttrOutcome     = "outcome"
	AttrError       = "error"
	AttrExecutionID = "executionId"
	AttrSourceIP    = "sourceIp"
	AttrUserAgent   = "userAgent"
	AttrAppID       = "appId"
	AttrDetail      = "detail"
	AttrExpiresAt   = "expiresAt" // N, epoch seconds; the table's TTL attribute

	IndexByDay = "byDay" // day, sk -> event
)

// TimeLayout is RFC 3339 in UTC with milliseconds. Fixed width, so stored
// times sort as strings.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// DayLayout is the UTC day of createdDay and day.
const DayLayout = "2006-01-02"

// FormatTime renders t as stored.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a stored time.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeLayout, s) }

// Day is the UTC day of t as stored in createdDay and day.
func Day(t time.Time) string { return t.UTC().Format(DayLayout) }

// UserPK is the audit partition of a Kakao account.
func UserPK(kakaoID int64) string { return "kakao#" + strconv.FormatInt(kakaoID, 10) }

// AnonShards is how many partitions the events of one day whose Kakao
// account is unknown (logins with an invalid token, bad bodies) are spread
// over: a flood of them would otherwise all write to one partition key,
// whose write rate DynamoDB caps (1,000 writes/s).
const AnonShards = 16

// AnonPK is the audit partition of shard (0 to AnonShards-1) of the events
// of day (yyyy-mm-dd) whose Kakao account is unknown.
func AnonPK(day string, shard int) string { return fmt.Sprintf("anon#%s#%02d", day, shard) }

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// classify turns throttling into *Throttled (the SDK has already retried)
// and wraps anything else as an internal error.
func classify(op string, err error) error {
	var pte *types.ProvisionedThroughputExceededException
	var rle *types.RequestLimitExceeded
	if errors.As(err, &pte) || errors.As(err, &rle) {
		return &kakaoauth.Throttled{Reason: "dynamodb " + op}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded":
			return &kakaoauth.Throttled{Reason: "dynamodb " + op}
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// conditionFailed reports whether err is a failed condition, and the item
// as it was (nil when there was none) if the request asked for it.
func conditionFailed(err error) (bool, map[string]types.AttributeValue) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true, ccf.Item
	}
	return false, nil
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
