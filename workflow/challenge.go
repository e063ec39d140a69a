package workflow

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// The user pool's custom authentication triggers: how a user kakaoauth
// linked (and did not create) signs in with Kakao without kakaoauth ever
// knowing, setting or resetting its password. IssueTokens starts
// CUSTOM_AUTH (AdminInitiateAuth) on the broker's app client:
//
//  1. DefineAuthChallenge: on the broker's client only, one
//     CUSTOM_CHALLENGE; tokens once it is answered right; anything else
//     (another client, a second round, a wrong answer) fails the sign-in.
//  2. CreateAuthChallenge: a random challenge, public (the broker binds
//     its answer to it) and private (the verifier compares with it).
//  3. VerifyAuthChallenge: the answer must be the broker's proof
//     (shared/password.ChallengeProof) for this user's sub, this app
//     client, this challenge, not expired, made with the proof key, which
//     only IssueTokens and this trigger hold. A challenge is random per
//     sign-in and Cognito takes one answer per session: a proof answers
//     one sign-in, and is worthless anywhere else.
//
// The broker's client has no secret (apps refresh with it), so anyone may
// call InitiateAuth with CUSTOM_AUTH on it and get a challenge: without
// the proof key nobody can answer it. Every refused answer is audited
// (challenge_refused).

// CustomChallenge is Cognito's name for a challenge of the custom flow.
const CustomChallenge = "CUSTOM_CHALLENGE"

// challengeMetadata marks kakaoauth's challenge in the session.
const challengeMetadata = "KAKAOAUTH_PROOF"

// DefineAuthChallenge is the pool's DefineAuthChallenge trigger.
func (s *Steps) DefineAuthChallenge(ctx context.Context, ev events.CognitoEventUserPoolsDefineAuthChallenge) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
	ev.Response = events.CognitoEventUserPoolsDefineAuthChallengeResponse{}
	fail := func(reason string) (events.CognitoEventUserPoolsDefineAuthChallenge, error) {
		s.log.WarnContext(ctx, "custom sign-in failed", "trigger", "DefineAuthChallenge", "reason", reason,
			"clientId", ev.CallerContext.ClientID, "sub", ev.Request.UserAttributes["sub"], "rounds", len(ev.Request.Session))
		ev.Response.FailAuthentication = true
		return ev, nil
	}
	if !s.brokerClientOf(ctx, ev.UserPoolID, ev.CallerContext.ClientID) {
		return fail("not the broker's app client")
	}
	session := ev.Request.Session
	switch {
	case len(session) == 0:
		// Whether or not the user exists (PreventUserExistenceErrors
		// asks Cognito to hide it): the answer decides.
		ev.Response.ChallengeName = CustomChallenge
		return ev, nil
	case len(session) == 1 && session[0] != nil && session[0].ChallengeName == CustomChallenge &&
		session[0].ChallengeMetadata == challengeMetadata && session[0].ChallengeResult:
		ev.Response.IssueTokens = true
		return ev, nil
	default:
		return fail("not one right answer to kakaoauth's challenge")
	}
}

// brokerClientOf says whether clientID is the broker's app client,
// asking Cognito (cached) about its name: the pool names the triggers, so
// the triggers' configuration cannot name the pool's clients without a
// cycle. Any doubt fails closed.
func (s *Steps) brokerClientOf(ctx context.Context, poolID, clientID string) bool {
	if s.brokerClient == "" || s.clients == nil || poolID == "" || clientID == "" {
		return false
	}
	name, err := s.clients.Name(ctx, poolID, clientID)
	if err != nil {
		s.log.WarnContext(ctx, "could not describe the sign-in's app client; refused", "clientId", clientID, "error", err.Error())
		return false
	}
	return name == s.brokerClient
}

// CreateAuthChallenge is the pool's CreateAuthChallenge trigger: a fresh
// random challenge per sign-in.
func (s *Steps) CreateAuthChallenge(ctx context.Context, ev events.CognitoEventUserPoolsCreateAuthChallenge) (events.CognitoEventUserPoolsCreateAuthChallenge, error) {
	if ev.Request.ChallengeName != CustomChallenge {
		return ev, errors.New("kakaoauth issues CUSTOM_CHALLENGE only, not " + ev.Request.ChallengeName)
	}
	challenge, err := password.NewNonce()
	if err != nil {
		return ev, err
	}
	ev.Response = events.CognitoEventUserPoolsCreateAuthChallengeResponse{
		PublicChallengeParameters:  map[string]string{kakaoauth.ChallengeParameter: challenge},
		PrivateChallengeParameters: map[string]string{kakaoauth.ChallengeParameter: challenge},
		ChallengeMetadata:          challengeMetadata,
	}
	return ev, nil
}

// VerifyAuthChallenge is the pool's VerifyAuthChallengeResponse trigger:
// the answer is right only if it is the broker's proof for this user,
// this client and this challenge, and not expired. A wrong answer is no
// error (Cognito then fails the sign-in through DefineAuthChallenge); it
// is audited as challenge_refused, which never holds the answer.
func (s *Steps) VerifyAuthChallenge(ctx context.Context, ev events.CognitoEventUserPoolsVerifyAuthChallenge) (events.CognitoEventUserPoolsVerifyAuthChallenge, error) {
	answer, _ := ev.Request.ChallengeAnswer.(string)
	challenge := ev.Request.PrivateChallengeParameters[kakaoauth.ChallengeParameter]
	sub := ev.Request.UserAttributes["sub"]
	reason := "missing"
	switch {
	case ev.Request.UserNotFound || sub == "":
		reason = "no such user"
	case challenge == "":
		reason = "no kakaoauth challenge"
	case answer != "":
		err := s.withProofKeys(func(key []byte) error {
			return password.VerifyChallengeProof(key, sub, ev.CallerContext.ClientID, challenge, answer, s.now())
		})
		if err == nil {
			ev.Response.AnswerCorrect = true
			return ev, nil
		}
		reason = proofFailure(err)
	}
	ev.Response.AnswerCorrect = false
	s.log.WarnContext(ctx, "custom sign-in answer refused", "trigger", "VerifyAuthChallenge", "sub", sub,
		"clientId", ev.CallerContext.ClientID, "proof", reason)
	if s.audit != nil {
		if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
			Time: millis(s.now()), Type: kakaoauth.EventChallengeRefused, Outcome: "failure", Error: "ChallengeRefused", Sub: sub,
			Detail: "clientId=" + ev.CallerContext.ClientID + " proof=" + reason,
		}); err != nil {
			s.log.ErrorContext(ctx, "could not audit a refused answer", "trigger", "VerifyAuthChallenge", "error", err.Error())
		}
	}
	return ev, nil
}
