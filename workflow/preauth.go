package workflow

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// PasswordSignInBlocked refuses a password or SRP sign-in of a Kakao-linked
// user that did not come from IssueTokens. Cognito shows a trigger's error
// message to whoever called InitiateAuth, so Error() is that user-facing
// text and nothing else: no reason, no user, no internals.
type PasswordSignInBlocked struct{}

func (*PasswordSignInBlocked) Error() string { return "Sign in with Kakao." }

// PreAuthentication is the user pool's PreAuthentication trigger (not a
// state of the login workflow). Kakao users have a password only so that
// the broker can sign them in; nobody knows it, but a leaked or guessed one
// must still open nothing. So a Kakao-linked user is let through only when
// the sign-in carries a proof from IssueTokens, which AdminInitiateAuth's
// ClientMetadata delivers here as request.validationData: an HMAC with the
// proof key (not the pepper: the trigger cannot derive passwords), bound
// to the username and a short expiry (shared/password).
// Native users (no custom:kakao_id) pass untouched.
//
// Every refusal is audited as password_login_blocked. An audit failure is
// logged and the sign-in still refused: the guard never fails open.
func (s *Steps) PreAuthentication(ctx context.Context, ev events.CognitoEventUserPoolsPreAuthentication) (events.CognitoEventUserPoolsPreAuthentication, error) {
	kakaoID, linked := kakaoLinked(ev.UserName, ev.Request.UserAttributes)
	if !linked {
		return ev, nil
	}
	proof := ev.Request.ValidationData[ProofMetadataKey]
	reason := "missing"
	if proof != "" {
		err := s.verifyProof(ev.UserName, proof)
		if err == nil {
			return ev, nil
		}
		reason = proofFailure(err)
	}
	if s.federatedSignIn(ctx, ev) { // the hosted UI's client (federation.go)
		return ev, nil
	}
	sub := ev.Request.UserAttributes["sub"]
	s.log.WarnContext(ctx, "password sign-in blocked", "trigger", "PreAuthentication", "kakaoId", kakaoID, "sub", sub,
		"triggerSource", ev.TriggerSource, "clientId", ev.CallerContext.ClientID, "proof", reason)
	if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
		Time: millis(s.now()), Type: kakaoauth.EventPasswordLoginBlocked, Outcome: "failure",
		Error: "PasswordSignInBlocked", KakaoID: kakaoID, Sub: sub,
		Detail: "triggerSource=" + ev.TriggerSource + " clientId=" + ev.CallerContext.ClientID + " proof=" + reason,
	}); err != nil {
		s.log.ErrorContext(ctx, "could not audit a blocked sign-in", "trigger", "PreAuthentication", "kakaoId", kakaoID, "error", err.Error())
	}
	return ev, &PasswordSignInBlocked{}
}

// verifyProof accepts a proof made with any version of the proof key
// (IssueTokens' containers may hold an older current version than this
// one while an operator rotates it). Without a key it refuses.
func (s *Steps) verifyProof(username, proof string) error {
	return s.withProofKeys(func(key []byte) error { return password.VerifyProof(key, username, proof, s.now()) })
}

// withProofKeys runs a proof check with each version of the proof key
// until one accepts it; an expired or malformed proof stops at once (no
// key changes that). Without a key it refuses.
func (s *Steps) withProofKeys(check func(key []byte) error) error {
	err := password.ErrWeakPepper
	for _, key := range s.proofKeys {
		switch e := check(key); {
		case e == nil:
			return nil
		case errors.Is(e, password.ErrProofExpired), errors.Is(e, password.ErrProofMalformed):
			// Genuine but late, or not a proof at all: no key changes that.
			return e
		default:
			err = e
		}
	}
	return err
}

// kakaoLinked says whether the user signing in is a Kakao user kakaoauth
// created, and which. The custom:kakao_id attribute decides; kakaoauth's
// exact username shape (kakao_<id>, kakaoauth.UsernameKakaoID) counts too,
// so a user whose attribute was lost is never let through on a password
// alone. A team's own user named kakao_fan or Kakao_Lee signs in as ever.
func kakaoLinked(username string, attrs map[string]string) (int64, bool) {
	if v, ok := attrs["custom:kakao_id"]; ok && v != "" {
		id, _ := strconv.ParseInt(v, 10, 64) // unparsable still counts as linked
		return id, true
	}
	if id := kakaoauth.UsernameKakaoID(username); id != 0 {
		return id, true
	}
	return 0, false
}

// proofFailure names why a proof was refused, for the audit trail only.
func proofFailure(err error) string {
	switch {
	case errors.Is(err, password.ErrProofExpired):
		return "expired"
	case errors.Is(err, password.ErrProofMalformed):
		return "malformed"
	case errors.Is(err, password.ErrProofInvalid):
		return "invalid"
	default:
		// ErrWeakPepper: the trigger is misconfigured; it refuses everyone.
		return "unverifiable"
	}
}
