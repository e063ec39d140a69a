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
	"github.com/kakaoauth/kakaoauth/shared/config"
)

// Mappings is the mapping table as a kakaoauth.MappingStore. Every write
// but Create is an UpdateItem with a condition on what the caller read,
// so concurrent logins, unlinks and operators serialise on the row.
type Mappings struct {
	api       API
	table     string
	retention Retention
	grace     time.Duration
}

var _ kakaoauth.MappingStore = (*Mappings)(nil)

// Retention is how long the mapping keeps what identifies a person once
// the account is gone (config.Retention).
type Retention = config.Retention

// DefaultRetention is the template's defaults.
var DefaultRetention = Retention{UnlinkedEmail: config.DefaultUnlinkedEmailRetention, DeletedPII: config.DefaultDeletedAccountPII,
	DeletedRow: config.DefaultDeletedMappingRetention}

// DefaultOutboxGrace is how long a transition's own run has to send its
// events before the sweeper takes them over (the row's dueAt).
const DefaultOutboxGrace = 20 * time.Second

// MappingsOption configures Mappings.
type MappingsOption func(*Mappings)

// WithRetention overrides DefaultRetention.
func WithRetention(r Retention) MappingsOption { return func(m *Mappings) { m.retention = r } }

// WithOutboxGrace overrides DefaultOutboxGrace.
func WithOutboxGrace(d time.Duration) MappingsOption { return func(m *Mappings) { m.grace = d } }

// NewMappings returns the store of the mapping table named table.
func NewMappings(api API, table string, opts ...MappingsOption) *Mappings {
	m := &Mappings{api: api, table: table, retention: DefaultRetention, grace: DefaultOutboxGrace}
	for _, o := range opts {
		o(m)
	}
	return m
}

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
	item := encodeMapping(mp)
	if mp.EventPending || len(mp.Outbox) > 0 {
		item[AttrDue], item[AttrDueAt] = s(DueMarker), s(FormatTime(m.outboxDue(mp.LastEvent.Time)))
	}
	_, err := m.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &m.table,
		Item:                     item,
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
	held, old, _, err = m.applyReturning(ctx, op, kakaoID, u, types.ReturnValueNone)
	return held, old, err
}

// applyReturning is apply that also returns the item as rv asks (e.g.
// ALL_NEW) when the condition held.
func (m *Mappings) applyReturning(ctx context.Context, op string, kakaoID int64, u *update, rv types.ReturnValue) (held bool, old, item map[string]types.AttributeValue, err error) {
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
		ReturnValues:                        rv,
	}
	if len(u.values) > 0 {
		in.ExpressionAttributeValues = u.values
	}
	out, err := m.api.UpdateItem(ctx, in)
	if failed, item := conditionFailed(err); failed {
		if item == nil {
			return false, nil, nil, notFound(kakaoID)
		}
		return false, item, nil, nil
	}
	if err != nil {
		return false, nil, nil, classify(op, err)
	}
	return true, nil, out.Attributes, nil
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

// recordEvent makes e the row's last transition and appends it to the
// outbox (never replacing an event still waiting there), due for the
// sweeper once its own run has had its grace.
func (u *update) recordEvent(e kakaoauth.LifecycleEvent, due time.Time) *update {
	ob := u.name(AttrOutbox)
	u.set = append(u.set, ob+" = list_append(if_not_exists("+ob+", "+u.value(&types.AttributeValueMemberL{})+"), "+
		u.value(&types.AttributeValueMemberL{Value: []types.AttributeValue{encodeEvent(e, true)}})+")")
	return u.setTo(AttrLastEvent, encodeEvent(e, false)).setTo(AttrEventPend, &types.AttributeValueMemberBOOL{Value: true}).
		setTo(AttrDue, s(DueMarker)).setTo(AttrDueAt, s(FormatTime(due)))
}

// outboxDue is when the sweeper takes over the events of a transition
// made at t.
func (m *Mappings) outboxDue(t time.Time) time.Time { return t.Add(m.grace) }

// record is recordEvent with the store's grace.
func (m *Mappings) record(u *update, e kakaoauth.LifecycleEvent) *update {
	return u.recordEvent(e, m.outboxDue(e.Time))
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
		setTo(AttrEmailKeptUntil, s(FormatTime(e.Time.Add(m.retention.UnlinkedEmail)))).drop(AttrUnlinking).
		statusIs(kakaoauth.StatusActive).activeNoLaterThan(receivedAt)
	held, _, err := m.apply(ctx, "mark unlinked", kakaoID, m.record(u, e))
	return held, err
}

// MarkRelinked re-activates an unlinked mapping, keeping (or dropping)
// its email; *StaleTransition when it is not the unlink the caller saw.
func (m *Mappings) MarkRelinked(ctx context.Context, r kakaoauth.Relink) error {
	at := s(FormatTime(r.At))
	u := newUpdate().
		setTo(AttrStatus, s(kakaoauth.StatusActive)).setTo(AttrActiveSince, at).setTo(AttrRelinkedAt, at).
		setOrDrop(AttrEmail, r.Email).drop(AttrEmailKeptUntil, AttrUnlinking).statusIs(kakaoauth.StatusUnlinked)
	u.when(u.name(AttrUnlinkedAt) + " = " + u.value(s(FormatTime(r.UnlinkedAt))))
	held, _, err := m.apply(ctx, "mark relinked", r.KakaoID, m.record(u, r.Event))
	if err == nil && !held {
		return &kakaoauth.StaleTransition{KakaoID: r.KakaoID}
	}
	return err
}

// MarkDeleted sets the mapping deleted and scrubs what identifies the
// person or signs them in (email, password nonce), keeping the Kakao id,
// subs and times auditors need; unless it is deleted already or became
// active after the request. It reports whether it changed the row.
//
// The deletion also schedules the row's forgetting: its audit events lose
// their IP addresses and user agents after Retention.DeletedPII (the
// sweeper), and the row itself expires after Retention.DeletedRow, unless
// it carries a ban, which must outlive the deletion.
func (m *Mappings) MarkDeleted(ctx context.Context, kakaoID int64, receivedAt time.Time, e kakaoauth.LifecycleEvent) (bool, error) {
	write := func(expire bool) (bool, map[string]types.AttributeValue, error) {
		u := newUpdate().
			setTo(AttrStatus, s(kakaoauth.StatusDeleted)).setTo(AttrUnlinkedAt, s(FormatTime(receivedAt))).
			setTo(AttrDeletedAt, s(FormatTime(e.Time))).setTo(AttrPIIScrubAt, s(FormatTime(e.Time.Add(m.retention.DeletedPII)))).
			drop(AttrEmail, AttrPwNonce, AttrPwState, AttrPwSetAt, AttrPwPepper, AttrEmailKeptUntil, AttrUnlinking).
			activeNoLaterThan(receivedAt)
		u.when(u.name(AttrStatus) + " <> " + u.value(s(kakaoauth.StatusDeleted)))
		if expire {
			u.setTo(AttrMappingExpiresAt, n(e.Time.Add(m.retention.DeletedRow).Unix()))
			u.when("attribute_not_exists(" + u.name(AttrBan) + ")")
		}
		return m.apply(ctx, "mark deleted", kakaoID, m.record(u, e))
	}
	expire := m.retention.DeletedRow > 0
	held, old, err := write(expire)
	if err == nil && !held && expire && old[AttrBan] != nil {
		// Banned: the row stays, without an expiry.
		held, _, err = write(false)
	}
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
		setOrDrop(AttrEmail, r.Email).
		drop(AttrDeletedAt, AttrMappingExpiresAt, AttrPIIScrubAt, AttrEmailKeptUntil, AttrUnlinking)
	if kind == kakaoauth.KindLinked {
		if r.Nonce != "" {
			return errors.New("store: repoint mapping: a linked user has no password nonce")
		}
		u.drop(AttrPwNonce, AttrPwState, AttrPwSetAt, AttrPwPepper)
	} else {
		u.setTo(AttrPwNonce, s(r.Nonce)).setTo(AttrPwState, s(kakaoauth.PasswordTemporary)).setTo(AttrPwSetAt, at).
			setPepperVersion(r.PepperVersion)
	}
	if !r.RecreatedSince.IsZero() {
		u.setTo(AttrRecreatedSince, s(FormatTime(r.RecreatedSince))).setTo(AttrRecreations, n(int64(r.Recreations)))
	}
	m.record(u, r.Event)
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

// EventDone takes event id out of the outbox once its events are out. The
// usual case, the row's only pending work, is one write; otherwise (other
// events waiting, an email or an audit scrub due, a row written before the
// outbox was a list) the write is computed from the row as it is, and
// repeated if the row changed meanwhile. Not there (any more): nothing to
// do.
func (m *Mappings) EventDone(ctx context.Context, kakaoID int64, eventID string) error {
	u := newUpdate().drop(AttrOutbox, AttrEventPend, AttrDue, AttrDueAt)
	ob := u.name(AttrOutbox)
	u.when(ob + "[0]." + u.name("id") + " = " + u.value(s(eventID))).when("size(" + ob + ") = " + u.value(n(1)))
	u.when("attribute_not_exists(" + u.name(AttrEmailKeptUntil) + ")").when("attribute_not_exists(" + u.name(AttrPIIScrubAt) + ")")
	held, old, err := m.apply(ctx, "event done", kakaoID, u)
	var nf *kakaoauth.NotFound
	for attempt := 0; err == nil && !held && attempt < 4; attempt++ {
		held, old, err = m.eventDoneFrom(ctx, kakaoID, eventID, old)
	}
	switch {
	case errors.As(err, &nf), err == nil && held:
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("store: event done: the row of %d kept changing", kakaoID)
}

// eventDoneFrom removes eventID from the outbox of item (the row as last
// seen), conditional on that outbox, and reschedules the row's due work.
// held is true also when there was nothing to remove.
func (m *Mappings) eventDoneFrom(ctx context.Context, kakaoID int64, eventID string, item map[string]types.AttributeValue) (bool, map[string]types.AttributeValue, error) {
	outbox := decodeOutbox(item)
	i := slices.IndexFunc(outbox, func(e kakaoauth.LifecycleEvent) bool { return e.ID == eventID })
	legacy := len(outbox) == 0 && boolAttr(item, AttrEventPend) && lastEventID(item) == eventID
	if i < 0 && !legacy {
		return true, nil, nil
	}
	u := newUpdate()
	ob := u.name(AttrOutbox)
	left := slices.Delete(slices.Clone(outbox), max(i, 0), max(i+1, 0))
	switch {
	case legacy:
		// Written before the outbox was a list: lastEvent was the outbox.
		u.drop(AttrEventPend).when("attribute_not_exists(" + ob + ")")
		u.when(u.name(AttrLastEvent) + "." + u.name("id") + " = " + u.value(s(eventID)))
		left = nil
	case len(outbox) == 1:
		u.drop(AttrOutbox, AttrEventPend)
	default:
		u.remove = append(u.remove, ob+"["+strconv.Itoa(i)+"]")
	}
	if !legacy {
		u.when(ob + "[" + strconv.Itoa(i) + "]." + u.name("id") + " = " + u.value(s(eventID)))
		u.when("size(" + ob + ") = " + u.value(n(int64(len(outbox)))))
	}
	m.scheduleFrom(u, item, left)
	held, old, err := m.apply(ctx, "event done", kakaoID, u)
	return held, old, err
}

// scheduleFrom adds to u the row's next due time after the change u makes
// (outbox left waiting; the email and scrub times as item has them), and
// conditions u on those times being what item says.
func (m *Mappings) scheduleFrom(u *update, item map[string]types.AttributeValue, left []kakaoauth.LifecycleEvent) {
	next := m.nextDue(str(item, AttrStatus), left, timeAttr(item, AttrEmailKeptUntil), timeAttr(item, AttrPIIScrubAt))
	if next.IsZero() {
		u.drop(AttrDue, AttrDueAt)
	} else {
		u.setTo(AttrDue, s(DueMarker)).setTo(AttrDueAt, s(FormatTime(next)))
	}
	u.when(equalOrAbsent(u, AttrEmailKeptUntil, str(item, AttrEmailKeptUntil)))
	u.when(equalOrAbsent(u, AttrPIIScrubAt, str(item, AttrPIIScrubAt)))
	u.when(equalOrAbsent(u, AttrStatus, str(item, AttrStatus)))
}

// nextDue is the earliest pending work of a row: its oldest waiting event
// (after the grace its own run had), its kept email's end (unlinked), its
// audit scrub (deleted). Zero: none.
func (m *Mappings) nextDue(status string, outbox []kakaoauth.LifecycleEvent, emailKeptUntil, piiScrubAt time.Time) time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, e := range outbox {
		earliest(m.outboxDue(e.Time))
	}
	if status == kakaoauth.StatusUnlinked {
		earliest(emailKeptUntil)
	}
	if status == kakaoauth.StatusDeleted {
		earliest(piiScrubAt)
	}
	return next
}

// SetBan records ban, replacing any, with its event. A deleted row loses
// its expiry: the ban must outlive it.
func (m *Mappings) SetBan(ctx context.Context, kakaoID int64, ban kakaoauth.Ban, e kakaoauth.LifecycleEvent) error {
	u := newUpdate().setTo(AttrBan, encodeBan(ban)).drop(AttrMappingExpiresAt)
	_, _, err := m.apply(ctx, "set ban", kakaoID, m.record(u, e))
	return err
}

// InferBan records ban only on an active row without a ban and without an
// unlink under way; false when that did not hold.
func (m *Mappings) InferBan(ctx context.Context, kakaoID int64, ban kakaoauth.Ban, e kakaoauth.LifecycleEvent) (bool, error) {
	u := newUpdate().setTo(AttrBan, encodeBan(ban)).statusIs(kakaoauth.StatusActive)
	u.when("attribute_not_exists(" + u.name(AttrBan) + ")").when("attribute_not_exists(" + u.name(AttrUnlinking) + ")")
	held, _, err := m.apply(ctx, "infer ban", kakaoID, m.record(u, e))
	return held, err
}

// LiftBan removes the ban set at banAt; *StaleTransition when the row has
// another one or none. A deleted row gets back the expiry its deletion
// gave it.
func (m *Mappings) LiftBan(ctx context.Context, kakaoID int64, banAt time.Time, e kakaoauth.LifecycleEvent) error {
	u := newUpdate().drop(AttrBan)
	u.when(u.name(AttrBan) + "." + u.name("at") + " = " + u.value(s(FormatTime(banAt))))
	held, _, item, err := m.applyReturning(ctx, "lift ban", kakaoID, m.record(u, e), types.ReturnValueAllNew)
	switch {
	case err != nil:
		return err
	case !held:
		return &kakaoauth.StaleTransition{KakaoID: kakaoID}
	}
	deletedAt := timeAttr(item, AttrDeletedAt)
	if str(item, AttrStatus) != kakaoauth.StatusDeleted || deletedAt.IsZero() || m.retention.DeletedRow <= 0 {
		return nil
	}
	x := newUpdate().setTo(AttrMappingExpiresAt, n(deletedAt.Add(m.retention.DeletedRow).Unix())).statusIs(kakaoauth.StatusDeleted)
	x.when("attribute_not_exists(" + x.name(AttrBan) + ")")
	_, _, err = m.apply(ctx, "expire deleted row", kakaoID, x)
	return err
}

// BeginUnlink marks unlink request id under way.
func (m *Mappings) BeginUnlink(ctx context.Context, kakaoID int64, requestID string) error {
	_, _, err := m.apply(ctx, "begin unlink", kakaoID, newUpdate().setTo(AttrUnlinking, s(requestID)))
	return err
}

// Due lists up to limit Kakao ids whose rows have work due at now (the
// byDue index, oldest first). Index reads are eventually consistent: the
// caller reads each row before acting on it.
func (m *Mappings) Due(ctx context.Context, now time.Time, limit int32) ([]int64, error) {
	out, err := m.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &m.table,
		IndexName:                 aws.String(IndexByDue),
		KeyConditionExpression:    aws.String("#due = :due AND #at <= :now"),
		ExpressionAttributeNames:  map[string]string{"#due": AttrDue, "#at": AttrDueAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":due": s(DueMarker), ":now": s(FormatTime(now))},
		Limit:                     aws.Int32(limit),
	})
	if err != nil {
		return nil, classify("query due rows", err)
	}
	ids := make([]int64, 0, len(out.Items))
	for _, item := range out.Items {
		id, err := kakaoIDOf(item)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// DropKeptEmail drops an unlinked account's kept email whose retention
// ended (keptUntil as read); false when the row changed meanwhile.
func (m *Mappings) DropKeptEmail(ctx context.Context, kakaoID int64, keptUntil time.Time) (bool, error) {
	u := newUpdate().drop(AttrEmail, AttrEmailKeptUntil).statusIs(kakaoauth.StatusUnlinked)
	u.when(u.name(AttrEmailKeptUntil) + " = " + u.value(s(FormatTime(keptUntil))))
	return m.doneWith(ctx, "drop kept email", kakaoID, u)
}

// ScrubDone records that a deleted account's audit events were scrubbed
// (scrubAt as read); false when the row changed meanwhile.
func (m *Mappings) ScrubDone(ctx context.Context, kakaoID int64, scrubAt time.Time) (bool, error) {
	u := newUpdate().drop(AttrPIIScrubAt).statusIs(kakaoauth.StatusDeleted)
	u.when(u.name(AttrPIIScrubAt) + " = " + u.value(s(FormatTime(scrubAt))))
	return m.doneWith(ctx, "scrub done", kakaoID, u)
}

// doneWith applies u, which finishes a piece of the row's due work, then
// reschedules the row.
func (m *Mappings) doneWith(ctx context.Context, op string, kakaoID int64, u *update) (bool, error) {
	held, _, item, err := m.applyReturning(ctx, op, kakaoID, u, types.ReturnValueAllNew)
	if err != nil || !held {
		return held, err
	}
	return true, m.reschedule(ctx, kakaoID, item)
}

// Reschedule sets the row's due time from its pending work as it is now
// (the sweeper's last step on a row, whatever it managed).
func (m *Mappings) Reschedule(ctx context.Context, kakaoID int64) error {
	out, err := m.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &m.table, Key: m.key(kakaoID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return classify("get mapping", err)
	}
	if out.Item == nil {
		return nil
	}
	return m.reschedule(ctx, kakaoID, out.Item)
}

// reschedule writes item's due time if it is not what the row holds; a
// row that changed meanwhile has been rescheduled by whoever changed it.
func (m *Mappings) reschedule(ctx context.Context, kakaoID int64, item map[string]types.AttributeValue) error {
	outbox := decodeOutbox(item)
	next := m.nextDue(str(item, AttrStatus), outbox, timeAttr(item, AttrEmailKeptUntil), timeAttr(item, AttrPIIScrubAt))
	if cur := timeAttr(item, AttrDueAt); cur.Equal(next) && (str(item, AttrDue) != "") == !next.IsZero() {
		return nil
	}
	u := newUpdate()
	m.scheduleFrom(u, item, outbox)
	u.when(equalOrAbsent(u, AttrDueAt, str(item, AttrDueAt)))
	if ob := u.name(AttrOutbox); len(outbox) == 0 {
		u.when("attribute_not_exists(" + ob + ")")
	} else {
		u.when("size(" + ob + ") = " + u.value(n(int64(len(outbox)))))
	}
	_, _, err := m.apply(ctx, "reschedule", kakaoID, u)
	var nf *kakaoauth.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// ActiveAccounts is the reconciler's walk over the mapping table, with a
// Scan: it visits every row once per pass, a page at a time, in runs
// apart, and no index would serve it better (every active row is read).
type ActiveAccounts struct {
	api   ScanAPI
	table string
}

// NewActiveAccounts walks the mapping table named table.
func NewActiveAccounts(api ScanAPI, table string) *ActiveAccounts {
	return &ActiveAccounts{api: api, table: table}
}

// Page is one page of the pass: up to limit rows read (filtered to active
// accounts; claim items have no status) after the row of key after (0:
// from the start). next is where the following page starts, 0 at the end
// of the table.
func (a *ActiveAccounts) Page(ctx context.Context, after int64, limit int32) (ids []int64, next int64, err error) {
	api := a.api
	in := &dynamodb.ScanInput{
		TableName:                 &a.table,
		ProjectionExpression:      aws.String("#k"),
		FilterExpression:          aws.String("#st = :active"),
		ExpressionAttributeNames:  map[string]string{"#k": AttrKakaoID, "#st": AttrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":active": s(kakaoauth.StatusActive)},
		Limit:                     aws.Int32(limit),
	}
	// after may be negative: a page can end at a claim item (claims.go),
	// whose key is.
	if after != 0 {
		in.ExclusiveStartKey = map[string]types.AttributeValue{AttrKakaoID: n(after)}
	}
	out, err := api.Scan(ctx, in)
	if err != nil {
		return nil, 0, classify("scan active accounts", err)
	}
	for _, item := range out.Items {
		id, err := kakaoIDOf(item)
		if err != nil {
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	if out.LastEvaluatedKey != nil {
		if next, err = kakaoIDOf(out.LastEvaluatedKey); err != nil {
			return nil, 0, err
		}
	}
	return ids, next, nil
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
		item[AttrLastEvent] = encodeEvent(mp.LastEvent, false)
	}
	outbox := mp.Outbox
	if len(outbox) == 0 && mp.EventPending && mp.LastEvent.ID != "" {
		outbox = []kakaoauth.LifecycleEvent{mp.LastEvent}
	}
	if len(outbox) > 0 {
		l := &types.AttributeValueMemberL{}
		for _, e := range outbox {
			l.Value = append(l.Value, encodeEvent(e, true))
		}
		item[AttrOutbox] = l
		item[AttrEventPend] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if mp.Ban != nil {
		item[AttrBan] = encodeBan(*mp.Ban)
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

func encodeBan(b kakaoauth.Ban) types.AttributeValue {
	m := map[string]types.AttributeValue{"at": s(FormatTime(b.At))}
	if !b.Until.IsZero() {
		m["until"] = s(FormatTime(b.Until))
	}
	if b.Reason != "" {
		m["reason"] = s(truncate(b.Reason))
	}
	if b.By != "" {
		m["by"] = s(b.By)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// encodeEvent stores a lifecycle event; withCause adds the request that
// caused it (an outbox entry, which its audit event needs), which
// lastEvent does not keep.
func encodeEvent(e kakaoauth.LifecycleEvent, withCause bool) types.AttributeValue {
	m := map[string]types.AttributeValue{
		"id": s(e.ID), "type": s(e.Type), "time": s(FormatTime(e.Time)), "sub": s(e.Sub),
	}
	for k, v := range map[string]string{"previousSub": e.PreviousSub, "reason": e.Reason} {
		if v != "" {
			m[k] = s(v)
		}
	}
	if !e.Until.IsZero() {
		m["until"] = s(FormatTime(e.Until))
	}
	if withCause {
		c := e.Cause
		for k, v := range map[string]string{"executionId": c.ExecutionID, "sourceIp": c.SourceIP, "userAgent": truncate(c.UserAgent), "actor": c.Actor} {
			if v != "" {
				m[k] = s(v)
			}
		}
		if c.AppID != 0 {
			m["appId"] = n(c.AppID)
		}
	}
	return &types.AttributeValueMemberM{Value: m}
}

func decodeLifecycleEvent(kakaoID int64, v map[string]types.AttributeValue) (kakaoauth.LifecycleEvent, error) {
	e := kakaoauth.LifecycleEvent{
		ID: str(v, "id"), Type: str(v, "type"), KakaoID: kakaoID, Sub: str(v, "sub"),
		PreviousSub: str(v, "previousSub"), Reason: str(v, "reason"),
		Cause: kakaoauth.EventCause{ExecutionID: str(v, "executionId"), SourceIP: str(v, "sourceIp"), UserAgent: str(v, "userAgent"), Actor: str(v, "actor")},
	}
	if a, ok := v["appId"].(*types.AttributeValueMemberN); ok {
		e.Cause.AppID, _ = strconv.ParseInt(a.Value, 10, 64)
	}
	if err := parseTimeAttr(v, "time", &e.Time); err != nil {
		return e, err
	}
	if err := parseTimeAttr(v, "until", &e.Until); err != nil {
		return e, err
	}
	return e, nil
}

// decodeOutbox reads the outbox of a row (entries that do not decode are
// skipped: they could never be sent).
func decodeOutbox(item map[string]types.AttributeValue) []kakaoauth.LifecycleEvent {
	l, ok := item[AttrOutbox].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	id, _ := kakaoIDOf(item)
	var out []kakaoauth.LifecycleEvent
	for _, v := range l.Value {
		if mv, ok := v.(*types.AttributeValueMemberM); ok {
			if e, err := decodeLifecycleEvent(id, mv.Value); err == nil {
				out = append(out, e)
			}
		}
	}
	return out
}

func lastEventID(item map[string]types.AttributeValue) string {
	if ev, ok := item[AttrLastEvent].(*types.AttributeValueMemberM); ok {
		return str(ev.Value, "id")
	}
	return ""
}

func boolAttr(item map[string]types.AttributeValue, name string) bool {
	b, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && b.Value
}

// timeAttr is a stored time, zero when absent or unreadable.
func timeAttr(item map[string]types.AttributeValue, name string) time.Time {
	var t time.Time
	_ = parseTimeAttr(item, name, &t)
	return t
}

func kakaoIDOf(item map[string]types.AttributeValue) (int64, error) {
	idAttr, ok := item[AttrKakaoID].(*types.AttributeValueMemberN)
	if !ok {
		return 0, errors.New("store: mapping item without a numeric kakaoId")
	}
	id, err := strconv.ParseInt(idAttr.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: mapping item: kakaoId: %w", err)
	}
	return id, nil
}

func decodeMapping(item map[string]types.AttributeValue) (kakaoauth.Mapping, error) {
	var mp kakaoauth.Mapping
	id, err := kakaoIDOf(item)
	if err != nil {
		return mp, err
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
		// Issue 19: the recreation window and the row's due work.
		AttrRecreatedSince: &mp.RecreatedSince,
		AttrEmailKeptUntil: &mp.EmailKeptUntil,
		AttrPIIScrubAt:     &mp.PIIScrubAt,
		AttrDueAt:          &mp.DueAt,
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
		if mp.LastEvent, err = decodeLifecycleEvent(id, ev.Value); err != nil {
			return mp, fmt.Errorf("store: mapping %d: lastEvent: %w", id, err)
		}
	}
	mp.Outbox = decodeOutbox(item)
	if len(mp.Outbox) == 0 && boolAttr(item, AttrEventPend) && mp.LastEvent.ID != "" {
		// Written before the outbox was a list: lastEvent was the outbox.
		mp.Outbox = []kakaoauth.LifecycleEvent{mp.LastEvent}
	}
	mp.EventPending = len(mp.Outbox) > 0
	if b, ok := item[AttrBan].(*types.AttributeValueMemberM); ok {
		ban := kakaoauth.Ban{Reason: str(b.Value, "reason"), By: str(b.Value, "by")}
		for name, dst := range map[string]*time.Time{"at": &ban.At, "until": &ban.Until} {
			if err := parseTimeAttr(b.Value, name, dst); err != nil {
				return mp, fmt.Errorf("store: mapping %d: ban: %w", id, err)
			}
		}
		mp.Ban = &ban
	}
	mp.Unlinking = str(item, AttrUnlinking)
	if v, ok := item[AttrRecreations].(*types.AttributeValueMemberN); ok {
		if mp.Recreations, err = strconv.Atoi(v.Value); err != nil {
			return mp, fmt.Errorf("store: mapping %d: %s: %w", id, AttrRecreations, err)
		}
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
