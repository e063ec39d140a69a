package asl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

func mustLoad(t testing.TB, def string, opts ...asl.LoadOption) *asl.Machine {
	t.Helper()
	m, err := asl.Load([]byte(def), substitutions(), opts...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}

func mustRun(t testing.TB, m *asl.Machine, input string, opts ...asl.RunOption) *asl.Execution {
	t.Helper()
	exec, err := m.Run(context.Background(), json.RawMessage(input), opts...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return exec
}

func returning(out string) asl.TaskFunc {
	return func(context.Context, json.RawMessage) (json.RawMessage, error) { return json.RawMessage(out), nil }
}

func TestChoiceRules(t *testing.T) {
	raw, err := os.ReadFile("testdata/choice_rules.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Rule  map[string]any  `json:"rule"`
		Input json.RawMessage `json:"input"`
		Want  string          `json:"want"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		rule, _ := json.Marshal(c.Rule)
		t.Run(string(rule)+" on "+string(c.Input), func(t *testing.T) {
			c.Rule["Next"] = "Match"
			withNext, _ := json.Marshal(c.Rule)
			def := fmt.Sprintf(`{"StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[%s],"Default":"Default"},
				"Match":{"Type":"Pass","Result":"match","End":true},
				"Default":{"Type":"Pass","Result":"default","End":true}}}`, withNext)
			exec := mustRun(t, mustLoad(t, def), string(c.Input))
			got := exec.Error
			if exec.Status == asl.StatusSucceeded {
				_ = json.Unmarshal(exec.Output, &got)
			}
			if got != c.Want {
				t.Errorf("got %s (%s), want %s", got, exec.Cause, c.Want)
			}
		})
	}
}

// Error types named like the project's error kinds.
type InvalidKakaoToken struct{ Reason string }

func (e *InvalidKakaoToken) Error() string { return "invalid kakao token: " + e.Reason }

type Throttled struct{}

func (Throttled) Error() string { return "throttled" }

func TestDefaultErrorNameIsTheTopLevelTypeName(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&InvalidKakaoToken{"x"}, "InvalidKakaoToken"},
		{Throttled{}, "Throttled"},
		{fmt.Errorf("wrapped: %w", &InvalidKakaoToken{}), "wrapError"},
		{errors.New("plain"), "errorString"},
	} {
		m := mustLoad(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${A}","End":true}}}`)
		m.Bind(arnPrefix+"A", func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, c.err })
		exec := mustRun(t, m, `{}`)
		if exec.Status != asl.StatusFailed || exec.Error != c.want {
			t.Errorf("%T: status %s error %q, want FAILED %q", c.err, exec.Status, exec.Error, c.want)
		}
		wantCause, _ := json.Marshal(map[string]string{"errorMessage": c.err.Error(), "errorType": c.want})
		assertJSONEqual(t, "cause", []byte(exec.Cause), wantCause)
	}
}

func TestErrorNameOptionDecidesRetryAndCatch(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"${A}","Catch":[{"ErrorEquals":["Mapped"],"Next":"C"}],"End":true},
		"C":{"Type":"Pass","End":true}}}`,
		asl.WithErrorName(func(error) string { return "Mapped" }))
	m.Bind(arnPrefix+"A", func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, errors.New("x") })
	exec := mustRun(t, m, `{}`)
	if exec.Status != asl.StatusSucceeded || strings.Join(exec.Path, ",") != "T,C" {
		t.Fatalf("status %s path %v: the namer's name was not matched", exec.Status, exec.Path)
	}
}

func TestPanicsFailTheAttemptLikeAwsLambdaGo(t *testing.T) {
	for _, c := range []struct {
		name     string
		fn       func()
		wantName string
		wantMsg  string
	}{
		{"string", func() { panic("boom") }, "string", "boom"},
		{"error value", func() { panic(errors.New("bad")) }, "errorString", "bad"},
		{"custom error", func() { panic(&InvalidKakaoToken{"p"}) }, "InvalidKakaoToken", "invalid kakao token: p"},
		{"index out of range", func() {
			var s []int
			_ = s[len(os.Args)+1]
		}, "boundsError", "index out of range"},
		{"nil map write", func() {
			var m map[string]int
			m["x"] = 1
		}, "plainError", "assignment to entry in nil map"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mustLoad(t, `{"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"${A}","Retry":[{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":1}],
				     "Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
				"C":{"Type":"Pass","End":true}}}`)
			m.Bind(arnPrefix+"A", func(context.Context, json.RawMessage) (json.RawMessage, error) {
				c.fn()
				return nil, nil
			})
			exec := mustRun(t, m, `{}`, asl.WithSleeper(func(context.Context, time.Duration) error { return nil }))
			if exec.Status != asl.StatusSucceeded || exec.Attempts["T"] != 2 {
				t.Fatalf("status %s attempts %v: a panic must be an ordinary, retriable, catchable task failure", exec.Status, exec.Attempts)
			}
			var caught struct{ Error, Cause string }
			if err := json.Unmarshal(exec.Output, &caught); err != nil {
				t.Fatal(err)
			}
			var cause struct {
				Message string `json:"errorMessage"`
				Type    string `json:"errorType"`
			}
			if err := json.Unmarshal([]byte(caught.Cause), &cause); err != nil {
				t.Fatalf("cause %q is not Lambda's error JSON: %v", caught.Cause, err)
			}
			if caught.Error != c.wantName || cause.Type != c.wantName || !strings.Contains(cause.Message, c.wantMsg) {
				t.Errorf("caught %+v (cause %+v), want name %q message containing %q", caught, cause, c.wantName, c.wantMsg)
			}
		})
	}
}

// blocking waits for its context, as a hung Lambda would.
func blocking(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestTaskTimeoutIsStatesTimeout(t *testing.T) {
	def := `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"${A}","TimeoutSeconds":5,
		     "Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":1}],
		     "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Wrong"},{"ErrorEquals":["States.Timeout"],"ResultPath":"$.err","Next":"C"}],"End":true},
		"Wrong":{"Type":"Fail"},
		"C":{"Type":"Pass","End":true}}}`
	m := mustLoad(t, def)
	m.Bind(arnPrefix+"A", blocking)
	var events []asl.Event
	exec := mustRun(t, m, `{"in":1}`, asl.WithTimeScale(0.001), asl.WithObserver(func(e asl.Event) { events = append(events, e) }))
	if exec.Status != asl.StatusSucceeded || strings.Join(exec.Path, ",") != "T,C" {
		t.Fatalf("status %s path %v error %s: States.Timeout must be retried, then caught by name but not by States.TaskFailed", exec.Status, exec.Path, exec.Error)
	}
	if exec.Attempts["T"] != 2 {
		t.Errorf("attempts %d, want 2", exec.Attempts["T"])
	}
	var out struct{ Err struct{ Error string } }
	_ = json.Unmarshal(exec.Output, &out)
	if out.Err.Error != asl.ErrorTimeout {
		t.Errorf("caught %s, want States.Timeout", exec.Output)
	}
	var retry *asl.Event
	for i := range events {
		if events[i].Type == asl.EventRetryScheduled {
			retry = &events[i]
		}
	}
	if retry == nil || retry.Delay != time.Second || retry.Error != asl.ErrorTimeout {
		t.Errorf("retry event %+v, want a 1 s (unscaled) retry of States.Timeout", retry)
	}
}

func TestMachineTimeoutIsTimedOut(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","TimeoutSeconds":2,"States":{
		"T":{"Type":"Task","Resource":"${A}","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
		"C":{"Type":"Pass","End":true}}}`)
	m.Bind(arnPrefix+"A", blocking)
	exec := mustRun(t, m, `{}`, asl.WithTimeScale(0.001))
	if exec.Status != asl.StatusTimedOut || exec.Error != asl.ErrorTimeout || exec.Output != nil {
		t.Fatalf("status %s error %s output %s, want TIMED_OUT States.Timeout, not caught", exec.Status, exec.Error, exec.Output)
	}
	if strings.Join(exec.Path, ",") != "T" {
		t.Errorf("path %v", exec.Path)
	}
}

func TestMachineTimeoutInterruptsRetryWaits(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","TimeoutSeconds":1,"States":{
		"T":{"Type":"Task","Resource":"${A}","Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":3600}],"End":true}}}`)
	m.Bind(arnPrefix+"A", func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, errors.New("x") })
	exec := mustRun(t, m, `{}`, asl.WithTimeScale(0.01))
	if exec.Status != asl.StatusTimedOut || exec.Attempts["T"] != 1 {
		t.Fatalf("status %s attempts %v, want TIMED_OUT after 1 attempt", exec.Status, exec.Attempts)
	}
}

func TestCallerCancellationIsAnError(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${A}","End":true}}}`)
	ctx, cancel := context.WithCancel(context.Background())
	m.Bind(arnPrefix+"A", func(tctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		cancel()
		<-tctx.Done()
		return nil, tctx.Err()
	})
	exec, err := m.Run(ctx, json.RawMessage(`{}`))
	if !errors.Is(err, context.Canceled) || exec != nil {
		t.Fatalf("Run = %v, %v; want context.Canceled", exec, err)
	}
}

func TestRunRefusals(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${A}","Next":"U"},
		"U":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"${B}","Payload.$":"$"},"End":true}}}`)
	if got := strings.Join(m.Resources(), " "); got != arnPrefix+"A "+arnPrefix+"B" {
		t.Errorf("Resources() = %s", got)
	}
	m.Bind(arnPrefix+"A", returning(`1`))
	if _, err := m.Run(context.Background(), json.RawMessage(`{}`)); err == nil || !strings.Contains(err.Error(), arnPrefix+"B") {
		t.Errorf("Run with an unbound resource = %v, want an error naming it", err)
	}
	m.Bind(arnPrefix+"B", returning(`2`))
	for _, c := range []struct {
		input string
		opts  []asl.RunOption
		want  string
	}{
		{`{nope`, nil, "not valid JSON"},
		{`{"s":"` + strings.Repeat("x", asl.MaxPayloadBytes) + `"}`, nil, "limit"},
		{`{}`, []asl.RunOption{asl.WithTimeScale(0)}, "time scale"},
		{`{}`, []asl.RunOption{asl.WithExecutionName(strings.Repeat("n", 81))}, "80"},
	} {
		if _, err := m.Run(context.Background(), json.RawMessage(c.input), c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run(%.20s) = %v, want an error containing %q", c.input, err, c.want)
		}
	}
}

func TestLoadRefusesBadStateMachineARN(t *testing.T) {
	_, err := asl.Load([]byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), nil, asl.WithStateMachineARN("nope"))
	if err == nil {
		t.Fatal("Load accepted a bad ARN")
	}
}

func TestSubstitutionsAreTextual(t *testing.T) {
	m, err := asl.Load([]byte(`{"StartAt":"P","TimeoutSeconds":${Timeout},"States":{"P":{"Type":"Pass","Result":"${Greeting}, ${Greeting}","End":true}}}`),
		map[string]string{"Timeout": "30", "Greeting": "hi", "Unused": "x"})
	if err != nil {
		t.Fatal(err)
	}
	exec := mustRun(t, m, `{}`)
	if string(exec.Output) != `"hi, hi"` {
		t.Errorf("output %s", exec.Output)
	}
}

func TestExecutionIdentity(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","sm.$":"$$.StateMachine.Id"},"End":true}}}`,
		asl.WithStateMachineARN("arn:aws:states:ap-northeast-2:111122223333:stateMachine:KakaoLogin"))
	exec := mustRun(t, m, `{}`, asl.WithExecutionName("req-42"))
	want := regexp.MustCompile(`^arn:aws:states:ap-northeast-2:111122223333:express:KakaoLogin:req-42:[0-9a-f-]{36}$`)
	if !want.MatchString(exec.ID) || exec.Name != "req-42" || exec.StateMachineARN != m.ARN() {
		t.Fatalf("execution %q %q %q", exec.ID, exec.Name, exec.StateMachineARN)
	}
	assertJSONEqual(t, "context", exec.Output, []byte(fmt.Sprintf(`{"id":%q,"name":"req-42","sm":%q}`, exec.ID, m.ARN())))
	other := mustRun(t, m, `{}`)
	if other.Name == exec.Name || other.ID == exec.ID || len(other.Name) != 36 {
		t.Errorf("a second run reuses identity or has no UUID name: %q %q", other.Name, other.ID)
	}
}

func TestUUIDIntrinsic(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"States.UUID()","b.$":"States.UUID()"},"End":true}}}`)
	var out struct{ A, B string }
	_ = json.Unmarshal(mustRun(t, m, `{}`).Output, &out)
	uuidRe := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuidRe.MatchString(out.A) || !uuidRe.MatchString(out.B) || out.A == out.B {
		t.Errorf("UUIDs %q %q", out.A, out.B)
	}
}

func TestNumbersSurviveExactly(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${A}","Parameters":{"id.$":"$.id","big.$":"$.big"},"End":true}}}`)
	var got string
	m.Bind(arnPrefix+"A", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		got = string(in)
		return in, nil
	})
	exec := mustRun(t, m, `{"id":9007199254740993,"big":1.000000000000000000001}`)
	for _, s := range []string{got, string(exec.Output)} {
		if !strings.Contains(s, "9007199254740993") || !strings.Contains(s, "1.000000000000000000001") {
			t.Errorf("numbers changed: %s", s)
		}
	}
}

func TestPayloadQuota(t *testing.T) {
	big := `"` + strings.Repeat("x", asl.MaxPayloadBytes) + `"`
	t.Run("task result over the quota is caught only by name", func(t *testing.T) {
		m := mustLoad(t, `{"StartAt":"T","States":{
			"T":{"Type":"Task","Resource":"${A}","Retry":[{"ErrorEquals":["States.ALL"]}],
			     "Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"Next":"C"}],"End":true},
			"C":{"Type":"Pass","End":true}}}`)
		m.Bind(arnPrefix+"A", returning(big))
		exec := mustRun(t, m, `{}`)
		if exec.Status != asl.StatusSucceeded || exec.Attempts["T"] != 1 || !strings.Contains(string(exec.Output), asl.ErrorDataLimitExceeded) {
			t.Fatalf("status %s attempts %v output %.100s", exec.Status, exec.Attempts, exec.Output)
		}
	})
	t.Run("States.ALL does not catch it", func(t *testing.T) {
		m := mustLoad(t, `{"StartAt":"T","States":{
			"T":{"Type":"Task","Resource":"${A}","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
			"C":{"Type":"Pass","End":true}}}`)
		m.Bind(arnPrefix+"A", returning(big))
		if exec := mustRun(t, m, `{}`); exec.Error != asl.ErrorDataLimitExceeded {
			t.Fatalf("status %s error %s", exec.Status, exec.Error)
		}
	})
	t.Run("a state output over the quota fails the execution", func(t *testing.T) {
		half := strings.Repeat("y", asl.MaxPayloadBytes/2+10)
		m := mustLoad(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s"},"Next":"Q"},"Q":{"Type":"Pass","End":true}}}`)
		exec := mustRun(t, m, `{"s":"`+half+`"}`)
		if exec.Status != asl.StatusFailed || exec.Error != asl.ErrorDataLimitExceeded || strings.Join(exec.Path, ",") != "P" {
			t.Fatalf("status %s error %s path %v", exec.Status, exec.Error, exec.Path)
		}
	})
}

func TestFullJitterScalesTheDelay(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${A}",
		"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":4,"MaxAttempts":2,"JitterStrategy":"FULL"}],"End":true}}}`)
	m.Bind(arnPrefix+"A", func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, errors.New("x") })
	var slept []time.Duration
	exec := mustRun(t, m, `{}`,
		asl.WithRandom(func() float64 { return 0.25 }),
		asl.WithSleeper(func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }))
	if exec.Attempts["T"] != 3 || len(slept) != 2 || slept[0] != time.Second || slept[1] != 2*time.Second {
		t.Errorf("attempts %v slept %v, want 1s and 2s (a quarter of 4s and 8s)", exec.Attempts, slept)
	}
}

func TestTimeScaleShrinksWhatTheSleeperGets(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3,"End":true}}}`)
	var slept time.Duration
	mustRun(t, m, `{}`, asl.WithTimeScale(0.001), asl.WithSleeper(func(_ context.Context, d time.Duration) error { slept = d; return nil }))
	if slept != 3*time.Millisecond {
		t.Errorf("slept %v, want 3ms", slept)
	}
}

func TestSleeperErrorStopsTheRun(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3,"End":true}}}`)
	_, err := m.Run(context.Background(), nil, asl.WithSleeper(func(context.Context, time.Duration) error { return errors.New("no sleeping") }))
	if err == nil || !strings.Contains(err.Error(), "no sleeping") {
		t.Errorf("Run = %v", err)
	}
}

func TestObserverSeesEveryStep(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"${A}","Retry":[{"ErrorEquals":["Flaky"],"MaxAttempts":1,"IntervalSeconds":3}],
		     "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"W"}],"End":true},
		"W":{"Type":"Wait","Seconds":2,"Next":"S"},
		"S":{"Type":"Succeed"}}}`, asl.WithErrorName(scriptedName))
	m.Bind(arnPrefix+"A", func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, &scriptedError{name: "Flaky", msg: "flaky"}
	})
	var got []string
	mustRun(t, m, `{}`, asl.WithClock(fixedClock),
		asl.WithSleeper(func(context.Context, time.Duration) error { return nil }),
		asl.WithObserver(func(e asl.Event) {
			if !e.Time.Equal(fixedClock()) {
				t.Errorf("event time %v", e.Time)
			}
			got = append(got, fmt.Sprintf("%s %s r%d %s %v %s", e.Type, e.State, e.RetryCount, e.Error, e.Delay, e.Next))
		}))
	want := []string{
		"StateEntered T r0  0s ",
		"TaskFailed T r0 Flaky 0s ",
		"RetryScheduled T r1 Flaky 3s ",
		"TaskFailed T r1 Flaky 0s ",
		"ErrorCaught T r1 Flaky 0s W",
		"StateExited T r0  0s W",
		"StateEntered W r0  0s ",
		"Waiting W r0  2s ",
		"StateExited W r0  0s S",
		"StateEntered S r0  0s ",
		"StateExited S r0  0s ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestConcurrentRunsAreIndependent(t *testing.T) {
	m := mustLoad(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${A}","Parameters":{"n.$":"$.n","exec.$":"$$.Execution.Name"},
		"ResultPath":"$.r","Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":1}],"End":true}}}`)
	var mu sync.Mutex
	seen := map[string]int{}
	m.Bind(arnPrefix+"A", func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var p struct {
			N    int
			Exec string
		}
		_ = json.Unmarshal(in, &p)
		mu.Lock()
		seen[p.Exec]++
		first := seen[p.Exec] == 1
		mu.Unlock()
		if first && p.N%2 == 0 {
			return nil, errors.New("first attempt of even runs fails")
		}
		return json.Marshal(p.N * 10)
	})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			exec, err := m.Run(context.Background(), json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
				asl.WithExecutionName(fmt.Sprintf("run-%d", i)),
				asl.WithSleeper(func(context.Context, time.Duration) error { return nil }))
			if err != nil {
				t.Error(err)
				return
			}
			want := fmt.Sprintf(`{"n":%d,"r":%d}`, i, i*10)
			wantAttempts := 1 + (1 - i%2)
			if exec.Status != asl.StatusSucceeded || string(exec.Output) != want || exec.Attempts["T"] != wantAttempts {
				t.Errorf("run %d: %s %s attempts %v", i, exec.Status, exec.Output, exec.Attempts)
			}
		})
	}
	wg.Wait()
}

func TestNoExecutorStateLeaksBetweenRuns(t *testing.T) {
	// Values are shared between runs (literals, the input); a run that
	// mutated them would change the next run's answer.
	m := mustLoad(t, `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Result":{"fixed":{"k":1}},"ResultPath":"$.lit","Next":"Q"},
		"Q":{"Type":"Pass","Result":2,"ResultPath":"$.lit.fixed.added","End":true}}}`)
	first := mustRun(t, m, `{}`)
	second := mustRun(t, m, `{}`)
	assertJSONEqual(t, "first", first.Output, []byte(`{"lit":{"fixed":{"k":1,"added":2}}}`))
	assertJSONEqual(t, "second", second.Output, first.Output)
}

// BenchmarkRunFourTasks runs a 4-task machine with trivial tasks.
func BenchmarkRunFourTasks(b *testing.B) {
	m, err := asl.Load([]byte(`{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"${A}","ResultPath":"$.a","Next":"B"},
		"B":{"Type":"Task","Resource":"${B}","Parameters":{"a.$":"$.a","id.$":"$$.Execution.Id"},"ResultPath":"$.b","Next":"C"},
		"C":{"Type":"Task","Resource":"${C}","ResultSelector":{"v.$":"$.v"},"ResultPath":"$.c","Next":"D"},
		"D":{"Type":"Task","Resource":"${D}","ResultPath":"$.d","OutputPath":"$.d","End":true}}}`), substitutions())
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range letters {
		m.Bind(arnPrefix+l, returning(`{"v":1}`))
	}
	input := json.RawMessage(`{"user":{"id":4200000001,"email":"a@b.c"}}`)
	if exec, err := m.Run(context.Background(), input); err != nil || string(exec.Output) != `{"v":1}` {
		b.Fatalf("Run = %v, %v", exec, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		exec, err := m.Run(context.Background(), input, asl.WithExecutionName("bench"))
		if err != nil || exec.Status != asl.StatusSucceeded {
			b.Fatal(err, exec.Status, exec.Error, exec.Cause)
		}
	}
}
