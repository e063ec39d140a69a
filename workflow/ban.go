package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
)

// Bans. An operator's decision that an account may not sign in is account
// state on the mapping row (Mapping.Ban), not a flag of the Cognito user
// that the lifecycle would undo: a re-link enables the user again, a
// recreation makes a new one, a hosted-UI sign-up goes through PreSignUp.
// So every path that could let the person back in reads the row first
// (UpsertUser, which the broker's login, RecreateUser and PreSignUp all
// run) and answers AccountBanned before any Cognito call; the unlink keeps
// the ban; a deletion keeps the row (no expiry) while it holds; and
// nothing enables the user of a banned account.
//
// Two ways in: `kakaoauth admin ban` (BanAccount), and an administrator's
// disable in Cognito that an unlink finds (the user already disabled while
// the account is active and no unlink is under way: beginUnlink records
// it as a ban, reason BanReasonDisabledInCognito, by "cognito"). A ban
// with an end lifts itself at the first login after it (unbanned, reason
// "expired"); `kakaoauth admin unban` lifts any.
//
// A created account's Cognito user is disabled and signed out while it is
// banned. A linked account's user (one kakaoauth did not create) is never
// disabled, enabled or signed out by kakaoauth: its ban refuses the Kakao
// login (and a link of the Kakao account to anyone, link.go), and removes
// the hosted UI's link of the Kakao identity, which kakaoauth made, so
// that a hosted-UI Kakao sign-in goes through PreSignUp, which refuses it
// too. The person's other sign-ins (password, Apple, Google) are the
// team's, and so are the sessions the broker issued before the ban: they
// last until they expire, unless the team signs the user out.

// ownsUser reports whether kakaoauth created the account's Cognito user
// (kakao_<id>, not a linked one), and so may disable, enable or delete it.
func ownsUser(m kakaoauth.Mapping) bool {
	return !m.Linked() && m.Username == kakaoauth.Username(m.KakaoID)
}

// Reasons of lifecycle events that are not Kakao's referrer types.
const (
	ReasonExpired    = "expired"
	ReasonReconciled = "reconciled"
	ReasonCognito    = "cognito-disabled"
)

// ReferrerReconciled is the referrer type of the unlinks the reconciler
// applies (Kakao's callback for them was lost).
const ReferrerReconciled = "RECONCILED"

// checkBan refuses the login of a banned account (AccountBanned), before
// any Cognito call. A ban whose end has passed is lifted first, and the
// login goes on.
func (s *Steps) checkBan(ctx context.Context, m kakaoauth.Mapping, ac auditContext) error {
	if m.Ban == nil {
		return nil
	}
	if m.Ban.ActiveAt(s.now()) {
		s.log.InfoContext(ctx, "login of a banned account refused", "step", "UpsertUser", "kakaoId", m.KakaoID, "until", m.Ban.Until)
		return &kakaoauth.AccountBanned{KakaoID: m.KakaoID}
	}
	return s.liftBan(ctx, m, ac, ac.ExecutionID, ReasonExpired)
}

// liftBan removes m's ban: the Cognito user of an active created account
// is enabled first (so that a failure half-way leaves the ban, which the
// next try lifts again, rather than a user nothing will enable).
func (s *Steps) liftBan(ctx context.Context, m kakaoauth.Mapping, ac auditContext, basis, reason string) error {
	if m.Status == kakaoauth.StatusActive && ownsUser(m) {
		var notFound *kakaoauth.NotFound
		if err := s.users.EnableUser(ctx, m.Username); err != nil && !errors.As(err, &notFound) {
			return err
		}
	}
	ev := s.newEvent(ac, basis, kakaoauth.EventUnbanned, m, reason)
	err := s.mappings.LiftBan(ctx, m.KakaoID, m.Ban.At, ev)
	var stale *kakaoauth.StaleTransition
	if errors.As(err, &stale) {
		return nil // lifted (or replaced) meanwhile
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "ban lifted", "kakaoId", m.KakaoID, "reason", reason, "sub", m.Sub)
	s.finishSoon(ctx, ev)
	return nil
}

// BanAccount is an operator's ban (kakaoauth admin ban): until zero bans
// until lifted. The ban is recorded first, so that a login racing it is
// refused from then on; then a created account's Cognito user, if active,
// is disabled and signed out everywhere (its refresh tokens revoked); an
// active linked account loses only its hosted-UI link.
// Banning again with the same end and reason only finishes that work.
func (s *Steps) BanAccount(ctx context.Context, kakaoID int64, until time.Time, reason, actor string) error {
	m, err := s.mappings.Get(ctx, kakaoID)
	if err != nil {
		return err
	}
	now := millis(s.now())
	if !until.IsZero() && !until.After(now) {
		return fmt.Errorf("kakao account %d: a ban must end in the future", kakaoID)
	}
	s.finishPending(ctx, m)
	if b := m.Ban; b == nil || !b.Until.Equal(until) || b.Reason != reason || !b.ActiveAt(now) {
		basis := uuid.NewString()
		ban := kakaoauth.Ban{At: now, Until: millisOrZero(until), Reason: reason, By: actor}
		ev := s.newEvent(auditContext{ExecutionID: basis, Actor: actor}, basis, kakaoauth.EventBanned, m, "admin")
		ev.Until = ban.Until
		if err := s.mappings.SetBan(ctx, kakaoID, ban, ev); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "kakao account banned", "kakaoId", kakaoID, "sub", m.Sub, "until", ban.Until)
		s.finishSoon(ctx, ev)
	}
	if m.Status != kakaoauth.StatusActive {
		return nil
	}
	if !ownsUser(m) {
		if err := s.unlinkFederated(ctx, m); err != nil {
			return fmt.Errorf("kakao account %d is banned, but its hosted-UI link is not removed yet (run the ban again): %w", kakaoID, err)
		}
		return nil
	}
	var notFound *kakaoauth.NotFound
	for _, step := range []func() error{
		func() error { return s.users.DisableUser(ctx, m.Username) },
		func() error { return s.users.SignOut(ctx, m.Username) },
	} {
		if err := step(); errors.As(err, &notFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("kakao account %d is banned, but its Cognito user is not shut yet (run the ban again): %w", kakaoID, err)
		}
	}
	return nil
}

// UnbanAccount lifts an operator's ban (kakaoauth admin unban); an active
// created account's Cognito user is enabled again. It reports false when
// the account had no ban.
func (s *Steps) UnbanAccount(ctx context.Context, kakaoID int64, actor string) (bool, error) {
	m, err := s.mappings.Get(ctx, kakaoID)
	if err != nil {
		return false, err
	}
	if m.Ban == nil {
		return false, nil
	}
	s.finishPending(ctx, m)
	basis := uuid.NewString()
	return true, s.liftBan(ctx, m, auditContext{ExecutionID: basis, Actor: actor}, basis, "admin")
}

func millisOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return millis(t)
}

// beginUnlink marks unlink request r under way on m's row, before it
// changes Cognito. First it looks at the created user: disabled while the
// account is active, unbanned, and no unlink under way means an
// administrator disabled it, and the person's return must not undo that:
// it is recorded as a ban. (A disabled user with an unlink under way is
// that unlink's own earlier try, which must not count.)
func (s *Steps) beginUnlink(ctx context.Context, m kakaoauth.Mapping, r kakaoauth.UnlinkRequest) error {
	if m.Unlinking == r.ID {
		return nil
	}
	if m.Status == kakaoauth.StatusActive && m.Ban == nil && m.Unlinking == "" && ownsUser(m) {
		u, err := s.users.GetUser(ctx, m.Username)
		var notFound *kakaoauth.NotFound
		switch {
		case errors.As(err, &notFound):
		case err != nil:
			return err
		case !u.Enabled:
			ban := kakaoauth.Ban{At: millis(s.now()), Reason: kakaoauth.BanReasonDisabledInCognito, By: "cognito"}
			ac := requestContext(r)
			ev := s.newEvent(ac, r.ID, kakaoauth.EventBanned, m, ReasonCognito)
			inferred, err := s.mappings.InferBan(ctx, m.KakaoID, ban, ev)
			if err != nil {
				return err
			}
			if inferred {
				s.log.InfoContext(ctx, "the unlinked account's user was disabled in Cognito: kept as a ban", "kakaoId", m.KakaoID, "sub", m.Sub)
				s.finishSoon(ctx, ev)
			}
		}
	}
	return s.mappings.BeginUnlink(ctx, m.KakaoID, r.ID)
}

// RecreationLimit bounds how often one account's Cognito user may be
// recreated (deleted behind the broker's back, or the account deleted
// and back): at most Max recreations per Period; Max 0 is no limit.
type RecreationLimit struct {
	Max    int
	Period time.Duration
}

// DefaultRecreationLimit is the template's default.
var DefaultRecreationLimit = RecreationLimit{Max: 3, Period: 24 * time.Hour}

// WithRecreationLimit overrides DefaultRecreationLimit.
func WithRecreationLimit(l RecreationLimit) Option { return func(s *Steps) { s.recreation = l } }

// recreationWindow is the window a recreation of m counts in and how many
// it holds already; *RecreateLimitReached when it is full.
func (s *Steps) recreationWindow(m kakaoauth.Mapping) (time.Time, int, error) {
	now := millis(s.now())
	since, count := m.RecreatedSince, m.Recreations
	if since.IsZero() || now.Sub(since) >= s.recreation.Period {
		since, count = now, 0
	}
	if s.recreation.Max > 0 && count >= s.recreation.Max {
		return since, count, &kakaoauth.RecreateLimitReached{KakaoID: m.KakaoID}
	}
	return since, count, nil
}
