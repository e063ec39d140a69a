package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kakaoauth/kakaoauth"
)

// Claims: one Kakao account per pool user. A Kakao account's mapping is
// keyed by its Kakao id, so nothing in the key stops two Kakao accounts
// from being linked to one user at the same moment. A claim is a second
// item that a link writes conditionally first: keyed by the user, holding
// the Kakao account. It lives in the mapping table, under a negative key
// (Kakao ids are positive), with none of the attributes the table's
// indexes or readers use (sub, createdDay, pwNonce): no mapping query or
// index ever sees it.
const (
	AttrClaimOf   = "claimOf"   // S: the pool user's sub
	AttrHolder    = "holder"    // N: the Kakao account holding it
	AttrClaimedAt = "claimedAt" // S: when it was taken
)

// ClaimKey is the mapping-table key of the claim on pool user sub: 63
// bits of SHA-256, negative.
func ClaimKey(sub string) int64 {
	h := sha256.Sum256([]byte("kakaoauth-user-claim\x00" + sub))
	return -int64(binary.BigEndian.Uint64(h[:8])>>1) - 1
}

// ClaimUser takes the claim on sub for kakaoID: free, already kakaoID's,
// or held by stale (nonzero) are taken; anything else is
// *kakaoauth.UserClaimed with the holder.
func (m *Mappings) ClaimUser(ctx context.Context, sub string, kakaoID, stale int64, at time.Time) error {
	if sub == "" || kakaoID <= 0 {
		return errors.New("store: claim user: sub and a kakao id are required")
	}
	cond := "attribute_not_exists(#k) OR (#of = :sub AND (#h = :me"
	values := map[string]types.AttributeValue{":sub": s(sub), ":me": n(kakaoID)}
	if stale != 0 {
		cond += " OR #h = :stale"
		values[":stale"] = n(stale)
	}
	cond += "))"
	_, err := m.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &m.table,
		Item: map[string]types.AttributeValue{
			AttrKakaoID: n(ClaimKey(sub)), AttrClaimOf: s(sub), AttrHolder: n(kakaoID), AttrClaimedAt: s(FormatTime(at)),
		},
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            map[string]string{"#k": AttrKakaoID, "#of": AttrClaimOf, "#h": AttrHolder},
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, old := conditionFailed(err); failed {
		holder, _ := strconv.ParseInt(numStr(old, AttrHolder), 10, 64)
		at, _ := ParseTime(str(old, AttrClaimedAt))
		return &kakaoauth.UserClaimed{Sub: sub, KakaoID: holder, At: at}
	}
	if err != nil {
		return classify("claim user", err)
	}
	return nil
}

// ReleaseUser deletes the claim on sub if kakaoID holds it.
func (m *Mappings) ReleaseUser(ctx context.Context, sub string, kakaoID int64) error {
	_, err := m.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &m.table,
		Key:                       m.key(ClaimKey(sub)),
		ConditionExpression:       aws.String("#h = :me AND #of = :sub"),
		ExpressionAttributeNames:  map[string]string{"#h": AttrHolder, "#of": AttrClaimOf},
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": n(kakaoID), ":sub": s(sub)},
	})
	if failed, _ := conditionFailed(err); failed {
		return nil // not kakaoID's (or gone): nothing of its to free
	}
	if err != nil {
		return classify("release user", err)
	}
	return nil
}

// ClaimOf reads who holds sub, strongly consistently.
func (m *Mappings) ClaimOf(ctx context.Context, sub string) (int64, error) {
	out, err := m.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &m.table, Key: m.key(ClaimKey(sub)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, classify("read claim", err)
	}
	if out.Item == nil || str(out.Item, AttrClaimOf) != sub {
		return 0, &kakaoauth.NotFound{What: "claim on user " + sub}
	}
	holder, err := strconv.ParseInt(numStr(out.Item, AttrHolder), 10, 64)
	if err != nil {
		return 0, errors.New("store: claim item without a numeric holder")
	}
	return holder, nil
}

func numStr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}
