package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// Linked accounts: a Kakao account linked to a user of the pool that
// kakaoauth did not create (the team's own users: email and password,
// Apple, Google). Three things may link: the signed-in user (POST
// /auth/kakao/link, linkapi.go), an operator (`kakaoauth admin link`), and
// the verified-email rule at a Kakao login (off by default). All three go
// through link below; docs/linking.md says when each is safe.
//
// Invariants:
//   - One Kakao account, one user: the mapping is keyed by the Kakao id.
//   - One user, one Kakao account: a claim on the user (MappingStore.
//     ClaimUser), taken before the mapping is written, so two Kakao
//     accounts racing to link one user end with one link.
//   - kakaoauth never sets, derives or resets a linked user's password,
//     never changes its attributes, never disables or deletes it. Its
//     Kakao login is CUSTOM_AUTH answered with a proof only the broker
//     makes (challenge.go); its own password keeps working.

// claimGrace is how long a claim is respected even when its holder's
// mapping does not point at the user: a link takes the claim, then writes
// its mapping within one request. A claim older than this without its
// mapping was left by a link that died, and may be taken over.
const claimGrace = time.Minute

// link links Kakao account kakaoID to pool user u (one kakaoauth did not
// create), reason being who asked ("user", "admin", "email"). It returns
// the mapping and the transition's event, for the caller to finish (its
// ID is empty when the account was linked to u already: nothing changed).
// basis makes the event's id (the request or execution id).
func (s *Steps) link(ctx context.Context, kakaoID int64, u kakaoauth.CognitoUser, reason, basis string, ac auditContext) (kakaoauth.Mapping, kakaoauth.LifecycleEvent, error) {
	var none kakaoauth.LifecycleEvent
	if kakaoauth.CreatedByKakaoauth(u) {
		// Such a user is its Kakao account: only that one is "linked" to it.
		if u.KakaoID == kakaoID {
			if m, err := s.mappings.Get(ctx, kakaoID); err == nil && m.Sub == u.Sub && m.Status == kakaoauth.StatusActive {
				return m, none, nil
			}
		}
		return kakaoauth.Mapping{}, none, &kakaoauth.UserAlreadyLinked{Sub: u.Sub}
	}
	if !u.Enabled {
		return kakaoauth.Mapping{}, none, &kakaoauth.AccountDisabled{Username: u.Username}
	}
	if why := customAuthRefusal(u.Status); why != "" {
		// Its Kakao login could never sign it in: say so now, not at
		// every login.
		return kakaoauth.Mapping{}, none, &kakaoauth.KakaoSignInUnavailable{Username: u.Username, Reason: why}
	}
	// Two rounds at most: a concurrent login or link that wins the
	// mapping's conditional write is looked at once more.
	for range 2 {
		m, err := s.mappings.Get(ctx, kakaoID)
		var notFound *kakaoauth.NotFound
		var prev *kakaoauth.Mapping
		switch {
		case errors.As(err, &notFound):
		case err != nil:
			return kakaoauth.Mapping{}, none, err
		case m.Ban.ActiveAt(s.now()):
			// A ban is the Kakao account's, whatever user it would reach:
			// linking it elsewhere must not get it back in.
			return kakaoauth.Mapping{}, none, &kakaoauth.AccountBanned{KakaoID: kakaoID}
		case m.Status == kakaoauth.StatusActive && m.Linked() && m.Sub == u.Sub:
			return m, none, nil // linked already
		case m.Status == kakaoauth.StatusActive, m.Status == kakaoauth.StatusUnlinked && !m.Linked():
			// Its own kakaoauth user (even a disabled, unlinked one), or
			// another linked user: kakaoauth never merges two users.
			return kakaoauth.Mapping{}, none, &kakaoauth.KakaoAccountInUse{KakaoID: kakaoID}
		default:
			// Deleted, or a link an unlink left dormant: the account is free.
			prev = &m
			s.finishPending(ctx, m)
		}
		if err := s.claim(ctx, u.Sub, kakaoID); err != nil {
			return kakaoauth.Mapping{}, none, err
		}
		now := millis(s.now())
		cur := kakaoauth.Mapping{
			KakaoID: kakaoID, Sub: u.Sub, Username: u.Username, Kind: kakaoauth.KindLinked,
			Status: kakaoauth.StatusActive, CreatedAt: now, ActiveSince: now,
		}
		ev := s.newEvent(ac, basis, kakaoauth.EventLinked, cur, reason)
		if prev == nil {
			cur.LastEvent, cur.EventPending = ev, true
			err = s.mappings.Create(ctx, cur)
		} else {
			if prev.Sub != u.Sub {
				ev.PreviousSub = prev.Sub
			}
			err = s.mappings.Repoint(ctx, kakaoauth.Repoint{KakaoID: kakaoID, FromSub: prev.Sub, FromStatus: prev.Status, User: u,
				Kind: kakaoauth.KindLinked, At: now, Event: ev})
			cur.CreatedAt, cur.PreviousSubs = prev.CreatedAt, prev.PreviousSubs
		}
		var exists *kakaoauth.MappingExists
		var stale *kakaoauth.StaleTransition
		if errors.As(err, &exists) || errors.As(err, &stale) {
			s.releaseClaim(ctx, u.Sub, kakaoID)
			continue
		}
		if err != nil {
			// The write may have landed all the same (a timeout, the
			// request's deadline): then the claim is half of a link made,
			// and freeing it would let a second Kakao account claim the
			// user. It stays: if the mapping landed, the link is complete
			// (its event in the outbox, for the sweeper) and a retry
			// answers "linked already"; if not, this account's retry takes
			// the claim again, and another account after claimGrace.
			s.log.WarnContext(ctx, "link's mapping write failed; its claim is kept", "kakaoId", kakaoID, "sub", u.Sub, "error", err.Error())
			return kakaoauth.Mapping{}, none, err
		}
		s.log.InfoContext(ctx, "kakao account linked", "kakaoId", kakaoID, "sub", u.Sub, "reason", reason, "previousSub", ev.PreviousSub)
		return cur, ev, nil
	}
	return kakaoauth.Mapping{}, none, &kakaoauth.KakaoAccountInUse{KakaoID: kakaoID}
}

// Cognito's user statuses that its custom flow cannot sign in: a user of
// another provider (the API signs in no federated user), one not
// confirmed, one that must reset its password.
const (
	userStatusExternal      = "EXTERNAL_PROVIDER"
	userStatusUnconfirmed   = "UNCONFIRMED"
	userStatusResetRequired = "RESET_REQUIRED"
)

// customAuthRefusal says why Cognito will not sign a user of that status
// in through CUSTOM_AUTH ("": it will, as far as the status tells).
func customAuthRefusal(status string) string {
	switch status {
	case userStatusExternal:
		return "the user signs in through another provider (" + status + ")"
	case userStatusUnconfirmed:
		return "the user is not confirmed (" + status + ")"
	case userStatusResetRequired:
		return "the user must reset its password (" + status + ")"
	}
	return ""
}

// claim takes the claim on user sub for kakaoID. A claim another Kakao
// account holds is respected while that account's mapping points at the
// user as an active link, or while it is younger than claimGrace (its
// link may be writing its mapping now); otherwise it was left by a link
// that died, or by a link since removed, and is taken over (conditional on
// still being that holder's).
func (s *Steps) claim(ctx context.Context, sub string, kakaoID int64) error {
	err := s.mappings.ClaimUser(ctx, sub, kakaoID, 0, millis(s.now()))
	var held *kakaoauth.UserClaimed
	if !errors.As(err, &held) {
		return err
	}
	taken := &kakaoauth.UserAlreadyLinked{Sub: sub}
	if s.now().Sub(held.At) < claimGrace {
		return taken
	}
	hm, err := s.mappings.Get(ctx, held.KakaoID)
	var notFound *kakaoauth.NotFound
	switch {
	case err == nil && hm.Linked() && hm.Sub == sub && hm.Status == kakaoauth.StatusActive:
		return taken
	case err != nil && !errors.As(err, &notFound):
		return err
	}
	s.log.InfoContext(ctx, "stale claim taken over", "sub", sub, "kakaoId", kakaoID, "staleHolder", held.KakaoID)
	if err := s.mappings.ClaimUser(ctx, sub, kakaoID, held.KakaoID, millis(s.now())); errors.As(err, &held) {
		return taken
	} else if err != nil {
		return err
	}
	return nil
}

// releaseClaim frees kakaoID's claim on sub. A failure is only logged: a
// claim whose holder no longer links the user is taken over when someone
// needs it (claim).
func (s *Steps) releaseClaim(ctx context.Context, sub string, kakaoID int64) {
	if err := s.mappings.ReleaseUser(context.WithoutCancel(ctx), sub, kakaoID); err != nil {
		s.log.WarnContext(ctx, "could not release a claim; it is taken over when needed", "sub", sub, "kakaoId", kakaoID, "error", err.Error())
	}
}

// signInLinked points the state at linked mapping m's user: IssueTokens
// signs it in through CUSTOM_AUTH, with no password (PasswordReady goes
// straight on).
func (s *Steps) signInLinked(in LoginState, m kakaoauth.Mapping) LoginState {
	out := in
	out.Error, out.Recreate = nil, false
	out.Subject.Sub, out.Subject.Username, out.Subject.NewUser, out.Subject.Linked = m.Sub, m.Username, false, true
	out.Password = PasswordState{Ready: true}
	return out
}

// relinkLinked brings back a link an unlink left dormant, for a Kakao
// login Kakao vouched for after that unlink: the same user, if no other
// Kakao account has been linked to it meanwhile (then the account starts
// over, as a first login). Nothing of the user is touched; a user deleted
// meanwhile shows at the sign-in (UserMissing, then RecreateUser).
func (s *Steps) relinkLinked(ctx context.Context, in LoginState, m kakaoauth.Mapping) (LoginState, error) {
	ev, err := s.restoreLink(ctx, m, loginContext(in), in.Context.ExecutionID, "login")
	var taken *kakaoauth.UserAlreadyLinked
	var stale *kakaoauth.StaleTransition
	switch {
	case errors.As(err, &taken):
		s.log.InfoContext(ctx, "dormant link not restored: its user has another Kakao account now", "kakaoId", m.KakaoID, "sub", m.Sub)
		return s.recreate(ctx, in, m)
	case errors.As(err, &stale):
		// A concurrent login restored it first.
		cur, gerr := s.mappings.Get(ctx, m.KakaoID)
		if gerr != nil {
			return in, gerr
		}
		if cur.Status != kakaoauth.StatusActive || !cur.Linked() {
			return in, &kakaoauth.AccountUnlinked{KakaoID: m.KakaoID}
		}
		return s.signInLinked(in, cur), nil
	case err != nil:
		return in, err
	}
	s.finishSoon(ctx, ev)
	m.Status = kakaoauth.StatusActive
	return s.signInLinked(in, m), nil
}

// restoreLink makes a dormant link active again (relinked): the claim on
// its user first (*UserAlreadyLinked when another Kakao account holds it
// now), then the mapping, conditional on the unlink the caller saw
// (*StaleTransition otherwise).
func (s *Steps) restoreLink(ctx context.Context, m kakaoauth.Mapping, ac auditContext, basis, reason string) (kakaoauth.LifecycleEvent, error) {
	var none kakaoauth.LifecycleEvent
	if err := s.claim(ctx, m.Sub, m.KakaoID); err != nil {
		return none, err
	}
	ev := s.newEvent(ac, basis, kakaoauth.EventRelinked, m, reason)
	if err := s.mappings.MarkRelinked(ctx, kakaoauth.Relink{KakaoID: m.KakaoID, UnlinkedAt: m.UnlinkedAt, At: ev.Time, Event: ev}); err != nil {
		// The claim stays, as link keeps it: a lost race (stale) left it
		// to the winner, the same account; any other failure may have
		// landed. Not landed, it is this account's to take again, and
		// another's after claimGrace (its mapping is not an active link).
		return none, err
	}
	s.log.InfoContext(ctx, "kakao account relinked", "kakaoId", m.KakaoID, "sub", m.Sub, "kind", m.Kind)
	return ev, nil
}

// unlinkLinked ends a linked account's link: for an unlink it goes dormant
// (the mapping unlinked; the person's next fresh Kakao login restores
// it), for a deletion it is forgotten (the mapping deleted and scrubbed;
// a later Kakao login starts over). The user is the team's: never
// disabled, signed out or deleted. Only what kakaoauth made goes: the
// hosted UI's identity link, the claim on the user.
func (s *Steps) unlinkLinked(ctx context.Context, m kakaoauth.Mapping, r kakaoauth.UnlinkRequest, deleting bool, ev kakaoauth.LifecycleEvent) (bool, error) {
	if err := s.unlinkFederated(ctx, m); err != nil {
		return false, err
	}
	var changed bool
	var err error
	if deleting {
		changed, err = s.mappings.MarkDeleted(ctx, r.KakaoID, r.ReceivedAt, ev)
	} else {
		changed, err = s.mappings.MarkUnlinked(ctx, r.KakaoID, r.ReceivedAt, ev)
	}
	if err == nil && changed {
		s.releaseClaim(ctx, m.Sub, m.KakaoID)
	}
	return changed, err
}

// byEmailRule is the verified-email rule at a Kakao login whose user
// Cognito refused to create (refused: *AccountConflict, the email is
// another user's; *AccountNotLinked, the pool creates no users): with
// the rule on and a valid, verified Kakao email, the account is linked to
// the one user of the pool that has that email verified, is enabled and
// is not kakaoauth's, and the login signs in as that user. ok is false
// when the rule does not apply; the caller then answers refused. prev is
// the account's mapping when it has one (deleted, or a dormant link).
func (s *Steps) byEmailRule(ctx context.Context, in LoginState, prev *kakaoauth.Mapping) (out LoginState, ok bool, err error) {
	email := in.Profile.Email
	if !s.linkByEmail || email == "" {
		return in, false, nil
	}
	owners, err := s.users.FindByEmail(ctx, email)
	if err != nil {
		return in, false, err
	}
	var owner *kakaoauth.CognitoUser
	for i, u := range owners {
		if !u.EmailVerified || !u.Enabled || kakaoauth.CreatedByKakaoauth(u) {
			continue
		}
		if owner != nil {
			// Two users with one verified email (a pool that does not
			// keep emails unique): nobody is "the" owner.
			return in, false, nil
		}
		owner = &owners[i]
	}
	switch {
	case owner == nil:
		return in, false, nil
	case prev != nil && prev.Linked() && prev.Sub == owner.Sub && prev.Status == kakaoauth.StatusDeleted:
		// The person removed this very link: the rule does not put it back.
		return in, false, nil
	}
	m, ev, err := s.link(ctx, in.Subject.KakaoID, *owner, "email", in.Context.ExecutionID, loginContext(in))
	var inUse *kakaoauth.KakaoAccountInUse
	var taken *kakaoauth.UserAlreadyLinked
	if errors.As(err, &inUse) || errors.As(err, &taken) {
		return in, false, nil
	}
	if err != nil {
		return in, false, err
	}
	if ev.ID != "" {
		s.finishSoon(ctx, ev)
	}
	return s.signInLinked(in, m), true, nil
}

// LinkUser is an operator's link (`kakaoauth admin link`, for migrations):
// Kakao account kakaoID to the pool user username, without a Kakao login
// or the user's session; audited with the operator. created says a
// transition happened (false: linked so already).
func (s *Steps) LinkUser(ctx context.Context, kakaoID int64, username, actor string) (m kakaoauth.Mapping, created bool, err error) {
	if kakaoID <= 0 {
		return m, false, fmt.Errorf("invalid kakao id %d", kakaoID)
	}
	u, err := s.users.GetUser(ctx, username)
	if err != nil {
		return m, false, err
	}
	basis := uuid.NewString()
	m, ev, err := s.link(ctx, kakaoID, u, "admin", basis, auditContext{ExecutionID: basis, Actor: actor})
	if err != nil || ev.ID == "" {
		return m, false, err
	}
	// From an operator's machine the stack's bus may refuse the event (it
	// takes events from the stack's functions only): the outbox keeps it
	// for the sweeper.
	s.finishSoon(ctx, ev)
	return m, true, nil
}

// issueLinked signs a linked user in through CUSTOM_AUTH: Cognito's
// CreateAuthChallenge trigger issues a random challenge, answered with a
// proof (proof key, the user's sub, the broker's client, that challenge, a
// short expiry) that only the broker can make and the VerifyAuthChallenge
// trigger checks.
func (s *Steps) issueLinked(ctx context.Context, subj Subject) (kakaoauth.CognitoTokens, error) {
	if len(s.proofKey) == 0 {
		return kakaoauth.CognitoTokens{}, errors.New("IssueTokens: no proof key configured")
	}
	expires := s.now().Add(s.proofTTL)
	tokens, err := s.users.SignInWithChallenge(ctx, kakaoauth.ChallengeSignIn{
		Username: subj.Username,
		Answer: func(clientID, challenge string) (string, error) {
			return password.ChallengeProof(s.proofKey, subj.Sub, clientID, challenge, expires), nil
		},
	})
	var refused *kakaoauth.ChallengeRefused
	if errors.As(err, &refused) {
		// The app client answers a missing user as a wrong answer, and
		// Cognito refuses a user its custom flow cannot sign in (another
		// provider's, since the link) without saying why: one
		// AdminGetUser tells which (a missing user starts over).
		u, gerr := s.users.GetUser(ctx, subj.Username)
		var notFound *kakaoauth.NotFound
		switch {
		case errors.As(gerr, &notFound):
			return tokens, gerr
		case gerr != nil:
			s.log.WarnContext(ctx, "could not tell a refused custom sign-in from a missing user", "step", "IssueTokens", "kakaoId", subj.KakaoID, "error", gerr.Error())
		case customAuthRefusal(u.Status) != "":
			return tokens, &kakaoauth.KakaoSignInUnavailable{Username: subj.Username, Reason: customAuthRefusal(u.Status)}
		}
	}
	return tokens, err
}
