package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// The custom authentication triggers as Go handlers with the events
// Cognito sends (aws-lambda-go's types); the whole flow runs in
// link_test.go through memUsers, as Cognito would run it.

const linkedSub = "7d2b6f1e-5c3a-4b8d-9e0f-112233445566"

func defineEvent(client string, session ...*events.CognitoEventUserPoolsChallengeResult) events.CognitoEventUserPoolsDefineAuthChallenge {
	ev := events.CognitoEventUserPoolsDefineAuthChallenge{}
	ev.UserPoolID, ev.UserName, ev.CallerContext.ClientID = poolID, "alice", client
	ev.Request.UserAttributes = map[string]string{"sub": linkedSub}
	ev.Request.Session = session
	return ev
}

func TestDefineAuthChallenge(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	right := &events.CognitoEventUserPoolsChallengeResult{ChallengeName: CustomChallenge, ChallengeResult: true, ChallengeMetadata: challengeMetadata}
	wrong := &events.CognitoEventUserPoolsChallengeResult{ChallengeName: CustomChallenge, ChallengeResult: false, ChallengeMetadata: challengeMetadata}
	cases := []struct {
		name      string
		ev        events.CognitoEventUserPoolsDefineAuthChallenge
		challenge string
		tokens    bool
	}{
		{"first round on the broker's client", defineEvent(brokerClientID), CustomChallenge, false},
		{"right answer", defineEvent(brokerClientID, right), "", true},
		{"wrong answer", defineEvent(brokerClientID, wrong), "", false},
		{"a second round", defineEvent(brokerClientID, wrong, right), "", false},
		{"another app's client", defineEvent("public-client"), "", false},
		{"a client the pool does not know", defineEvent("unknown-client"), "", false},
		{"another flow's step", defineEvent(brokerClientID, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: "SRP_A", ChallengeResult: true}), "", false},
		{"another challenge's answer", defineEvent(brokerClientID, &events.CognitoEventUserPoolsChallengeResult{ChallengeName: CustomChallenge, ChallengeResult: true, ChallengeMetadata: "OTP"}), "", false},
	}
	for _, c := range cases {
		out, err := r.steps.DefineAuthChallenge(ctx, c.ev)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		fail := c.challenge == "" && !c.tokens
		if out.Response.ChallengeName != c.challenge || out.Response.IssueTokens != c.tokens || out.Response.FailAuthentication != fail {
			t.Errorf("%s: %+v", c.name, out.Response)
		}
	}
	// Cognito not answering about the client: refused, not guessed.
	r.clients.err = &kakaoauth.Throttled{Reason: "describe"}
	if out, _ := r.steps.DefineAuthChallenge(ctx, defineEvent(brokerClientID)); !out.Response.FailAuthentication {
		t.Fatal("a client that could not be described was let through")
	}
}

func TestCreateAuthChallengeIsRandomPerSignIn(t *testing.T) {
	r := newRig(t)
	seen := map[string]bool{}
	for range 100 {
		ev := events.CognitoEventUserPoolsCreateAuthChallenge{}
		ev.Request.ChallengeName = CustomChallenge
		out, err := r.steps.CreateAuthChallenge(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		c := out.Response.PublicChallengeParameters[kakaoauth.ChallengeParameter]
		if len(c) < 22 || seen[c] || out.Response.PrivateChallengeParameters[kakaoauth.ChallengeParameter] != c || out.Response.ChallengeMetadata != challengeMetadata {
			t.Fatalf("challenge %+v", out.Response)
		}
		seen[c] = true
	}
	ev := events.CognitoEventUserPoolsCreateAuthChallenge{}
	ev.Request.ChallengeName = "SMS_MFA"
	if _, err := r.steps.CreateAuthChallenge(context.Background(), ev); err == nil {
		t.Fatal("issued something else than kakaoauth's challenge")
	}
}

// Only the broker's proof for this user, this client and this challenge,
// in time, is a right answer; each refusal is audited without the answer.
func TestVerifyAuthChallenge(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	const challenge = "c-abcdefghijklmnopqrstuv"
	exp := r.clock().Add(DefaultProofTTL)
	good := password.ChallengeProof(testProofKey, linkedSub, brokerClientID, challenge, exp)
	verify := func(client, sub string, answer any, private string) bool {
		ev := events.CognitoEventUserPoolsVerifyAuthChallenge{}
		ev.CallerContext.ClientID = client
		ev.Request.UserAttributes = map[string]string{"sub": sub}
		ev.Request.PrivateChallengeParameters = map[string]string{kakaoauth.ChallengeParameter: private}
		ev.Request.ChallengeAnswer = answer
		out, err := r.steps.VerifyAuthChallenge(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		return out.Response.AnswerCorrect
	}
	if !verify(brokerClientID, linkedSub, good, challenge) {
		t.Fatal("the broker's proof was refused")
	}
	refused := map[string]func() bool{
		"replayed in another sign-in": func() bool { return verify(brokerClientID, linkedSub, good, "c-another-sign-in-challenge") },
		"another user":                func() bool { return verify(brokerClientID, "other-sub", good, challenge) },
		"another client":              func() bool { return verify("public-client", linkedSub, good, challenge) },
		"made with another key": func() bool {
			return verify(brokerClientID, linkedSub, password.ChallengeProof(testPepper, linkedSub, brokerClientID, challenge, exp), challenge)
		},
		"a PreAuthentication proof": func() bool {
			return verify(brokerClientID, linkedSub, password.Proof(testProofKey, linkedSub, exp), challenge)
		},
		"no answer":               func() bool { return verify(brokerClientID, linkedSub, "", challenge) },
		"not a string":            func() bool { return verify(brokerClientID, linkedSub, map[string]any{"x": 1}, challenge) },
		"no challenge":            func() bool { return verify(brokerClientID, linkedSub, good, "") },
		"the user's own password": func() bool { return verify(brokerClientID, linkedSub, "native-password-alice", challenge) },
	}
	for name, f := range refused {
		if f() {
			t.Errorf("%s: accepted", name)
		}
	}
	r.advance(DefaultProofTTL)
	if verify(brokerClientID, linkedSub, good, challenge) {
		t.Error("an expired proof was accepted")
	}
	var audited int
	for _, e := range r.audit.all() {
		if e.Type != kakaoauth.EventChallengeRefused {
			continue
		}
		audited++
		if strings.Contains(e.Detail, good) || strings.Contains(e.Detail, challenge) {
			t.Fatalf("the audit holds the answer or the challenge: %+v", e)
		}
	}
	if audited != len(refused)+1 {
		t.Fatalf("%d refusals audited, want %d", audited, len(refused)+1)
	}
}

// The linked-user flow fails closed without the proof key, and a user the
// team disabled is refused as disabled.
func TestLinkedSignInFailsClosed(t *testing.T) {
	r := newRig(t)
	r.users.addNative("alice", "alice@example.com")
	r.link(t, "alice", "tok-2")
	WithProofKeys(1, map[int][]byte{})(r.steps)
	exec := r.fails(t, `{"access_token":"tok-2"}`, "errorString")
	if !strings.Contains(exec.Cause, "no proof key") {
		t.Fatalf("cause %s", exec.Cause)
	}
	WithProofKeys(1, map[int][]byte{1: testProofKey})(r.steps)
	r.users.users["alice"].Enabled = false
	r.fails(t, `{"access_token":"tok-2"}`, "AccountDisabled")
}
