package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kakaoauth/kakaoauth"
)

// Operations table: the stack's own small bookkeeping, apart from the
// accounts. pk names the kind of item, sk the item.
//
//   - "inbox" / "<receivedAt>#<request id>": an unlink request the webhook
//     kept because the queue refused it; the sweeper queues it and deletes
//     it. Expires (TTL) after InboxRetention, like a queued message.
//   - "reconciler" / "cursor": where the reconciler's pass over the
//     mapping table stands.
const (
	AttrOpsPK      = "pk"
	AttrOpsSK      = "sk"
	AttrOpsBody    = "body"
	AttrOpsMAC     = "mac"
	AttrOpsRequest = "requestId"
	AttrOpsAt      = "receivedAt"
	AttrOpsExpires = "expiresAt" // N, epoch seconds; the table's TTL attribute
	AttrOpsAfter   = "after"     // N: the last Kakao id the reconciler's pass read past
	AttrOpsPass    = "passStartedAt"

	opsInbox      = "inbox"
	opsReconciler = "reconciler"
)

// InboxRetention is how long a kept unlink request waits for the sweeper:
// the unlink queue's dead-letter retention, so that an outage never loses
// one sooner than the queue itself would.
const InboxRetention = 14 * 24 * time.Hour

// Operations is the operations table: the unlink inbox and the
// reconciler's cursor.
type Operations struct {
	api   OpsAPI
	table string
}

// OpsAPI is API with DeleteItem, which only the operations table needs.
type OpsAPI interface {
	API
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ OpsAPI = (*dynamodb.Client)(nil)

var _ kakaoauth.UnlinkInbox = (*Operations)(nil)

// NewOperations returns the operations table named table.
func NewOperations(api OpsAPI, table string) *Operations { return &Operations{api: api, table: table} }

func inboxSK(e kakaoauth.InboxEntry) string { return FormatTime(e.ReceivedAt) + "#" + e.ID }

// Keep stores e; a request kept twice (the same id and time) is one entry.
func (o *Operations) Keep(ctx context.Context, e kakaoauth.InboxEntry) error {
	if e.ID == "" || e.ReceivedAt.IsZero() || e.Message.Body == "" {
		return errors.New("store: an inbox entry needs an id, a time and a body")
	}
	_, err := o.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &o.table,
		Item: map[string]types.AttributeValue{
			AttrOpsPK: s(opsInbox), AttrOpsSK: s(inboxSK(e)),
			AttrOpsRequest: s(e.ID), AttrOpsAt: s(FormatTime(e.ReceivedAt)),
			AttrOpsBody: s(e.Message.Body), AttrOpsMAC: s(e.Message.MAC),
			AttrOpsExpires: n(e.ReceivedAt.Add(InboxRetention).Unix()),
		},
	})
	if err != nil {
		return classify("keep unlink request", err)
	}
	return nil
}

// Pending lists up to limit kept requests, oldest first (one Query).
func (o *Operations) Pending(ctx context.Context, limit int) ([]kakaoauth.InboxEntry, error) {
	out, err := o.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &o.table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrOpsPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(opsInbox)},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, classify("list kept unlink requests", err)
	}
	entries := make([]kakaoauth.InboxEntry, 0, len(out.Items))
	for _, item := range out.Items {
		e := kakaoauth.InboxEntry{ID: str(item, AttrOpsRequest), Message: kakaoauth.UnlinkMessage{Body: str(item, AttrOpsBody), MAC: str(item, AttrOpsMAC)}}
		if err := parseTimeAttr(item, AttrOpsAt, &e.ReceivedAt); err != nil || e.ID == "" || inboxSK(e) != str(item, AttrOpsSK) {
			return nil, fmt.Errorf("store: inbox entry %q is malformed", str(item, AttrOpsSK))
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// Done deletes a kept request once it is queued.
func (o *Operations) Done(ctx context.Context, e kakaoauth.InboxEntry) error {
	_, err := o.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &o.table,
		Key:       map[string]types.AttributeValue{AttrOpsPK: s(opsInbox), AttrOpsSK: s(inboxSK(e))},
	})
	if err != nil {
		return classify("delete kept unlink request", err)
	}
	return nil
}

func reconcilerKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrOpsPK: s(opsReconciler), AttrOpsSK: s("cursor")}
}

// Cursor reads the reconciler's cursor (zero before the first run).
func (o *Operations) Cursor(ctx context.Context) (kakaoauth.ReconcileCursor, error) {
	out, err := o.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &o.table, Key: reconcilerKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return kakaoauth.ReconcileCursor{}, classify("get reconciler cursor", err)
	}
	var c kakaoauth.ReconcileCursor
	if out.Item == nil {
		return c, nil
	}
	if v, ok := out.Item[AttrOpsAfter].(*types.AttributeValueMemberN); ok {
		if c.After, err = strconv.ParseInt(v.Value, 10, 64); err != nil {
			return c, fmt.Errorf("store: reconciler cursor: %w", err)
		}
	}
	if err := parseTimeAttr(out.Item, AttrOpsPass, &c.PassStartedAt); err != nil {
		return c, fmt.Errorf("store: reconciler cursor: %w", err)
	}
	return c, nil
}

// SetCursor saves the reconciler's cursor.
func (o *Operations) SetCursor(ctx context.Context, c kakaoauth.ReconcileCursor) error {
	item := reconcilerKey()
	item[AttrOpsAfter] = n(c.After)
	if !c.PassStartedAt.IsZero() {
		item[AttrOpsPass] = s(FormatTime(c.PassStartedAt))
	}
	if _, err := o.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &o.table, Item: item}); err != nil {
		return classify("save reconciler cursor", err)
	}
	return nil
}

// ScrubPII removes the source IP and user agent from every audit event of
// a Kakao account (a Query of its partition, an UpdateItem per event that
// has either), keeping the events themselves; it returns how many it
// scrubbed.
func (a *Audit) ScrubPII(ctx context.Context, kakaoID int64) (int, error) {
	pages := dynamodb.NewQueryPaginator(a.api, &dynamodb.QueryInput{
		TableName:                 &a.table,
		KeyConditionExpression:    aws.String("#pk = :pk"),
		FilterExpression:          aws.String("attribute_exists(#ip) OR attribute_exists(#ua)"),
		ProjectionExpression:      aws.String("#pk, #sk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK, "#ip": AttrSourceIP, "#ua": AttrUserAgent},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(UserPK(kakaoID))},
	})
	scrubbed := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return scrubbed, classify("query audit events to scrub", err)
		}
		for _, item := range page.Items {
			_, err := a.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                &a.table,
				Key:                      map[string]types.AttributeValue{AttrPK: item[AttrPK], AttrSK: item[AttrSK]},
				UpdateExpression:         aws.String("REMOVE #ip, #ua"),
				ConditionExpression:      aws.String("attribute_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#ip": AttrSourceIP, "#ua": AttrUserAgent},
			})
			if failed, _ := conditionFailed(err); failed {
				continue // expired meanwhile
			}
			if err != nil {
				return scrubbed, classify("scrub audit event", err)
			}
			scrubbed++
		}
	}
	return scrubbed, nil
}
