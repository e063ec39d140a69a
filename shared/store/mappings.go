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

// Mappings is the mapping table as a kakaoauth.MappingStore.
type Mappings struct {
	api   API
	table string
}

var _ kakaoauth.MappingStore = (*Mappings)(nil)

// NewMappings returns the store of the mapping table named table.
func NewMappings(api API, table string) *Mappings { return &Mappings{api: api, table: table} }

func (m *Mappings) key(kakaoID int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrKakaoID: n(kakaoID)}
}

func notFound(kakaoID int64) error {
	return &kakaoauth.NotFound{What: "mapping of kakao account " + strconv.FormatInt(kakaoID, 10)}
}

// Get reads the mapping strongly consistently: the password nonce read here
// must be the one the previous login installed.
func (m *Mappings) Get(ctx context.Context, kakaoID int64) (kakaoauth.Mapping, error) {
	out, err := m.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &m.table,
		Key:            m.key(kakaoID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return kakaoauth.Mapping{}, classify("get mapping", err)
	}
	if out.Item == nil {
		return kakaoauth.Mapping{}, notFound(kakaoID)
	}
	return decodeMapping(out.Item)
}

// GetBySub queries the bySub index. Index reads are eventually consistent:
// a mapping created a moment ago may not be found yet.
func (m *Mappings) GetBySub(ctx context.Context, sub string) (kakaoauth.Mapping, error) {
	out, err := m.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &m.table,
		IndexName:                 aws.String(IndexBySub),
		KeyConditionExpression:    aws.String("#sub = :sub"),
		ExpressionAttributeNames:  map[string]string{"#sub": AttrSub},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sub": s(sub)},
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return kakaoauth.Mapping{}, classify("get mapping by sub", err)
	}
	if len(out.Items) == 0 {
		return kakaoauth.Mapping{}, &kakaoauth.NotFound{What: "mapping of sub " + sub}
	}
	return decodeMapping(out.Items[0])
}

// Create writes mp only if the Kakao id has no mapping yet: of concurrent
// first logins exactly one wins, the others get *MappingExists.
func (m *Mappings) Create(ctx context.Context, mp kakaoauth.Mapping) error {
	switch {
	case mp.KakaoID <= 0:
		return fmt.Errorf("store: create mapping: invalid kakao id %d", mp.KakaoID)
	case mp.Sub == "" || mp.Username == "":
		return errors.New("store: create mapping: sub and username are required")
	case mp.CreatedAt.IsZero():
		return errors.New("store: create mapping: createdAt is required")
	}
	if mp.Status == "" {
		mp.Status = kakaoauth.StatusActive
	}
	_, err := m.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &m.table,
		Item:                     encodeMapping(mp),
		ConditionExpression:      aws.String("attribute_not_exists(#k)"),
		ExpressionAttributeNames: map[string]string{"#k": AttrKakaoID},
	})
	if failed, _ := conditionFailed(err); failed {
		return &kakaoauth.MappingExists{KakaoID: mp.KakaoID}
	}
	if err != nil {
		return classify("create mapping", err)
	}
	return nil
}

// RecordLogin sets lastLoginAt and, unless email is nil, the verified
// email ("" removes it). *NotFound when there is no mapping.
func (m *Mappings) RecordLogin(ctx context.Context, kakaoID int64, at time.Time, email *string) error {
	update := "SET #last = :at"
	names := map[string]string{"#k": AttrKakaoID, "#last": AttrLastLoginAt, "#email": AttrEmail}
	values := map[string]types.AttributeValue{":at": s(FormatTime(at))}
	switch {
	case email == nil:
		delete(names, "#email")
	case *email != "":
		update += ", #email = :email"
		values[":email"] = s(*email)
	default:
		update += " REMOVE #email"
	}
	_, err := m.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &m.table,
		Key:                       m.key(kakaoID),
		UpdateExpression:          &update,
		ConditionExpression:       aws.String("attribute_exists(#k)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if failed, _ := conditionFailed(err); failed {
		return notFound(kakaoID)
	}
	if err != nil {
		return classify("record login", err)
	}
	return nil
}

// SwapPasswordNonce installs next only if the stored nonce is still prev
// ("" for none yet). *NonceChanged when another login swapped first,
// *NotFound when there is no mapping.
func (m *Mappings) SwapPasswordNonce(ctx context.Context, kakaoID int64, prev, next string, at time.Time) error {
	if next == "" || next == prev {
		return errors.New("store: swap password nonce: next must be a new nonce")
	}
	cond := "attribute_exists(#k) AND #nonce = :prev"
	values := map[string]types.AttributeValue{":next": s(next), ":at": s(FormatTime(at))}
	if prev == "" {
		cond = "attribute_exists(#k) AND attribute_not_exists(#nonce)"
	} else {
		values[":prev"] = s(prev)
	}
	_, err := m.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &m.table,
		Key:                                 m.key(kakaoID),
		UpdateExpression:                    aws.String("SET #nonce = :next, #set = :at"),
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            map[string]string{"#k": AttrKakaoID, "#nonce": AttrPwNonce, "#set": AttrPwSetAt},
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, old := conditionFailed(err); failed {
		if old == nil {
			return notFound(kakaoID)
		}
		return &kakaoauth.NonceChanged{KakaoID: kakaoID}
	}
	if err != nil {
		return classify("swap password nonce", err)
	}
	return nil
}

// MarkUnlinked sets status unlinked. It reports false when the mapping was
// already unlinked, and *NotFound when there is none.
func (m *Mappings) MarkUnlinked(ctx context.Context, kakaoID int64, at time.Time) (bool, error) {
	_, err := m.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &m.table,
		Key:                      m.key(kakaoID),
		UpdateExpression:         aws.String("SET #st = :unlinked, #ua = :at"),
		ConditionExpression:      aws.String("attribute_exists(#k) AND #st <> :unlinked"),
		ExpressionAttributeNames: map[string]string{"#k": AttrKakaoID, "#st": AttrStatus, "#ua": AttrUnlinkedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":unlinked": s(kakaoauth.StatusUnlinked),
			":at":       s(FormatTime(at)),
		},
		// Only to tell "no row" from "already unlinked"; the values stay here.
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, old := conditionFailed(err); failed {
		if old == nil {
			return false, notFound(kakaoID)
		}
		return false, nil
	}
	if err != nil {
		return false, classify("mark unlinked", err)
	}
	return true, nil
}

func encodeMapping(mp kakaoauth.Mapping) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		AttrKakaoID:    n(mp.KakaoID),
		AttrSub:        s(mp.Sub),
		AttrUsername:   s(mp.Username),
		AttrStatus:     s(mp.Status),
		AttrCreatedAt:  s(FormatTime(mp.CreatedAt)),
		AttrCreatedDay: s(Day(mp.CreatedAt)),
	}
	if mp.Email != "" {
		item[AttrEmail] = s(mp.Email)
	}
	if !mp.LastLoginAt.IsZero() {
		item[AttrLastLoginAt] = s(FormatTime(mp.LastLoginAt))
	}
	if mp.PasswordNonce != "" {
		item[AttrPwNonce] = s(mp.PasswordNonce)
		if !mp.PasswordSetAt.IsZero() {
			item[AttrPwSetAt] = s(FormatTime(mp.PasswordSetAt))
		}
	}
	return item
}

func decodeMapping(item map[string]types.AttributeValue) (kakaoauth.Mapping, error) {
	var mp kakaoauth.Mapping
	idAttr, ok := item[AttrKakaoID].(*types.AttributeValueMemberN)
	if !ok {
		return mp, errors.New("store: mapping item without a numeric kakaoId")
	}
	id, err := strconv.ParseInt(idAttr.Value, 10, 64)
	if err != nil {
		return mp, fmt.Errorf("store: mapping item: kakaoId: %w", err)
	}
	mp.KakaoID = id
	mp.Sub = str(item, AttrSub)
	mp.Username = str(item, AttrUsername)
	mp.Email = str(item, AttrEmail)
	mp.Status = str(item, AttrStatus)
	mp.PasswordNonce = str(item, AttrPwNonce)
	for name, dst := range map[string]*time.Time{
		AttrCreatedAt:   &mp.CreatedAt,
		AttrLastLoginAt: &mp.LastLoginAt,
		AttrPwSetAt:     &mp.PasswordSetAt,
	} {
		if v := str(item, name); v != "" {
			t, err := ParseTime(v)
			if err != nil {
				return mp, fmt.Errorf("store: mapping %d: %s: %w", id, name, err)
			}
			*dst = t
		}
	}
	return mp, nil
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
