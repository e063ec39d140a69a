package workflow

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

var testPepper = []byte("0123456789abcdef0123456789abcdef-test-pepper")

type rig struct {
	kakao    *memKakao
	users    *memUsers
	mappings *memMappings
	audit    *memAudit
	now      time.Time
	steps    *Steps
}

func newRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{
		kakao: &memKakao{ids: map[string]kakaoauth.KakaoIdentity{
			"tok-1":     {KakaoID: 1, AppID: 1001, Email: "one@example.com", EmailChecked: true, Nickname: "one"},
			"tok-2":     {KakaoID: 2, AppID: 1001, EmailChecked: true, Nickname: "two"},
			"idtoken-1": {KakaoID: 1, Nickname: "one"},
		}},
		users: newMemUsers(), mappings: newMemMappings(), audit: &memAudit{},
		now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	}
	r.steps = New(WithKakao(r.kakao), WithUsers(r.users), WithMappings(r.mappings), WithAudit(r.audit),
		WithPepper(testPepper), WithPasswordRotation(time.Hour), WithClock(func() time.Time { return r.now }))
	return r
}

// login runs the four steps in order, as the happy path of the machine does.
func (r *rig) login(t *testing.T, body string) (LoginResponse, error) {
	t.Helper()
	ctx := context.Background()
	st, err := r.steps.ValidateToken(ctx, ValidateTokenInput{Body: body, Context: RequestContext{SourceIP: "198.51.100.7", UserAgent: "test"}, ExecutionID: "exec-1"})
	if err != nil {
		return LoginResponse{}, err
	}
	if st.Subject, err = r.steps.UpsertUser(ctx, st); err != nil {
		return LoginResponse{}, err
	}
	pw, err := r.steps.SetPassword(ctx, st)
	if err != nil {
		return LoginResponse{}, err
	}
	st.Password = &pw
	return r.steps.IssueTokens(ctx, st)
}

func TestParseLoginRequest(t *testing.T) {
	cases := []struct {
		name, body, wantReason string
	}{
		{"access token", `{"access_token":"a"}`, ""},
		{"id token with nonce", `{"id_token":"x.y.z","nonce":"n"}`, ""},
		{"both", `{"access_token":"a","id_token":"x.y.z"}`, ""},
		{"empty object", `{}`, "neither access_token nor id_token"},
		{"empty body", ``, "empty or truncated"},
		{"malformed", `{"access_token":`, "empty or truncated"},
		{"syntax", `{"access_token" "a"}`, "malformed JSON"},
		{"not an object", `["a"]`, "body is not a JSON object"},
		{"unknown field", `{"access_token":"a","email":"x@y.z"}`, `unknown field "email"`},
		{"wrong type", `{"access_token":5}`, "field access_token must be a string"},
		{"trailing", `{"access_token":"a"}{"x":1}`, "trailing data"},
		{"nonce alone", `{"access_token":"a","nonce":"n"}`, "nonce given without id_token"},
		{"oversized", `{"access_token":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, "too large"},
		{"long token", `{"access_token":"` + strings.Repeat("a", maxTokenBytes+1) + `"}`, "too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseLoginRequest(c.body)
			if c.wantReason == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var bad *kakaoauth.InvalidRequest
			if !errors.As(err, &bad) || kakaoauth.ErrorName(err) != "InvalidRequest" {
				t.Fatalf("got %v (%s), want InvalidRequest", err, kakaoauth.ErrorName(err))
			}
			if !strings.Contains(bad.Reason, c.wantReason) {
				t.Fatalf("reason %q, want it to contain %q", bad.Reason, c.wantReason)
			}
		})
	}
}

func TestParseLoginRequestNeverEchoesTheBody(t *testing.T) {
	const secret = "SECRET-TOKEN-VALUE"
	for _, body := range []string{
		`{"access_token":"` + secret + `","x":1}`,
		`{"access_token":"` + secret + `"`,
		`{"access_token":"` + secret + `"} trailing ` + secret,
		`{"access_token":"` + secret + `","nonce":"` + secret + `"}`,
	} {
		_, err := ParseLoginRequest(body)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("error %v for %q leaks or is missing", err, body)
		}
	}
}

func TestFirstAndReturningLogin(t *testing.T) {
	r := newRig(t)
	first, err := r.login(t, `{"access_token":"tok-1"}`)
	if err != nil {
		t.Fatal(err)
	}
	if !first.NewUser || first.Username != "kakao_1" || first.Sub == "" || first.IDToken == "" {
		t.Fatalf("first login: %+v", first)
	}
	u := r.users.users["kakao_1"]
	if u.KakaoID != 1 || u.Email != "one@example.com" || !u.EmailVerified {
		t.Fatalf("cognito user: %+v", u)
	}
	m := r.mappings.rows[1]
	if m.Sub != first.Sub || m.Status != kakaoauth.StatusActive || m.PasswordNonce == "" || m.Email != "one@example.com" {
		t.Fatalf("mapping: %+v", m)
	}
	r.now = r.now.Add(time.Minute)
	again, err := r.login(t, `{"access_token":"tok-1"}`)
	if err != nil {
		t.Fatal(err)
	}
	if again.NewUser || again.Sub != first.Sub {
		t.Fatalf("returning login: %+v", again)
	}
	if got := r.users.calls["SetPassword"]; got != 1 {
		t.Fatalf("AdminSetUserPassword calls = %d, want 1 (nonce reused within the rotation interval)", got)
	}
	want := []string{"user_created", "login_succeeded", "login_succeeded"}
	if got := r.audit.types(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("audit = %v, want %v", got, want)
	}
	if !r.mappings.rows[1].LastLoginAt.Equal(r.now) {
		t.Fatalf("lastLoginAt = %v, want %v", r.mappings.rows[1].LastLoginAt, r.now)
	}
}

func TestPasswordRotatesAfterInterval(t *testing.T) {
	r := newRig(t)
	if _, err := r.login(t, `{"access_token":"tok-2"}`); err != nil {
		t.Fatal(err)
	}
	n1 := r.mappings.rows[2].PasswordNonce
	r.now = r.now.Add(2 * time.Hour)
	if _, err := r.login(t, `{"access_token":"tok-2"}`); err != nil {
		t.Fatal(err)
	}
	n2 := r.mappings.rows[2].PasswordNonce
	if n1 == n2 || r.users.calls["SetPassword"] != 2 {
		t.Fatalf("nonce %q -> %q, SetPassword calls %d: want a rotation", n1, n2, r.users.calls["SetPassword"])
	}
	if r.users.passwords["kakao_2"] != password.Derive(testPepper, r.mappings.rows[2].Sub, n2) {
		t.Fatal("cognito password is not the derivation of the current nonce")
	}
}

func TestStaleNonceLosesRaceAndRecovers(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.login(t, `{"access_token":"tok-2"}`); err != nil {
		t.Fatal(err)
	}
	// Login B read nonce n1 and is about to sign in when login A rotates.
	st, _ := r.steps.ValidateToken(ctx, ValidateTokenInput{Body: `{"access_token":"tok-2"}`})
	st.Subject, _ = r.steps.UpsertUser(ctx, st)
	pwB, _ := r.steps.SetPassword(ctx, st)
	r.now = r.now.Add(2 * time.Hour)
	if _, err := r.login(t, `{"access_token":"tok-2"}`); err != nil {
		t.Fatal(err)
	}
	st.Password = &pwB
	_, err := r.steps.IssueTokens(ctx, st)
	if kakaoauth.ErrorName(err) != "PasswordRotated" {
		t.Fatalf("stale sign-in: %v, want PasswordRotated", err)
	}
	// The machine sends B back to SetPassword: it picks up A's nonce.
	pwB2, err := r.steps.SetPassword(ctx, st)
	if err != nil || pwB2.Attempt != 2 || pwB2.Nonce == pwB.Nonce {
		t.Fatalf("re-run SetPassword: %+v %v", pwB2, err)
	}
	st.Password = &pwB2
	if _, err := r.steps.IssueTokens(ctx, st); err != nil {
		t.Fatalf("after re-run: %v", err)
	}
}

func TestSecondRerunRepairsAWinnerThatNeverSetThePassword(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.login(t, `{"access_token":"tok-2"}`); err != nil {
		t.Fatal(err)
	}
	// A winner swapped the nonce, then crashed before AdminSetUserPassword.
	m := r.mappings.rows[2]
	if err := r.mappings.SwapPasswordNonce(ctx, 2, m.PasswordNonce, "orphan-nonce", r.now); err != nil {
		t.Fatal(err)
	}
	st, _ := r.steps.ValidateToken(ctx, ValidateTokenInput{Body: `{"access_token":"tok-2"}`})
	st.Subject, _ = r.steps.UpsertUser(ctx, st)
	calls := r.users.calls["SetPassword"]
	for attempt := 0; attempt < MaxPasswordAttempts; attempt++ {
		if attempt > 0 {
			st.Password.Attempt = attempt
		}
		pw, err := r.steps.SetPassword(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		st.Password = &pw
		if _, err = r.steps.IssueTokens(ctx, st); err == nil {
			if attempt != 2 || r.users.calls["SetPassword"] != calls+1 {
				t.Fatalf("succeeded at attempt %d with %d sets", attempt, r.users.calls["SetPassword"]-calls)
			}
			return
		}
	}
	t.Fatal("never recovered")
}

func TestUnlinkedAccountIsRefused(t *testing.T) {
	r := newRig(t)
	if _, err := r.login(t, `{"access_token":"tok-2"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.mappings.MarkUnlinked(context.Background(), 2, r.now); err != nil {
		t.Fatal(err)
	}
	_, err := r.login(t, `{"access_token":"tok-2"}`)
	if kakaoauth.ErrorName(err) != "AccountUnlinked" {
		t.Fatalf("got %v, want AccountUnlinked", err)
	}
}

func TestEmailOfNativeUserConflicts(t *testing.T) {
	r := newRig(t)
	r.users.addNative("alice", "one@example.com")
	_, err := r.login(t, `{"access_token":"tok-1"}`)
	if kakaoauth.ErrorName(err) != "AccountConflict" {
		t.Fatalf("got %v, want AccountConflict", err)
	}
	if _, ok := r.users.users["kakao_1"]; ok {
		t.Fatal("a Kakao user was created despite the conflict")
	}
	if len(r.mappings.rows) != 0 {
		t.Fatal("a mapping was written despite the conflict")
	}
}

func TestChangedEmailFollowsKakao(t *testing.T) {
	r := newRig(t)
	if _, err := r.login(t, `{"access_token":"tok-1"}`); err != nil {
		t.Fatal(err)
	}
	r.kakao.ids["tok-1"] = kakaoauth.KakaoIdentity{KakaoID: 1, AppID: 1001, Email: "new@example.com", EmailChecked: true, Nickname: "one"}
	if _, err := r.login(t, `{"access_token":"tok-1"}`); err != nil {
		t.Fatal(err)
	}
	if u := r.users.users["kakao_1"]; u.Email != "new@example.com" || !u.EmailVerified {
		t.Fatalf("user after change: %+v", u)
	}
	if m := r.mappings.rows[1]; m.Email != "new@example.com" {
		t.Fatalf("mapping email %q", m.Email)
	}
	// Kakao withdrew the verified email: the attribute goes too.
	r.kakao.ids["tok-1"] = kakaoauth.KakaoIdentity{KakaoID: 1, AppID: 1001, EmailChecked: true}
	if _, err := r.login(t, `{"access_token":"tok-1"}`); err != nil {
		t.Fatal(err)
	}
	if u := r.users.users["kakao_1"]; u.Email != "" || u.EmailVerified {
		t.Fatalf("user after withdrawal: %+v", u)
	}
}

func TestCrashBeforeMappingIsRepaired(t *testing.T) {
	r := newRig(t)
	// An earlier login created the Cognito user and died before the mapping.
	created, err := r.users.CreateUser(context.Background(), kakaoauth.NewCognitoUser{KakaoID: 2})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.login(t, `{"access_token":"tok-2"}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Sub != created.Sub || resp.NewUser || len(r.users.users) != 1 || r.mappings.rows[2].Sub != created.Sub {
		t.Fatalf("repair: %+v, users %d", resp, len(r.users.users))
	}
}

func TestFailedMappingWriteRemovesTheNewUser(t *testing.T) {
	r := newRig(t)
	r.mappings.failNext["Create"] = &kakaoauth.Throttled{Reason: "test"}
	_, err := r.login(t, `{"access_token":"tok-2"}`)
	if kakaoauth.ErrorName(err) != "Throttled" {
		t.Fatalf("got %v, want Throttled", err)
	}
	if len(r.users.users) != 0 || len(r.mappings.rows) != 0 {
		t.Fatalf("left %d users and %d mappings", len(r.users.users), len(r.mappings.rows))
	}
	if got := r.audit.types(); len(got) != 0 {
		t.Fatalf("audit %v: user_created must not be written for a removed user", got)
	}
}

func TestConcurrentFirstLoginsConverge(t *testing.T) {
	r := newRig(t)
	const n = 20
	var wg sync.WaitGroup
	results := make([]LoginResponse, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			// Run each login's steps, retrying PasswordRotated as the machine does.
			results[i], errs[i] = r.loginWithMachineRetries(t)
		})
	}
	wg.Wait()
	newUsers := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("login %d: %v", i, errs[i])
		}
		if results[i].Sub != results[0].Sub {
			t.Fatalf("login %d got sub %s, login 0 %s", i, results[i].Sub, results[0].Sub)
		}
		if results[i].NewUser {
			newUsers++
		}
	}
	if newUsers != 1 || len(r.users.users) != 1 || len(r.mappings.rows) != 1 {
		t.Fatalf("new_user=%d users=%d mappings=%d, want 1 each", newUsers, len(r.users.users), len(r.mappings.rows))
	}
}

func (r *rig) loginWithMachineRetries(t *testing.T) (LoginResponse, error) {
	ctx := context.Background()
	st, err := r.steps.ValidateToken(ctx, ValidateTokenInput{Body: `{"access_token":"tok-1"}`})
	if err != nil {
		return LoginResponse{}, err
	}
	if st.Subject, err = r.steps.UpsertUser(ctx, st); err != nil {
		return LoginResponse{}, err
	}
	for {
		pw, err := r.steps.SetPassword(ctx, st)
		if err != nil {
			return LoginResponse{}, err
		}
		st.Password = &pw
		resp, err := r.steps.IssueTokens(ctx, st)
		if kakaoauth.ErrorName(err) != "PasswordRotated" || pw.Attempt >= MaxPasswordAttempts {
			return resp, err
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRecordFailureAudits(t *testing.T) {
	r := newRig(t)
	_, err := r.steps.RecordFailure(context.Background(), FailureInput{
		Context:     RequestContext{SourceIP: "203.0.113.1", UserAgent: "ua"},
		Subject:     &Subject{KakaoID: 9, Sub: "s-9", AppID: 1001},
		Error:       CaughtError{Error: "AccountUnlinked", Cause: `{"errorMessage":"kakao account 9 is unlinked","errorType":"AccountUnlinked"}`},
		ExecutionID: "arn:exec",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := r.audit.events[0]
	if e.Type != kakaoauth.EventLoginFailed || e.Error != "AccountUnlinked" || e.KakaoID != 9 || e.Sub != "s-9" || e.ExecutionID != "arn:exec" || e.SourceIP != "203.0.113.1" || e.Outcome != "failure" {
		t.Fatalf("event %+v", e)
	}
}

// An ID token says nothing about the email: logging in with one keeps the
// verified email an earlier access-token login stored.
func TestIDTokenLoginKeepsTheEmail(t *testing.T) {
	r := newRig(t)
	if _, err := r.login(t, `{"access_token":"tok-1"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.login(t, `{"access_token":"idtoken-1"}`); err != nil {
		t.Fatal(err)
	}
	if u := r.users.users["kakao_1"]; u.Email != "one@example.com" || !u.EmailVerified {
		t.Fatalf("user after ID-token login: %+v", u)
	}
	if m := r.mappings.rows[1]; m.Email != "one@example.com" {
		t.Fatalf("mapping email after ID-token login: %q", m.Email)
	}
	if r.users.calls["UpdateProfile"] != 0 {
		t.Fatal("an ID-token login touched the profile")
	}
}
