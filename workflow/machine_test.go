package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

// machineRig runs the real statemachine.asl.json through the local
// executor with the steps bound to in-memory ports, and records every
// task's input so tests can check what the state carries.
type machineRig struct {
	*rig
	m      *asl.Machine
	mu     sync.Mutex
	inputs map[string][]string
}

func newMachineRig(t *testing.T) *machineRig {
	t.Helper()
	r := &machineRig{rig: newRig(t), inputs: map[string][]string{}}
	m, err := NewMachine(r.steps)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Functions {
		arn := LocalFunctionARN(name)
		r.rebind(m, arn, name)
	}
	r.m = m
	return r
}

// rebind wraps a bound task to record its input. It reuses NewMachine's
// binding by loading a second machine to read the handler from.
func (r *machineRig) rebind(m *asl.Machine, arn, name string) {
	handlers := map[string]asl.TaskFunc{
		"ValidateToken": Task(r.steps.ValidateToken),
		"UpsertUser":    Task(r.steps.UpsertUser),
		"SetPassword":   Task(r.steps.SetPassword),
		"IssueTokens":   Task(r.steps.IssueTokens),
		"RecordFailure": Task(r.steps.RecordFailure),
	}
	h := handlers[name]
	m.Bind(arn, func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		r.mu.Lock()
		r.inputs[name] = append(r.inputs[name], string(in))
		r.mu.Unlock()
		return h(ctx, in)
	})
}

func (r *machineRig) run(t *testing.T, body string) *asl.Execution {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"body": body, "context": map[string]string{"sourceIp": "198.51.100.7", "userAgent": "machine-test", "requestId": "req-1"}})
	exec, err := r.m.Run(context.Background(), in, asl.WithTimeScale(0.001))
	if err != nil {
		t.Fatal(err)
	}
	return exec
}

func assertPath(t *testing.T, exec *asl.Execution, want ...string) {
	t.Helper()
	if !slices.Equal(exec.Path, want) {
		t.Fatalf("path %v, want %v (status %s, error %s: %s)", exec.Path, want, exec.Status, exec.Error, exec.Cause)
	}
}

func TestMachineSuccessPath(t *testing.T) {
	r := newMachineRig(t)
	exec := r.run(t, `{"access_token":"tok-1"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "SetPassword", "IssueTokens")
	if exec.Status != asl.StatusSucceeded {
		t.Fatalf("status %s", exec.Status)
	}
	var resp LoginResponse
	if err := json.Unmarshal(exec.Output, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.IDToken == "" || resp.RefreshToken == "" || resp.Sub == "" || resp.Username != "kakao_1" || !resp.NewUser {
		t.Fatalf("output %s", exec.Output)
	}
	// The token never reaches a step after ValidateToken, and no step
	// input holds the nonce-derived password.
	for name, ins := range r.inputs {
		for _, in := range ins {
			if name != "ValidateToken" && strings.Contains(in, "tok-1") {
				t.Fatalf("%s input carries the Kakao token: %s", name, in)
			}
		}
	}
	if got := r.audit.types(); !slices.Equal(got, []string{"user_created", "login_succeeded"}) {
		t.Fatalf("audit %v", got)
	}
	e := r.audit.events[1]
	if !strings.HasPrefix(e.ExecutionID, "arn:aws:states:") || e.SourceIP != "198.51.100.7" || e.UserAgent != "machine-test" || e.AppID != 1001 {
		t.Fatalf("audit event context %+v", e)
	}
}

func TestMachineFailurePaths(t *testing.T) {
	rejected := []string{"ValidateToken", "RecordRejectedRequest", "LoginFailed"}
	failed := []string{"ValidateToken", "UpsertUser", "RecordFailure", "LoginFailed"}
	cases := []struct {
		name    string
		body    string
		arrange func(r *machineRig)
		path    []string
		error   string
		status  int
	}{
		{"malformed body", `{"access_token":`, nil, rejected, "InvalidRequest", 400},
		{"unknown field", `{"access_token":"tok-1","admin":true}`, nil, rejected, "InvalidRequest", 400},
		{"bad token", `{"access_token":"nope"}`, nil, rejected, "InvalidKakaoToken", 401},
		{"wrong app", `{"access_token":"tok-1"}`, func(r *machineRig) { r.kakao.err = &kakaoauth.WrongKakaoApp{AppID: 7} }, rejected, "WrongKakaoApp", 401},
		{"kakao down", `{"access_token":"tok-1"}`, func(r *machineRig) { r.kakao.err = &kakaoauth.KakaoUnavailable{Reason: "-1"} }, rejected, "KakaoUnavailable", 502},
		{"unlinked", `{"access_token":"tok-2"}`, func(r *machineRig) {
			r.mappings.rows[2] = kakaoauth.Mapping{KakaoID: 2, Sub: "s2", Username: "kakao_2", Status: kakaoauth.StatusUnlinked}
		}, failed, "AccountUnlinked", 403},
		{"conflict", `{"access_token":"tok-1"}`, func(r *machineRig) { r.users.addNative("alice", "one@example.com") }, failed, "AccountConflict", 409},
		{"cognito down", `{"access_token":"tok-2"}`, func(r *machineRig) { r.users.failNext["CreateUser"] = errors.New("boom") }, failed, "errorString", 500},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newMachineRig(t)
			if c.arrange != nil {
				c.arrange(r)
			}
			exec := r.run(t, c.body)
			assertPath(t, exec, c.path...)
			if exec.Status != asl.StatusFailed || exec.Error != c.error {
				t.Fatalf("status %s error %s, want FAILED %s", exec.Status, exec.Error, c.error)
			}
			if got := kakaoauth.OutcomeOf(exec.Error).Status; got != c.status {
				t.Fatalf("HTTP %d, want %d", got, c.status)
			}
			audit := r.audit.types()
			if len(audit) != 1 || audit[0] != "login_failed:"+c.error {
				t.Fatalf("audit %v, want exactly one login_failed:%s", audit, c.error)
			}
			for _, in := range r.inputs["RecordFailure"] {
				if strings.Contains(in, "tok-") {
					t.Fatalf("RecordFailure input carries the token: %s", in)
				}
			}
		})
	}
}

func TestMachineRetriesTransientErrors(t *testing.T) {
	r := newMachineRig(t)
	r.users.failNext["CreateUser"] = &kakaoauth.Throttled{Reason: "test"}
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "SetPassword", "IssueTokens")
	if exec.Status != asl.StatusSucceeded || exec.Attempts["UpsertUser"] != 2 {
		t.Fatalf("status %s attempts %v", exec.Status, exec.Attempts)
	}
}

func TestMachineKakaoUnavailableIsRetriedOnce(t *testing.T) {
	r := newMachineRig(t)
	r.kakao.err = &kakaoauth.KakaoUnavailable{Reason: "test"}
	exec := r.run(t, `{"access_token":"tok-2"}`)
	if exec.Attempts["ValidateToken"] != 2 || exec.Error != "KakaoUnavailable" {
		t.Fatalf("attempts %v error %s", exec.Attempts, exec.Error)
	}
}

func TestMachinePasswordRotatedGoesBackToSetPassword(t *testing.T) {
	r := newMachineRig(t)
	if exec := r.run(t, `{"access_token":"tok-2"}`); exec.Status != asl.StatusSucceeded {
		t.Fatal(exec.Error)
	}
	// Another login changes the password between this login's SetPassword
	// and IssueTokens, twice (retry included).
	r.users.failNext["SignIn"] = &kakaoauth.PasswordRotated{Username: "kakao_2"}
	var once sync.Once
	h := Task(r.steps.IssueTokens)
	r.m.Bind(LocalFunctionARN("IssueTokens"), func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		var err error
		once.Do(func() { err = &kakaoauth.PasswordRotated{Username: "kakao_2"} })
		if err != nil {
			return nil, err
		}
		return h(ctx, in)
	})
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, "ValidateToken", "UpsertUser", "SetPassword", "IssueTokens", "PasswordRaceLost", "SetPassword", "IssueTokens")
	if exec.Status != asl.StatusSucceeded || exec.Attempts["IssueTokens"] != 3 {
		t.Fatalf("status %s attempts %v", exec.Status, exec.Attempts)
	}
}

func TestMachinePasswordLoopIsBounded(t *testing.T) {
	r := newMachineRig(t)
	r.m.Bind(LocalFunctionARN("IssueTokens"), func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, &kakaoauth.PasswordRotated{Username: "kakao_2"}
	})
	exec := r.run(t, `{"access_token":"tok-2"}`)
	want := []string{"ValidateToken", "UpsertUser"}
	for i := 0; i < MaxPasswordAttempts; i++ {
		want = append(want, "SetPassword", "IssueTokens", "PasswordRaceLost")
	}
	want = append(want, "RecordFailure", "LoginFailed")
	assertPath(t, exec, want...)
	if exec.Error != "PasswordRotated" || kakaoauth.OutcomeOf(exec.Error).Status != 500 {
		t.Fatalf("error %s", exec.Error)
	}
}

// The bound in the ASL is the Go constant.
func TestASLBoundMatchesMaxPasswordAttempts(t *testing.T) {
	var def struct {
		States map[string]struct {
			Choices []struct {
				Variable                 string
				NumericGreaterThanEquals *float64
			}
		}
	}
	if err := json.Unmarshal(kakaoauth.StateMachineDefinition, &def); err != nil {
		t.Fatal(err)
	}
	c := def.States["PasswordRaceLost"].Choices
	if len(c) != 1 || c[0].Variable != "$.password.attempt" || c[0].NumericGreaterThanEquals == nil || int(*c[0].NumericGreaterThanEquals) != MaxPasswordAttempts {
		t.Fatalf("PasswordRaceLost choice %+v, want $.password.attempt >= %d", c, MaxPasswordAttempts)
	}
}

// Every error name the ASL's Retry and Catch match is a Go error type the
// steps return, or one of Step Functions' or Lambda's own.
func TestASLErrorNamesAreGoTypes(t *testing.T) {
	src, err := os.ReadFile("../errors.go")
	if err != nil {
		t.Fatal(err)
	}
	goTypes := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^type (\w+) struct`).FindAllStringSubmatch(string(src), -1) {
		goTypes[m[1]] = true
	}
	var def struct {
		States map[string]struct {
			Retry []struct{ ErrorEquals []string }
			Catch []struct{ ErrorEquals []string }
		}
	}
	if err := json.Unmarshal(kakaoauth.StateMachineDefinition, &def); err != nil {
		t.Fatal(err)
	}
	for state, s := range def.States {
		var names []string
		for _, r := range s.Retry {
			names = append(names, r.ErrorEquals...)
		}
		for _, c := range s.Catch {
			names = append(names, c.ErrorEquals...)
		}
		for _, n := range names {
			if strings.HasPrefix(n, "States.") || strings.HasPrefix(n, "Lambda.") {
				continue
			}
			if !goTypes[n] {
				t.Errorf("state %s matches %q, which is no error type in errors.go", state, n)
			}
		}
	}
}
