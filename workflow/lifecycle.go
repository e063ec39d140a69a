package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// The account lifecycle, in one place. The login steps, the unlink worker
// and `kakaoauth admin` all change an account's state through the
// functions in this file, and only through them.
//
//	(none) ──first login──▶ active                                   user_created
//	active ──unlink (disable policy)──▶ unlinked                     unlinked
//	unlinked ──login with a token Kakao vouched for after the unlink──▶ active (same user, same sub)   relinked
//	any ──ACCOUNT_DELETE, FORCED_ACCOUNT_DELETE, or any unlink under the delete policy──▶ deleted      deleted
//	deleted, or active/unlinked whose Cognito user is gone ──login──▶ active (new user, new sub)        recreated
//
// Unlinked: the Cognito user is disabled first, then signed out everywhere
// (a login that signed in before the disable holds only tokens the
// sign-out revokes; one after it is refused), and its email is released so
// that it blocks no other account; the mapping keeps the last verified
// email and gives it back on re-link if nobody else took it meanwhile.
// With the hosted UI, the Kakao identity's link to the user goes too (and
// before a deletion), so a hosted-UI sign-in comes back only through the
// PreSignUp trigger, under the same rules as a broker login.
// Deleted: the Cognito user is deleted and the mapping scrubbed of the
// email and the password nonce; the Kakao id, the subs and the times stay
// for auditors.
//
// Every transition is one conditional write of the mapping row, which
// also appends the transition's event, with the request that caused it,
// to the row's outbox. Then its audit event and its bus event go out
// (both idempotent by the event's id) and it leaves the outbox. If that
// second part fails, the sweeper finishes it once the transition's own
// run has had its grace (the row is on the byDue index until then), and
// so does whoever reads the row first (the next login, a redelivered
// unlink, an operator): no transition is ever without its events, each
// audited with its own request, each published with one id.

// eventNamespace scopes the event ids derived from request and execution
// ids.
var eventNamespace = uuid.MustParse("6f2d0c4e-3b8a-5e51-9c07-1d6a2f4b8e90")

// eventID is deterministic: a retried request (a redelivered message, a
// state retried by Step Functions) produces the same event, which the
// audit log and consumers of the bus deduplicate.
func eventID(basis, eventType string) string {
	return uuid.NewSHA1(eventNamespace, []byte(basis+"\x00"+eventType)).String()
}

// auditContext is who and what caused a transition: it travels with the
// transition's event (LifecycleEvent.Cause) into the outbox and its audit
// event.
type auditContext = kakaoauth.EventCause

func loginContext(in LoginState) auditContext {
	return auditContext{ExecutionID: in.Context.ExecutionID, SourceIP: in.Context.SourceIP, UserAgent: in.Context.UserAgent, AppID: in.Subject.AppID}
}

func requestContext(r kakaoauth.UnlinkRequest) auditContext {
	return auditContext{ExecutionID: r.ID, SourceIP: r.SourceIP, UserAgent: r.UserAgent, AppID: r.AppID, Actor: r.Actor}
}

// newEvent is a transition's event; ac is the request that caused it and
// basis its id (an execution's, a request's).
func (s *Steps) newEvent(ac auditContext, basis, eventType string, m kakaoauth.Mapping, reason string) kakaoauth.LifecycleEvent {
	return kakaoauth.LifecycleEvent{
		ID: eventID(basis, eventType), Type: eventType, KakaoID: m.KakaoID, Sub: m.Sub,
		Time: millis(s.now()), Reason: reason, Cause: ac,
	}
}

// finishEvent writes a transition's audit event (with the request that
// caused it) and bus event, then takes it out of the row's outbox. Each
// part is idempotent, so it is safe to run again after any failure, by
// anyone.
func (s *Steps) finishEvent(ctx context.Context, e kakaoauth.LifecycleEvent) error {
	ac := e.Cause
	detail := e.Reason
	if e.PreviousSub != "" {
		detail += " previousSub=" + e.PreviousSub
	}
	if !e.Until.IsZero() {
		detail += " until=" + e.Until.UTC().Format(time.RFC3339)
	}
	if ac.Actor != "" {
		detail += " by=" + ac.Actor
	}
	if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
		ID: e.ID, Time: e.Time, Type: e.Type, Outcome: "success", KakaoID: e.KakaoID, Sub: e.Sub,
		ExecutionID: ac.ExecutionID, SourceIP: ac.SourceIP, UserAgent: ac.UserAgent, AppID: ac.AppID,
		Detail: strings.TrimSpace(detail),
	}); err != nil {
		return fmt.Errorf("audit %s: %w", e.Type, err)
	}
	if s.events == nil {
		return errors.New("no event bus configured: " + e.Type + " not published")
	}
	if err := s.events.Publish(ctx, e); err != nil {
		return fmt.Errorf("publish %s: %w", e.Type, err)
	}
	if err := s.mappings.EventDone(ctx, e.KakaoID, e.ID); err != nil {
		return fmt.Errorf("clear outbox of %s: %w", e.Type, err)
	}
	s.log.InfoContext(ctx, "lifecycle event published", "event", e.Type, "eventId", e.ID, "kakaoId", e.KakaoID, "sub", e.Sub)
	return nil
}

// finishSoon finishes a transition its own run made. The run does not
// fail for it: the transition is done and the outbox keeps its events,
// which the sweeper (or the account's next reader) sends.
func (s *Steps) finishSoon(ctx context.Context, e kakaoauth.LifecycleEvent) {
	if err := s.finishEvent(ctx, e); err != nil {
		s.log.WarnContext(ctx, "lifecycle event left in the outbox", "event", e.Type, "eventId", e.ID, "kakaoId", e.KakaoID, "error", err.Error())
	}
}

// finishPending finishes, oldest first, the transitions earlier runs left
// in the outbox, each audited with its own request. A failure is logged,
// not returned: it belongs to that earlier run, and the sweeper tries
// again. It reports whether the outbox is empty now.
func (s *Steps) finishPending(ctx context.Context, m kakaoauth.Mapping) bool {
	for _, e := range m.Outbox {
		e.KakaoID = m.KakaoID
		if err := s.finishEvent(ctx, e); err != nil {
			s.log.WarnContext(ctx, "lifecycle event still pending", "event", e.Type, "eventId", e.ID, "kakaoId", m.KakaoID, "error", err.Error())
			return false
		}
	}
	return true
}

// Unlink actions of an UnlinkRequest.
const (
	// ActionPolicy (""): Kakao's callback; the referrer type and the
	// stack's unlink policy decide between unlink and deletion.
	ActionPolicy = ""
	ActionUnlink = "unlink"
	ActionDelete = "delete"
)

// deletes reports whether a request deletes the account.
func (s *Steps) deletes(r kakaoauth.UnlinkRequest) bool {
	switch r.Action {
	case ActionUnlink:
		return false
	case ActionDelete:
		return true
	}
	// The Kakao account itself is gone: nothing to come back to.
	if r.ReferrerType == "ACCOUNT_DELETE" || r.ReferrerType == "FORCED_ACCOUNT_DELETE" {
		return true
	}
	return s.unlinkPolicy == UnlinkPolicyDelete
}

// UnlinkOutcome says what UnlinkAccount did.
type UnlinkOutcome string

const (
	UnlinkDone       UnlinkOutcome = "done"       // this request made the transition
	UnlinkFinished   UnlinkOutcome = "finished"   // an earlier try of it did; its events are out now
	UnlinkUnknown    UnlinkOutcome = "unknown"    // no such account: nothing to do
	UnlinkAlready    UnlinkOutcome = "already"    // the account is unlinked or deleted already
	UnlinkStale      UnlinkOutcome = "stale"      // the account became active after the request
	UnlinkSuperseded UnlinkOutcome = "superseded" // another transition won the race
)

// UnlinkAccount carries out an unlink request: Kakao's callback (through
// the queue) or an operator's. It is idempotent per request: run it again
// and it finishes what an earlier run left undone and changes nothing
// more. Cognito is changed before the mapping, so a failure half-way
// leaves the user unable to sign in (the safe side), and the request's
// retry completes it.
func (s *Steps) UnlinkAccount(ctx context.Context, r kakaoauth.UnlinkRequest) (UnlinkOutcome, error) {
	m, err := s.mappings.Get(ctx, r.KakaoID)
	var notFound *kakaoauth.NotFound
	switch {
	case errors.As(err, &notFound):
		// Kakao calls back for users who never logged in here.
		s.log.InfoContext(ctx, "unlink of an unknown kakao account", "kakaoId", r.KakaoID, "referrerType", r.ReferrerType)
		return UnlinkUnknown, nil
	case err != nil:
		return "", err
	}
	deleting := s.deletes(r)
	eventType := kakaoauth.EventUnlinked
	if deleting && !m.Linked() {
		// A linked account's user is never deleted: its link goes,
		// whatever the cause (event unlinked, the mapping deleted).
		eventType = kakaoauth.EventDeleted
	}
	reason := r.ReferrerType
	switch {
	case r.ReferrerType == ReferrerReconciled:
		reason = ReasonReconciled
	case r.Actor != "":
		reason = "admin"
	}
	ac := requestContext(r)
	ev := s.newEvent(ac, r.ID, eventType, m, reason)

	// An earlier try of this very request made the transition.
	if m.LastEvent.ID == ev.ID {
		for _, e := range m.Outbox {
			if e.ID == ev.ID {
				e.KakaoID = m.KakaoID
				return UnlinkFinished, s.finishEvent(ctx, e)
			}
		}
		return UnlinkFinished, nil
	}
	s.finishPending(ctx, m)
	if m.ActiveSince.After(r.ReceivedAt) {
		// Re-linked or recreated after Kakao sent this: a delayed or
		// redelivered request must not undo the person's return.
		s.log.InfoContext(ctx, "stale unlink ignored", "kakaoId", r.KakaoID, "receivedAt", r.ReceivedAt, "activeSince", m.ActiveSince)
		return UnlinkStale, nil
	}

	already := (deleting && m.Status == kakaoauth.StatusDeleted) || (!deleting && m.Status != kakaoauth.StatusActive)
	if m.Linked() {
		// A dormant link (unlinked) may still be forgotten.
		already = m.Status == kakaoauth.StatusDeleted || (!deleting && m.Status == kakaoauth.StatusUnlinked)
	}
	if already {
		return UnlinkAlready, nil
	}
	if err := s.beginUnlink(ctx, m, r); err != nil {
		return "", err
	}
	var changed bool
	switch {
	case m.Linked():
		if changed, err = s.unlinkLinked(ctx, m, r, deleting, ev); err != nil {
			return "", err
		}
	case deleting:
		// The hosted UI's link first, so that it cannot outlive the user;
		// DeleteUser treats a missing user as done.
		if err := s.unlinkFederated(ctx, m); err != nil {
			return "", err
		}
		if err := s.users.DeleteUser(ctx, m.Username); err != nil {
			return "", err
		}
		if changed, err = s.mappings.MarkDeleted(ctx, r.KakaoID, r.ReceivedAt, ev); err != nil {
			return "", err
		}
	default:
		if err := s.disable(ctx, m); err != nil {
			return "", err
		}
		if changed, err = s.mappings.MarkUnlinked(ctx, r.KakaoID, r.ReceivedAt, ev); err != nil {
			return "", err
		}
	}
	if !changed {
		// Another transition got there between the read and the write.
		s.log.InfoContext(ctx, "unlink superseded", "kakaoId", r.KakaoID, "event", eventType)
		return UnlinkSuperseded, nil
	}
	s.log.InfoContext(ctx, "kakao account "+eventType, "kakaoId", r.KakaoID, "sub", m.Sub, "referrerType", r.ReferrerType, "requestId", r.ID)
	return UnlinkDone, s.finishEvent(ctx, ev)
}

// disable shuts an account's Cognito user: disabled first (no new
// sign-in, no refresh), then signed out everywhere (every refresh token
// issued before is revoked), then its email released so that it blocks no
// other account. A user already gone has nothing to shut.
func (s *Steps) disable(ctx context.Context, m kakaoauth.Mapping) error {
	var notFound *kakaoauth.NotFound
	for _, step := range []func() error{
		func() error { return s.users.DisableUser(ctx, m.Username) },
		func() error { return s.users.SignOut(ctx, m.Username) },
		func() error {
			if m.Email == "" {
				return nil
			}
			return s.users.UpdateProfile(ctx, m.Username, "", "")
		},
		// Then the hosted UI's link: the next hosted-UI sign-in is a
		// sign-up again, which only a fresh Kakao authorization turns into
		// a re-link (federation.go), as a broker login would.
		func() error { return s.unlinkFederated(ctx, m) },
	} {
		if err := step(); errors.As(err, &notFound) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}

// unlinkFederated removes the link between the pool's Kakao identity
// provider and the account's user, with the hosted UI on; a missing link
// or user is done already.
func (s *Steps) unlinkFederated(ctx context.Context, m kakaoauth.Mapping) error {
	if s.hosted.Links == nil {
		return nil
	}
	return s.hosted.Links.Unlink(ctx, m.KakaoID, m.Username)
}

// errUserGone says a re-link found no Cognito user to re-enable.
var errUserGone = errors.New("the unlinked account's cognito user no longer exists")

// relink brings an unlinked account back: the same Cognito user, enabled
// again and signed out once more (in case the unlink's sign-out was
// refused for the disabled user), its email restored when verified and
// free. errUserGone when the user was deleted meanwhile. It returns the
// transition's event, for the caller to finish, and the email kept.
func (s *Steps) relink(ctx context.Context, m kakaoauth.Mapping, email, nickname string, ac auditContext, basis, reason string) (kakaoauth.LifecycleEvent, string, error) {
	var none kakaoauth.LifecycleEvent
	var notFound *kakaoauth.NotFound
	if err := s.users.EnableUser(ctx, m.Username); errors.As(err, &notFound) {
		return none, "", errUserGone
	} else if err != nil {
		return none, "", err
	}
	if err := s.users.SignOut(ctx, m.Username); err != nil && !errors.As(err, &notFound) {
		return none, "", err
	}
	if email != "" || nickname != "" {
		// Cognito refuses a verified email another user holds (the alias
		// rule): nothing is looked up before.
		err := s.users.UpdateProfile(ctx, m.Username, email, nickname)
		var conflict *kakaoauth.AccountConflict
		if errors.As(err, &conflict) && email != "" {
			// Someone else has it now: the account comes back without it.
			s.log.InfoContext(ctx, "email not restored on re-link: held by another user", "kakaoId", m.KakaoID)
			email, err = "", nil
			if nickname != "" {
				err = s.users.UpdateProfile(ctx, m.Username, "", nickname)
			}
		}
		if err != nil {
			return none, "", err
		}
	}
	ev := s.newEvent(ac, basis, kakaoauth.EventRelinked, m, reason)
	if err := s.mappings.MarkRelinked(ctx, kakaoauth.Relink{KakaoID: m.KakaoID, UnlinkedAt: m.UnlinkedAt, At: ev.Time, Email: email, Event: ev}); err != nil {
		return ev, "", err
	}
	s.log.InfoContext(ctx, "kakao account relinked", "kakaoId", m.KakaoID, "sub", m.Sub, "emailRestored", email != "")
	return ev, email, nil
}

// RelinkAccount is an operator's re-link of an unlinked account, without
// a Kakao login; the email comes back if it is still free.
func (s *Steps) RelinkAccount(ctx context.Context, kakaoID int64, actor string) error {
	m, err := s.mappings.Get(ctx, kakaoID)
	if err != nil {
		return err
	}
	if m.Status != kakaoauth.StatusUnlinked {
		return fmt.Errorf("kakao account %d is %s, not unlinked", kakaoID, m.Status)
	}
	if m.Ban.ActiveAt(s.now()) {
		return fmt.Errorf("kakao account %d is banned: lift the ban first (kakaoauth admin unban)", kakaoID)
	}
	s.finishPending(ctx, m)
	basis := uuid.NewString()
	ac := auditContext{ExecutionID: basis, Actor: actor}
	if m.Linked() {
		ev, err := s.restoreLink(ctx, m, ac, basis, "admin")
		if err != nil {
			return fmt.Errorf("kakao account %d: %w", kakaoID, err)
		}
		s.finishSoon(ctx, ev)
		return nil
	}
	ev, _, err := s.relink(ctx, m, m.Email, "", ac, basis, "admin")
	if errors.Is(err, errUserGone) {
		return fmt.Errorf("kakao account %d: %w; its next login recreates it", kakaoID, err)
	}
	if err != nil {
		return err
	}
	s.finishSoon(ctx, ev)
	return nil
}

// recreate gives an account a new Cognito user: its user was deleted
// behind the broker's back (an administrator, or the user's own
// DeleteUser), or the account was deleted and the person came back. The
// mapping is re-pointed to the new user, keeping the previous sub. Of
// concurrent recreations one creates and the others adopt its user.
func (s *Steps) recreate(ctx context.Context, in LoginState, m kakaoauth.Mapping) (LoginState, error) {
	out := in
	since, count, err := s.recreationWindow(m)
	if err != nil {
		return out, err
	}
	email := m.Email
	if in.Profile.EmailChecked {
		email = in.Profile.Email
	}
	if m.Linked() {
		// The linked user is gone (deleted by the team), or the link was
		// removed for good: the account starts over as at a first login,
		// and no longer holds that user.
		s.releaseClaim(ctx, m.Sub, m.KakaoID)
		email = in.Profile.Email
	}
	// Created first: Cognito refuses a verified email another user holds.
	user, created, err := s.createOrAdopt(ctx, in, email)
	if refusedCreate(err) {
		if out, ok, rerr := s.byEmailRule(ctx, in, &m); ok || rerr != nil {
			return out, rerr
		}
		var conflict *kakaoauth.AccountConflict
		if !m.Linked() && errors.As(err, &conflict) {
			// kakaoauth's own account coming back: without the email
			// someone else holds now.
			email = ""
			user, created, err = s.createOrAdopt(ctx, in, email)
		}
	}
	if err != nil {
		return out, err
	}
	if user.Sub == m.Sub && m.Status != kakaoauth.StatusDeleted {
		// The user was there after all (the missing answer was stale):
		// carry on as a returning login.
		return s.returning(ctx, in, m, false)
	}
	nonce, err := password.NewNonce()
	if err != nil {
		return out, err
	}
	ev := s.newEvent(loginContext(in), in.Context.ExecutionID, kakaoauth.EventRecreated, m, "login")
	ev.Sub, ev.PreviousSub = user.Sub, m.Sub
	err = s.mappings.Repoint(ctx, kakaoauth.Repoint{KakaoID: m.KakaoID, FromSub: m.Sub, FromStatus: m.Status, User: user, Email: email, Nonce: nonce,
		PepperVersion: s.pepperVersion, At: ev.Time, Event: ev, RecreatedSince: since, Recreations: count + 1})
	var stale *kakaoauth.StaleTransition
	switch {
	case errors.As(err, &stale):
		// A concurrent login re-pointed it first, to this same user.
		cur, gerr := s.mappings.Get(ctx, m.KakaoID)
		if gerr != nil {
			return out, gerr
		}
		if cur.Sub != user.Sub {
			return out, fmt.Errorf("mapping of kakao id %d points at another sub", m.KakaoID)
		}
		return s.signInAs(ctx, in, cur, false), nil
	case err != nil:
		return out, err
	}
	s.log.InfoContext(ctx, "cognito user recreated", "step", "UpsertUser", "kakaoId", m.KakaoID, "sub", user.Sub, "previousSub", m.Sub, "createdHere", created,
		"recreationsInPeriod", count+1)
	s.finishSoon(ctx, ev)
	if in.Profile.EmailChecked {
		in.Profile.Email = email // what the new user got: RecordLogin mirrors it
	}
	cur := m
	cur.Sub, cur.Username, cur.Status = user.Sub, user.Username, kakaoauth.StatusActive
	cur.PasswordNonce, cur.PasswordState, cur.PasswordSetAt, cur.PepperVersion = nonce, kakaoauth.PasswordTemporary, ev.Time, s.pepperVersion
	out = s.signInAs(ctx, in, cur, true)
	out.Subject.Recreated = true
	return out, nil
}
