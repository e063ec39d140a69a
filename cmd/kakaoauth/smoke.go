package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func init() {
	commands["smoke"] = command{summary: "check a deployed stack: 400 for a bad body, 401 for a garbage token, a real login given a Kakao token; --hosted-ui: its Cognito hosted UI", run: runSmoke}
}

// SyncStarter is the part of the Step Functions client smoke uses.
type SyncStarter interface {
	StartSyncExecution(ctx context.Context, in *sfn.StartSyncExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartSyncExecutionOutput, error)
}

var _ SyncStarter = (*sfn.Client)(nil)

// SmokeMain checks a deployed stack from the outside, as an app would use
// it. It never prints a token whole.
type SmokeMain struct {
	// Stack, when set, supplies APIURL and StateMachineARN from its outputs
	// (ApiUrl, StateMachineArn) where they are not given.
	Stack           string
	APIURL          string // the API's base URL, stage included (output ApiUrl)
	StateMachineARN string
	// AccessToken, when set, is a real Kakao access token to log in with;
	// Via says how: "api" (POST /auth/kakao) or "sfn" (StartSyncExecution
	// on the state machine directly, bypassing API Gateway).
	AccessToken string
	Via         string
	// Hosted, when Enabled, also checks the stack's hosted UI
	// (smoke_hosted.go).
	Hosted HostedUISmoke

	HTTP   *http.Client
	Stacks StackDescriber // needed with Stack
	SFN    SyncStarter    // needed with Via "sfn"
	Out    io.Writer

	outputs, params map[string]string // the stack's, with Stack
	brokerSub       string            // what the login with AccessToken answered
}

func runSmoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("smoke", stderr, `usage: kakaoauth smoke [flags]

Checks a stack from the outside, as an app uses it: a bad body answers 400
InvalidRequest, a garbage Kakao token 401 InvalidKakaoToken; with a real
Kakao access token (KAKAO_ACCESS_TOKEN) it logs in. A deployed stack:
-stack NAME -region REGION (its outputs ApiUrl, StateMachineArn); by
default the local stack's API.

flags:
`)
	m := SmokeMain{Out: stdout, HTTP: &http.Client{Timeout: 35 * time.Second}}
	target := awsTarget{command: "smoke"}
	target.register(f, "the API and the state machine")
	f.StringVar(&m.APIURL, flagAPIURL, "", "the API's base URL with the stage, e.g. https://abc.execute-api.ap-northeast-2.amazonaws.com/v1 (default: the stack's output ApiUrl, else the local stack's "+"http://"+localstack.DefaultAPIAddr+", env KAKAOAUTH_API_URL)")
	f.StringVar(&m.StateMachineARN, "state-machine-arn", "", "the login state machine, for -via sfn")
	f.StringVar(&m.AccessToken, "access-token", os.Getenv("KAKAO_ACCESS_TOKEN"), "a real Kakao access token to log in with (env KAKAO_ACCESS_TOKEN, which keeps it out of the process list)")
	f.StringVar(&m.Via, "via", "api", "how to log in with -access-token: api (POST /auth/kakao) or sfn (StartSyncExecution)")
	f.BoolVar(&m.Hosted.Enabled, "hosted-ui", false, "also check the stack's Cognito hosted UI (HostedUi=enabled)")
	f.StringVar(&m.Hosted.Callback, "callback", "", "with -hosted-ui: the address the browser landed on after signing in through the printed authorize URL")
	f.StringVar(&m.Hosted.DomainURL, "hosted-ui-domain", "", "with -hosted-ui: the Cognito domain (default: output HostedUiDomainUrl)")
	f.StringVar(&m.Hosted.ClientID, "hosted-ui-client-id", "", "with -hosted-ui: its app client (default: output HostedUiClientId)")
	f.StringVar(&m.Hosted.RedirectURI, "redirect-uri", "", "with -hosted-ui: a callback URL of the hosted UI's client (default: the first of HostedUiCallbackUrls)")
	f.StringVar(&m.Hosted.KakaoClientID, "kakao-client-id", "", "with -hosted-ui: the Kakao REST API key the redirect must carry (default: parameter KakaoRestApiKey)")
	f.StringVar(&m.Hosted.UserPoolID, "user-pool-id", "", "with -hosted-ui: the pool whose JWKS signs the tokens (default: output UserPoolId)")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if err := target.check(f); err != nil {
		return err
	}
	m.Stack = target.stack
	if m.APIURL == "" && m.Stack == "" {
		m.APIURL = envOr("KAKAOAUTH_API_URL", "http://"+localstack.DefaultAPIAddr)
	}
	if m.Stack != "" || (m.AccessToken != "" && m.Via == "sfn") {
		if target.local() {
			return errors.New("smoke: -via sfn calls a deployed state machine: give -stack NAME -region REGION")
		}
		cfg, err := target.config(ctx)
		if err != nil {
			return err
		}
		m.Stacks = cloudformation.NewFromConfig(cfg)
		m.SFN = sfn.NewFromConfig(cfg)
	}
	return m.Run(ctx)
}

// Run resolves the endpoints, runs the checks and prints one line each. It
// returns an error naming the checks that failed.
func (m *SmokeMain) Run(ctx context.Context) error {
	if m.Via == "" {
		m.Via = "api"
	}
	if m.Via != "api" && m.Via != "sfn" {
		return fmt.Errorf("-via %q: want api or sfn", m.Via)
	}
	if m.Stack != "" {
		if err := m.fromStack(ctx); err != nil {
			return err
		}
	}
	if m.APIURL == "" {
		return errors.New("smoke: give -stack NAME -region REGION, or -api-url")
	}
	base := strings.TrimRight(m.APIURL, "/")
	fmt.Fprintf(m.Out, "kakaoauth smoke: %s\n", base)

	var failed []string
	check := func(what string, body []byte, wantStatus int, wantError string) {
		status, resp, err := m.post(ctx, base+localapi.LoginPath, body)
		switch {
		case err != nil:
			fmt.Fprintf(m.Out, "FAIL  %-28s %v\n", what, err)
		case status != wantStatus || resp["error"] != wantError:
			fmt.Fprintf(m.Out, "FAIL  %-28s got %d %v, want %d %s\n", what, status, resp["error"], wantStatus, wantError)
		default:
			fmt.Fprintf(m.Out, "ok    %-28s %d %s\n", what, status, wantError)
			return
		}
		failed = append(failed, what)
	}
	check("bad body", []byte(`{"unexpected":"field"}`), http.StatusBadRequest, "InvalidRequest")
	garbage, err := garbageToken()
	if err != nil {
		return err
	}
	check("garbage Kakao token", mustJSON(map[string]string{"access_token": garbage}), http.StatusUnauthorized, "InvalidKakaoToken")

	if m.AccessToken != "" {
		var err error
		if m.Via == "sfn" {
			err = m.loginViaSFN(ctx)
		} else {
			err = m.loginViaAPI(ctx, base)
		}
		if err != nil {
			fmt.Fprintf(m.Out, "FAIL  %-28s %v\n", "login via "+m.Via, err)
			failed = append(failed, "login via "+m.Via)
		}
	} else {
		fmt.Fprintln(m.Out, "skip  login (give -access-token or KAKAO_ACCESS_TOKEN with a real Kakao access token)")
	}
	if m.Hosted.Enabled {
		m.Hosted.fill(m.outputs, m.params)
		failed = append(failed, m.hostedUIChecks(ctx, m.brokerSub)...)
	}
	if len(failed) > 0 {
		return fmt.Errorf("smoke failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func (m *SmokeMain) fromStack(ctx context.Context) error {
	if m.Stacks == nil {
		return errors.New("smoke: no CloudFormation client")
	}
	outputs, params, err := describeStack(ctx, m.Stacks, m.Stack)
	if err != nil {
		return err
	}
	m.outputs, m.params = outputs, params
	if m.APIURL == "" {
		m.APIURL = outputs["ApiUrl"]
	}
	if m.StateMachineARN == "" {
		m.StateMachineARN = outputs["StateMachineArn"]
	}
	if m.APIURL == "" {
		return fmt.Errorf("stack %s has no ApiUrl output", m.Stack)
	}
	return nil
}

func (m *SmokeMain) loginViaAPI(ctx context.Context, base string) error {
	status, resp, err := m.post(ctx, base+localapi.LoginPath, mustJSON(map[string]string{"access_token": m.AccessToken}))
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("got %d %v: %v", status, resp["error"], resp["message"])
	}
	fmt.Fprintf(m.Out, "ok    %-28s %d sub=%v username=%v new_user=%v expires_in=%v\n",
		"login via api", status, resp["sub"], resp["username"], resp["new_user"], resp["expires_in"])
	m.brokerSub, _ = resp["sub"].(string)
	m.printTokens(resp)
	return nil
}

// loginViaSFN starts the state machine with the input the API's request
// template builds, and maps the result the way its response template does.
func (m *SmokeMain) loginViaSFN(ctx context.Context) error {
	if m.SFN == nil || m.StateMachineARN == "" {
		return errors.New("-via sfn needs -state-machine-arn or a -stack with a StateMachineArn output")
	}
	input := mustJSON(workflow.ValidateTokenInput{
		Body:    string(mustJSON(map[string]string{"access_token": m.AccessToken})),
		Context: workflow.RequestContext{UserAgent: "kakaoauth-smoke", RequestID: uuid.NewString()},
	})
	out, err := m.SFN.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{
		StateMachineArn: aws.String(m.StateMachineARN),
		Input:           aws.String(string(input)),
	})
	if err != nil {
		return fmt.Errorf("StartSyncExecution: %w", err)
	}
	switch out.Status {
	case sfntypes.SyncExecutionStatusSucceeded:
		var resp map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &resp); err != nil {
			return fmt.Errorf("execution output is not JSON: %w", err)
		}
		fmt.Fprintf(m.Out, "ok    %-28s %s sub=%v username=%v new_user=%v expires_in=%v\n",
			"login via sfn", out.Status, resp["sub"], resp["username"], resp["new_user"], resp["expires_in"])
		m.brokerSub, _ = resp["sub"].(string)
		m.printTokens(resp)
		return nil
	case sfntypes.SyncExecutionStatusTimedOut:
		return fmt.Errorf("execution %s", out.Status)
	default:
		// The cause may carry internals; the error name is what clients see.
		o := kakaoauth.OutcomeOf(aws.ToString(out.Error))
		return fmt.Errorf("execution %s with %s (the API answers %d %s)", out.Status, aws.ToString(out.Error), o.Status, o.Code)
	}
}

func (m *SmokeMain) printTokens(resp map[string]any) {
	for _, k := range []string{"id_token", "access_token", "refresh_token"} {
		fmt.Fprintf(m.Out, "      %-13s %s\n", k, shorten(fmt.Sprint(resp[k])))
	}
}

func (m *SmokeMain) post(ctx context.Context, url string, body []byte) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kakaoauth-smoke")
	resp, err := m.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("answered %d with a body that is not JSON", resp.StatusCode)
	}
	return resp.StatusCode, out, nil
}

// garbageToken looks like an access token but is none: Kakao answers -401.
func garbageToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "kakaoauth-smoke-" + hex.EncodeToString(b), nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
