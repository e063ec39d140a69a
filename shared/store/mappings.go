package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kakaoauth/kakaoauth"
)

// Mappings is the mapping table as a kakaoauth.MappingStore. Every write
// but Create is an UpdateItem with a condition on what the caller read,
// so concurrent logins, unlinks and operators serialise on the row.
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

// Get reads the mapping strongly consistently: the password nonce and the
// status read here must be the latest.
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
// a mapping created a moment ago may not be found yet. Only current subs
// are indexed; earlier ones are in previousSubs and the audit trail.
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
	if mp.ActiveSince.IsZero() {
		mp.ActiveSince = mp.CreatedAt
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

// update is one conditional UpdateItem. It reports whether the condition
// held, and on a failed condition the item as it was (nil: no item).
type update struct {
	set, remove []string
	cond        []string
	names       map[string]string
	values      map[string]types.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{"#k": AttrKakaoID}, values: map[string]types.AttributeValue{}}
}

// name registers an attribute name and returns its placeholder.
func (u *update) name(attr string) string {
	ph := "#" + strings.NewReplacer(".", "_").Replace(attr)
	u.names[ph] = attr
	return ph
}

// value registers a value and returns its placeholder.
func (u *update) value(v types.AttributeValue) string {
	ph := ":v" + strconv.Itoa(len(u.values))
	u.values[ph] = v
	return ph
}

func (u *update) setTo(attr string, v types.AttributeValue) *update {
	u.set = append(u.set, u.name(attr)+" = "+u.value(v))
	return u
}

func (u *update) drop(attrs ...string) *update {
	for _, a := range attrs {
		u.remove = append(u.remove, u.name(a))
	}
	return u
}

func (u *update) when(expr string) *update {
	u.cond = append(u.cond, expr)
	return u
}

// setOrDrop sets attr to v, or removes it when v is "".
func (u *update) setOrDrop(attr, v string) *update {
	if v == "" {
		return u.drop(attr)
	}
	return u.setTo(attr, s(v))
}

func (m *Mappings) apply(ctx context.Context, op string, kakaoID int64, u *update) (held bool, old map[string]types.AttributeValue, err error) {
	expr := ""
	if len(u.set) > 0 {
		expr = "SET " + strings.Join(u.set, ", ")
	}
	if len(u.remove) > 0 {
		expr += " REMOVE " + strings.Join(u.remove, ", ")
	}
	cond := strings.Join(append([]string{"attribute_exists(#k)"}, u.cond...), " AND ")
	in := &dynamodb.UpdateItemInput{
		TableName:                           &m.table,
		Key:                                 m.key(kakaoID),
		UpdateExpression:                    aws.String(strings.TrimSpace(expr)),
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            u.names,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if len(u.values) > 0 {
		in.ExpressionAttributeValues = u.values
	}
	_, err = m.api.UpdateItem(ctx, in)
	if failed, item := conditionFailed(err); failed {
		if item == nil {
			return false, nil, notFound(kakaoID)
		}
		return false, item, nil
	}
	if err != nil {
		return false, nil, classify(op, err)
	}
	return true, nil, nil
}

// statusIs is a condition on the mapping's status.
func (u *update) statusIs(status string) *update {
	return u.when(u.name(AttrStatus) + " = " + u.value(s(status)))
}

// activeNoLaterThan holds when the mapping last became active at or before
// t (rows from before activeSince existed count as active since ever).
func (u *update) activeNoLaterThan(t time.Time) *update {
	a := u.name(AttrActiveSince)
	return u.when("(attribute_not_exists(" + a + ") OR " + a + " <= " + u.value(s(FormatTime(t))) + ")")
}

// recordEvent puts a lifecycle transition in the row's outbox.
func (u *update) recordEvent(e kakaoauth.LifecycleEvent) *update {
	return u.setTo(AttrLastEvent, encodeEvent(e)).setTo(AttrEventPend, &types.AttributeValueMemberBOOL{Value: true})
}

// RecordLogin sets lastLoginAt (and the email, and marks a proven nonce
// applied) on an active mapping. *NotActive when an unlink or a deletion
// got there first, *NotFound when there is no mapping. A nonce that
// changed meanwhile is simply not marked.
func (m *Mappings) RecordLogin(ctx context.Context, r kakaoauth.LoginRecord) error {
	u := newUpdate().setTo(AttrLastLoginAt, s(FormatTime(r.At))).statusIs(kakaoauth.StatusActive)
	if r.Email != nil {
		u.setOrDrop(AttrEmail, *r.Email)
	}
	if r.AppliedNonce != "" {
		u.setTo(AttrPwState, s(kakaoauth.PasswordApplied))
		u.when(u.name(AttrPwNonce) + " = " + u.value(s(r.AppliedNonce)))
	}
	held, old, err := m.apply(ctx, "record login", r.KakaoID, u)
	switch {
	case err != nil || held:
		return err
	case str(old, AttrStatus) != kakaoauth.StatusActive:
		return &kakaoauth.NotActive{KakaoID: r.KakaoID, Status: str(old, AttrStatus)}
	default: // only the nonce changed: record the login without it
		r.AppliedNonce = ""
		return m.RecordLogin(ctx, r)
	}
}

// ClaimPassword installs nonce next in state pending if the mapping is
// active and still has prev's nonce and state: of concurrent logins one
// wins, and only it calls AdminSetUserPassword.
func (m *Mappings) ClaimPassword(ctx context.Context, kakaoID int64, prev kakaoauth.PasswordClaim, next string, pepperVersion int, at time.Time) error {
	if next == "" || next == prev.Nonce {
		return errors.New("store: claim password: next must be a new nonce")
	}
	u := newUpdate().
		setTo(AttrPwNonce, s(next)).setTo(AttrPwState, s(kakaoauth.PasswordPending)).setTo(AttrPwSetAt, s(FormatTime(at))).
		setPepperVersion(pepperVersion).statusIs(kakaoauth.StatusActive)
	u.when(equalOrAbsent(u, AttrPwNonce, prev.Nonce)).when(equalOrAbsent(u, AttrPwState, prev.State))
	held, old, err := m.apply(ctx, "claim password", kakaoID, u)
	switch {
	case err != nil || held:
		return err
	case str(old, AttrStatus) != kakaoauth.StatusActive:
		return &kakaoauth.NotActive{KakaoID: kakaoID, Status: str(old, AttrStatus)}
	default:
		return &kakaoauth.NonceChanged{KakaoID: kakaoID}
	}
}

// setPepperVersion records the pepper version of a nonce just written (0
// removes it: version 1, as before versions were recorded).
func (u *update) setPepperVersion(v int) *update {
	if v == 0 {
		return u.drop(AttrPwPepper)
	}
	return u.setTo(AttrPwPepper, n(int64(v)))
}

// equalOrAbsent is "attr = v", or "attr is absent" for v == "".
func equalOrAbsent(u *update, attr, v string) string {
	if v == "" {
		return "attribute_not_exists(" + u.name(attr) + ")"
	}
	return u.name(attr) + " = " + u.value(s(v))
}

// SetPasswordState records what Cognito holds for nonce, if nonce is
// still the current one; *NonceChanged otherwise.
func (m *Mappings) SetPasswordState(ctx context.Context, kakaoID int64, nonce, state string) error {
	u := newUpdate().setTo(AttrPwState, s(state))
	u.when(u.name(AttrPwNonce) + " = " + u.value(s(nonce)))
	held, _, err := m.apply(ctx, "set password state", kakaoID, u)
	if err == nil && !held {
		return &kakaoauth.NonceChanged{KakaoID: kakaoID}
	}
	return err
}

// MarkUnlinked sets an active mapping unlinked, with unlinkedAt the time
// Kakao reported it, unless the mapping became active after that report
// (a re-link or recreation beat a delayed or redelivered request). It
// reports whether it changed the row.
func (m *Mappings) MarkUnlinked(ctx context.Context, kakaoID int64, receivedAt time.Time, e kakaoauth.LifecycleEvent) (bool, error) {
	u := newUpdate().
		setTo(AttrStatus, s(kakaoauth.StatusUnlinked)).setTo(AttrUnlinkedAt, s(FormatTime(receivedAt))).
		recordEvent(e).statusIs(kakaoauth.StatusActive).activeNoLaterThan(receivedAt)
	held, _, err := m.apply(ctx, "mark unlinked", kakaoID, u)
	return held, err
}

// MarkRelinked re-activates an unlinked mapping, keeping (or dropping)
// its email; *StaleTransition when it is not the unlink the caller saw.
func (m *Mappings) MarkRelinked(ctx context.Context, r kakaoauth.Relink) error {
	at := s(FormatTime(r.At))
	u := newUpdate().
		setTo(AttrStatus, s(kakaoauth.StatusActive)).setTo(AttrActiveSince, at).setTo(AttrRelinkedAt, at).
		setOrDrop(AttrEmail, r.Email).recordEvent(r.Event).statusIs(kakaoauth.StatusUnlinked)
	u.when(u.name(AttrUnlinkedAt) + " = " + u.value(s(FormatTime(r.UnlinkedAt))))
	held, _, err := m.apply(ctx, "mark relinked", r.KakaoID, u)
	if err == nil && !held {
		return &kakaoauth.StaleTransition{KakaoID: r.KakaoID}
	}
	return err
}

// MarkDeleted sets the mapping deleted and scrubs what identifies the
// person or signs them in (email, password nonce), keeping the Kakao id,
// subs and times auditors need; unless it is deleted already or became
// active after the request. It reports whether it changed the row.
func (m *Mappings) MarkDeleted(ctx context.Context, kakaoID int64, receivedAt time.Time, e kakaoauth.LifecycleEvent) (bool, error) {
	u := newUpdate().
		setTo(AttrStatus, s(kakaoauth.StatusDeleted)).setTo(AttrUnlinkedAt, s(FormatTime(receivedAt))).
		setTo(AttrDeletedAt, s(FormatTime(e.Time))).
		drop(AttrEmail, AttrPwNonce, AttrPwState, AttrPwSetAt, AttrPwPepper).
		recordEvent(e).activeNoLaterThan(receivedAt)
	u.when(u.name(AttrStatus) + " <> " + u.value(s(kakaoauth.StatusDeleted)))
	held, _, err := m.apply(ctx, "mark deleted", kakaoID, u)
	return held, err
}

// Repoint moves the mapping to another Cognito user, appending the old
// sub to previousSubs: a created user with a temporary password for
// nonce, or a linked user (no password: the nonce fields go);
// *StaleTransition when its sub or status is no longer what the caller saw.
func (m *Mappings) Repoint(ctx context.Context, r kakaoauth.Repoint) error {
	at := s(FormatTime(r.At))
	kind := orCreated(r.Kind)
	u := newUpdate().
		setTo(AttrSub, s(r.User.Sub)).setTo(AttrUsername, s(r.User.Username)).setTo(AttrKind, s(kind)).
		setTo(AttrStatus, s(kakaoauth.StatusActive)).setTo(AttrActiveSince, at).
		setOrDrop(AttrEmail, r.Email).recordEvent(r.Event).drop(AttrDeletedAt)
	if kind == kakaoauth.KindLinked {
		if r.Nonce != "" {
			return errors.New("store: repoint mapping: a linked user has no password nonce")
		}
		u.drop(AttrPwNonce, AttrPwState, AttrPwSetAt, AttrPwPepper)
	} else {
		u.setTo(AttrPwNonce, s(r.Nonce)).setTo(AttrPwState, s(kakaoauth.PasswordTemporary)).setTo(AttrPwSetAt, at).
			setPepperVersion(r.PepperVersion)
	}
	prev := u.name(AttrPrevSubs)
	u.set = append(u.set, prev+" = list_append(if_not_exists("+prev+", "+u.value(&types.AttributeValueMemberL{})+"), "+
		u.value(&types.AttributeValueMemberL{Value: []types.AttributeValue{s(r.FromSub)}})+")")
	u.when(u.name(AttrSub) + " = " + u.value(s(r.FromSub)))
	u.when(u.name(AttrStatus) + " = " + u.value(s(r.FromStatus)))
	held, _, err := m.apply(ctx, "repoint mapping", r.KakaoID, u)
	if err == nil && !held {
		return &kakaoauth.StaleTransition{KakaoID: r.KakaoID}
	}
	return err
}

// EventDone clears the outbox flag of event id; if a newer transition
// replaced it (or the row is gone) there is nothing to clear.
func (m *Mappings) EventDone(ctx context.Context, kakaoID int64, eventID string) error {
	u := newUpdate().drop(AttrEventPend)
	u.when(u.name(AttrLastEvent) + "." + u.name("id") + " = " + u.value(s(eventID)))
	_, _, err := m.apply(ctx, "event done", kakaoID, u)
	var nf *kakaoauth.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

func encodeMapping(mp kakaoauth.Mapping) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		AttrKakaoID:    n(mp.KakaoID),
		AttrSub:        s(mp.Sub),
		AttrUsername:   s(mp.Username),
		AttrKind:       s(orCreated(mp.Kind)),
		AttrStatus:     s(mp.Status),
		AttrCreatedAt:  s(FormatTime(mp.CreatedAt)),
		AttrCreatedDay: s(Day(mp.CreatedAt)),
	}
	for name, v := range map[string]string{AttrEmail: mp.Email, AttrPwNonce: mp.PasswordNonce, AttrPwState: mp.PasswordState} {
		if v != "" {
			item[name] = s(v)
		}
	}
	for name, t := range map[string]time.Time{
		AttrActiveSince: mp.ActiveSince, AttrLastLoginAt: mp.LastLoginAt, AttrPwSetAt: mp.PasswordSetAt,
		AttrUnlinkedAt: mp.UnlinkedAt, AttrRelinkedAt: mp.RelinkedAt, AttrDeletedAt: mp.DeletedAt,
	} {
		if !t.IsZero() {
			item[name] = s(FormatTime(t))
		}
	}
	if mp.PepperVersion != 0 {
		item[AttrPwPepper] = n(int64(mp.PepperVersion))
	}
	if len(mp.PreviousSubs) > 0 {
		l := &types.AttributeValueMemberL{}
		for _, p := range mp.PreviousSubs {
			l.Value = append(l.Value, s(p))
		}
		item[AttrPrevSubs] = l
	}
	if mp.LastEvent.ID != "" {
		item[AttrLastEvent] = encodeEvent(mp.LastEvent)
		if mp.EventPending {
			item[AttrEventPend] = &types.AttributeValueMemberBOOL{Value: true}
		}
	}
	return item
}

// orCreated reads an absent kind as created: kakaoauth created every user
// of the rows written before kinds existed.
func orCreated(kind string) string {
	if kind == "" {
		return kakaoauth.KindCreated
	}
	return kind
}

func encodeEvent(e kakaoauth.LifecycleEvent) types.AttributeValue {
	m := map[string]types.AttributeValue{
		"id": s(e.ID), "type": s(e.Type), "time": s(FormatTime(e.Time)), "sub": s(e.Sub),
	}
	if e.PreviousSub != "" {
		m["previousSub"] = s(e.PreviousSub)
	}
	if e.Reason != "" {
		m["reason"] = s(e.Reason)
	}
	return &types.AttributeValueMemberM{Value: m}
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
	mp.Kind = orCreated(str(item, AttrKind))
	mp.Email = str(item, AttrEmail)
	mp.Status = str(item, AttrStatus)
	mp.PasswordNonce = str(item, AttrPwNonce)
	mp.PasswordState = str(item, AttrPwState)
	if v, ok := item[AttrPwPepper].(*types.AttributeValueMemberN); ok {
		if mp.PepperVersion, err = strconv.Atoi(v.Value); err != nil {
			return mp, fmt.Errorf("store: mapping %d: %s: %w", id, AttrPwPepper, err)
		}
	}
	for name, dst := range map[string]*time.Time{
		AttrCreatedAt:   &mp.CreatedAt,
		AttrActiveSince: &mp.ActiveSince,
		AttrLastLoginAt: &mp.LastLoginAt,
		AttrPwSetAt:     &mp.PasswordSetAt,
		AttrUnlinkedAt:  &mp.UnlinkedAt,
		AttrRelinkedAt:  &mp.RelinkedAt,
		AttrDeletedAt:   &mp.DeletedAt,
	} {
		if err := parseTimeAttr(item, name, dst); err != nil {
			return mp, fmt.Errorf("store: mapping %d: %w", id, err)
		}
	}
	if l, ok := item[AttrPrevSubs].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if sv, ok := v.(*types.AttributeValueMemberS); ok {
				mp.PreviousSubs = append(mp.PreviousSubs, sv.Value)
			}
		}
	}
	if ev, ok := item[AttrLastEvent].(*types.AttributeValueMemberM); ok {
		mp.LastEvent = kakaoauth.LifecycleEvent{
			ID: str(ev.Value, "id"), Type: str(ev.Value, "type"), KakaoID: id, Sub: str(ev.Value, "sub"),
			PreviousSub: str(ev.Value, "previousSub"), Reason: str(ev.Value, "reason"),
		}
		if err := parseTimeAttr(ev.Value, "time", &mp.LastEvent.Time); err != nil {
			return mp, fmt.Errorf("store: mapping %d: lastEvent: %w", id, err)
		}
	}
	if b, ok := item[AttrEventPend].(*types.AttributeValueMemberBOOL); ok {
		mp.EventPending = b.Value
	}
	return mp, nil
}

func parseTimeAttr(item map[string]types.AttributeValue, name string, dst *time.Time) error {
	v := str(item, name)
	if v == "" {
		return nil
	}
	t, err := ParseTime(v)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	*dst = t
	return nil
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// ScanAPI is the Scan of *dynamodb.Client: only CountPepperVersions uses
// it, so the login path's adapters cannot scan.
type ScanAPI interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ ScanAPI = (*dynamodb.Client)(nil)

// PepperUsage is how many accounts' passwords derive with one pepper
// version.
type PepperUsage struct {
	Version  int `json:"pepperVersion"`
	Accounts int `json:"accounts"`
}

// CountPepperVersions counts, per pepper version, the accounts whose
// password nonce derives with it (an operator's question while rotating
// the pepper: how many still use the old version). Accounts without a
// nonce (deleted) are not counted; a nonce stored before versions were
// recorded counts as version 1. It reads the whole mapping table, two
// attributes of each row, with a Scan: an occasional operator's report,
// which no index would answer for rows written before versions existed.
func CountPepperVersions(ctx context.Context, api ScanAPI, table string) ([]PepperUsage, error) {
	counts := map[int]int{}
	pages := dynamodb.NewScanPaginator(api, &dynamodb.ScanInput{
		TableName:                &table,
		ProjectionExpression:     aws.String("#n, #v"),
		ExpressionAttributeNames: map[string]string{"#n": AttrPwNonce, "#v": AttrPwPepper},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify("count pepper versions", err)
		}
		for _, item := range page.Items {
			if str(item, AttrPwNonce) == "" {
				continue
			}
			v := 1
			if nv, ok := item[AttrPwPepper].(*types.AttributeValueMemberN); ok {
				if v, err = strconv.Atoi(nv.Value); err != nil {
					return nil, fmt.Errorf("store: %s %q: %w", AttrPwPepper, nv.Value, err)
				}
			}
			counts[v]++
		}
	}
	out := make([]PepperUsage, 0, len(counts))
	for v, n := range counts {
		out = append(out, PepperUsage{Version: v, Accounts: n})
	}
	slices.SortFunc(out, func(a, b PepperUsage) int { return a.Version - b.Version })
	return out, nil
}
