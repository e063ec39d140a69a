package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/workflow"
	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

// BenchmarkLoginReturningUser is one login of an existing user through the
// local endpoint: HTTP, the executor running statemachine.asl.json, the
// Kakao double (2 calls), moto (mapping read, sign-in, 2 writes). moto, a
// Python server, dominates; the figure bounds what the Go side adds.
func BenchmarkLoginReturningUser(b *testing.B) {
	s := startStack(b)
	s.verifiedUser(b, 4242001)
	tokens := make([]string, 64)
	for i := range tokens {
		tokens[i] = s.accessToken(b, 4242001)
	}
	if status, body := s.login(b, map[string]string{"access_token": tokens[0]}); status != http.StatusOK {
		b.Fatalf("warm-up login: %d %v", status, body)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if status, body := s.login(b, map[string]string{"access_token": tokens[i%len(tokens)]}); status != http.StatusOK {
			b.Fatalf("login: %d %v", status, body)
		}
		i++
	}
}

// BenchmarkExecutorOverhead measures what the local executor adds to a
// returning login on the local-stack path: each iteration runs one login
// through the executor (statemachine.asl.json: the Choice, the Pass state,
// JSON between states) and one through the same Steps called directly in
// the order the machine takes, alternating so both see the same moto and
// double. It reports the ratio of their total times (executor/direct; the
// goal is at most 1.05) and each path's mean.
func BenchmarkExecutorOverhead(b *testing.B) {
	// The path `make run` serves: the steps reach moto directly, with no
	// faultproxy in between.
	s := &testStack{Main: ForTest(b, "../../template.yaml"), logs: &lockedBuffer{}, http: &http.Client{Timeout: time.Minute}}
	s.verifiedUser(b, 4242002)
	tokens := make([]string, 64)
	for i := range tokens {
		tokens[i] = s.accessToken(b, 4242002)
	}
	body := func(i int) string { return `{"access_token":"` + tokens[i%len(tokens)] + `"}` }
	if status, out := s.login(b, body(0)); status != http.StatusOK {
		b.Fatalf("warm-up login: %d %v", status, out)
	}
	ctx := context.Background()
	reqCtx := workflow.RequestContext{SourceIP: "198.51.100.7"}
	direct := func(i int) {
		state, err := s.steps.ValidateToken(ctx, workflow.ValidateTokenInput{Body: body(i), Context: reqCtx, ExecutionID: fmt.Sprintf("direct-%d", i)})
		if err == nil {
			state, err = s.steps.UpsertUser(ctx, state)
		}
		if err == nil && !state.Password.Ready {
			state, err = s.steps.SetPassword(ctx, state)
		}
		if err == nil {
			state.SignIns.Count++
			_, err = s.steps.IssueTokens(ctx, state)
		}
		if err != nil {
			b.Fatalf("direct login: %v", err)
		}
	}
	viaExecutor := func(i int) {
		in, _ := json.Marshal(workflow.ValidateTokenInput{Body: body(i), Context: reqCtx})
		exec, err := s.machine.Run(ctx, in)
		if err != nil || exec.Status != asl.StatusSucceeded {
			b.Fatalf("executor login: %v %+v", err, exec)
		}
	}
	var inExecutor, inDirect time.Duration
	n := 0
	timed := func(f func(int), total *time.Duration) {
		start := time.Now()
		f(n)
		*total += time.Since(start)
	}
	for b.Loop() {
		// Alternate which goes first, so neither always meets a warmer
		// connection or a fresher moto.
		if n%2 == 0 {
			timed(viaExecutor, &inExecutor)
			timed(direct, &inDirect)
		} else {
			timed(direct, &inDirect)
			timed(viaExecutor, &inExecutor)
		}
		n++
	}
	b.ReportMetric(float64(inExecutor)/float64(inDirect), "executor/direct")
	b.ReportMetric(float64(inExecutor.Microseconds())/1000/float64(n), "executor-ms/login")
	b.ReportMetric(float64(inDirect.Microseconds())/1000/float64(n), "direct-ms/login")
}
