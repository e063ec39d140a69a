package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// longToken matches anything that looks like a whole token (a JWT's header
// and payload, or a long opaque string).
var longToken = regexp.MustCompile(`[A-Za-z0-9_-]{40,}`)

// Against the real local stack (moto, the Kakao double, the workflow), the
// stand-in for a deployed API: both checks pass and a login with a token
// minted at the double succeeds, with no token printed whole.
func TestSmokeAgainstLocalStack(t *testing.T) {
	ctx := t.Context()
	stack := localstack.New(localstack.Config{
		MotoURL: moto.ForTest(t).URL(), APIAddr: "127.0.0.1:0", KakaoAddr: "127.0.0.1:0",
		TemplatePath: "../../template.yaml", Prefix: "smoke",
	})
	if err := stack.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })

	var tokens kakaofake.Tokens
	resp, err := http.Post(stack.KakaoURL()+"/_fake/tokens", "application/json", strings.NewReader(`{"user_id":4242}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&tokens); err != nil || tokens.AccessToken == "" {
		t.Fatalf("minting a token: %v", err)
	}

	// With no flags, smoke checks the local stack (KAKAOAUTH_API_URL stands
	// in for http://127.0.0.1:8080, which tests may not bind).
	t.Setenv("KAKAOAUTH_API_URL", stack.APIURL())
	t.Setenv("KAKAO_ACCESS_TOKEN", tokens.AccessToken)
	var out bytes.Buffer
	if err := run(ctx, []string{"smoke"}, &out, io.Discard); err != nil {
		t.Fatalf("smoke: %v\n%s", err, out.String())
	}
	for _, want := range []string{"ok    bad body", "400 InvalidRequest", "ok    garbage Kakao token", "401 InvalidKakaoToken", "ok    login via api", "username=kakao_4242"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("smoke output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), tokens.AccessToken) || longToken.MatchString(out.String()) {
		t.Fatalf("smoke printed a token whole:\n%s", out.String())
	}
}

// standIn is a login API with the local endpoint's mapping (the twin of
// the API's templates) over an executor that behaves like the workflow's
// first step: the body is parsed strictly, only "good-token" is valid.
func standIn(t *testing.T, answerEverything200 bool) string {
	t.Helper()
	exec := localapi.ExecutorFunc(func(_ context.Context, input json.RawMessage) (localapi.Result, error) {
		var in workflow.ValidateTokenInput
		if err := json.Unmarshal(input, &in); err != nil {
			return localapi.Result{}, err
		}
		ok := localapi.Result{Status: localapi.StatusSucceeded, Output: json.RawMessage(`{"id_token":"` + strings.Repeat("i", 300) + `","access_token":"` + strings.Repeat("a", 300) + `","refresh_token":"` + strings.Repeat("r", 300) + `","expires_in":3600,"token_type":"Bearer","sub":"s-1","username":"kakao_1","new_user":false}`)}
		if answerEverything200 {
			return ok, nil
		}
		req, err := workflow.ParseLoginRequest(in.Body)
		switch {
		case err != nil:
			return localapi.Result{Status: localapi.StatusFailed, Error: kakaoauth.ErrorName(err), Cause: "internal detail"}, nil
		case req.AccessToken != "good-token":
			return localapi.Result{Status: localapi.StatusFailed, Error: "InvalidKakaoToken"}, nil
		}
		return ok, nil
	})
	srv := httptest.NewServer(localapi.Mux(localapi.New(exec, nil), nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A stack that answers everything with 200 fails the smoke test: the
// checks check.
func TestSmokeFailsOnWrongAnswers(t *testing.T) {
	var out bytes.Buffer
	m := SmokeMain{APIURL: standIn(t, true), HTTP: http.DefaultClient, Out: &out}
	err := m.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "bad body") || !strings.Contains(err.Error(), "garbage Kakao token") {
		t.Fatalf("smoke passed a stack that accepts anything: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "FAIL  bad body") {
		t.Fatalf("output:\n%s", out.String())
	}
}

type fakeStacks struct{ outputs map[string]string }

func (f fakeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	if aws.ToString(in.StackName) != "kakaoauth-prod" {
		return nil, errors.New("no such stack")
	}
	var outs []cfntypes.Output
	for k, v := range f.outputs {
		outs = append(outs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{Outputs: outs}}}, nil
}

type fakeSFN struct {
	in  *sfn.StartSyncExecutionInput
	out *sfn.StartSyncExecutionOutput
}

func (f *fakeSFN) StartSyncExecution(_ context.Context, in *sfn.StartSyncExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartSyncExecutionOutput, error) {
	f.in = in
	return f.out, nil
}

// With -stack the endpoints come from the stack's outputs; -via sfn starts
// the state machine with the execution input the API would build, and a
// failed execution is reported by its error name and public answer, never
// its cause.
func TestSmokeStackAndStateMachine(t *testing.T) {
	api := standIn(t, false)
	const arn = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:login"
	stacks := fakeStacks{outputs: map[string]string{"ApiUrl": api, "StateMachineArn": arn}}
	fake := &fakeSFN{out: &sfn.StartSyncExecutionOutput{Status: sfntypes.SyncExecutionStatusSucceeded,
		Output: aws.String(`{"id_token":"` + strings.Repeat("x", 500) + `","access_token":"y","refresh_token":"z","sub":"s-9","username":"kakao_9","new_user":true,"expires_in":3600}`)}}
	var out bytes.Buffer
	m := SmokeMain{Stack: "kakaoauth-prod", AccessToken: "good-token", Via: "sfn", HTTP: http.DefaultClient, Stacks: stacks, SFN: fake, Out: &out}
	if err := m.Run(t.Context()); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if aws.ToString(fake.in.StateMachineArn) != arn {
		t.Fatalf("started %s", aws.ToString(fake.in.StateMachineArn))
	}
	var in workflow.ValidateTokenInput
	dec := json.NewDecoder(strings.NewReader(aws.ToString(fake.in.Input)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("execution input %s: %v", aws.ToString(fake.in.Input), err)
	}
	if req, err := workflow.ParseLoginRequest(in.Body); err != nil || req.AccessToken != "good-token" || in.Context.RequestID == "" {
		t.Fatalf("execution input %+v (%v)", in, err)
	}
	if !strings.Contains(out.String(), "ok    login via sfn") || !strings.Contains(out.String(), "username=kakao_9") || longToken.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}

	fake.out = &sfn.StartSyncExecutionOutput{Status: sfntypes.SyncExecutionStatusFailed, Error: aws.String("AccountUnlinked"), Cause: aws.String("SECRET-CAUSE")}
	out.Reset()
	err := m.Run(t.Context())
	if err == nil || !strings.Contains(out.String(), "AccountUnlinked (the API answers 403 AccountUnlinked)") || strings.Contains(out.String(), "SECRET-CAUSE") {
		t.Fatalf("failed login: %v\n%s", err, out.String())
	}

	// Through the API with the stack's ApiUrl: a wrong token is a failure.
	out.Reset()
	m = SmokeMain{Stack: "kakaoauth-prod", AccessToken: "stale-token", HTTP: http.DefaultClient, Stacks: stacks, Out: &out}
	if err := m.Run(t.Context()); err == nil || !strings.Contains(out.String(), "FAIL  login via api") || !strings.Contains(out.String(), "401 InvalidKakaoToken") {
		t.Fatalf("login with a refused token: %v\n%s", err, out.String())
	}
}

func TestSmokeNeedsAnEndpoint(t *testing.T) {
	err := (&SmokeMain{Out: io.Discard}).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "-stack NAME -region REGION, or -api-url") {
		t.Fatalf("smoke without an endpoint: %v", err)
	}
}
