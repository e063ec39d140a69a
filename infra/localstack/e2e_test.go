package localstack

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/jwks"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
	"github.com/kakaoauth/kakaoauth/shared/password"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

// End-to-end: HTTP into the local endpoint, the real statemachine.asl.json
// through the local executor, the real adapters against moto and the
// Kakao double. Each test checks what a client sees and what the stack
// left behind in Cognito and DynamoDB.

func TestLoginNewThenReturningUser(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 101)
	status, first := s.login(t, map[string]string{"access_token": s.accessToken(t, 101)})
	if status != http.StatusOK {
		t.Fatalf("first login: %d %v", status, first)
	}
	for _, k := range []string{"id_token", "access_token", "refresh_token", "sub", "username", "token_type"} {
		if s, _ := first[k].(string); s == "" {
			t.Fatalf("first login: no %s in %v", k, first)
		}
	}
	if first["new_user"] != true || first["username"] != "kakao_101" || first["expires_in"].(float64) <= 0 {
		t.Fatalf("first login: %v", first)
	}
	// moto writes email_verified as the string "true", Cognito as a boolean.
	claims := s.verifyIDToken(t, first["id_token"].(string))
	if claims["sub"] != first["sub"] || claims["custom:kakao_id"] != "101" || claims["email"] != emailOf(101) || fmt.Sprint(claims["email_verified"]) != "true" {
		t.Fatalf("ID token claims %v", claims)
	}

	status, again := s.login(t, map[string]string{"access_token": s.accessToken(t, 101)})
	if status != http.StatusOK || again["sub"] != first["sub"] || again["new_user"] != false {
		t.Fatalf("returning login: %d %v", status, again)
	}
	m, err := s.Deps().Mappings().Get(context.Background(), 101)
	if err != nil || m.Sub != first["sub"] || m.Status != kakaoauth.StatusActive || m.Email != emailOf(101) || m.LastLoginAt.IsZero() {
		t.Fatalf("mapping %+v %v", m, err)
	}
	if got := s.auditTypes(t, 101); strings.Join(got, ",") != "user_created,login_succeeded,login_succeeded" {
		t.Fatalf("audit trail %v", got)
	}
}

func TestLoginWithIDToken(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 102)
	tok := s.idToken(t, 102, "n-0123456789abcdef")
	status, body := s.login(t, map[string]string{"id_token": tok, "nonce": "n-0123456789abcdef"})
	if status != http.StatusOK || body["username"] != "kakao_102" {
		t.Fatalf("ID-token login: %d %v", status, body)
	}
	// The same account by access token is the same Cognito user.
	status, again := s.login(t, map[string]string{"access_token": s.accessToken(t, 102)})
	if status != http.StatusOK || again["sub"] != body["sub"] || again["new_user"] != false {
		t.Fatalf("access-token login after ID-token login: %d %v", status, again)
	}
	// A later ID-token-only login keeps the verified email the access-token
	// login stored: an ID token does not say whether its email is verified.
	tok2 := s.idToken(t, 102, "n-2-0123456789abcdef")
	if status, body := s.login(t, map[string]string{"id_token": tok2, "nonce": "n-2-0123456789abcdef"}); status != http.StatusOK {
		t.Fatalf("second ID-token login: %d %v", status, body)
	}
	if u, err := s.Deps().Users().GetUser(context.Background(), "kakao_102"); err != nil || u.Email != emailOf(102) || !u.EmailVerified {
		t.Fatalf("user after ID-token login: %+v %v", u, err)
	}
	// A replayed ID token with another nonce is refused.
	status, bad := s.login(t, map[string]string{"id_token": tok, "nonce": "other-0123456789abcdef"})
	wantError(t, status, bad, http.StatusUnauthorized, "InvalidKakaoToken")
	// An ID token without a nonce is refused (AllowIdTokenWithoutNonce is
	// false by default), before any Cognito call.
	bare := s.tokens(t, map[string]any{"user_id": 102, "openid": true})["id_token"].(string)
	status, bad = s.login(t, map[string]string{"id_token": bare})
	wantError(t, status, bad, http.StatusUnauthorized, "InvalidKakaoToken")
}

// A stack deployed with AllowIdTokenWithoutNonce=true takes an ID token
// without a nonce.
func TestLoginWithIDTokenWithoutNonceWhenAllowed(t *testing.T) {
	s := startStack(t, func(c *Config) { c.AllowIDTokenWithoutNonce = true })
	s.verifiedUser(t, 104)
	bare := s.tokens(t, map[string]any{"user_id": 104, "openid": true})["id_token"].(string)
	if status, body := s.login(t, map[string]string{"id_token": bare}); status != http.StatusOK || body["username"] != "kakao_104" {
		t.Fatalf("ID token without a nonce, allowed: %d %v", status, body)
	}
}

func TestLoginRejectsBadTokens(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 103)
	otherApp := s.tokens(t, map[string]any{"user_id": 103, "app_id": 9999})["access_token"].(string)
	expired := s.tokens(t, map[string]any{"user_id": 103, "expires_in": -1})["access_token"].(string)
	expiredID := s.tokens(t, map[string]any{"user_id": 103, "openid": true, "expires_in": -1})["id_token"].(string)
	wrongAud := s.tokens(t, map[string]any{"user_id": 103, "openid": true, "aud": "someone-elses-app-key"})["id_token"].(string)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"token of another Kakao app", map[string]string{"access_token": otherApp}, 401, "WrongKakaoApp"},
		{"expired access token", map[string]string{"access_token": expired}, 401, "InvalidKakaoToken"},
		{"expired ID token", map[string]string{"id_token": expiredID}, 401, "InvalidKakaoToken"},
		{"ID token for another app key", map[string]string{"id_token": wrongAud}, 401, "InvalidKakaoToken"},
		{"garbage access token", map[string]string{"access_token": "garbage"}, 401, "InvalidKakaoToken"},
		{"garbage ID token", map[string]string{"id_token": "not.a.jwt"}, 401, "InvalidKakaoToken"},
		{"malformed JSON", `{"access_token":`, 400, "InvalidRequest"},
		{"not JSON", `access_token=abc`, 400, "InvalidRequest"},
		{"no token", `{}`, 400, "InvalidRequest"},
		{"unknown field", `{"access_token":"abc","email_verified":true}`, 400, "InvalidRequest"},
		{"oversized body", `{"access_token":"` + strings.Repeat("a", 64<<10) + `"}`, 400, "InvalidRequest"},
		{"far too large body", strings.Repeat(" ", 2<<20), 400, "InvalidRequest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := s.login(t, c.body)
			wantError(t, status, body, c.status, c.code)
		})
	}
	if _, err := s.Deps().Mappings().Get(context.Background(), 103); err == nil {
		t.Fatal("a rejected login left a mapping")
	}
	if users := s.listUsers(t); len(users) != 0 {
		t.Fatalf("rejected logins left users: %v", users)
	}
}

func TestEmailOnlyWhenVerified(t *testing.T) {
	s := startStack(t)
	s.kakaoUser(t, map[string]any{"id": 104, "email": "unverified@example.com", "is_email_verified": false, "is_email_valid": true, "nickname": "u"})
	s.kakaoUser(t, map[string]any{"id": 105, "email": "invalid@example.com", "is_email_verified": true, "is_email_valid": false, "nickname": "i"})
	s.kakaoUser(t, map[string]any{"id": 106, "email": nil, "nickname": "no consent"})
	for _, id := range []int64{104, 105, 106} {
		status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, id)})
		if status != http.StatusOK {
			t.Fatalf("login of %d: %d %v", id, status, body)
		}
		u, err := s.Deps().Users().GetUser(context.Background(), kakaoauth.Username(id))
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "" || u.EmailVerified || u.KakaoID != id {
			t.Fatalf("user %d: %+v, want no email", id, u)
		}
		if claims := s.verifyIDToken(t, body["id_token"].(string)); claims["email"] != nil {
			t.Fatalf("user %d: ID token carries email %v", id, claims["email"])
		}
	}
}

func TestKakaoFailures(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 107)
	// One failure is absorbed by the client's retry.
	s.fault(t, map[string]any{"path": "/v1/user/access_token_info", "status": 500, "count": 1})
	if status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 107)}); status != http.StatusOK {
		t.Fatalf("after one Kakao failure: %d %v", status, body)
	}
	// Kakao down for good: 502 after retries, audited once.
	s.fault(t, map[string]any{"path": "/v2/user/me", "status": 500, "count": 100})
	status, body := s.login(t, map[string]string{"access_token": s.accessToken(t, 107)})
	wantError(t, status, body, http.StatusBadGateway, "KakaoUnavailable")
	s.fault(t, map[string]any{"path": "/v2/user/me", "count": 0})
	got := s.auditTypes(t, 0)
	if n := strings.Count(strings.Join(got, ","), "login_failed:KakaoUnavailable"); n != 1 {
		t.Fatalf("anonymous audit %v: want one login_failed:KakaoUnavailable", got)
	}
}

func TestConcurrentFirstLogins(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 108)
	const n = 20
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = s.accessToken(t, 108)
	}
	type result struct {
		status int
		body   map[string]any
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i].status, results[i].body = s.login(t, map[string]string{"access_token": tokens[i]})
		})
	}
	wg.Wait()
	newUsers := 0
	for i, r := range results {
		if r.status != http.StatusOK {
			t.Fatalf("login %d: %d %v", i, r.status, r.body)
		}
		if r.body["sub"] != results[0].body["sub"] {
			t.Fatalf("login %d sub %v, login 0 %v", i, r.body["sub"], results[0].body["sub"])
		}
		if r.body["new_user"] == true {
			newUsers++
		}
	}
	if newUsers != 1 {
		t.Fatalf("%d logins said new_user, want 1", newUsers)
	}
	if users := s.listUsers(t); len(users) != 1 || users[0] != "kakao_108" {
		t.Fatalf("users %v, want exactly kakao_108", users)
	}
	out, err := dynamodb.NewFromConfig(s.Deps().AWS).Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(s.Stack().MappingTable), IndexName: aws.String(store.IndexBySub),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": store.AttrSub},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: results[0].body["sub"].(string)}},
	})
	if err != nil || out.Count != 1 {
		t.Fatalf("mappings for the sub: %v %v, want 1", out.Count, err)
	}
	got := strings.Join(s.auditTypes(t, 108), ",")
	if strings.Count(got, "user_created") != 1 || strings.Count(got, "login_succeeded") != n || strings.Contains(got, "login_failed") {
		t.Fatalf("audit trail %s: want one user_created and %d login_succeeded", got, n)
	}
}

// Nothing secret reaches the logs or the audit trail: not the Kakao
// tokens, not the Cognito tokens, not the derived password, not the pepper.
func TestNoSecretsInLogsOrAudit(t *testing.T) {
	s := startStack(t)
	s.verifiedUser(t, 109)
	var secrets []string
	for i := range 3 {
		nonce := fmt.Sprint("nonce-0123456789abcdef-", i)
		tok := s.tokens(t, map[string]any{"user_id": 109, "openid": true, "nonce": kakao.HashNonce(nonce)})
		secrets = append(secrets, tok["access_token"].(string), tok["id_token"].(string), nonce)
		status, body := s.login(t, map[string]string{"access_token": tok["access_token"].(string), "id_token": tok["id_token"].(string), "nonce": nonce})
		if status != http.StatusOK {
			t.Fatalf("login: %d %v", status, body)
		}
		secrets = append(secrets, body["id_token"].(string), body["access_token"].(string), body["refresh_token"].(string))
	}
	// Failed attempts with tokens in them, too.
	s.fault(t, map[string]any{"path": "/v2/user/me", "status": 500, "count": 100})
	failing := s.accessToken(t, 109)
	secrets = append(secrets, failing)
	if status, _ := s.login(t, map[string]string{"access_token": failing}); status != http.StatusBadGateway {
		t.Fatalf("failing login: %d", status)
	}
	s.login(t, `{"access_token":"`+failing+`-x","unknown":1}`)

	pepper := s.pepper(t)
	m, err := s.Deps().Mappings().Get(context.Background(), 109)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, string(pepper), password.Derive(pepper, m.Sub, m.PasswordNonce), s.adminKey(t), string(s.proofKey(t)))

	logs := s.logs.String()
	if !strings.Contains(logs, `"msg":"login succeeded"`) {
		t.Fatal("the stack logged nothing: the check below would be empty")
	}
	audit := s.auditDump(t)
	for _, secret := range secrets {
		if len(secret) < 12 {
			t.Fatalf("secret %q too short to check", secret)
		}
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a secret (%d chars)", len(secret))
		}
		if strings.Contains(audit, secret) {
			t.Fatalf("audit table contains a secret (%d chars)", len(secret))
		}
	}
}

// --- what the stack left behind ---

func (s *testStack) verifyIDToken(t testing.TB, raw string) map[string]any {
	t.Helper()
	claims, err := jwks.Verify(context.Background(), s.http, s.cfg.MotoURL+"/"+s.Stack().UserPoolID+"/.well-known/jwks.json", raw)
	if err != nil {
		t.Fatalf("the ID token does not verify against the pool's JWKS: %v", err)
	}
	return claims
}

func (s *testStack) listUsers(t testing.TB) []string {
	t.Helper()
	var names []string
	pages := cip.NewListUsersPaginator(cip.NewFromConfig(s.direct()), &cip.ListUsersInput{UserPoolId: aws.String(s.Stack().UserPoolID)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.Username))
		}
	}
	return names
}

// auditTypes lists the audit events of a Kakao id in time order as
// "type" or "type:error"; id 0 lists today's anonymous events (every
// shard).
func (s *testStack) auditTypes(t testing.TB, kakaoID int64) []string {
	t.Helper()
	pks := []string{store.UserPK(kakaoID)}
	if kakaoID == 0 {
		pks = nil
		for shard := range store.AnonShards {
			pks = append(pks, store.AnonPK(store.Day(timeNow()), shard))
		}
	}
	var items []map[string]ddbtypes.AttributeValue
	for _, pk := range pks {
		out, err := dynamodb.NewFromConfig(s.Deps().AWS).Query(context.Background(), &dynamodb.QueryInput{
			TableName:                 aws.String(s.Stack().AuditTable),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": store.AttrPK},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, out.Items...)
	}
	sk := func(item map[string]ddbtypes.AttributeValue) string {
		return item[store.AttrSK].(*ddbtypes.AttributeValueMemberS).Value
	}
	slices.SortFunc(items, func(a, b map[string]ddbtypes.AttributeValue) int { return strings.Compare(sk(a), sk(b)) })
	var got []string
	for _, item := range items {
		v := item[store.AttrType].(*ddbtypes.AttributeValueMemberS).Value
		if e, ok := item[store.AttrError].(*ddbtypes.AttributeValueMemberS); ok && e.Value != "" {
			v += ":" + e.Value
		}
		got = append(got, v)
	}
	return got
}

// auditDump is every item of the audit table as text (a Scan is fine in a
// test; the product never scans).
func (s *testStack) auditDump(t testing.TB) string {
	t.Helper()
	out, err := dynamodb.NewFromConfig(s.Deps().AWS).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.Stack().AuditTable)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) == 0 {
		t.Fatal("audit table is empty")
	}
	return fmt.Sprintf("%+v", out.Items)
}

// pepper is the current pepper as Secrets Manager holds it.
func (s *testStack) pepper(t testing.TB) []byte {
	t.Helper()
	current, peppers, err := config.ParsePeppers(s.secret(t, s.Deps().Config.PepperSecretID))
	if err != nil {
		t.Fatal(err)
	}
	return peppers[current]
}

// proofKey is the current sign-in proof key as Secrets Manager holds it.
func (s *testStack) proofKey(t testing.TB) []byte {
	t.Helper()
	current, keys, err := config.ParsePeppers(s.secret(t, s.Deps().Config.ProofKeySecretID))
	if err != nil {
		t.Fatal(err)
	}
	return keys[current]
}

// adminKey is the Kakao admin key as Secrets Manager holds it.
func (s *testStack) adminKey(t testing.TB) string {
	t.Helper()
	return s.secret(t, s.Deps().Config.KakaoAdminKeySecretID)
}

func (s *testStack) secret(t testing.TB, id string) string {
	t.Helper()
	v, err := secretsmanager.FromConfig(s.Deps().AWS).GetSecret(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
