package localstack

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
	"github.com/kakaoauth/kakaoauth/shared/password"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// Security regression tests, end to end through the local endpoint (HTTP,
// statemachine.asl.json, the real adapters on moto, the Kakao double). Each
// closes a hole of the approach this project replaced; docs/security.md's
// section names them.

// --- Kakao unlink ---------------------------------------------------------
// (the account lifecycle itself, unlink and return, deletion, recreation,
// is in lifecycle_test.go)

func TestSecurityUnlinkCallbackForUnknownUser(t *testing.T) {
	s := startStack(t)
	if got := s.secFakeUnlink(t, 777000111, "UNLINK_FROM_APPS"); got != http.StatusOK {
		t.Fatalf("callback for an unknown user answered %d, want 200", got)
	}
	s.drainUnlinks(t)
	if users := s.listUsers(t); len(users) != 0 {
		t.Fatalf("users %v", users)
	}
	if events := s.secAudit(t, 777000111); len(events) != 0 {
		t.Fatalf("audit %v", events)
	}
}

// Only Kakao, holding the admin key, for this app, may unlink a user.
func TestSecurityUnlinkCallbackRefusesForgeries(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 503)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 503)}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	adminKey := s.adminKey(t)
	appID := itoa(kakaofake.DefaultAppID)
	form := func(app, user string) string {
		return url.Values{"app_id": {app}, "user_id": {user}, "referrer_type": {"UNLINK_FROM_APPS"}}.Encode()
	}
	refused := []struct {
		name, method, auth, query, body string
		status                          int
	}{
		{"no key", "POST", "", "", form(appID, "503"), 401},
		{"wrong key", "POST", "KakaoAK not-the-admin-key", "", form(appID, "503"), 401},
		{"key without scheme", "POST", adminKey, "", form(appID, "503"), 401},
		{"another app's callback", "POST", "KakaoAK " + adminKey, "", form("424242", "503"), 401},
		{"GET with wrong key", "GET", "KakaoAK x" + adminKey, form(appID, "503"), "", 401},
		{"two user ids", "POST", "KakaoAK " + adminKey, "user_id=1", form(appID, "503"), 400},
		{"oversized body", "POST", "KakaoAK " + adminKey, "", form(appID, "503") + "&pad=" + strings.Repeat("a", 8<<10), 400},
		{"body beyond the API limit", "POST", "KakaoAK " + adminKey, "", strings.Repeat("a", 2<<20), 413},
		{"DELETE", "DELETE", "KakaoAK " + adminKey, form(appID, "503"), "", 405},
	}
	var bodies []string
	for _, c := range refused {
		status, body := s.secUnlinkRequest(t, c.method, c.auth, c.query, c.body)
		if status != c.status {
			t.Fatalf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
		if status == http.StatusUnauthorized {
			bodies = append(bodies, body)
		}
	}
	// Wrong key and wrong app look alike: nothing tells a prober which part
	// was right.
	if len(slices.Compact(slices.Clone(bodies))) != 1 {
		t.Fatalf("401 bodies differ: %q", bodies)
	}
	if m, err := s.Deps().Mappings().Get(context.Background(), 503); err != nil || m.Status != kakaoauth.StatusActive {
		t.Fatalf("a refused callback changed the mapping: %+v %v", m, err)
	}
	if u, _ := s.Deps().Users().GetUser(context.Background(), "kakao_503"); !u.Enabled {
		t.Fatal("a refused callback disabled the user")
	}
	// The genuine GET form works.
	s.drainUnlinks(t)
	if m, err := s.Deps().Mappings().Get(context.Background(), 503); err != nil || m.Status != kakaoauth.StatusActive {
		t.Fatalf("a refused callback changed the mapping: %+v %v", m, err)
	}
	if status, body := s.secUnlinkRequest(t, "GET", "KakaoAK "+adminKey, form(appID, "503"), ""); status != http.StatusOK {
		t.Fatalf("genuine GET callback: %d %s", status, body)
	}
	s.waitStatus(t, 503, kakaoauth.StatusUnlinked)
}

// --- linking rules --------------------------------------------------------

// A verified Kakao email that a native user already has is refused (409),
// audited, and leaves no Kakao user or mapping behind: never silent
// linking, in either direction.
func TestSecurityEmailOfNativeUserIsAConflict(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	s.secNativeUser(t, "alice", "alice@example.com")
	s.secNativeUser(t, "bob", "bob@example.com")
	s.kakaoUser(t, map[string]any{"id": 511, "email": "alice@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "a"})
	s.kakaoUser(t, map[string]any{"id": 512, "email": "bob@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "b"})

	status, a := s.login(t, map[string]string{"access_token": s.accessToken(t, 511)})
	wantError(t, status, a, http.StatusConflict, "AccountConflict")
	status, b := s.login(t, map[string]string{"access_token": s.accessToken(t, 512)})
	wantError(t, status, b, http.StatusConflict, "AccountConflict")
	// The answer names no email and is the same whoever owns it.
	if a["message"] != b["message"] || strings.Contains(a["message"].(string), "@") {
		t.Fatalf("conflict messages %q and %q", a["message"], b["message"])
	}

	if users := s.listUsers(t); !slices.Equal(secSorted(users), []string{"alice", "bob"}) {
		t.Fatalf("users %v: want only the native ones", users)
	}
	for _, id := range []int64{511, 512} {
		if _, err := s.Deps().Mappings().Get(ctx, id); err == nil {
			t.Fatalf("a mapping for %d was written", id)
		}
		if got := secTypes(s.secAudit(t, id)); !slices.Equal(got, []string{"login_failed:AccountConflict"}) {
			t.Fatalf("audit of %d: %v", id, got)
		}
	}
	// The native user is untouched: still its email, still no Kakao id.
	alice, err := s.Deps().Users().GetUser(ctx, "alice")
	if err != nil || alice.KakaoID != 0 || alice.Email != "alice@example.com" {
		t.Fatalf("alice %+v %v", alice, err)
	}
}

// The email follows Kakao: a changed verified email replaces the attribute
// on the next login; an email that is no longer verified is removed, never
// set; a change to an email someone else owns is refused and changes
// nothing.
func TestSecurityEmailChangeAtKakaoFollows(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	s.verifiedUser(t, 521)
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 521)}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	check := func(wantEmail string) {
		t.Helper()
		u, err := s.Deps().Users().GetUser(ctx, "kakao_521")
		if err != nil || u.Email != wantEmail || u.EmailVerified != (wantEmail != "") {
			t.Fatalf("user %+v %v, want email %q", u, err, wantEmail)
		}
		m, err := s.Deps().Mappings().Get(ctx, 521)
		if err != nil || m.Email != wantEmail {
			t.Fatalf("mapping email %q %v, want %q", m.Email, err, wantEmail)
		}
	}
	login := func() map[string]any {
		t.Helper()
		status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 521)})
		if status != http.StatusOK {
			t.Fatalf("login: %d %v", status, body)
		}
		return body
	}
	check(emailOf(521))

	// Kakao reports a new verified email (the double's user is replaced).
	s.kakaoUser(t, map[string]any{"id": 521, "email": "new521@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "n"})
	body := login()
	check("new521@example.com")
	if claims := s.verifyIDToken(t, body["id_token"].(string)); claims["email"] != "new521@example.com" {
		t.Fatalf("ID token email %v", claims["email"])
	}

	// A new email that is not verified at Kakao is never set; the old
	// verified one no longer holds, so it goes.
	s.kakaoUser(t, map[string]any{"id": 521, "email": "unverified521@example.com", "is_email_verified": false, "is_email_valid": true, "nickname": "n"})
	body = login()
	check("")
	if claims := s.verifyIDToken(t, body["id_token"].(string)); claims["email"] != nil {
		t.Fatalf("ID token email %v", claims["email"])
	}

	// A change to a native user's email: 409, and the account keeps what it had.
	s.kakaoUser(t, map[string]any{"id": 521, "email": "new521@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "n"})
	login()
	s.secNativeUser(t, "carol", "carol@example.com")
	s.kakaoUser(t, map[string]any{"id": 521, "email": "carol@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "n"})
	status, bad := s.login(t, map[string]string{"access_token": s.accessToken(t, 521)})
	wantError(t, status, bad, http.StatusConflict, "AccountConflict")
	check("new521@example.com")
}

// --- the old failure modes ------------------------------------------------

// Nothing a client sends can confirm or verify anything: the request body
// has a fixed shape (extra fields are refused before Kakao is asked), the
// app client cannot write email, email_verified or custom:kakao_id, and
// only the broker creates users.
func TestSecurityClientCannotAssertAttributes(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	s.verifiedUser(t, 531)
	tok := s.accessToken(t, 531)
	bodies := []string{
		`{"access_token":"` + tok + `","email_verified":true}`,
		`{"access_token":"` + tok + `","email":"attacker@example.com","email_verified":"true"}`,
		`{"access_token":"` + tok + `","custom:kakao_id":"1"}`,
		`{"access_token":"` + tok + `","attributes":{"email_verified":"true"}}`,
		`{"access_token":"` + tok + `","client_metadata":{"kakaoauth_proof":"v1.1.x"}}`,
		`{"access_token":"` + tok + `","kakaoId":1}`,
		`{"access_token":"` + tok + `","Email_Verified":true}`,
		`[{"access_token":"` + tok + `"}]`,
		`{"access_token":"` + tok + `"}{"email_verified":true}`,
	}
	before := s.secKakaoCalls()
	for _, b := range bodies {
		status, body := s.login(t, b)
		wantError(t, status, body, http.StatusBadRequest, "InvalidRequest")
	}
	if after := s.secKakaoCalls(); after != before {
		t.Fatalf("Kakao was called %d times for refused bodies", after-before)
	}
	if users := s.listUsers(t); len(users) != 0 {
		t.Fatalf("refused bodies created users %v", users)
	}

	api := cip.NewFromConfig(s.Deps().AWS)
	client, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), ClientId: aws.String(s.Stack().UserPoolClientID)})
	if err != nil {
		t.Fatal(err)
	}
	for _, forbidden := range []string{"email", "email_verified", "custom:kakao_id", "phone_number_verified"} {
		if slices.Contains(client.UserPoolClient.WriteAttributes, forbidden) {
			t.Fatalf("the app client may write %s (WriteAttributes %v)", forbidden, client.UserPoolClient.WriteAttributes)
		}
	}
	if len(client.UserPoolClient.WriteAttributes) == 0 {
		// Cognito reads an empty list as "all writable attributes".
		t.Fatal("WriteAttributes is empty, which Cognito treats as everything")
	}
	for _, f := range client.UserPoolClient.ExplicitAuthFlows {
		if f != ciptypes.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth && f != ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth {
			t.Fatalf("the app client allows %s: a password or SRP sign-in from outside the broker", f)
		}
	}
	pool, err := api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(s.Stack().UserPoolID)})
	if err != nil {
		t.Fatal(err)
	}
	if c := pool.UserPool.AdminCreateUserConfig; c == nil || !c.AllowAdminCreateUserOnly {
		t.Fatal("the pool allows public sign-up")
	}
	for _, a := range pool.UserPool.SchemaAttributes {
		if aws.ToString(a.Name) == "custom:kakao_id" && aws.ToBool(a.Mutable) {
			t.Fatal("custom:kakao_id is mutable")
		}
	}
}

// No product code calls the public sign-up or confirmation APIs, which let
// a client-supplied flag confirm an account or verify an email.
func TestSecurityNoPublicSignUpInProductCode(t *testing.T) {
	banned := map[string]bool{
		"SignUp": true, "ConfirmSignUp": true, "AdminConfirmSignUp": true,
		"VerifyUserAttribute": true, "UpdateUserAttributes": true,
	}
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	var found []string
	sawAdminCreate := false
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if banned[sel.Sel.Name] {
				found = append(found, fset.Position(sel.Pos()).String()+": "+sel.Sel.Name)
			}
			if sel.Sel.Name == "AdminCreateUser" {
				sawAdminCreate = true
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawAdminCreate {
		t.Fatal("the walk did not reach shared/cognito: the check would be vacuous")
	}
	if len(found) > 0 {
		t.Fatalf("product code calls public sign-up/verification APIs:\n%s", strings.Join(found, "\n"))
	}
}

// 20 parallel logins of an existing user whose password is due for
// rotation (interval 1 ns): one of them claims a fresh nonce and sets it,
// the others wait for it (reading DynamoDB, not calling Cognito) and use
// it. All succeed with the one sub, with one AdminSetUserPassword in all,
// counted on the wire.
func TestSecurityParallelLoginsDuringARotation(t *testing.T) {
	s := startStack(t, withProxy, func(c *Config) { c.PasswordRotation = time.Nanosecond })
	s.verifiedUser(t, 541)
	status, first := s.login(t, map[string]string{"access_token": s.accessToken(t, 541)})
	if status != http.StatusOK {
		t.Fatalf("first login: %d %v", status, first)
	}
	// Past the grace that protects a fresh nonce: the next logins rotate.
	time.Sleep(workflow.DefaultPasswordApplyGrace)
	const n = 20
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = s.accessToken(t, 541)
	}
	s.proxy.Reset()
	statuses := make([]int, n)
	bodies := make([]map[string]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i], bodies[i] = s.login(t, map[string]string{"access_token": tokens[i]}) })
	}
	wg.Wait()
	for i := range n {
		if statuses[i] != http.StatusOK || bodies[i]["sub"] != first["sub"] || bodies[i]["new_user"] != false {
			t.Errorf("login %d: %d %v", i, statuses[i], bodies[i])
		}
	}
	if t.Failed() {
		t.Logf("executions:\n%s", s.secExecutionPaths())
		t.FailNow()
	}
	calls := s.proxy.Counts()
	t.Logf("Cognito calls of %d parallel logins during a rotation: %v", n, secCognitoCalls(calls))
	if calls["AdminSetUserPassword"] != 1 || calls["AdminInitiateAuth"] < n || calls["AdminInitiateAuth"] > n*workflow.MaxSignIns {
		t.Fatalf("AdminSetUserPassword %d (want 1), AdminInitiateAuth %d (want %d..%d)", calls["AdminSetUserPassword"], calls["AdminInitiateAuth"], n, n*workflow.MaxSignIns)
	}
	got := secTypes(s.secAudit(t, 541))
	if c := secCount(got, "login_succeeded"); c != n+1 || secCount(got, "user_created") != 1 || len(got) != n+2 {
		t.Fatalf("audit %v: want user_created and %d login_succeeded", got, n+1)
	}
	if users := s.listUsers(t); !slices.Equal(users, []string{"kakao_541"}) {
		t.Fatalf("users %v", users)
	}
}

// A crash between AdminCreateUser and the mapping write leaves a Cognito
// user without a mapping. The next login adopts it: same sub, one user,
// one mapping.
func TestSecurityCrashBeforeMappingIsRepaired(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	s.verifiedUser(t, 551)
	pepper := s.pepper(t)
	orphan, err := s.Deps().Users().CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: 551, Email: emailOf(551), Nickname: "n551",
		TemporaryPassword: password.Temporary(pepper, "kakao_551")})
	if err != nil {
		t.Fatal(err)
	}
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 551)})
	if status != http.StatusOK || body["sub"] != orphan.Sub || body["username"] != "kakao_551" {
		t.Fatalf("login after the crash: %d %v, want the orphan's sub %s", status, body, orphan.Sub)
	}
	m, err := s.Deps().Mappings().Get(ctx, 551)
	if err != nil || m.Sub != orphan.Sub || m.Status != kakaoauth.StatusActive {
		t.Fatalf("mapping %+v %v", m, err)
	}
	status, again := s.login(t, map[string]string{"access_token": s.accessToken(t, 551)})
	if status != http.StatusOK || again["sub"] != orphan.Sub {
		t.Fatalf("second login: %d %v", status, again)
	}
	if users := s.listUsers(t); !slices.Equal(users, []string{"kakao_551"}) {
		t.Fatalf("users %v: want exactly the repaired one", users)
	}
	if got := s.secMappingsOfSub(t, orphan.Sub); got != 1 {
		t.Fatalf("%d mappings point at the sub, want 1", got)
	}
}

// --- abuse limits ---------------------------------------------------------

// The body cap holds exactly at workflow.MaxBodyBytes, and a body over it
// is refused before Kakao is called, even with a valid token inside.
func TestSecurityBodyCap(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 561)
	pad := func(tok string, size int) string {
		b := `{"access_token":"` + tok + `"}`
		return b + strings.Repeat(" ", size-len(b))
	}
	if status, body := s.login(t, pad(s.accessToken(t, 561), workflow.MaxBodyBytes)); status != http.StatusOK {
		t.Fatalf("body of exactly the cap: %d %v", status, body)
	}
	before, anonBefore := s.secKakaoCalls(), len(s.auditTypes(t, 0))
	status, body := s.login(t, pad(s.accessToken(t, 561), workflow.MaxBodyBytes+1))
	wantError(t, status, body, http.StatusBadRequest, "InvalidRequest")
	// A valid body padded with whitespace far past what StartSyncExecution
	// takes once escaped (256 KiB): refused the same way, and audited.
	status, body = s.login(t, pad(s.accessToken(t, 561), 150<<10))
	wantError(t, status, body, http.StatusBadRequest, "InvalidRequest")
	status, body = s.login(t, pad(s.accessToken(t, 561), 3<<20))
	wantError(t, status, body, http.StatusBadRequest, "InvalidRequest")
	if after := s.secKakaoCalls(); after != before {
		t.Fatalf("Kakao was called %d times for oversized bodies", after-before)
	}
	anon := s.auditTypes(t, 0)
	if len(anon)-anonBefore != 3 || secCount(anon, "login_failed:InvalidRequest") != 3 {
		t.Fatalf("anonymous audit events %v: want one login_failed:InvalidRequest per oversized body", anon)
	}
	// Refused for what it is: flagged by the endpoint, not carried.
	if n := strings.Count(s.logs.String(), `"reason":"invalid request: body too large"`); n != 3 {
		t.Fatalf("%d refusals logged as too large, want 3:\n%s", n, s.secExecutionPaths())
	}
}

// Error answers do not tell causes apart beyond the documented codes:
// every InvalidKakaoToken cause gets the same body, and AccountConflict
// does not reveal the email or whose it is.
func TestSecurityNoEnumerationThroughErrors(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 571)
	s.verifiedUser(t, 572)
	expired := s.tokens(t, map[string]any{"user_id": 571, "expires_in": -1})["access_token"].(string)
	expiredID := s.tokens(t, map[string]any{"user_id": 571, "openid": true, "expires_in": -1})["id_token"].(string)
	wrongAud := s.tokens(t, map[string]any{"user_id": 571, "openid": true, "aud": "someone-elses-app-key"})["id_token"].(string)
	nonced := s.idToken(t, 572, "right-nonce-0123456789")
	revoked := s.accessToken(t, 572)
	if got := s.secFakeUnlink(t, 572, "UNLINK_FROM_APPS"); got != http.StatusOK { // revokes the token at Kakao
		t.Fatalf("unlink: %d", got)
	}
	causes := map[string]map[string]string{
		"garbage access token":   {"access_token": "not-a-token-at-all"},
		"expired access token":   {"access_token": expired},
		"revoked access token":   {"access_token": revoked},
		"garbage ID token":       {"id_token": "a.b.c"},
		"expired ID token":       {"id_token": expiredID},
		"ID token for other app": {"id_token": wrongAud},
		"nonce mismatch":         {"id_token": nonced, "nonce": "wrong-nonce-0123456789"},
		"replayed ID token":      {"id_token": nonced, "nonce": kakao.HashNonce("right-nonce-0123456789")},
	}
	var first map[string]any
	for name, req := range causes {
		status, body := s.login(t, req)
		wantError(t, status, body, http.StatusUnauthorized, "InvalidKakaoToken")
		if first == nil {
			first = body
		}
		if body["message"] != first["message"] || len(body) != len(first) {
			t.Fatalf("%s: %v differs from %v", name, body, first)
		}
	}

	s.secNativeUser(t, "dora", "dora@example.com")
	s.kakaoUser(t, map[string]any{"id": 573, "email": "dora@example.com", "is_email_verified": true, "is_email_valid": true, "nickname": "d"})
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 573)})
	wantError(t, status, body, http.StatusConflict, "AccountConflict")
	if msg := body["message"].(string); strings.Contains(msg, "dora") || strings.Contains(msg, "@") || len(body) != 2 {
		t.Fatalf("conflict answer %v reveals who owns the email", body)
	}
}

// --- helpers (prefixed sec to stay clear of e2e_test.go's) ----------------

// secFakeUnlink has the double send the unlink callback and returns the
// status the webhook answered.
func (s *testStack) secFakeUnlink(t *testing.T, userID int64, referrer string) int {
	t.Helper()
	status, body := s.postJSON(t, s.KakaoURL()+"/_fake/unlink", map[string]any{"user_id": userID, "referrer_type": referrer})
	cb, ok := body["callback_status"].(float64)
	if !ok {
		t.Fatalf("/_fake/unlink: %d %v", status, body)
	}
	return int(cb)
}

// secUnlinkRequest calls the webhook directly, as a forger would.
func (s *testStack) secUnlinkRequest(t *testing.T, method, auth, query, body string) (int, string) {
	t.Helper()
	u := s.APIURL() + workflow.UnlinkPath
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// secNativeUser creates a user the way an operator or another sign-up
// path would: no Kakao id, a verified email.
func (s *testStack) secNativeUser(t *testing.T, username, email string) {
	t.Helper()
	_, err := cip.NewFromConfig(s.Deps().AWS).AdminCreateUser(context.Background(), &cip.AdminCreateUserInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String(username),
		MessageAction: ciptypes.MessageActionTypeSuppress,
		UserAttributes: []ciptypes.AttributeType{
			{Name: aws.String("email"), Value: aws.String(email)},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// secAudit is the audit events of a Kakao id in time order, as string maps.
func (s *testStack) secAudit(t *testing.T, kakaoID int64) []map[string]string {
	t.Helper()
	out, err := dynamodb.NewFromConfig(s.Deps().AWS).Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(s.Stack().AuditTable),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": store.AttrPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: store.UserPK(kakaoID)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]string
	for _, item := range out.Items {
		e := map[string]string{}
		for k, v := range item {
			switch v := v.(type) {
			case *ddbtypes.AttributeValueMemberS:
				e[k] = v.Value
			case *ddbtypes.AttributeValueMemberN:
				e[k] = v.Value
			}
		}
		events = append(events, e)
	}
	return events
}

func (s *testStack) secMappingsOfSub(t *testing.T, sub string) int32 {
	t.Helper()
	out, err := dynamodb.NewFromConfig(s.Deps().AWS).Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(s.Stack().MappingTable), IndexName: aws.String(store.IndexBySub),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": store.AttrSub},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: sub}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Count
}

// secKakaoCalls counts the double's token checks so far.
func (s *testStack) secKakaoCalls() int {
	return s.fake.Hits("/v1/user/access_token_info") + s.fake.Hits("/v2/user/me")
}

// secExecutionPaths is the executions' logged paths, for a failure report.
func (s *testStack) secExecutionPaths() string {
	var lines []string
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"execution finished"`) || strings.Contains(l, `"msg":"login failed"`) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// secCognitoCalls keeps the Cognito operations of proxy counts.
func secCognitoCalls(calls map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range calls {
		if strings.HasPrefix(op, "Admin") || op == "ListUsers" {
			out[op] = n
		}
	}
	return out
}

func secOfType(events []map[string]string, typ string) []map[string]string {
	var out []map[string]string
	for _, e := range events {
		if e[store.AttrType] == typ {
			out = append(out, e)
		}
	}
	return out
}

func secTypes(events []map[string]string) []string {
	var out []string
	for _, e := range events {
		v := e[store.AttrType]
		if e[store.AttrError] != "" {
			v += ":" + e[store.AttrError]
		}
		out = append(out, v)
	}
	return out
}

func secCount(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func secSorted(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return out
}
