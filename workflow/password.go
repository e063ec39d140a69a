package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// pollInterval is how often SetPassword re-reads a mapping whose nonce
// another login is applying.
const pollInterval = 100 * time.Millisecond

// SetPassword makes sure Cognito holds a password this login can derive,
// and outputs its nonce (never the password). It runs when UpsertUser
// found no ready password, and again (repair mode, in.Error set) after a
// sign-in that lost a race.
//
// AdminSetUserPassword has a small, fixed quota, so at most one login
// calls it per nonce: the one whose conditional claim of a fresh nonce
// wins, and at most once per login (PasswordState.Set). The others use the
// nonce as it is, waiting briefly (reading DynamoDB, not calling Cognito)
// while a claimant is applying it. A claimant whose call fails marks the
// nonce failed, so the next login claims a fresh one at once instead of
// paying a failed sign-in: a throttled set is repaired by the next run
// without more sign-ins.
func (s *Steps) SetPassword(ctx context.Context, in LoginState) (_ LoginState, err error) {
	ctx, done, err := withinBudget(ctx, in.Context, "SetPassword")
	if err != nil {
		return in, err
	}
	defer done(&err)
	out := in
	out.Error = nil
	var failed *PasswordState // the password a sign-in was just refused with
	p := in.Password
	if in.Error != nil {
		// Repair: another login changed the password (or has not set it
		// yet) since UpsertUser read the mapping.
		failed = &in.Password
		m, err := s.mappings.Get(ctx, in.Subject.KakaoID)
		if err != nil {
			return out, err
		}
		if m.Status != kakaoauth.StatusActive {
			return out, &kakaoauth.AccountUnlinked{KakaoID: m.KakaoID}
		}
		p = s.passwordOf(m)
		p.Set = in.Password.Set
	}
	claimed := false
	for range 3 {
		switch s.decide(p, failed, in.Error != nil) {
		case planUse:
			p.Ready = true
			out.Password = p
			s.log.InfoContext(ctx, "password ready", "step", "SetPassword", "kakaoId", in.Subject.KakaoID, "sub", in.Subject.Sub,
				"cognitoPasswordSet", p.Set, "temporary", p.Temporary, "repair", failed != nil)
			return out, nil
		case planPermanent:
			p.Temporary, p.Ready = false, true
			out.Password = p
			return out, nil
		case planWait:
			var err error
			if p, err = s.waitApplied(ctx, in.Subject.KakaoID, p); err != nil {
				return out, err
			}
			continue
		case planClaim:
			if p.Set || claimed {
				// This login has had its one AdminSetUserPassword (or lost a
				// claim already): the client may try again shortly.
				return out, &kakaoauth.PasswordRotated{Username: in.Subject.Username}
			}
			claimed = true
			next, err := s.claimAndSet(ctx, in.Subject, p)
			var changed *kakaoauth.NonceChanged
			switch {
			case errors.As(err, &changed):
				// Another login claimed first: use its nonce.
				m, gerr := s.mappings.Get(ctx, in.Subject.KakaoID)
				if gerr != nil {
					return out, gerr
				}
				p = s.passwordOf(m)
				continue
			case err != nil:
				return out, err
			}
			p = next
		}
	}
	// Still pending after waiting, and no claim left: let IssueTokens try.
	p.Ready = true
	out.Password = p
	return out, nil
}

type passwordPlan int

const (
	planUse       passwordPlan = iota // sign in with p as it is
	planPermanent                     // p's nonce, but its derived password, not the temporary one
	planWait                          // another login is applying p: wait for it
	planClaim                         // install a fresh nonce and set its password
)

// decide picks how to get a working password from the mapping's state p,
// given the password a sign-in was just refused with (failed, in repair).
func (s *Steps) decide(p PasswordState, failed *PasswordState, repair bool) passwordPlan {
	age := s.now().Sub(p.SetAt)
	sameAsFailed := failed != nil && failed.Nonce == p.Nonce
	_, held := s.pepperOf(p.PepperVersion)
	switch {
	case p.Nonce == "" || p.State == kakaoauth.PasswordFailed:
		return planClaim
	case p.State == kakaoauth.PasswordPending:
		if age < s.applyGrace {
			return planWait
		}
		return planClaim // abandoned by a claimant that died
	case !held:
		// A pepper version this function does not hold (retired by an
		// operator): nothing here can derive the password Cognito has.
		return planClaim
	case p.State == kakaoauth.PasswordTemporary:
		if !sameAsFailed || !failed.Temporary {
			return planUse
		}
		// The temporary password was refused: a concurrent first sign-in
		// has just replaced it with the derived one, or (long after) the
		// user has some other password, which only a set repairs.
		if age < s.applyGrace {
			return planPermanent
		}
		return planClaim
	default: // applied
		if sameAsFailed && !failed.Temporary {
			// Cognito refused the password the mapping says it holds: it
			// was changed behind the broker's back.
			return planClaim
		}
		if !repair && s.rotationDue(p.SetAt) {
			return planClaim
		}
		return planUse
	}
}

// waitApplied re-reads the mapping while another login applies nonce
// p.Nonce, until it is applied, fails, is replaced, or the grace runs out.
func (s *Steps) waitApplied(ctx context.Context, kakaoID int64, p PasswordState) (PasswordState, error) {
	deadline := p.SetAt.Add(s.applyGrace)
	for s.now().Before(deadline) {
		if err := s.sleep(ctx, pollInterval); err != nil {
			return p, err
		}
		m, err := s.mappings.Get(ctx, kakaoID)
		if err != nil {
			return p, err
		}
		if m.Status != kakaoauth.StatusActive {
			return p, &kakaoauth.AccountUnlinked{KakaoID: kakaoID}
		}
		next := s.passwordOf(m)
		next.Set = p.Set
		if next.Nonce != p.Nonce || next.State != kakaoauth.PasswordPending {
			return next, nil
		}
	}
	// Abandoned: past the grace, decide claims it.
	return p, nil
}

// claimAndSet installs a fresh nonce (conditional on p being current) and
// sets its password: the one AdminSetUserPassword of this login. A failed
// set marks the nonce failed, so nobody signs in against it.
func (s *Steps) claimAndSet(ctx context.Context, subj Subject, p PasswordState) (PasswordState, error) {
	next, err := password.NewNonce()
	if err != nil {
		return p, err
	}
	now := millis(s.now())
	// A fresh nonce derives with the current pepper: this is how a rotated
	// pepper takes over, one nonce rotation at a time.
	err = s.mappings.ClaimPassword(ctx, subj.KakaoID, kakaoauth.PasswordClaim{Nonce: p.Nonce, State: p.State}, next, s.pepperVersion, now)
	var notActive *kakaoauth.NotActive
	if errors.As(err, &notActive) {
		return p, &kakaoauth.AccountUnlinked{KakaoID: subj.KakaoID}
	}
	if err != nil {
		return p, err
	}
	claimed := PasswordState{Nonce: next, PepperVersion: s.pepperVersion, State: kakaoauth.PasswordPending, SetAt: now, Set: true}
	if err := s.users.SetPassword(ctx, subj.Username, password.Derive(s.pepper, subj.Sub, next)); err != nil {
		if merr := s.mappings.SetPasswordState(context.WithoutCancel(ctx), subj.KakaoID, next, kakaoauth.PasswordFailed); merr != nil {
			s.log.WarnContext(ctx, "could not mark a failed password nonce", "step", "SetPassword", "kakaoId", subj.KakaoID, "error", merr.Error())
		}
		var notFound *kakaoauth.NotFound
		if errors.As(err, &notFound) {
			return claimed, &kakaoauth.UserMissing{Username: subj.Username}
		}
		return claimed, err
	}
	claimed.State = kakaoauth.PasswordApplied
	if err := s.mappings.SetPasswordState(ctx, subj.KakaoID, next, kakaoauth.PasswordApplied); err != nil {
		// Cognito has the password; the next login that signs in with it
		// records it applied (RecordLogin), so this costs nothing but a log.
		s.log.WarnContext(ctx, "could not mark a password nonce applied", "step", "SetPassword", "kakaoId", subj.KakaoID, "error", err.Error())
	}
	return claimed, nil
}
