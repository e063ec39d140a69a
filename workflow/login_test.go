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
		{"unknown field", `{"access_token":"a","email":"x@y.z"}`, "unknown field"},
		{"key in another case", `{"ACCESS_TOKEN":"a"}`, "unknown field"},
		{"key in another case beside the right one", `{"access_token":"a","Access_Token":"b"}`, "unknown field"},
		{"null", `null`, "body is not a JSON object"},
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
		// A member's name is the client's text too.
		`{"access_token":"a","` + secret + `":1}`,
		`{"access_token":"a","` + secret + `\n":1}`,
		`{"` + secret + `":"a"}`,
		`{"access_token":{"` + secret + `":1}}`,
	} {
		_, err := ParseLoginRequest(body)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("error %v for %q leaks or is missing", err, body)
		}
	}
}

// Tokens that cannot be Kakao's are InvalidKakaoToken before Kakao is
// asked: control characters (which used to fail the HTTP request and read
// as a Kakao outage), other characters a bearer token or a JWS cannot
// have, an access token far longer than Kakao's, an ID token that is not
// three segments. Kakao-shaped tokens pass.
func TestCheckTokenShapes(t *testing.T) {
	good := []LoginRequest{
		{AccessToken: "h-lyIH_iJwUpC1oXlq_GwMZrYVEa1sC3AAAAAQo9dNsAAAGL"},
		{AccessToken: "a.b~c+d/e=="},
		{AccessToken: strings.Repeat("a", accessTokenMaxBytes)},
		{IDToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", Nonce: "n"},
		{AccessToken: "tok-1", IDToken: "x.y.z"},
	}
	for _, r := range good {
		if err := CheckTokenShapes(r); err != nil {
			t.Errorf("%+.40v: %v", r, err)
		}
	}
	bad := []LoginRequest{
		{AccessToken: "tok\r\nX-Injected: 1"},
		{AccessToken: "tok\x00"},
		{AccessToken: "tok\n"},
		{AccessToken: "tok en"},
		{AccessToken: "tok\"en"},
		{AccessToken: "토큰"},
		{AccessToken: "=="},
		{AccessToken: "a=b"},
		{AccessToken: strings.Repeat("a", accessTokenMaxBytes+1)},
		{IDToken: "x.y"},
		{IDToken: "x.y.z.w.v"},
		{IDToken: "x..z"},
		{IDToken: "x.y.z\r"},
		{IDToken: "x.y+.z"},
		{IDToken: "x.y.z="},
		{AccessToken: "fine", IDToken: "not-a-jws"},
	}
	for _, r := range bad {
		err := CheckTokenShapes(r)
		if kakaoauth.ErrorName(err) != "InvalidKakaoToken" {
			t.Errorf("%q: %v, want InvalidKakaoToken", r, err)
		}
		if err != nil && err.Error() != "invalid kakao token: access token is not a bearer token" &&
			err.Error() != "invalid kakao token: id token is not a JWS compact serialization" {
			t.Errorf("%q: the error %q is not fixed text", r, err)
		}
	}
}

// A token with CR, LF or NUL is an invalid token, refused without a Kakao
// call or a retry, and audited as such, not as a Kakao outage.
func TestControlCharactersInTokensAreInvalidNotAnOutage(t *testing.T) {
	for _, body := range []string{`{"access_token":"tok-1\r\n"}`, `{"access_token":"tok\u0000"}`, `{"id_token":"a.b.c\n"}`} {
		r := newRig(t)
		exec := r.run(t, body)
		assertPath(t, exec, pathRejected...)
		if exec.Error != "InvalidKakaoToken" || exec.Attempts["ValidateToken"] != 1 || r.kakao.calls.Load() != 0 {
			t.Fatalf("%s: error %s, attempts %v, Kakao calls %d", body, exec.Error, exec.Attempts, r.kakao.calls.Load())
		}
		if got := r.audit.types(); len(got) != 1 || got[0] != "login_failed:InvalidKakaoToken" {
			t.Fatalf("%s: audit %v", body, got)
		}
	}
}

// A first login creates the user with a temporary password and replaces
// it in its own sign-in: no AdminSetUserPassword. A returning login reads
// the mapping once and makes one Cognito call.
func TestFirstAndReturningLoginBudgets(t *testing.T) {
	r := newRig(t)
	exec := r.run(t, `{"access_token":"tok-1"}`)
	assertPath(t, exec, pathReady...)
	first := decode(t, exec)
	if !first.NewUser || first.Username != "kakao_1" || first.Sub == "" || first.IDToken == "" || first.RefreshToken == "" {
		t.Fatalf("first login: %+v", first)
	}
	assertCalls(t, "first login", r.cognito(), map[string]int{
		"ListUsers": 1, "AdminCreateUser": 1, "AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1,
	})
	u, _ := r.users.user("kakao_1")
	m := r.mappings.row(1)
	if u.KakaoID != 1 || u.Email != "one@example.com" || !u.EmailVerified || u.forceChange ||
		u.password != password.Derive(testPepper, u.Sub, m.PasswordNonce) {
		t.Fatalf("cognito user after the first sign-in: %+v", u)
	}
	if m.Sub != first.Sub || m.Status != kakaoauth.StatusActive || m.PasswordState != kakaoauth.PasswordApplied || m.Email != "one@example.com" {
		t.Fatalf("mapping: %+v", m)
	}
	if got := r.events.types(); strings.Join(got, ",") != "user_created" {
		t.Fatalf("events %v", got)
	}
	if m.EventPending {
		t.Fatal("outbox still pending after a successful publish")
	}

	r.advance(time.Minute)
	r.resetCalls()
	exec = r.run(t, `{"access_token":"tok-1"}`)
	assertPath(t, exec, pathReady...)
	again := decode(t, exec)
	r.login(t, `{"access_token":"tok-1"}`)
	if again.NewUser || again.Sub != first.Sub {
		t.Fatalf("returning login: %+v", again)
	}
	assertCalls(t, "two returning logins", r.cognito(), map[string]int{"AdminInitiateAuth": 2})
	if got := r.mappings.calls("GetItem"); got != 2 {
		t.Fatalf("two returning logins read the mapping %d times, want once each", got)
	}
	want := "user_created,login_succeeded,login_succeeded,login_succeeded"
	if got := strings.Join(r.audit.types(), ","); got != want {
		t.Fatalf("audit = %s, want %s", got, want)
	}
	if !r.mappings.row(1).LastLoginAt.Equal(r.clock()) {
		t.Fatal("lastLoginAt not recorded")
	}
}

// An ID token says nothing about the email: logging in with one makes one
// Cognito call and keeps the verified email an access-token login stored.
func TestReturningIDTokenLoginMakesOneCognitoCall(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.kakao.ids["id.token.1"] = kakaoauth.KakaoIdentity{KakaoID: 1, Nickname: "one", IDTokenIssuedAt: t0}
	r.resetCalls()
	r.login(t, `{"id_token":"id.token.1"}`)
	assertCalls(t, "ID-token login", r.cognito(), map[string]int{"AdminInitiateAuth": 1})
	if u, _ := r.users.user("kakao_1"); u.Email != "one@example.com" || !u.EmailVerified {
		t.Fatalf("user after ID-token login: %+v", u)
	}
	if m := r.mappings.row(1); m.Email != "one@example.com" {
		t.Fatalf("mapping email after ID-token login: %q", m.Email)
	}
}

func TestPasswordRotatesAfterInterval(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	n1 := r.mappings.row(2).PasswordNonce
	r.advance(2 * time.Hour)
	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, pathSetFirst...)
	m := r.mappings.row(2)
	if m.PasswordNonce == n1 || m.PasswordState != kakaoauth.PasswordApplied {
		t.Fatalf("nonce %q -> %q (%s): want a rotation", n1, m.PasswordNonce, m.PasswordState)
	}
	assertCalls(t, "rotation", r.cognito(), map[string]int{"AdminSetUserPassword": 1, "AdminInitiateAuth": 1})
	if u, _ := r.users.user("kakao_2"); u.password != password.Derive(testPepper, m.Sub, m.PasswordNonce) {
		t.Fatal("cognito password is not the derivation of the current nonce")
	}
}

// A throttled AdminSetUserPassword after a nonce claim: that login gets a
// 429 without having signed in, and the next login repairs the nonce with
// one set and one sign-in, no failed sign-in.
func TestThrottledSetIsRepairedByTheNextLogin(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	r.advance(2 * time.Hour)
	r.resetCalls()
	r.users.failNext("AdminSetUserPassword", &kakaoauth.Throttled{Reason: "cognito set password"})
	exec := r.fails(t, `{"access_token":"tok-2"}`, "Throttled")
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "SetPassword", "RecordFailure", "LoginFailed")
	assertCalls(t, "throttled login", r.cognito(), map[string]int{"AdminSetUserPassword": 1})
	if got := r.mappings.row(2).PasswordState; got != kakaoauth.PasswordFailed {
		t.Fatalf("nonce state after the throttled set: %s", got)
	}

	r.resetCalls()
	exec = r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, pathSetFirst...)
	assertCalls(t, "repairing login", r.cognito(), map[string]int{"AdminSetUserPassword": 1, "AdminInitiateAuth": 1})
	if got := r.mappings.row(2).PasswordState; got != kakaoauth.PasswordApplied {
		t.Fatalf("nonce state after the repair: %s", got)
	}
}

// A claimant that died between its claim and its set leaves a pending
// nonce: within the grace a login waits for it (reading DynamoDB only);
// after it, the login claims a fresh one.
func TestAbandonedPendingNonceIsClaimedAfterTheGrace(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	m := r.mappings.row(2)
	m.PasswordNonce, m.PasswordState, m.PasswordSetAt = "orphan", kakaoauth.PasswordPending, r.clock()
	r.mappings.put(m)
	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, pathSetFirst...)
	assertCalls(t, "login after a dead claimant", r.cognito(), map[string]int{"AdminSetUserPassword": 1, "AdminInitiateAuth": 1})
	if r.clock().Sub(m.PasswordSetAt) < DefaultPasswordApplyGrace {
		t.Fatalf("claimed after %v, before the grace of %v", r.clock().Sub(m.PasswordSetAt), DefaultPasswordApplyGrace)
	}
}

// Two logins rotate at once: A claims and sets; B loses the claim, waits
// for A's set (reading DynamoDB, not calling Cognito) and signs in with
// A's nonce. One AdminSetUserPassword in all.
func TestConcurrentRotationSetsOnce(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	r.advance(2 * time.Hour)
	r.resetCalls()

	ctx := context.Background()
	st, err := r.steps.ValidateToken(ctx, ValidateTokenInput{Body: `{"access_token":"tok-2"}`, ExecutionID: "exec-b"})
	if err != nil {
		t.Fatal(err)
	}
	// B has read the stale mapping before A starts.
	if st, err = r.steps.UpsertUser(ctx, st); err != nil || st.Password.Ready {
		t.Fatalf("B upsert: ready=%v %v", st.Password.Ready, err)
	}

	aClaimed, bWaits, aDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once sync.Once
	// A holds its set until B is waiting for it.
	r.users.before("AdminSetUserPassword", func() { once.Do(func() { close(aClaimed); <-bWaits }) })
	var waits sync.Once
	r.steps.sleep = func(context.Context, time.Duration) error {
		waits.Do(func() { close(bWaits); <-aDone })
		r.advance(pollInterval)
		return nil
	}
	var a LoginResponse
	go func() {
		defer close(aDone)
		a = r.login(t, `{"access_token":"tok-2"}`)
	}()
	<-aClaimed
	if st, err = r.steps.SetPassword(ctx, st); err != nil || st.Password.Set || !st.Password.Ready {
		t.Fatalf("B SetPassword: %+v %v", st.Password, err)
	}
	b, err := r.steps.IssueTokens(ctx, st)
	if err != nil {
		t.Fatalf("B sign-in: %v", err)
	}
	<-aDone
	if a.Sub == "" || b.Sub != a.Sub {
		t.Fatalf("logins %+v and %+v", a, b)
	}
	assertCalls(t, "two concurrent rotations", r.cognito(), map[string]int{"AdminSetUserPassword": 1, "AdminInitiateAuth": 2})
}

// Between this login's read of the mapping and its sign-in another login
// rotated the password: one repair (re-read, no Cognito call), then the
// second and last sign-in succeeds.
func TestLostRaceRepairsWithoutASet(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	r.resetCalls()
	var once sync.Once
	r.users.before("AdminInitiateAuth", func() {
		once.Do(func() {
			// Another login rotates right now.
			m := r.mappings.row(2)
			next, _ := password.NewNonce()
			m.PasswordNonce, m.PasswordState, m.PasswordSetAt = next, kakaoauth.PasswordApplied, r.clock()
			r.mappings.put(m)
			u, _ := r.users.user("kakao_2")
			_ = r.users.SetPassword(context.Background(), "kakao_2", password.Derive(testPepper, u.Sub, next))
		})
	})
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens",
		"AfterPasswordRotated", "SetPassword", "CountSignIn", "IssueTokens")
	// The other login's own set is counted too (1); this login made none.
	// The app client says the same of a lost race and of a missing user:
	// one AdminGetUser tells them apart.
	assertCalls(t, "login that lost a race", r.cognito(), map[string]int{"AdminInitiateAuth": 2, "AdminSetUserPassword": 1, "AdminGetUser": 1})
}

// Cognito refuses the password the mapping says it holds (an operator set
// another one): the repair claims a fresh nonce and sets it, once.
func TestPasswordChangedBehindTheBrokersBack(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	if err := r.users.SetPassword(context.Background(), "kakao_2", "Kk1!set-by-an-operator"); err != nil {
		t.Fatal(err)
	}
	r.resetCalls()
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens",
		"AfterPasswordRotated", "SetPassword", "CountSignIn", "IssueTokens")
	assertCalls(t, "repair", r.cognito(), map[string]int{"AdminInitiateAuth": 2, "AdminSetUserPassword": 1, "AdminGetUser": 1})
}

// However the password keeps failing, a login signs in twice at most and
// sets once at most, then answers 429.
func TestPasswordBudgetIsBounded(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	r.resetCalls()
	r.users.before("AdminInitiateAuth", func() {
		// Someone changes the password before every sign-in.
		_ = r.users.SetPassword(context.Background(), "kakao_2", "Kk1!always-another-one")
	})
	exec := r.fails(t, `{"access_token":"tok-2"}`, "PasswordRotated")
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens",
		"AfterPasswordRotated", "SetPassword", "CountSignIn", "IssueTokens", "AfterPasswordRotated", "RecordFailure", "LoginFailed")
	got := r.cognito()
	// The hook's own sets are AdminSetUserPassword calls too: 2 sign-ins,
	// so 2 from the hook, and 1 from the login. AdminGetUser only after
	// the first refusal: after the last one its answer could change nothing.
	assertCalls(t, "bounded login", got, map[string]int{"AdminInitiateAuth": MaxSignIns, "AdminSetUserPassword": MaxSignIns + 1, "AdminGetUser": 1})
	if o := kakaoauth.OutcomeOf(exec.Error); o.Status != 429 || o.Code != "Throttled" {
		t.Fatalf("outcome %+v", o)
	}
}

// Cognito's lockout answer is its own error and is never retried.
func TestLockoutIsNotRetried(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	r.resetCalls()
	r.users.failNext("AdminInitiateAuth", &kakaoauth.PasswordAttemptsExceeded{Username: "kakao_2"})
	exec := r.fails(t, `{"access_token":"tok-2"}`, "PasswordAttemptsExceeded")
	assertPath(t, exec, "ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens", "RecordFailure", "LoginFailed")
	assertCalls(t, "locked out", r.cognito(), map[string]int{"AdminInitiateAuth": 1})
	if o := kakaoauth.OutcomeOf(exec.Error); o.Status != 429 {
		t.Fatalf("outcome %+v", o)
	}
}

// A throttled sign-in is a 429 at once: a retry would spend the shared
// UserAuthentication quota again.
func TestThrottledSignInIsNotRetried(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-2"}`)
	r.resetCalls()
	r.users.failNext("AdminInitiateAuth", &kakaoauth.Throttled{Reason: "cognito sign in"})
	r.fails(t, `{"access_token":"tok-2"}`, "Throttled")
	assertCalls(t, "throttled sign-in", r.cognito(), map[string]int{"AdminInitiateAuth": 1})
}

func TestEmailOfNativeUserConflicts(t *testing.T) {
	r := newRig(t)
	r.users.addNative("alice", "one@example.com")
	exec := r.fails(t, `{"access_token":"tok-1"}`, "AccountConflict")
	assertPath(t, exec, pathUpsertErr...)
	if _, ok := r.users.user("kakao_1"); ok {
		t.Fatal("a Kakao user was created despite the conflict")
	}
	if _, err := r.mappings.Get(context.Background(), 1); err == nil {
		t.Fatal("a mapping was written despite the conflict")
	}
}

func TestChangedEmailFollowsKakao(t *testing.T) {
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.kakao.ids["tok-1"] = kakaoauth.KakaoIdentity{KakaoID: 1, AppID: 1001, Email: "new@example.com", EmailChecked: true, Nickname: "one"}
	r.login(t, `{"access_token":"tok-1"}`)
	if u, _ := r.users.user("kakao_1"); u.Email != "new@example.com" || !u.EmailVerified {
		t.Fatalf("user after change: %+v", u)
	}
	if m := r.mappings.row(1); m.Email != "new@example.com" {
		t.Fatalf("mapping email %q", m.Email)
	}
	// Kakao withdrew the verified email: the attribute goes too.
	r.kakao.ids["tok-1"] = kakaoauth.KakaoIdentity{KakaoID: 1, AppID: 1001, EmailChecked: true}
	r.login(t, `{"access_token":"tok-1"}`)
	if u, _ := r.users.user("kakao_1"); u.Email != "" || u.EmailVerified {
		t.Fatalf("user after withdrawal: %+v", u)
	}
}

// An earlier login created the Cognito user and died before the mapping:
// the next one adopts the user, whose temporary password it can derive.
func TestCrashBeforeMappingIsRepaired(t *testing.T) {
	r := newRig(t)
	created, err := r.users.CreateUser(context.Background(), kakaoauth.NewCognitoUser{KakaoID: 2, TemporaryPassword: password.Temporary(testPepper, "kakao_2")})
	if err != nil {
		t.Fatal(err)
	}
	resp := r.login(t, `{"access_token":"tok-2"}`)
	if resp.Sub != created.Sub || resp.NewUser || r.mappings.row(2).Sub != created.Sub {
		t.Fatalf("repair: %+v", resp)
	}
}

func TestFailedMappingWriteRemovesTheNewUser(t *testing.T) {
	r := newRig(t)
	r.mappings.failNext("PutItem", errors.New("dynamodb down"))
	r.fails(t, `{"access_token":"tok-2"}`, "errorString")
	if _, ok := r.users.user("kakao_2"); ok {
		t.Fatal("the new user was left behind")
	}
	if got := r.audit.types(); strings.Join(got, ",") != "login_failed:errorString" {
		t.Fatalf("audit %v: user_created must not be written for a removed user", got)
	}
	if len(r.events.types()) != 0 {
		t.Fatal("an event was published for a removed user")
	}
}

// N concurrent first logins: one user, one mapping, one user_created, and
// every login signs in within its budget.
func TestConcurrentFirstLoginsConverge(t *testing.T) {
	r := newRig(t)
	const n = 20
	var wg sync.WaitGroup
	results := make([]LoginResponse, n)
	for i := range n {
		wg.Go(func() { results[i] = r.login(t, `{"access_token":"tok-1"}`) })
	}
	wg.Wait()
	newUsers := 0
	for i := range n {
		if results[i].Sub != results[0].Sub {
			t.Fatalf("login %d got sub %s, login 0 %s", i, results[i].Sub, results[0].Sub)
		}
		if results[i].NewUser {
			newUsers++
		}
	}
	calls := r.cognito()
	if newUsers != 1 || calls["AdminSetUserPassword"] != 0 || calls["AdminInitiateAuth"] > n*MaxSignIns {
		t.Fatalf("new_user=%d calls=%v", newUsers, calls)
	}
	if got := r.events.types(); strings.Join(got, ",") != "user_created" {
		t.Fatalf("events %v", got)
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
	e := r.audit.all()[0]
	if e.Type != kakaoauth.EventLoginFailed || e.Error != "AccountUnlinked" || e.KakaoID != 9 || e.Sub != "s-9" || e.ExecutionID != "arn:exec" || e.SourceIP != "203.0.113.1" || e.Outcome != "failure" {
		t.Fatalf("event %+v", e)
	}
}

// Pepper rotation, as an operator does it: add version 2 to the secret
// and make it current. Passwords derive with the version their nonce was
// made with, so nothing changes until an account's next nonce rotation,
// which makes the new nonce with version 2 (one AdminSetUserPassword, as
// any rotation). Retiring version 1 afterwards repairs the accounts still
// on it like a password changed behind the broker's back: one set, one
// sign-in.
func TestPepperRotationTakesOverAtTheNextNonceRotation(t *testing.T) {
	pepper2 := []byte("0123456789abcdef0123456789abcdef-pepper-two")
	r := newRig(t)
	r.login(t, `{"access_token":"tok-1"}`)
	r.login(t, `{"access_token":"tok-2"}`)
	if m := r.mappings.row(2); m.PepperVersion != 1 {
		t.Fatalf("new account's pepper version %d", m.PepperVersion)
	}

	WithPeppers(2, map[int][]byte{1: testPepper, 2: pepper2})(r.steps) // the functions' next cold start
	r.resetCalls()
	assertPath(t, r.run(t, `{"access_token":"tok-2"}`), pathReady...)
	assertCalls(t, "before the rotation is due", r.cognito(), map[string]int{"AdminInitiateAuth": 1})
	if m := r.mappings.row(2); m.PepperVersion != 1 {
		t.Fatalf("pepper version %d before the nonce rotated", m.PepperVersion)
	}

	r.advance(2 * time.Hour)
	r.resetCalls()
	assertPath(t, r.run(t, `{"access_token":"tok-2"}`), pathSetFirst...)
	assertCalls(t, "the nonce rotation", r.cognito(), map[string]int{"AdminSetUserPassword": 1, "AdminInitiateAuth": 1})
	m := r.mappings.row(2)
	if u, _ := r.users.user("kakao_2"); m.PepperVersion != 2 || u.password != password.Derive(pepper2, u.Sub, m.PasswordNonce) {
		t.Fatalf("after the rotation: version %d, password of version 2 %v", m.PepperVersion, u.password == password.Derive(pepper2, u.Sub, m.PasswordNonce))
	}

	// Version 1 retired: kakao_1 (still on it) is repaired at its next login.
	WithPeppers(2, map[int][]byte{2: pepper2})(r.steps)
	r.resetCalls()
	assertPath(t, r.run(t, `{"access_token":"tok-1"}`), pathSetFirst...)
	assertCalls(t, "a retired version", r.cognito(), map[string]int{"AdminSetUserPassword": 1, "AdminInitiateAuth": 1})
	if m := r.mappings.row(1); m.PepperVersion != 2 {
		t.Fatalf("kakao_1 after version 1 was retired: version %d", m.PepperVersion)
	}
}

// A function whose configuration lacks the nonce's pepper version (its
// containers started before the operator changed the secret) spends no
// sign-in on it: PasswordRotated sends the login back to SetPassword.
func TestIssueTokensWithoutTheNoncesPepperSignsNobodyIn(t *testing.T) {
	r := newRig(t)
	first := r.login(t, `{"access_token":"tok-1"}`)
	r.resetCalls()
	st := LoginState{Subject: Subject{KakaoID: 1, Sub: first.Sub, Username: first.Username},
		Password: PasswordState{Nonce: r.mappings.row(1).PasswordNonce, PepperVersion: 7, Ready: true}}
	_, err := r.steps.IssueTokens(context.Background(), st)
	if kakaoauth.ErrorName(err) != "PasswordRotated" || len(r.cognito()) != 0 {
		t.Fatalf("IssueTokens without pepper version 7: %v, Cognito calls %v", err, r.cognito())
	}
}
