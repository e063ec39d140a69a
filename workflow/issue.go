package workflow

import (
	"context"
	"fmt"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// IssueTokens signs the user in with the derived password and a proof the
// PreAuthentication trigger checks, records the login and outputs the API's
// 200 body. A NotAuthorized answer (another login rotated the password, or
// has not set it yet) is *kakaoauth.PasswordRotated, which the state machine
// retries and then sends back to SetPassword.
func (s *Steps) IssueTokens(ctx context.Context, in LoginState) (LoginResponse, error) {
	if in.Password == nil || in.Password.Nonce == "" {
		return LoginResponse{}, fmt.Errorf("IssueTokens: no password nonce in state")
	}
	subj := in.Subject
	now := s.now()
	metadata := map[string]string{ProofMetadataKey: password.Proof(s.pepper, subj.Username, now.Add(s.proofTTL))}
	tokens, err := s.users.SignIn(ctx, subj.Username, password.Derive(s.pepper, subj.Sub, in.Password.Nonce), metadata)
	if err != nil {
		return LoginResponse{}, err
	}
	at := millis(now)
	var email *string // an ID-token-only login leaves the stored email alone
	if in.Profile.EmailChecked {
		email = &in.Profile.Email
	}
	if err := s.mappings.RecordLogin(ctx, subj.KakaoID, at, email); err != nil {
		return LoginResponse{}, err
	}
	if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
		Time: at, Type: kakaoauth.EventLoginSucceeded, Outcome: "success",
		KakaoID: subj.KakaoID, Sub: subj.Sub, AppID: subj.AppID,
		ExecutionID: in.Context.ExecutionID, SourceIP: in.Context.SourceIP, UserAgent: in.Context.UserAgent,
	}); err != nil {
		return LoginResponse{}, err
	}
	s.log.InfoContext(ctx, "login succeeded", "step", "IssueTokens", "kakaoId", subj.KakaoID, "sub", subj.Sub, "newUser", subj.NewUser, "executionId", in.Context.ExecutionID)
	return LoginResponse{
		IDToken: tokens.IDToken, AccessToken: tokens.AccessToken, RefreshToken: tokens.RefreshToken,
		ExpiresIn: tokens.ExpiresIn, TokenType: tokens.TokenType,
		Sub: subj.Sub, Username: subj.Username, NewUser: subj.NewUser,
	}, nil
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
	return struct{}{}, s.audit.Record(ctx, ev)
}
