package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

var testPepper = []byte("0123456789abcdef0123456789abcdef-test-pepper")

// testMACKey signs the queued unlink requests.
var testMACKey = []byte("0a1b2c3d4e5f60718293a4b5c6d7e8f9-test-mac-key")

// testProofKey signs and checks the sign-in proofs: not the pepper.
var testProofKey = []byte("fedcba9876543210fedcba9876543210-test-proof-key")

// rig runs the real statemachine.asl.json through the local executor with
// the steps bound to in-memory ports, on a fake clock that the steps'
// waits move forward. It records every task's input so tests can check
// what the state carries.
type rig struct {
	kakao    *memKakao
	users    *memUsers
	mappings *memMappings
	audit    *memAudit
	events   *memEvents
	queue    *memQueue
	clients  *memClients
	accounts *memAccounts
	tokens   *memAccessTokens
	steps    *Steps
	m        *asl.Machine

	mu     sync.Mutex
	now    time.Time
	inputs map[string][]string
}

// brokerClientName is the broker's app client's name in the rig's pool.
const brokerClientName = "kakaoauth-test-app"

// memAccessTokens stands in for Cognito's GetUser with an access token:
// a token issued for a user (issue) is valid until revoked.
type memAccessTokens struct {
	mu     sync.Mutex
	users  *memUsers
	tokens map[string]string // token -> username
}

func (a *memAccessTokens) issue(username string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := fmt.Sprintf("cognito-at-%d-%s", len(a.tokens)+1, username)
	a.tokens[tok] = username
	return tok
}

func (a *memAccessTokens) revoke(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.tokens, token)
}

func (a *memAccessTokens) User(ctx context.Context, token string) (kakaoauth.CognitoUser, error) {
	a.mu.Lock()
	name, ok := a.tokens[token]
	a.mu.Unlock()
	if !ok {
		return kakaoauth.CognitoUser{}, &kakaoauth.InvalidCognitoToken{Reason: "unknown or revoked"}
	}
	u, found := a.users.user(name)
	if !found || !u.Enabled {
		return kakaoauth.CognitoUser{}, &kakaoauth.InvalidCognitoToken{Reason: "refused by cognito"}
	}
	return u.CognitoUser, nil
}

// t0 is the rig's start time.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newRig(t testing.TB, opts ...Option) *rig {
	t.Helper()
	r := &rig{
		kakao: &memKakao{ids: map[string]kakaoauth.KakaoIdentity{
			"tok-1": {KakaoID: 1, AppID: 1001, Email: "one@example.com", EmailChecked: true, Nickname: "one"},
			"tok-2": {KakaoID: 2, AppID: 1001, EmailChecked: true, Nickname: "two"},
			"tok-3": {KakaoID: 3, AppID: 1001, Email: "one@example.com", EmailChecked: true, Nickname: "three"},
		}},
		users: newMemUsers(), mappings: newMemMappings(), audit: &memAudit{}, events: &memEvents{}, queue: &memQueue{},
		now: t0, inputs: map[string][]string{},
	}
	r.clients = &memClients{names: map[string]string{brokerClientID: brokerClientName, "public-client": "someone-elses-app"}}
	r.accounts = &memAccounts{ids: map[int64]kakaoauth.KakaoIdentity{}}
	r.tokens = &memAccessTokens{users: r.users, tokens: map[string]string{}}
	r.steps = New(append([]Option{
		WithKakao(r.kakao), WithUsers(r.users), WithMappings(r.mappings), WithAudit(r.audit), WithEvents(r.events),
		WithUnlinkQueue(r.queue), WithUnlinkAuth(1001, "admin-key"), WithUnlinkMACKeys(1, map[int][]byte{1: testMACKey}),
		WithPepper(testPepper), WithProofKeys(1, map[int][]byte{1: testProofKey}), WithPasswordRotation(time.Hour), WithClock(r.clock),
		WithSleep(func(context.Context, time.Duration) error { r.advance(pollInterval); return nil }),
		WithBrokerClient(brokerClientName, r.clients), WithAccessTokens(r.tokens), WithKakaoAccounts(r.accounts),
	}, opts...)...)
	// The pool's custom auth triggers are the same Steps, as the stack's
	// trigger Lambdas are built from the same configuration.
	r.users.triggers, r.users.clientID = r.steps, brokerClientID
	m, err := NewMachine(r.steps)
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]asl.TaskFunc{
		"ValidateToken": Task(r.steps.ValidateToken),
		"UpsertUser":    Task(r.steps.UpsertUser),
		"SetPassword":   Task(r.steps.SetPassword),
		"IssueTokens":   Task(r.steps.IssueTokens),
		"RecordFailure": Task(r.steps.RecordFailure),
	}
	for _, name := range Functions {
		h := handlers[name]
		m.Bind(LocalFunctionARN(name), func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
			r.mu.Lock()
			r.inputs[name] = append(r.inputs[name], string(in))
			r.mu.Unlock()
			return h(ctx, in)
		})
	}
	r.m = m
	return r
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

// run executes one login through the state machine.
func (r *rig) run(t testing.TB, body string) *asl.Execution {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"body": body, "oversized": false, "context": map[string]string{"sourceIp": "198.51.100.7", "userAgent": "machine-test", "requestId": "req-1"}})
	// Retry delays take no time; timeouts stay real, so a slow run (-race,
	// 20 at once) is never mistaken for a hung one.
	exec, err := r.m.Run(context.Background(), in, asl.WithSleeper(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	return exec
}

// login runs a login that must succeed and returns the API's 200 body.
func (r *rig) login(t testing.TB, body string) LoginResponse {
	t.Helper()
	return decode(t, r.run(t, body))
}

// decode is a succeeded execution's 200 body.
func decode(t testing.TB, exec *asl.Execution) LoginResponse {
	t.Helper()
	if exec.Status != asl.StatusSucceeded {
		t.Fatalf("login: %s %s: %s (path %v)", exec.Status, exec.Error, exec.Cause, exec.Path)
	}
	var resp LoginResponse
	if err := json.Unmarshal(exec.Output, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// fails runs a login that must fail with errorName.
func (r *rig) fails(t testing.TB, body, errorName string) *asl.Execution {
	t.Helper()
	exec := r.run(t, body)
	if exec.Status != asl.StatusFailed || exec.Error != errorName {
		t.Fatalf("login %s: %s %s (%s), want FAILED %s (path %v)", body, exec.Status, exec.Error, exec.Cause, errorName, exec.Path)
	}
	return exec
}

func assertPath(t testing.TB, exec *asl.Execution, want ...string) {
	t.Helper()
	if !slices.Equal(exec.Path, want) {
		t.Fatalf("path %v, want %v (status %s, error %s: %s)", exec.Path, want, exec.Status, exec.Error, exec.Cause)
	}
}

// cognito is the budget of what a login cost: Cognito calls by operation.
func (r *rig) cognito() map[string]int { return r.users.cognitoCalls() }

func (r *rig) resetCalls() {
	r.users.resetCalls()
	r.mappings.resetCalls()
}

func assertCalls(t testing.TB, what string, got, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s called %d times, want %d (all: %v)", what, k, got[k], v, got)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s x%d (all: %v)", what, k, v, got)
		}
	}
}

// Paths the machine takes.
var (
	pathReady     = []string{"ValidateToken", "UpsertUser", "PasswordReady", "CountSignIn", "IssueTokens"}
	pathSetFirst  = []string{"ValidateToken", "UpsertUser", "PasswordReady", "SetPassword", "CountSignIn", "IssueTokens"}
	pathRejected  = []string{"ValidateToken", "RecordRejectedRequest", "LoginFailed"}
	pathUpsertErr = []string{"ValidateToken", "UpsertUser", "RecordFailure", "LoginFailed"}
)

// signedBody is any body with the webhook's MAC, as if the webhook had
// queued it (what a message that passes the MAC but not the decoder is).
func (r *rig) signedBody(body string) kakaoauth.UnlinkMessage {
	return kakaoauth.UnlinkMessage{Body: body, MAC: "v1." + unlinkMAC(testMACKey, []byte(body))}
}
