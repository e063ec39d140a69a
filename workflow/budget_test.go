package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

// The failure path fits: the steps' budget, then the longest a Record
// state can take (every try timing out, every retry waiting its longest)
// and a second for the transitions, within the machine's TimeoutSeconds.
// So a login that fails is audited even when the audit store hangs for a
// while, instead of ending TIMED_OUT (504) with nobody recording it.
func TestBudgetFitsTheStateMachine(t *testing.T) {
	var def struct {
		TimeoutSeconds float64
		States         map[string]struct {
			Type           string
			Resource       string
			TimeoutSeconds float64
			Retry          []struct {
				ErrorEquals                  []string
				IntervalSeconds, BackoffRate float64
				MaxAttempts                  *float64
			}
			Parameters map[string]any
		}
	}
	if err := json.Unmarshal(kakaoauth.StateMachineDefinition, &def); err != nil {
		t.Fatal(err)
	}
	if def.States["ValidateToken"].Parameters["startedAt.$"] != "$$.Execution.StartTime" {
		t.Fatalf("ValidateToken does not pass the execution's start: %v", def.States["ValidateToken"].Parameters)
	}
	for _, name := range []string{"RecordFailure", "RecordRejectedRequest"} {
		st := def.States[name]
		if st.Resource != "${RecordFailureFunctionArn}" || st.TimeoutSeconds <= 0 {
			t.Fatalf("%s %+v", name, st)
		}
		worst := st.TimeoutSeconds
		for _, r := range st.Retry {
			attempts := 3.0 // Step Functions' default MaxAttempts
			if r.MaxAttempts != nil {
				attempts = *r.MaxAttempts
			}
			backoff := r.BackoffRate
			if backoff == 0 {
				backoff = 2
			}
			for i := 0.0; i < attempts; i++ {
				worst += r.IntervalSeconds*math.Pow(backoff, i) + st.TimeoutSeconds
			}
		}
		if worst > RecordBudget.Seconds() {
			t.Errorf("%s may take %v s, more than RecordBudget %v", name, worst, RecordBudget)
		}
		if got := (recordTimeout + 100*time.Millisecond).Seconds(); got > st.TimeoutSeconds {
			t.Errorf("%s: the audit write's %v does not fit its %v s", name, recordTimeout, st.TimeoutSeconds)
		}
	}
	if (LoginBudget + RecordBudget + time.Second).Seconds() > def.TimeoutSeconds {
		t.Fatalf("LoginBudget %v + RecordBudget %v + 1 s exceeds the machine's %v s", LoginBudget, RecordBudget, def.TimeoutSeconds)
	}
}

// The finding: a step that took its time and then failed, followed by a
// RecordFailure whose audit store hangs, ran three 10 s tries past the
// machine's 25 s: TIMED_OUT, 504, the attempt never audited. Now the
// Record state's tries end in 2 s and the third one audits it: the
// execution fails with the step's own error. (Scaled tenfold: 1 s
// takes 100 ms, which leaves a step's own work room even on a loaded
// machine.)
func TestRecordFailureHangIsBoundedAndRecorded(t *testing.T) {
	r := newRig(t)
	hung := 0
	record := Task(r.steps.RecordFailure)
	r.m.Bind(LocalFunctionARN("RecordFailure"), func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		if hung < 2 {
			hung++
			<-ctx.Done() // the audit store hangs until the task times out
			return nil, ctx.Err()
		}
		return record(ctx, in)
	})
	upsert := Task(r.steps.UpsertUser)
	r.m.Bind(LocalFunctionARN("UpsertUser"), func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		time.Sleep(600 * time.Millisecond) // 6 s of Cognito slowness, then it fails
		r.users.failNext("AdminCreateUser", errors.New("cognito is down"))
		return upsert(ctx, in)
	})
	in, _ := json.Marshal(map[string]any{"body": `{"access_token":"tok-1"}`, "oversized": false, "context": map[string]string{"sourceIp": "198.51.100.7"}})
	exec, err := r.m.Run(context.Background(), in, asl.WithTimeScale(0.1))
	if err != nil {
		t.Fatal(err)
	}
	if exec.Status != asl.StatusFailed || exec.Error != "errorString" {
		t.Fatalf("status %s error %s (path %v): want FAILED with UpsertUser's own error", exec.Status, exec.Error, exec.Path)
	}
	if exec.Attempts["RecordFailure"] != 3 {
		t.Fatalf("RecordFailure tried %d times, want 3", exec.Attempts["RecordFailure"])
	}
	if got := r.audit.types(); len(got) != 1 || got[0] != "login_failed:errorString" {
		t.Fatalf("audit %v: the failed attempt must be recorded", got)
	}
}

// A step that starts, or fails, after the login's budget answers
// LoginTimeout (504, audited), without spending a call.
func TestStepsKeepTheLoginsBudget(t *testing.T) {
	r := newRig(t)
	late := LoginState{Subject: Subject{KakaoID: 1}, Context: RequestContext{ExecutionID: "e", StartedAt: time.Now().Add(-LoginBudget - time.Second)}}
	var timeout *kakaoauth.LoginTimeout
	if _, err := r.steps.UpsertUser(context.Background(), late); !errors.As(err, &timeout) || timeout.Step != "UpsertUser" {
		t.Fatalf("UpsertUser after the budget: %T %v", err, err)
	}
	if _, err := r.steps.IssueTokens(context.Background(), late); !errors.As(err, &timeout) {
		t.Fatalf("IssueTokens after the budget: %T %v", err, err)
	}
	if _, err := r.steps.ValidateToken(context.Background(), ValidateTokenInput{Body: `{"access_token":"tok-1"}`, StartedAt: late.Context.StartedAt}); !errors.As(err, &timeout) {
		t.Fatalf("ValidateToken after the budget: %T %v", err, err)
	}
	if n := r.mappings.calls("GetItem") + len(r.cognito()); n != 0 {
		t.Fatalf("%d calls after the budget", n)
	}
	// A step whose calls run into the budget's end answers LoginTimeout,
	// not the call's own error.
	r.kakao.delay = 200 * time.Millisecond
	ctx := context.Background()
	_, err := r.steps.ValidateToken(ctx, ValidateTokenInput{Body: `{"access_token":"tok-1"}`, StartedAt: time.Now().Add(-LoginBudget + 50*time.Millisecond)})
	if !errors.As(err, &timeout) {
		t.Fatalf("ValidateToken cut by the budget: %T %v", err, err)
	}
	if kakaoauth.OutcomeOf(kakaoauth.ErrorName(err)).Status != 504 {
		t.Fatal("LoginTimeout is not answered 504")
	}
}
