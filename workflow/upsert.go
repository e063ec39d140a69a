package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// UpsertUser finds or creates the Cognito user of the Kakao account and
// its mapping, reading the mapping once, and says how IssueTokens will
// sign in (PasswordState), so that a returning login whose password is in
// place goes straight to IssueTokens. The Kakao id is the identity; the
// email is only an attribute.
//
// It also runs the lifecycle transitions a login causes (lifecycle.go):
// a first login creates the user (user_created), or, under the
// verified-email rule, links the user with that email (linked; link.go);
// a fresh login of an unlinked account re-links it (relinked), and a
// login of a deleted account, or of one whose Cognito user is gone (as
// RecreateUser, after UserMissing), gives it a new user (recreated). A
// linked account's user is never changed here: it signs in through
// CUSTOM_AUTH.
func (s *Steps) UpsertUser(ctx context.Context, in LoginState) (_ LoginState, err error) {
	ctx, done, err := withinBudget(ctx, in.Context, "UpsertUser")
	if err != nil {
		return in, err
	}
	defer done(&err)
	in.Error = nil
	m, err := s.mappings.Get(ctx, in.Subject.KakaoID)
	var notFound *kakaoauth.NotFound
	switch {
	case errors.As(err, &notFound) && !in.Recreate:
		return s.firstLogin(ctx, in)
	case err != nil:
		return in, err
	}
	s.finishPending(ctx, m)
	// A ban holds whatever the account's state: before any Cognito call.
	if err := s.checkBan(ctx, m, loginContext(in)); err != nil {
		return in, err
	}
	switch m.Status {
	case kakaoauth.StatusUnlinked, kakaoauth.StatusDeleted:
		// Kakao revokes access tokens on unlink, so a token it vouched for
		// after the unlink is the person coming back. An ID token cannot be
		// revoked: one issued before the unlink is a replay. This holds for
		// RecreateUser too: an unlink may land between a login's UserMissing
		// and its recreation.
		if !in.Subject.VouchedAt.After(m.UnlinkedAt) {
			return in, &kakaoauth.AccountUnlinked{KakaoID: m.KakaoID}
		}
		if m.Status == kakaoauth.StatusDeleted || in.Recreate {
			return s.recreate(ctx, in, m)
		}
		if m.Linked() {
			return s.relinkLinked(ctx, in, m)
		}
		return s.relinkAtLogin(ctx, in, m)
	}
	if in.Recreate {
		return s.recreate(ctx, in, m)
	}
	return s.returning(ctx, in, m, true)
}

// returning is the common case: an active account signing in again. A
// user found missing while its email is updated is recreated, unless
// mayRecreate is false: recreate found that user after all, and the two
// must not hand the login back and forth.
func (s *Steps) returning(ctx context.Context, in LoginState, m kakaoauth.Mapping, mayRecreate bool) (LoginState, error) {
	if m.Linked() {
		// The user is the team's: kakaoauth never changes its attributes.
		return s.signInLinked(in, m), nil
	}
	if in.Profile.EmailChecked && in.Profile.Email != m.Email {
		// Kakao's verified email changed (or was withdrawn): follow it,
		// unless the new one belongs to someone else (Cognito refuses the
		// update: *AccountConflict, and the user keeps what it had).
		err := s.users.UpdateProfile(ctx, m.Username, in.Profile.Email, in.Profile.Nickname)
		var notFound *kakaoauth.NotFound
		if errors.As(err, &notFound) && mayRecreate {
			return s.recreate(ctx, in, m)
		}
		if err != nil {
			return in, err
		}
		s.log.InfoContext(ctx, "email attribute updated", "step", "UpsertUser", "kakaoId", m.KakaoID, "sub", m.Sub, "hasVerifiedEmail", in.Profile.Email != "")
	}
	return s.signInAs(ctx, in, m, false), nil
}

// relinkAtLogin re-links an unlinked account for a fresh Kakao login. The
// email comes back if Kakao (or, for an ID-token login, the mapping)
// has a verified one that nobody else holds.
func (s *Steps) relinkAtLogin(ctx context.Context, in LoginState, m kakaoauth.Mapping) (LoginState, error) {
	email := m.Email
	if in.Profile.EmailChecked {
		email = in.Profile.Email
	}
	ev, kept, err := s.relink(ctx, m, email, in.Profile.Nickname, loginContext(in), in.Context.ExecutionID, "login")
	var stale *kakaoauth.StaleTransition
	switch {
	case errors.Is(err, errUserGone):
		return s.recreate(ctx, in, m)
	case errors.As(err, &stale):
		// A concurrent login re-linked it first.
		cur, gerr := s.mappings.Get(ctx, m.KakaoID)
		if gerr != nil {
			return in, gerr
		}
		if cur.Status != kakaoauth.StatusActive {
			return in, &kakaoauth.AccountUnlinked{KakaoID: m.KakaoID}
		}
		return s.signInAs(ctx, in, cur, false), nil
	case err != nil:
		return in, err
	}
	s.finishSoon(ctx, ev)
	if in.Profile.EmailChecked {
		in.Profile.Email = kept // RecordLogin mirrors what the user has
	}
	m.Status = kakaoauth.StatusActive
	return s.signInAs(ctx, in, m, false), nil
}

// firstLogin creates the Cognito user, with the temporary password its
// first sign-in replaces (no AdminSetUserPassword for a new user), and the
// mapping, whose first write is conditional: concurrent first logins end
// with one user and one mapping, and all of them sign in. The user is
// created first and nothing is looked up unless Cognito refuses it: a
// verified email another user holds is Cognito's AliasExistsException
// (the pool keeps verified emails unique), a pool that creates no users
// of this shape (usernames that are emails) InvalidParameterException;
// then the verified-email rule may link instead (link.go).
func (s *Steps) firstLogin(ctx context.Context, in LoginState) (LoginState, error) {
	subj := in.Subject
	email := in.Profile.Email
	user, created, err := s.createOrAdopt(ctx, in, email)
	if refusedCreate(err) {
		if out, ok, rerr := s.byEmailRule(ctx, in, nil); ok || rerr != nil {
			return out, rerr
		}
	}
	if err != nil {
		return in, err
	}
	nonce, err := password.NewNonce()
	if err != nil {
		return in, err
	}
	now := millis(s.now())
	m := kakaoauth.Mapping{
		KakaoID: subj.KakaoID, Sub: user.Sub, Username: user.Username, Kind: kakaoauth.KindCreated, Email: email,
		Status: kakaoauth.StatusActive, CreatedAt: now, ActiveSince: now, LastLoginAt: now,
		PasswordNonce: nonce, PasswordState: kakaoauth.PasswordTemporary, PasswordSetAt: now, PepperVersion: s.pepperVersion,
	}
	m.LastEvent = s.newEvent(loginContext(in), in.Context.ExecutionID, kakaoauth.EventUserCreated, m, "login")
	m.EventPending = true
	err = s.mappings.Create(ctx, m)
	var mappingExists *kakaoauth.MappingExists
	switch {
	case err == nil:
	case errors.As(err, &mappingExists):
		// A concurrent login wrote it; it must point at the same user, and
		// its nonce is the one every login of this account now uses.
		cur, gerr := s.mappings.Get(ctx, subj.KakaoID)
		if gerr != nil {
			return in, gerr
		}
		if cur.Sub != user.Sub {
			return in, fmt.Errorf("mapping of kakao id %d points at another sub", subj.KakaoID)
		}
		return s.signInAs(ctx, in, cur, created), nil
	default:
		if created {
			s.compensateCreate(ctx, subj.KakaoID, user.Username)
		}
		return in, err
	}
	s.log.InfoContext(ctx, "cognito user created", "step", "UpsertUser", "kakaoId", subj.KakaoID, "sub", user.Sub, "hasVerifiedEmail", email != "", "createdHere", created)
	s.finishSoon(ctx, m.LastEvent)
	return s.signInAs(ctx, in, m, created), nil
}

// refusedCreate says Cognito refused to create the account's user for a
// reason the verified-email rule may answer: its email is another user's,
// or the pool creates no such users.
func refusedCreate(err error) bool {
	var conflict *kakaoauth.AccountConflict
	var notLinked *kakaoauth.AccountNotLinked
	return errors.As(err, &conflict) || errors.As(err, &notLinked)
}

// createOrAdopt creates kakao_<id> with its temporary password, or adopts
// the user a concurrent login (or one that died before writing the
// mapping) created: the temporary password derives from the username, so
// an adopter can use it too. created says this call made the user.
//
// Only kakaoauth's own user is adopted: one that has never signed in
// (FORCE_CHANGE_PASSWORD: what a login that died before its mapping
// leaves), or one the mapping already points at (a concurrent login got
// further). In a pool where people sign themselves up, someone could take
// the username kakao_<id> and the custom:kakao_id attribute first (an app
// client that may write every attribute): that user is never adopted.
func (s *Steps) createOrAdopt(ctx context.Context, in LoginState, email string) (kakaoauth.CognitoUser, bool, error) {
	kakaoID := in.Subject.KakaoID
	username := kakaoauth.Username(kakaoID)
	user, err := s.users.CreateUser(ctx, kakaoauth.NewCognitoUser{
		KakaoID: kakaoID, Email: email, Nickname: in.Profile.Nickname,
		TemporaryPassword: password.Temporary(s.pepper, username),
	})
	created := err == nil
	var exists *kakaoauth.UserExists
	if errors.As(err, &exists) {
		user, err = s.users.GetUser(ctx, username)
		var missing *kakaoauth.NotFound
		if errors.As(err, &missing) {
			// The username is free: what exists is the email, another
			// user's verified alias (Cognito has answered a taken alias
			// with UsernameExistsException too).
			return user, false, &kakaoauth.AccountConflict{KakaoID: kakaoID}
		}
	}
	if err != nil {
		return user, false, err
	}
	if user.KakaoID != kakaoID {
		return user, false, fmt.Errorf("user %s does not carry kakao id %d", user.Username, kakaoID)
	}
	if !created && user.Status != "" && user.Status != kakaoauth.UserStatusForceChangePassword {
		if m, err := s.mappings.Get(ctx, kakaoID); err != nil || m.Sub != user.Sub {
			return user, false, fmt.Errorf("user %s exists, has signed in, and no mapping of kakao id %d points at it: kakaoauth did not create it", user.Username, kakaoID)
		}
	}
	return user, created, nil
}

// signInAs points the state at mapping m's user and says how it signs in.
func (s *Steps) signInAs(ctx context.Context, in LoginState, m kakaoauth.Mapping, newUser bool) LoginState {
	out := in
	out.Error, out.Recreate = nil, false
	// A user kakaoauth created signs in with its password (a linked account
	// that starts over, RecreateUser, comes here with one too).
	out.Subject.Sub, out.Subject.Username, out.Subject.NewUser, out.Subject.Linked = m.Sub, m.Username, newUser, false
	out.Password = s.passwordOf(m)
	s.log.DebugContext(ctx, "password plan", "step", "UpsertUser", "kakaoId", m.KakaoID, "pwState", m.PasswordState, "ready", out.Password.Ready, "temporary", out.Password.Temporary)
	return out
}

// passwordOf reads the mapping's password fields: a nonce Cognito holds
// that is not due for rotation, or a temporary password still to be
// replaced, is ready; anything else goes through SetPassword, and so does
// a nonce of a pepper version this function no longer holds (an operator
// retired it: repaired like a password changed behind the broker's back).
func (s *Steps) passwordOf(m kakaoauth.Mapping) PasswordState {
	p := PasswordState{Nonce: m.PasswordNonce, State: m.PasswordState, SetAt: m.PasswordSetAt, PepperVersion: m.PepperVersion}
	_, held := s.pepperOf(p.PepperVersion)
	switch {
	case p.Nonce == "", !held:
	case p.State == kakaoauth.PasswordTemporary:
		p.Ready, p.Temporary = true, true
	case applied(p.State):
		p.Ready = !s.rotationDue(p.SetAt)
	}
	return p
}

// rotationDue says a nonce set at setAt is due for replacement: older than
// the rotation interval, and never younger than the apply grace, so that
// logins that waited for a fresh nonce can use it before anyone replaces
// it (even with a rotation interval of almost nothing).
func (s *Steps) rotationDue(setAt time.Time) bool {
	return s.now().Sub(setAt) >= max(s.passwordRotation, s.applyGrace)
}

// applied reports a state in which Cognito holds the nonce's password. A
// mapping written before states existed ("") was applied when written.
func applied(state string) bool { return state == kakaoauth.PasswordApplied || state == "" }

// compensateCreate removes a Cognito user this login created when its
// mapping could not be written, so a failed login leaves no orphan. It
// keeps the user if a concurrent login has mapped it meanwhile.
func (s *Steps) compensateCreate(ctx context.Context, kakaoID int64, username string) {
	ctx = context.WithoutCancel(ctx)
	var notFound *kakaoauth.NotFound
	if _, err := s.mappings.Get(ctx, kakaoID); !errors.As(err, &notFound) {
		return
	}
	if err := s.users.DeleteUser(ctx, username); err != nil {
		// The next login adopts the user (UserExists path), so this is
		// logged, not fatal.
		s.log.WarnContext(ctx, "could not remove unmapped user", "step", "UpsertUser", "kakaoId", kakaoID, "error", err.Error())
		return
	}
	s.log.InfoContext(ctx, "removed unmapped user after failed mapping write", "step", "UpsertUser", "kakaoId", kakaoID)
}
