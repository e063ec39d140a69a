package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// The fixtures are PreAuthentication events in the shape Cognito sends
// and aws-lambda-go decodes. Their proofs were made with testProofKey for
// kakao_4242 (other-user: for kakao_777; forged: with testPepper, the
// pepper, which proves nothing now), expiring two minutes after newRig's
// clock (expired: one minute before).

func loadPreAuthEvent(t *testing.T, name string) events.CognitoEventUserPoolsPreAuthentication {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "preauth", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CognitoEventUserPoolsPreAuthentication
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields() // the fixture must be exactly the library's shape
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func TestPreAuthenticationFixtures(t *testing.T) {
	cases := []struct {
		fixture string
		allow   bool
		kakaoID int64
		proof   string // the reason audited
	}{
		{"valid", true, 0, ""},
		{"native-user", true, 0, ""},
		{"native-user-with-proof-key", true, 0, ""},
		// A team's own users whose names merely resemble kakaoauth's.
		{"team-user-kakao-word", true, 0, ""},
		{"team-user-capital-kakao", true, 0, ""},
		{"team-user-kakao-leading-zero", true, 0, ""},
		{"forged", false, 4242, "invalid"},
		{"expired", false, 4242, "expired"},
		{"other-user", false, 4242, "invalid"},
		{"malformed", false, 4242, "malformed"},
		{"missing", false, 4242, "missing"},
		{"no-validation-data", false, 4242, "missing"},
		{"srp-by-email-alias", false, 4242, "missing"},
		{"kakao-username-without-attribute", false, 4242, "missing"},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			r := newRig(t)
			ev := loadPreAuthEvent(t, c.fixture)
			out, err := r.steps.PreAuthentication(context.Background(), ev)
			if !reflect.DeepEqual(out, ev) {
				t.Fatalf("the trigger changed the event: %+v", out)
			}
			if c.allow {
				if err != nil || len(r.audit.events) != 0 {
					t.Fatalf("want allowed without audit, got %v, audit %v", err, r.audit.types())
				}
				return
			}
			var blocked *PasswordSignInBlocked
			if !errors.As(err, &blocked) || kakaoauth.ErrorName(err) != "PasswordSignInBlocked" {
				t.Fatalf("want PasswordSignInBlocked, got %T %v", err, err)
			}
			if len(r.audit.events) != 1 {
				t.Fatalf("audit %v, want one event", r.audit.types())
			}
			e := r.audit.events[0]
			if e.Type != kakaoauth.EventPasswordLoginBlocked || e.Outcome != "failure" || e.KakaoID != c.kakaoID ||
				e.Sub != "5f3c2a1e-8b7d-4c6a-9e0f-1a2b3c4d5e6f" || !e.Time.Equal(r.now) {
				t.Fatalf("audit event %+v", e)
			}
			for _, want := range []string{"triggerSource=PreAuthentication_Authentication", "clientId=" + ev.CallerContext.ClientID, "proof=" + c.proof} {
				if !strings.Contains(e.Detail, want) {
					t.Fatalf("detail %q lacks %q", e.Detail, want)
				}
			}
			if p := ev.Request.ValidationData[ProofMetadataKey]; p != "" && strings.Contains(e.Detail, p) {
				t.Fatal("the audit event carries the presented proof")
			}
		})
	}
}

// Cognito shows the trigger's error message to the caller: it must be the
// plain instruction, the same for every refusal, naming no user or cause.
func TestPreAuthenticationMessageIsPublicAndUniform(t *testing.T) {
	msgs := map[string]bool{}
	for _, f := range []string{"forged", "expired", "other-user", "malformed", "missing"} {
		r := newRig(t)
		_, err := r.steps.PreAuthentication(context.Background(), loadPreAuthEvent(t, f))
		if err == nil {
			t.Fatalf("%s: allowed", f)
		}
		msgs[err.Error()] = true
		for _, leak := range []string{"4242", "kakao_", "proof", "expired", "pepper", "invalid"} {
			if strings.Contains(strings.ToLower(err.Error()), leak) {
				t.Fatalf("%s: message %q reveals %q", f, err.Error(), leak)
			}
		}
	}
	if len(msgs) != 1 || !msgs["Sign in with Kakao."] {
		t.Fatalf("messages %v, want exactly one: Sign in with Kakao.", msgs)
	}
}

// A genuine proof stops working once it expires: a captured one cannot be
// replayed later.
func TestPreAuthenticationProofExpires(t *testing.T) {
	r := newRig(t)
	ev := loadPreAuthEvent(t, "valid")
	if _, err := r.steps.PreAuthentication(context.Background(), ev); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	r.advance(DefaultProofTTL)
	if _, err := r.steps.PreAuthentication(context.Background(), ev); err == nil {
		t.Fatal("a proof was accepted at its expiry")
	}
	if got := r.audit.types(); len(got) != 1 || got[0] != "password_login_blocked:PasswordSignInBlocked" {
		t.Fatalf("audit %v", got)
	}
}

// The proof IssueTokens really sends is what the trigger accepts, through
// the path Cognito takes (ClientMetadata becomes validationData), for that
// user only.
func TestPreAuthenticationAcceptsIssueTokensProof(t *testing.T) {
	r := newRig(t)
	resp := r.login(t, `{"access_token":"tok-1"}`)
	u, _ := r.users.user(resp.Username)
	ev := events.CognitoEventUserPoolsPreAuthentication{}
	ev.TriggerSource = "PreAuthentication_Authentication"
	ev.UserName = resp.Username
	ev.Request.UserAttributes = map[string]string{"sub": u.Sub, "custom:kakao_id": "1"}
	ev.Request.ValidationData = r.users.metadata
	r.advance(time.Second) // Cognito calls the trigger a moment later
	if _, err := r.steps.PreAuthentication(context.Background(), ev); err != nil {
		t.Fatalf("IssueTokens' own proof refused: %v", err)
	}
	// The same proof presented for another Kakao user is refused.
	ev.UserName = "kakao_2"
	ev.Request.UserAttributes = map[string]string{"sub": "other", "custom:kakao_id": "2"}
	if _, err := r.steps.PreAuthentication(context.Background(), ev); err == nil {
		t.Fatal("a proof for kakao_1 let kakao_2 in")
	}
}

type failingAudit struct{}

func (failingAudit) Record(context.Context, kakaoauth.AuditEvent) error {
	return errors.New("dynamodb down")
}

// The guard fails closed: no audit, no proof key (the pepper alone is no
// key), still refused.
func TestPreAuthenticationFailsClosed(t *testing.T) {
	r := newRig(t)
	noAudit := New(WithAudit(failingAudit{}), WithProofKeys(1, map[int][]byte{1: testProofKey}), WithClock(r.clock))
	if _, err := noAudit.PreAuthentication(context.Background(), loadPreAuthEvent(t, "missing")); err == nil {
		t.Fatal("an audit failure let a blocked sign-in through")
	}
	noKey := New(WithAudit(r.audit), WithPepper(testPepper), WithClock(r.clock))
	if _, err := noKey.PreAuthentication(context.Background(), loadPreAuthEvent(t, "valid")); err == nil {
		t.Fatal("a trigger without a proof key let a Kakao user through")
	}
	if _, err := noKey.PreAuthentication(context.Background(), loadPreAuthEvent(t, "native-user")); err != nil {
		t.Fatalf("native users must not depend on the proof key: %v", err)
	}
}

// While an operator rotates the proof key, IssueTokens' containers may
// still sign with the old version: the trigger accepts a proof of any
// version the secret holds, and only those.
func TestPreAuthenticationAcceptsEveryProofKeyVersion(t *testing.T) {
	newKey := []byte("0123456789abcdef0123456789abcdef-second-proof-key")
	r := newRig(t, WithProofKeys(2, map[int][]byte{1: testProofKey, 2: newKey}))
	if _, err := r.steps.PreAuthentication(context.Background(), loadPreAuthEvent(t, "valid")); err != nil {
		t.Fatalf("a proof of version 1, version 2 current: %v", err)
	}
	ev := loadPreAuthEvent(t, "valid")
	ev.Request.ValidationData[ProofMetadataKey] = password.Proof(newKey, ev.UserName, r.clock().Add(time.Minute))
	if _, err := r.steps.PreAuthentication(context.Background(), ev); err != nil {
		t.Fatalf("a proof of version 2: %v", err)
	}
	retired := newRig(t, WithProofKeys(2, map[int][]byte{2: newKey}))
	if _, err := retired.steps.PreAuthentication(context.Background(), loadPreAuthEvent(t, "valid")); err == nil {
		t.Fatal("a proof of a version the secret no longer holds was accepted")
	}
}
