package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// IssueTokens signs the user in, records the login and outputs the API's
// 200 body. A user kakaoauth created signs in with the derived password
// (a first sign-in answers NEW_PASSWORD_REQUIRED with it) and a proof the
// PreAuthentication trigger checks; a user kakaoauth linked through
// CUSTOM_AUTH (link.go), with no password at all. Each run is one sign-in of the login's MaxSignIns:
//   - *PasswordRotated: another login changed the password; the state
//     machine runs SetPassword in repair mode, once.
//   - *UserMissing: the Cognito user is gone; the state machine recreates
//     it, once. The app client answers a missing user as a wrong password
//     (PreventUserExistenceErrors ENABLED), so a refused first sign-in asks
//     AdminGetUser which it was.
//   - an unlink that won the race: the mapping is no longer active, so
//     the tokens just issued are revoked (global sign-out) and the answer
//     is *AccountUnlinked.
func (s *Steps) IssueTokens(ctx context.Context, in LoginState) (_ LoginResponse, err error) {
	ctx, done, err := withinBudget(ctx, in.Context, "IssueTokens")
	if err != nil {
		return LoginResponse{}, err
	}
	defer done(&err)
	subj := in.Subject
	now := s.now()
	record := kakaoauth.LoginRecord{KakaoID: subj.KakaoID, At: millis(now)}
	var tokens kakaoauth.CognitoTokens
	if subj.Linked {
		// A user kakaoauth linked: CUSTOM_AUTH, never a password.
		tokens, err = s.issueLinked(ctx, subj)
	} else {
		if _, held := s.pepperOf(in.Password.PepperVersion); !held {
			// Another function's configuration holds a pepper version this
			// one does not (while an operator rotates the secret): no
			// sign-in is spent; SetPassword makes a nonce this stack can use.
			s.log.WarnContext(ctx, "password derives with a pepper version this function does not hold", "step", "IssueTokens",
				"kakaoId", subj.KakaoID, "pepperVersion", pepperVersion(in.Password.PepperVersion))
			return LoginResponse{}, &kakaoauth.PasswordRotated{Username: subj.Username}
		}
		tokens, err = s.signInCreated(ctx, in, now, &record)
	}
	p := in.Password
	var notFound *kakaoauth.NotFound
	var disabled *kakaoauth.AccountDisabled
	var rotated *kakaoauth.PasswordRotated
	switch {
	case errors.As(err, &notFound):
		return LoginResponse{}, &kakaoauth.UserMissing{Username: subj.Username}
	case errors.As(err, &rotated) && in.SignIns.Count < MaxSignIns:
		// A lost race, or a user deleted behind the broker's back: the app
		// client says the same of both, so that nobody can enumerate users.
		// One AdminGetUser (UserRead, not the scarce quotas) tells which,
		// and only when a second sign-in is left to act on the answer.
		if _, gerr := s.users.GetUser(ctx, subj.Username); errors.As(gerr, &notFound) {
			return LoginResponse{}, &kakaoauth.UserMissing{Username: subj.Username}
		} else if gerr != nil {
			// Undecided: the repair path finds a missing user as well
			// (AdminSetUserPassword answers UserNotFound).
			s.log.WarnContext(ctx, "could not tell a lost race from a missing user", "step", "IssueTokens", "kakaoId", subj.KakaoID, "error", gerr.Error())
		}
		return LoginResponse{}, err
	case errors.As(err, &disabled):
		// Disabled by an unlink in progress, or by an administrator.
		if m, gerr := s.mappings.Get(ctx, subj.KakaoID); gerr == nil && m.Status != kakaoauth.StatusActive {
			return LoginResponse{}, &kakaoauth.AccountUnlinked{KakaoID: subj.KakaoID}
		}
		return LoginResponse{}, err
	case err != nil:
		return LoginResponse{}, err
	}
	at := record.At
	err = s.mappings.RecordLogin(ctx, record)
	var notActive *kakaoauth.NotActive
	if errors.As(err, &notActive) {
		// An unlink or deletion won the race: revoke what was just issued.
		// A linked user is the team's: only this login's refresh token is
		// revoked (and the access token it came with), never the user's
		// other sessions.
		revoke := func() error { return s.users.SignOut(context.WithoutCancel(ctx), subj.Username) }
		if subj.Linked {
			revoke = func() error { return s.users.RevokeToken(context.WithoutCancel(ctx), tokens.RefreshToken) }
		}
		if serr := revoke(); serr != nil && !errors.As(serr, &notFound) {
			return LoginResponse{}, fmt.Errorf("revoking the tokens of a login that lost to an unlink: %w", serr)
		}
		s.log.InfoContext(ctx, "login lost a race with an unlink; its tokens are revoked", "step", "IssueTokens", "kakaoId", subj.KakaoID, "status", notActive.Status)
		return LoginResponse{}, &kakaoauth.AccountUnlinked{KakaoID: subj.KakaoID}
	}
	if err != nil {
		return LoginResponse{}, err
	}
	if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
		Time: at, Type: kakaoauth.EventLoginSucceeded, Outcome: "success",
		KakaoID: subj.KakaoID, Sub: subj.Sub, AppID: subj.AppID,
		ExecutionID: in.Context.ExecutionID, SourceIP: in.Context.SourceIP, UserAgent: in.Context.UserAgent,
	}); err != nil {
		return LoginResponse{}, err
	}
	s.log.InfoContext(ctx, "login succeeded", "step", "IssueTokens", "kakaoId", subj.KakaoID, "sub", subj.Sub, "newUser", subj.NewUser,
		"linked", subj.Linked, "firstSignIn", p.Temporary, "signIns", in.SignIns.Count, "executionId", in.Context.ExecutionID)
	return LoginResponse{
		IDToken: tokens.IDToken, AccessToken: tokens.AccessToken, RefreshToken: tokens.RefreshToken,
		ExpiresIn: tokens.ExpiresIn, TokenType: tokens.TokenType,
		Sub: subj.Sub, Username: subj.Username, NewUser: subj.NewUser,
	}, nil
}

// signInCreated signs in a user kakaoauth created: the derived password
// (a first sign-in answers NEW_PASSWORD_REQUIRED with it) and the
// PreAuthentication trigger's proof. It fills in what the login record
// says of the email and the password.
func (s *Steps) signInCreated(ctx context.Context, in LoginState, now time.Time, record *kakaoauth.LoginRecord) (kakaoauth.CognitoTokens, error) {
	p, subj := in.Password, in.Subject
	if p.Nonce == "" {
		return kakaoauth.CognitoTokens{}, fmt.Errorf("IssueTokens: no password nonce in state")
	}
	pepper, _ := s.pepperOf(p.PepperVersion) // held: IssueTokens checked
	if len(s.proofKey) == 0 {
		return kakaoauth.CognitoTokens{}, fmt.Errorf("IssueTokens: no proof key configured")
	}
	derived := password.Derive(pepper, subj.Sub, p.Nonce)
	req := kakaoauth.SignIn{
		Username: subj.Username,
		Password: derived,
		Metadata: map[string]string{ProofMetadataKey: password.Proof(s.proofKey, subj.Username, now.Add(s.proofTTL))},
	}
	if p.Temporary {
		req.Password, req.NewPassword = password.Temporary(pepper, subj.Username), derived
	}
	if in.Profile.EmailChecked { // an ID-token-only login leaves the stored email alone
		record.Email = &in.Profile.Email
	}
	if p.Temporary || !applied(p.State) {
		// The sign-in proves Cognito holds this nonce's password.
		record.AppliedNonce = p.Nonce
	}
	return s.users.SignIn(ctx, req)
}

// RecordFailure is the Catch path: it writes the attempt's one terminal
// audit event, login_failed with the error name, and logs internal causes
// (which carry no secrets) for operators. Its result is discarded
// (ResultPath null) so the Fail state can report the caught error.
func (s *Steps) RecordFailure(ctx context.Context, in FailureInput) (struct{}, error) {
	rc := in.Context
	if in.ExecutionID != "" {
		rc.ExecutionID = in.ExecutionID
	}
	ev := kakaoauth.AuditEvent{
		Time: millis(s.now()), Type: kakaoauth.EventLoginFailed, Outcome: "failure", Error: in.Error.Error,
		ExecutionID: rc.ExecutionID, SourceIP: rc.SourceIP, UserAgent: rc.UserAgent,
	}
	if in.Subject != nil {
		ev.KakaoID, ev.Sub, ev.AppID = in.Subject.KakaoID, in.Subject.Sub, in.Subject.AppID
	}
	level := s.log.InfoContext
	if kakaoauth.OutcomeOf(in.Error.Error).Code == kakaoauth.CodeInternal {
		level = s.log.ErrorContext
	}
	level(ctx, "login failed", "step", "RecordFailure", "error", in.Error.Error, "cause", causeOf(in.Error), "kakaoId", ev.KakaoID, "sub", ev.Sub, "executionId", rc.ExecutionID)
	// Within the task's 2 s: a hung audit store fails this try in time for
	// the state machine's next one.
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	if err := s.audit.Record(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "login failure not audited yet", "step", "RecordFailure", "error", in.Error.Error, "kakaoId", ev.KakaoID,
			"executionId", rc.ExecutionID, "auditError", err.Error())
		return struct{}{}, err
	}
	return struct{}{}, nil
}

// recordTimeout bounds RecordFailure's audit write (the task allows 2 s).
const recordTimeout = 1500 * time.Millisecond
