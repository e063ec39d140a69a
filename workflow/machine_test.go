package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

func TestMachineSuccessPath(t *testing.T) {
	r := newRig(t)
	exec := r.run(t, `{"access_token":"tok-1"}`)
	assertPath(t, exec, pathReady...)
	resp := decode(t, exec)
	if resp.IDToken == "" || resp.RefreshToken == "" || resp.Sub == "" || resp.Username != "kakao_1" || !resp.NewUser {
		t.Fatalf("output %s", exec.Output)
	}
	// The token never reaches a step after ValidateToken, and no step
	// input holds a password.
	u, _ := r.users.user("kakao_1")
	for name, ins := range r.inputs {
		for _, in := range ins {
			if name != "ValidateToken" && strings.Contains(in, "tok-1") {
				t.Fatalf("%s input carries the Kakao token: %s", name, in)
			}
			if strings.Contains(in, u.password) {
				t.Fatalf("%s input carries the password", name)
			}
		}
	}
	if got := r.audit.types(); strings.Join(got, ",") != "user_created,login_succeeded" {
		t.Fatalf("audit %v", got)
	}
	e := r.audit.all()[1]
	if !strings.HasPrefix(e.ExecutionID, "arn:aws:states:") || e.SourceIP != "198.51.100.7" || e.UserAgent != "machine-test" || e.AppID != 1001 {
		t.Fatalf("audit event context %+v", e)
	}
}

func TestMachineFailurePaths(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		arrange func(r *rig)
		path    []string
		error   string
		status  int
	}{
		{"malformed body", `{"access_token":`, nil, pathRejected, "InvalidRequest", 400},
		{"unknown field", `{"access_token":"tok-1","admin":true}`, nil, pathRejected, "InvalidRequest", 400},
		{"bad token", `{"access_token":"nope"}`, nil, pathRejected, "InvalidKakaoToken", 401},
		{"wrong app", `{"access_token":"tok-1"}`, func(r *rig) { r.kakao.err = &kakaoauth.WrongKakaoApp{AppID: 7} }, pathRejected, "WrongKakaoApp", 401},
		{"kakao down", `{"access_token":"tok-1"}`, func(r *rig) { r.kakao.err = &kakaoauth.KakaoUnavailable{Reason: "-1"} }, pathRejected, "KakaoUnavailable", 502},
		{"unlinked, old ID token", `{"id_token":"old.id.token"}`, func(r *rig) {
			r.kakao.ids["old.id.token"] = kakaoauth.KakaoIdentity{KakaoID: 2, IDTokenIssuedAt: t0.Add(-1)}
			r.mappings.put(kakaoauth.Mapping{KakaoID: 2, Sub: "s2", Username: "kakao_2", Status: kakaoauth.StatusUnlinked, UnlinkedAt: t0})
		}, pathUpsertErr, "AccountUnlinked", 403},
		{"conflict", `{"access_token":"tok-1"}`, func(r *rig) { r.users.addNative("alice", "one@example.com") }, pathUpsertErr, "AccountConflict", 409},
		{"cognito down", `{"access_token":"tok-2"}`, func(r *rig) { r.users.failNext("AdminCreateUser", errors.New("boom")) }, pathUpsertErr, "errorString", 500},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
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

// A body the request template flagged as oversized (and did not carry)
// reaches ValidateToken through the real definition's Parameters, and is
// refused and audited like any invalid request, without a Kakao call.
func TestMachineRefusesAnOversizedBody(t *testing.T) {
	r := newRig(t)
	in, _ := json.Marshal(map[string]any{"body": "", "oversized": true, "context": map[string]string{"sourceIp": "198.51.100.7", "requestId": "req-9"}})
	exec, err := r.m.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	assertPath(t, exec, pathRejected...)
	if exec.Error != "InvalidRequest" || !strings.Contains(exec.Cause, "body too large") || r.kakao.calls.Load() != 0 {
		t.Fatalf("error %s cause %q, Kakao calls %d", exec.Error, exec.Cause, r.kakao.calls.Load())
	}
	if got := r.audit.types(); len(got) != 1 || got[0] != "login_failed:InvalidRequest" {
		t.Fatalf("audit %v", got)
	}
}

// UpsertUser is idempotent, so throttling there is retried.
func TestMachineRetriesThrottledUpsert(t *testing.T) {
	r := newRig(t)
	r.users.failNext("AdminCreateUser", &kakaoauth.Throttled{Reason: "test"})
	exec := r.run(t, `{"access_token":"tok-2"}`)
	assertPath(t, exec, pathReady...)
	if exec.Status != asl.StatusSucceeded || exec.Attempts["UpsertUser"] != 2 {
		t.Fatalf("status %s attempts %v", exec.Status, exec.Attempts)
	}
}

func TestMachineKakaoUnavailableIsRetriedOnce(t *testing.T) {
	r := newRig(t)
	r.kakao.err = &kakaoauth.KakaoUnavailable{Reason: "test"}
	exec := r.run(t, `{"access_token":"tok-2"}`)
	if exec.Attempts["ValidateToken"] != 2 || exec.Error != "KakaoUnavailable" {
		t.Fatalf("attempts %v error %s", exec.Attempts, exec.Error)
	}
}

// The definition's bounds are the Go constants: the choices after a
// failed sign-in stop at MaxSignIns, counted by CountSignIn.
func TestASLBoundsMatchTheGoConstants(t *testing.T) {
	var def struct {
		States map[string]struct {
			Type       string
			Parameters map[string]any
			ResultPath string
			Next       string
			Choices    []json.RawMessage
		}
	}
	if err := json.Unmarshal(kakaoauth.StateMachineDefinition, &def); err != nil {
		t.Fatal(err)
	}
	count := def.States["CountSignIn"]
	if count.Type != "Pass" || count.Parameters["count.$"] != "States.MathAdd($.signIns.count, 1)" || count.ResultPath != "$.signIns" || count.Next != "IssueTokens" {
		t.Fatalf("CountSignIn %+v", count)
	}
	// Every way into IssueTokens goes through CountSignIn.
	for name, s := range def.States {
		if s.Next == "IssueTokens" && name != "CountSignIn" {
			t.Errorf("%s goes to IssueTokens without counting the sign-in", name)
		}
	}
	for _, choice := range []string{"AfterPasswordRotated", "AfterUserMissing"} {
		var compact bytes.Buffer
		_ = json.Compact(&compact, def.States[choice].Choices[0])
		raw := compact.String()
		if !strings.Contains(raw, `"Variable":"$.signIns.count","NumericGreaterThanEquals":`+itoa(MaxSignIns)) {
			t.Errorf("%s does not stop at %d sign-ins: %s", choice, MaxSignIns, raw)
		}
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
