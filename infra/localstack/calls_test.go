package localstack

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// kakaoPaths are the double's Kakao API endpoints a login may call.
var kakaoPaths = []string{"/v1/user/access_token_info", "/v2/user/me", "/.well-known/openid-configuration", "/.well-known/jwks.json", "/cert", "/v1/user/unlink"}

// loginCalls is what one login cost: AWS operations on the wire (the
// faultproxy between the steps and moto: every attempt, retries included,
// as AWS meters and throttles them) and calls to Kakao (the double's
// counters).
type loginCalls struct {
	AWS   map[string]int
	Kakao map[string]int
}

func (c loginCalls) String() string {
	return fmt.Sprintf("AWS %s; Kakao %s", countsText(c.AWS), countsText(c.Kakao))
}

func countsText(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// measure runs one login and returns its status, body and calls.
func (s *testStack) measure(t *testing.T, body any) (int, map[string]any, loginCalls) {
	t.Helper()
	return s.measureRequest(t, func() (int, map[string]any) { return s.login(t, body) })
}

// measureRequest runs one request to the stack and returns its status,
// body and calls.
func (s *testStack) measureRequest(t *testing.T, request func() (int, map[string]any)) (int, map[string]any, loginCalls) {
	t.Helper()
	before := map[string]int{}
	for _, p := range kakaoPaths {
		before[p] = s.fake.Hits(p)
	}
	s.proxy.Reset()
	status, out := request()
	calls := loginCalls{AWS: s.proxy.Counts(), Kakao: map[string]int{}}
	for _, p := range kakaoPaths {
		if n := s.fake.Hits(p) - before[p]; n > 0 {
			calls.Kakao[p] = n
		}
	}
	return status, out, calls
}

// The calls each kind of login makes, exactly: docs/performance.md's table of calls
// per login and the Cognito quota ceiling each implies come from here.
// Counts are deterministic (no concurrency, no time-dependent rotation),
// so any change to them is a change to docs/performance.md's figures.
func TestCallsPerLoginKind(t *testing.T) {
	s := startStack(t, withProxy)
	ctx := context.Background()
	for _, id := range []int64{701, 702, 703, 704, 705} {
		s.verifiedUser(t, id)
	}
	s.secNativeUser(t, "native-706", emailOf(706))
	s.verifiedUser(t, 706)
	s.kakaoUser(t, map[string]any{"id": 707, "nickname": "n707"})
	s.linkDemo(t, 707)

	type kind struct {
		name   string
		setup  func(t *testing.T) any // the login body
		status int
		code   string
		aws    map[string]int
		kakao  map[string]int
	}
	// What every login writes: its one terminal audit event.
	const audit = "PutItem"
	kakaoToken := map[string]int{"/v1/user/access_token_info": 1, "/v2/user/me": 1}
	kinds := []kind{
		{"new user (access token)", func(t *testing.T) any { return map[string]string{"access_token": s.accessToken(t, 701)} }, 200, "",
			// Created first, nothing looked up (no ListUsers: Cognito
			// refuses a taken verified email itself). The mapping
			// (PutItem), its outbox published and cleared (PutEvents,
			// UpdateItem), the first sign-in answering
			// NEW_PASSWORD_REQUIRED, RecordLogin (UpdateItem); audit
			// user_created and login_succeeded.
			map[string]int{"AdminCreateUser": 1, "AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1,
				"GetItem": 1, "PutItem": 3, "UpdateItem": 2, "PutEvents": 1}, kakaoToken},
		{"linked user (access token)", func(t *testing.T) any {
			// Warm trigger containers: the DefineAuthChallenge function
			// learns the broker's client id once per container
			// (DescribeUserPoolClient), as a cold one fetches Kakao's JWKS.
			if status, _ := s.login(t, map[string]string{"access_token": s.accessToken(t, 707)}); status != 200 {
				t.Fatalf("warm-up linked login: %d", status)
			}
			return map[string]string{"access_token": s.accessToken(t, 707)}
		}, 200, "",
			// One mapping read, CUSTOM_AUTH (initiate, answer), RecordLogin,
			// the audit: no password anywhere.
			map[string]int{"AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1, "GetItem": 1, "UpdateItem": 1, audit: 1}, kakaoToken},
		{"returning user (access token)", func(t *testing.T) any { return map[string]string{"access_token": s.accessToken(t, 701)} }, 200, "",
			// One mapping read, one Cognito call, RecordLogin, the audit.
			map[string]int{"AdminInitiateAuth": 1, "GetItem": 1, "UpdateItem": 1, audit: 1}, kakaoToken},
		{"returning user (ID token)", func(t *testing.T) any {
			idToken := func() map[string]string {
				return map[string]string{"id_token": s.idToken(t, 701, "n-0123456789abcdef"), "nonce": "n-0123456789abcdef"}
			}
			// A warm container: the first ID token fetched Kakao's keys.
			if status, _ := s.login(t, idToken()); status != 200 {
				t.Fatalf("warm-up ID-token login: %d", status)
			}
			return idToken()
		}, 200, "",
			// Verified offline against the cached JWKS: no Kakao call.
			map[string]int{"AdminInitiateAuth": 1, "GetItem": 1, "UpdateItem": 1, audit: 1}, nil},
		{"InvalidRequest (no token)", func(t *testing.T) any { return `{}` }, 400, "InvalidRequest", map[string]int{audit: 1}, nil},
		{"InvalidKakaoToken (access token)", func(t *testing.T) any { return map[string]string{"access_token": "garbage"} }, 401, "InvalidKakaoToken",
			map[string]int{audit: 1}, map[string]int{"/v1/user/access_token_info": 1}},
		{"InvalidKakaoToken (ID token)", func(t *testing.T) any { return map[string]string{"id_token": "not.a.jwt"} }, 401, "InvalidKakaoToken",
			map[string]int{audit: 1}, nil},
		{"WrongKakaoApp", func(t *testing.T) any {
			return map[string]string{"access_token": s.tokens(t, map[string]any{"user_id": 702, "app_id": 9999})["access_token"].(string)}
		}, 401, "WrongKakaoApp", map[string]int{audit: 1}, map[string]int{"/v1/user/access_token_info": 1}},
		{"KakaoUnavailable", func(t *testing.T) any {
			tok := s.accessToken(t, 702)
			s.fault(t, map[string]any{"path": "/v2/user/me", "status": 500, "count": 100})
			return map[string]string{"access_token": tok}
		}, 502, "KakaoUnavailable",
			// The client tries /v2/user/me 3 times; the state machine's
			// Retry runs ValidateToken once more: 8 Kakao calls at most.
			map[string]int{audit: 1}, map[string]int{"/v1/user/access_token_info": 2, "/v2/user/me": 6}},
		{"AccountConflict (new user, email taken)", func(t *testing.T) any { return map[string]string{"access_token": s.accessToken(t, 706)} }, 409, "AccountConflict",
			// Cognito's refusal of the create is the conflict: no lookup.
			map[string]int{"GetItem": 1, "AdminCreateUser": 1, audit: 1}, kakaoToken},
		{"AccountDisabled", func(t *testing.T) any {
			if status, _ := s.login(t, map[string]string{"access_token": s.accessToken(t, 703)}); status != 200 {
				t.Fatalf("first login of 703: %d", status)
			}
			if _, err := cip.NewFromConfig(s.direct()).AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(s.Stack().UserPoolID), Username: aws.String("kakao_703")}); err != nil {
				t.Fatal(err)
			}
			return map[string]string{"access_token": s.accessToken(t, 703)}
		}, 403, "AccountDisabled",
			// The sign-in says disabled; IssueTokens reads the mapping to
			// tell an unlink from an administrator's disable.
			map[string]int{"AdminInitiateAuth": 1, "GetItem": 2, audit: 1}, kakaoToken},
		{"AccountUnlinked (ID token from before the unlink)", func(t *testing.T) any {
			if status, _ := s.login(t, map[string]string{"access_token": s.accessToken(t, 704)}); status != 200 {
				t.Fatalf("first login of 704: %d", status)
			}
			tok := s.idToken(t, 704, "n-0123456789abcdef")
			if got := s.secFakeUnlink(t, 704, "UNLINK_FROM_APPS"); got != http.StatusOK {
				t.Fatalf("unlink callback: %d", got)
			}
			s.waitStatus(t, 704, "unlinked")
			return map[string]string{"id_token": tok, "nonce": "n-0123456789abcdef"}
		}, 403, "AccountUnlinked", map[string]int{"GetItem": 1, audit: 1}, nil},
		{"AccountBanned", func(t *testing.T) any {
			if status, _ := s.login(t, map[string]string{"access_token": s.accessToken(t, 705)}); status != 200 {
				t.Fatalf("first login of 705: %d", status)
			}
			if err := s.Deps().Steps().BanAccount(ctx, 705, time.Time{}, "", "operator"); err != nil {
				t.Fatal(err)
			}
			return map[string]string{"access_token": s.accessToken(t, 705)}
		}, 403, "AccountBanned",
			// Refused from the mapping: no Cognito call.
			map[string]int{"GetItem": 1, audit: 1}, kakaoToken},
	}
	for _, k := range kinds {
		body := k.setup(t)
		status, out, calls := s.measure(t, body)
		s.fault(t, map[string]any{"path": "/v2/user/me", "count": 0})
		if status != k.status || (k.code != "" && out["error"] != k.code) {
			t.Fatalf("%s: %d %v, want %d %s", k.name, status, out, k.status, k.code)
		}
		t.Logf("%-50s %s", k.name, calls)
		if want := (loginCalls{AWS: k.aws, Kakao: k.kakao}); countsText(calls.AWS) != countsText(want.AWS) || countsText(calls.Kakao) != countsText(want.Kakao) {
			t.Errorf("%s:\n got %s\nwant %s", k.name, calls, want)
		}
	}
}

// The calls of linking and of the logins linking makes possible, exactly
// (docs/performance.md): the linking endpoints (the Cognito access token
// checked by GetUser, the Kakao token as a login checks it), a linked
// person's Kakao login, and a first login linked by the verified-email
// rule (LinkByVerifiedEmail), whose ListUsers is paid only when Cognito
// refused the new user for its email.
func TestCallsPerLinkingKind(t *testing.T) {
	s := startStack(t, withProxy, func(c *Config) { c.LinkByVerifiedEmail = true })
	s.kakaoUser(t, map[string]any{"id": 721, "nickname": "n721"})
	s.secNativeUser(t, "native-722", emailOf(722))
	s.verifiedUser(t, 722)
	// Warm trigger containers (see TestCallsPerLoginKind).
	s.kakaoUser(t, map[string]any{"id": 723, "nickname": "n723"})
	s.linkDemo(t, 723)
	if status, _ := s.login(t, map[string]string{"access_token": s.accessToken(t, 723)}); status != 200 {
		t.Fatalf("warm-up linked login: %d", status)
	}
	if status, body := s.linkRequest(t, http.MethodDelete, s.demoAccessToken(t), nil); status != http.StatusOK {
		t.Fatalf("warm-up unlink: %d %v", status, body)
	}

	const audit = "PutItem"
	kakaoToken := map[string]int{"/v1/user/access_token_info": 1, "/v2/user/me": 1}
	type kind struct {
		name    string
		request func(t *testing.T) func() (int, map[string]any)
		status  int
		aws     map[string]int
		kakao   map[string]int
	}
	link := func(method string, kakaoID int64) func(t *testing.T) func() (int, map[string]any) {
		return func(t *testing.T) func() (int, map[string]any) {
			cognitoToken := s.demoAccessToken(t)
			var body any
			if kakaoID != 0 {
				body = map[string]string{"access_token": s.accessToken(t, kakaoID)}
			}
			return func() (int, map[string]any) { return s.linkRequest(t, method, cognitoToken, body) }
		}
	}
	login := func(kakaoID int64) func(t *testing.T) func() (int, map[string]any) {
		return func(t *testing.T) func() (int, map[string]any) {
			body := map[string]string{"access_token": s.accessToken(t, kakaoID)}
			return func() (int, map[string]any) { return s.login(t, body) }
		}
	}
	kinds := []kind{
		{"POST /auth/kakao/link", link(http.MethodPost, 721), 200,
			// GetUser (the access token not revoked), AdminGetUser (the
			// user's status), the mapping read,
			// the person's claim and the mapping (2 PutItem), the linked
			// event through the outbox (audit PutItem, PutEvents,
			// UpdateItem). The Kakao token as a login checks it.
			map[string]int{"GetUser": 1, "AdminGetUser": 1, "GetItem": 1, "PutItem": 3, "PutEvents": 1, "UpdateItem": 1}, kakaoToken},
		{"linked user's Kakao login", login(721), 200,
			// As TestCallsPerLoginKind's linked row: 2 Cognito calls, one
			// mapping read.
			map[string]int{"AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1, "GetItem": 1, "UpdateItem": 1, audit: 1}, kakaoToken},
		{"POST /auth/kakao/link again (already linked)", link(http.MethodPost, 721), 200,
			// Nothing changes, nothing is written.
			map[string]int{"GetUser": 1, "AdminGetUser": 1, "GetItem": 1}, kakaoToken},
		{"DELETE /auth/kakao/link", link(http.MethodDelete, 0), 200,
			// GetUser; the person's claim and the mapping it names (2
			// GetItem); Kakao's unlink API; the unlink as Kakao's callback
			// runs it (the mapping read again, marked under way, marked
			// forgotten, the claim released: DeleteItem; the unlinked event
			// through the outbox, whose clearing is two writes on a row
			// whose audit scrub is due: the first, conditional on nothing
			// else due, is refused).
			map[string]int{"GetUser": 1, "GetItem": 3, "UpdateItem": 4, "DeleteItem": 1, "PutEvents": 1, audit: 1}, map[string]int{"/v1/user/unlink": 1}},
		{"first login linked by the email rule", login(722), 200,
			// The create refused for the email (AdminCreateUser), the
			// owner found (ListUsers), the claim and the mapping, the
			// linked event through the outbox, CUSTOM_AUTH; audit linked
			// and login_succeeded.
			map[string]int{"AdminCreateUser": 1, "ListUsers": 1, "AdminInitiateAuth": 1, "AdminRespondToAuthChallenge": 1,
				"GetItem": 2, "PutItem": 4, "UpdateItem": 2, "PutEvents": 1}, kakaoToken},
	}
	for _, k := range kinds {
		request := k.request(t)
		status, out, calls := s.measureRequest(t, request)
		if status != k.status {
			t.Fatalf("%s: %d %v, want %d", k.name, status, out, k.status)
		}
		t.Logf("%-50s %s", k.name, calls)
		if want := (loginCalls{AWS: k.aws, Kakao: k.kakao}); countsText(calls.AWS) != countsText(want.AWS) || countsText(calls.Kakao) != countsText(want.Kakao) {
			t.Errorf("%s:\n got %s\nwant %s", k.name, calls, want)
		}
	}
}
