package rie_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/jwks"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/infra/rie"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/password"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

const root = "../.."

// The Kakao account the committed events are about: the double's demo user.
var demo = kakaofake.DemoUser

func TestMain(m *testing.M) {
	code := moto.RunTests(m)
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// stack is everything the functions run against: moto with the template's
// resources, the secrets in Secrets Manager, and the Kakao double.
type stack struct {
	names       provision.Names
	motoURL     string
	aws         aws.Config
	res         provision.Stack
	adminKeyARN string
	proofKey    []byte
	fake        *kakaofake.Fake
	kakaoURL    string
	env         map[string]map[string]string // env.json, per function
}

func newStack(t testing.TB) *stack {
	t.Helper()
	ctx := t.Context()
	s := &stack{motoURL: moto.ForTest(t).URL()}
	s.aws = moto.AWSConfig(ctx, s.motoURL)
	var err error
	// Fresh resources per test (and per -count run): the events name one
	// fixed Kakao account.
	names := provision.NamesFor("rie-" + strings.ToLower(t.Name()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36))
	s.names = names
	if s.res, err = provision.Provision(ctx, s.aws, filepath.Join(root, "template.yaml"), names); err != nil {
		t.Fatal(err)
	}

	// The double with the local stack's defaults, which the committed
	// events name (app id, admin key).
	if s.fake, err = kakaofake.New(kakaofake.Config{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.fake.Handler())
	t.Cleanup(srv.Close)
	s.kakaoURL = srv.URL
	s.fake.SetBaseURL(srv.URL)
	if err := s.fake.AddUser(demo); err != nil {
		t.Fatal(err)
	}

	// The proof key provisioning generated, as CloudFormation would (the
	// test signs PreAuthentication's proof with it); the admin key's
	// secret, as the operator stores it before deploying.
	proofSecret, err := secretsmanager.FromConfig(s.aws).GetSecret(ctx, s.res.ProofKeySecretARN)
	if err != nil {
		t.Fatal(err)
	}
	current, proofKeys, err := config.ParsePeppers(proofSecret) // the pepper's versioned shape
	if err != nil {
		t.Fatal(err)
	}
	s.proofKey = proofKeys[current]
	if s.adminKeyARN, err = provision.PutSecret(ctx, awssm.NewFromConfig(s.aws), names.PepperSecret+"-admin-key", kakaofake.DefaultAdminKey); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(root, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &s.env); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	return s
}

// serveTriggers registers the emulated functions the pool names as its
// triggers with moto's layer.
func (s *stack) serveTriggers(t testing.TB, emu map[string]*rie.Emulator) {
	t.Helper()
	endpoints := map[string]string{}
	for logical, arn := range s.res.Triggers {
		e, ok := emu[logical]
		if !ok {
			t.Fatalf("the pool's trigger %s is not among the built functions", logical)
		}
		srv := httptest.NewServer(e)
		t.Cleanup(srv.Close)
		endpoints[arn] = srv.URL
	}
	if err := moto.RegisterFunctions(t.Context(), s.motoURL, endpoints); err != nil {
		t.Fatal(err)
	}
}

// environment is env.json's variables for the function (its own and the
// "Parameters" ones every function gets), with the values that point at
// the local stack of `kakaoauth local` replaced by this test's. A variable
// env.json lacks stays unset: the function then fails its cold start, so
// env.json is checked, not only used.
func (s *stack) environment(t testing.TB, logicalID string) []string {
	t.Helper()
	fn, ok := s.env[logicalID]
	if !ok {
		t.Fatalf("env.json has no entry for %s", logicalID)
	}
	here := map[string]string{
		"AWS_ENDPOINT_URL":         s.motoURL,
		"KAKAO_APP_ID":             strconv.FormatInt(kakaofake.DefaultAppID, 10),
		"KAKAO_APP_KEYS":           kakaofake.DefaultAppKey,
		config.SecretPepper:        s.res.PepperSecretARN,
		config.SecretKakaoAdminKey: s.adminKeyARN,
		config.SecretProofKey:      s.res.ProofKeySecretARN,
		"USER_POOL_ID":             s.res.UserPoolID,
		"USER_POOL_CLIENT_ID":      s.res.UserPoolClientID,
		"MAPPING_TABLE":            s.res.MappingTable,
		"AUDIT_TABLE":              s.res.AuditTable,
		"KAKAO_API_BASE_URL":       s.kakaoURL,
		"KAKAO_AUTH_BASE_URL":      s.kakaoURL,
		"EVENT_BUS_NAME":           s.res.EventBusName,
		"UNLINK_QUEUE_URL":         s.res.UnlinkQueueURL,
		"BROKER_CLIENT_NAME":       s.names.UserPoolClient,
		"OPERATIONS_TABLE":         s.res.OperationsTable,
		config.SecretUnlinkMACKey:  s.res.UnlinkMACKeySecretARN,
	}
	vars := map[string]string{}
	for _, m := range []map[string]string{s.env["Parameters"], fn} {
		for k, v := range m {
			if local, ok := here[k]; ok {
				v = local
			}
			vars[k] = v
		}
	}
	// What Lambda and sam local provide; never a real profile or key.
	env := []string{
		"AWS_REGION=" + moto.Region,
		"AWS_DEFAULT_REGION=" + moto.Region,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// placeholder is how committed events mark live values (a minted token,
// the sub of the user just created): ${NAME}, left as is for sam local
// users to fill in (e.g. with envsubst).
var placeholder = regexp.MustCompile(`\$\{([A-Z_]+)\}`)

// safeValue keeps substitution trivially correct inside the JSON strings
// (and the JSON-in-JSON body) the placeholders sit in.
var safeValue = regexp.MustCompile(`^[A-Za-z0-9._~:-]*$`)

// event reads events/<name>.json and fills in vars; placeholders without a
// value stay as committed.
func event(t testing.TB, name string, vars map[string]string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	out := placeholder.ReplaceAllFunc(raw, func(m []byte) []byte {
		key := string(placeholder.FindSubmatch(m)[1])
		v, ok := vars[key]
		if !ok {
			return m
		}
		if !safeValue.MatchString(v) {
			t.Fatalf("value of %s needs JSON escaping; extend the templating", key)
		}
		return []byte(v)
	})
	if !json.Valid(out) {
		t.Fatalf("events/%s.json is not valid JSON after templating", name)
	}
	return out
}

// lockedBuffer collects a process's output for the failure report.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type functions struct {
	bins map[string]string // logical ID -> built executable
	rie  string
}

// The bootstraps are built once per test binary, into a directory TestMain
// removes.
var built struct {
	once sync.Once
	dir  string
	fns  *functions
	err  error
}

func build(t testing.TB) *functions {
	t.Helper()
	built.once.Do(func() {
		built.fns, built.err = buildAll(context.Background(), t)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.fns
}

func buildAll(ctx context.Context, t testing.TB) (*functions, error) {
	fns, err := rie.MakefileFunctions(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	rieBin, err := rie.Find(ctx)
	if err != nil {
		return nil, err
	}
	if built.dir, err = os.MkdirTemp("", "kakaoauth-rie-"); err != nil {
		return nil, err
	}
	pkgs := make([]string, 0, len(fns))
	for _, f := range fns {
		pkgs = append(pkgs, f.Package())
	}
	start := time.Now()
	if err := rie.Build(ctx, root, built.dir, pkgs...); err != nil {
		return nil, err
	}
	t.Logf("built %d bootstraps for this host in %s", len(fns), time.Since(start).Round(time.Millisecond))
	b := &functions{bins: map[string]string{}, rie: rieBin}
	for _, f := range fns {
		b.bins[f.LogicalID] = filepath.Join(built.dir, f.Dir)
	}
	return b, nil
}

// start runs the function under the emulator with env; its output is
// shown if the test fails.
func (f *functions) start(t testing.TB, logicalID string, env []string) (*rie.Emulator, *lockedBuffer) {
	t.Helper()
	bin, ok := f.bins[logicalID]
	if !ok {
		t.Fatalf("the Makefile builds no %s", logicalID)
	}
	log := &lockedBuffer{}
	e, err := rie.Start(t.Context(), rie.Options{RIE: f.rie, Bootstrap: bin, Env: env, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
		if out := log.String(); t.Failed() && out != "" {
			t.Logf("%s output:\n%s", logicalID, out)
		}
	})
	return e, log
}

func invoke(t *testing.T, e *rie.Emulator, ev []byte) rie.Response {
	t.Helper()
	resp, err := e.Invoke(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// decodeStrict decodes a successful result into out, refusing unknown
// fields, so a result that drifted from the workflow's types fails.
func decodeStrict(t *testing.T, name string, resp rie.Response, out any) {
	t.Helper()
	if resp.Failed() {
		t.Fatalf("%s failed: %s: %s", name, resp.ErrorType, resp.ErrorMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s result %s: %v", name, resp.Payload, err)
	}
}

func wantError(t *testing.T, name string, resp rie.Response, errorType string) {
	t.Helper()
	if resp.ErrorType != errorType {
		t.Fatalf("%s: got %s (%s) %s, want errorType %s", name, resp.ErrorType, resp.ErrorMessage, resp.Payload, errorType)
	}
}

// sameJSON compares two JSON documents by value.
func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("%s:\n got %s\nwant %s", what, ja, jb)
	}
}

// Every function, built from the Makefile's list and run under
// aws-lambda-rie with env.json's variables, answers each committed event
// as the workflow's contracts say, against moto and the Kakao double: the
// path `sam local invoke <Function> -e events/<file>.json --env-vars
// env.json` takes, minus Docker. The events chain as the state machine
// chains the steps, so each committed event must also be exactly what the
// step before it outputs.
func TestEventsUnderRIE(t *testing.T) {
	s := newStack(t)
	fns := build(t)
	ctx := t.Context()

	emu := map[string]*rie.Emulator{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id := range fns.bins {
		env := s.environment(t, id)
		wg.Go(func() {
			e, _ := fns.start(t, id, env)
			mu.Lock()
			emu[id] = e
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, id := range []string{"ValidateTokenFunction", "UpsertUserFunction", "SetPasswordFunction", "IssueTokensFunction", "RecordFailureFunction", "PreAuthFunction",
		"UnlinkFunction", "UnlinkAuthorizerFunction", "UnlinkWorkerFunction", "PreSignUpFunction", "SweeperFunction", "ReconcilerFunction",
		"LinkFunction", "DefineAuthChallengeFunction", "CreateAuthChallengeFunction", "VerifyAuthChallengeFunction"} {
		if emu[id] == nil {
			t.Fatalf("no %s in the Makefile's FUNCTIONS", id)
		}
	}
	// The pool's triggers are these built functions too: moto's layer
	// invokes them where Cognito would (IssueTokens' sign-ins run the
	// PreAuthentication binary).
	s.serveTriggers(t, emu)

	// ValidateToken: the committed event's token is a placeholder, which
	// Kakao (here the double) refuses.
	wantError(t, "validatetoken as committed", invoke(t, emu["ValidateTokenFunction"], event(t, "validatetoken", nil)), "InvalidKakaoToken")

	tokens, err := s.fake.MintTokens(kakaofake.TokenRequest{UserID: demo.ID})
	if err != nil {
		t.Fatal(err)
	}
	resp := invoke(t, emu["ValidateTokenFunction"], event(t, "validatetoken", map[string]string{"KAKAO_ACCESS_TOKEN": tokens.AccessToken}))
	var state workflow.LoginState
	decodeStrict(t, "validatetoken", resp, &state)
	if state.Subject.KakaoID != demo.ID || state.Subject.AppID != kakaofake.DefaultAppID || state.Profile.Email != demo.Email || !state.Profile.EmailChecked ||
		time.Since(state.Subject.VouchedAt) > time.Minute {
		t.Fatalf("validatetoken: %+v", state)
	}
	if strings.Contains(string(resp.Payload), tokens.AccessToken) {
		t.Fatal("the Kakao token went past ValidateToken")
	}
	// The committed UpsertUser event is ValidateToken's output, but for when
	// Kakao vouched for the token.
	var committed workflow.LoginState
	if err := json.Unmarshal(event(t, "upsertuser", nil), &committed); err != nil {
		t.Fatal(err)
	}
	state.Subject.VouchedAt = committed.Subject.VouchedAt
	out, _ := json.Marshal(state)
	sameJSON(t, "events/upsertuser.json vs ValidateToken's output", event(t, "upsertuser", nil), out)

	// UpsertUser creates the Cognito user (with its temporary password)
	// and the mapping, and sends the first sign-in straight to IssueTokens.
	var up workflow.LoginState
	decodeStrict(t, "upsertuser", invoke(t, emu["UpsertUserFunction"], event(t, "upsertuser", nil)), &up)
	subj, pw := up.Subject, up.Password
	if subj.KakaoID != demo.ID || subj.Sub == "" || subj.Username != kakaoauth.Username(demo.ID) || !subj.NewUser ||
		pw.Nonce == "" || !pw.Ready || !pw.Temporary || pw.State != kakaoauth.PasswordTemporary {
		t.Fatalf("upsertuser: %+v", up)
	}
	idp := cip.NewFromConfig(s.aws)
	user, err := idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &s.res.UserPoolID, Username: &subj.Username})
	if err != nil {
		t.Fatal(err)
	}
	if !user.Enabled || user.UserStatus != "FORCE_CHANGE_PASSWORD" {
		t.Fatalf("new user: enabled %v, status %s", user.Enabled, user.UserStatus)
	}
	vars := map[string]string{"COGNITO_SUB": subj.Sub, "PASSWORD_NONCE": pw.Nonce}
	var issueIn workflow.LoginState
	if err := json.Unmarshal(event(t, "issuetokens", vars), &issueIn); err != nil {
		t.Fatal(err)
	}
	if issueIn.Subject.Sub != subj.Sub || issueIn.Subject.Username != subj.Username || issueIn.Password.Nonce != pw.Nonce ||
		issueIn.Password.Temporary != pw.Temporary || issueIn.SignIns.Count != up.SignIns.Count+1 {
		t.Fatalf("events/issuetokens.json %+v is not UpsertUser's output %+v after CountSignIn", issueIn, up)
	}

	// IssueTokens: the first sign-in answers NEW_PASSWORD_REQUIRED with the
	// derived password; real pool tokens.
	var login workflow.LoginResponse
	decodeStrict(t, "issuetokens", invoke(t, emu["IssueTokensFunction"], event(t, "issuetokens", vars)), &login)
	if login.Sub != subj.Sub || login.Username != subj.Username || !login.NewUser || login.RefreshToken == "" || login.TokenType != "Bearer" {
		t.Fatalf("issuetokens: sub=%s username=%s new=%v type=%s", login.Sub, login.Username, login.NewUser, login.TokenType)
	}
	claims, err := jwks.Verify(ctx, http.DefaultClient, s.motoURL+"/"+s.res.UserPoolID+"/.well-known/jwks.json", login.IDToken)
	if err != nil {
		t.Fatalf("ID token does not verify against the pool: %v", err)
	}
	if claims["sub"] != subj.Sub || claims["custom:kakao_id"] != strconv.FormatInt(demo.ID, 10) {
		t.Fatalf("ID token claims sub=%v custom:kakao_id=%v", claims["sub"], claims["custom:kakao_id"])
	}
	if user, _ = idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &s.res.UserPoolID, Username: &subj.Username}); user.UserStatus != "CONFIRMED" {
		t.Fatalf("user status after the first sign-in: %s", user.UserStatus)
	}

	// SetPassword rotates a nonce that is due (one AdminSetUserPassword)
	// and hands IssueTokens the new one, never the password.
	var rotated workflow.LoginState
	decodeStrict(t, "setpassword", invoke(t, emu["SetPasswordFunction"], event(t, "setpassword", vars)), &rotated)
	if rotated.Password.Nonce == pw.Nonce || !rotated.Password.Set || !rotated.Password.Ready || rotated.Password.State != kakaoauth.PasswordApplied {
		t.Fatalf("setpassword: %+v", rotated.Password)
	}
	rotated.SignIns.Count++
	next, _ := json.Marshal(rotated)
	decodeStrict(t, "issuetokens after a rotation", invoke(t, emu["IssueTokensFunction"], next), &login)
	if login.Sub != subj.Sub || login.NewUser {
		t.Fatalf("issuetokens after the rotation: %+v", login.Sub)
	}

	// RecordFailure writes the login_failed audit event, nothing else.
	recIn := event(t, "recordfailure", nil)
	resp = invoke(t, emu["RecordFailureFunction"], recIn)
	if resp.Failed() || strings.TrimSpace(string(resp.Payload)) != "{}" {
		t.Fatalf("recordfailure: %s %s", resp.ErrorType, resp.Payload)
	}
	var fin workflow.FailureInput
	if err := json.Unmarshal(recIn, &fin); err != nil {
		t.Fatal(err)
	}
	reader := store.NewReader(dynamodb.NewFromConfig(s.aws), s.res.MappingTable, s.res.AuditTable)
	var failed []store.EventRecord
	for ev, err := range reader.UserEvents(ctx, demo.ID, store.TimeRange{}, store.EventFilter{Type: kakaoauth.EventLoginFailed}) {
		if err != nil {
			t.Fatal(err)
		}
		failed = append(failed, ev)
	}
	if len(failed) != 1 || failed[0].Error != fin.Error.Error || failed[0].ExecutionID != fin.ExecutionID || failed[0].SourceIP != fin.Context.SourceIP {
		t.Fatalf("audit after recordfailure: %+v", failed)
	}

	// PreAuth: a sign-in without IssueTokens' proof is refused; with a
	// fresh proof it passes and the event comes back unchanged.
	wantError(t, "preauth as committed", invoke(t, emu["PreAuthFunction"], event(t, "preauth", vars)), "PasswordSignInBlocked")
	vars["PREAUTH_PROOF"] = password.Proof(s.proofKey, subj.Username, time.Now().Add(time.Minute))
	preIn := event(t, "preauth", vars)
	var pre events.CognitoEventUserPoolsPreAuthentication
	decodeStrict(t, "preauth with a proof", invoke(t, emu["PreAuthFunction"], preIn), &pre)
	if pre.UserName != subj.Username || pre.Request.ValidationData[workflow.ProofMetadataKey] != vars["PREAUTH_PROOF"] {
		t.Fatalf("preauth did not return the event: %+v", pre)
	}

	// The reconciler asks the double which active accounts are linked: the
	// demo user is, so nothing changes.
	var rec workflow.ReconcileReport
	decodeStrict(t, "reconciler", invoke(t, emu["ReconcilerFunction"], event(t, "reconciler", nil)), &rec)
	if rec.Checked != 1 || rec.Unlinked != 0 || !rec.PassEnded || s.fake.Hits("/v2/app/users") != 1 {
		t.Fatalf("reconciler: %+v, /v2/app/users called %d times", rec, s.fake.Hits("/v2/app/users"))
	}
	// The sweeper finds nothing due: the transitions so far sent their
	// own events.
	var sweep workflow.SweepReport
	decodeStrict(t, "sweeper", invoke(t, emu["SweeperFunction"], event(t, "sweeper", nil)), &sweep)
	if sweep != (workflow.SweepReport{}) {
		t.Fatalf("sweeper: %+v", sweep)
	}

	// The unlink authorizer: the committed event (the local admin key) is
	// allowed and tied to Kakao's usage plan; a forged key is refused with
	// the error API Gateway turns into 401.
	var allow events.APIGatewayCustomAuthorizerResponse
	decodeStrict(t, "unlinkauthorizer", invoke(t, emu["UnlinkAuthorizerFunction"], event(t, "unlinkauthorizer", nil)), &allow)
	if allow.UsageIdentifierKey != s.env["UnlinkAuthorizerFunction"]["UNLINK_USAGE_KEY"] || len(allow.PolicyDocument.Statement) != 1 ||
		allow.PolicyDocument.Statement[0].Effect != "Allow" || allow.PolicyDocument.Statement[0].Resource[0] != "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/*/kakao/unlink" {
		t.Fatalf("unlinkauthorizer: %+v", allow)
	}
	denied := invoke(t, emu["UnlinkAuthorizerFunction"], bytes.ReplaceAll(event(t, "unlinkauthorizer", nil), []byte("KakaoAK "+kakaofake.DefaultAdminKey), []byte("KakaoAK forged")))
	if !denied.Failed() || denied.ErrorMessage != "Unauthorized" {
		t.Fatalf("unlinkauthorizer with a forged key: %s %s %s", denied.ErrorType, denied.ErrorMessage, denied.Payload)
	}

	// The unlink webhook: a forged key changes nothing; the committed
	// event (the local admin key) is queued for the worker, with its MAC.
	forged := bytes.ReplaceAll(event(t, "unlink", nil), []byte("KakaoAK "+kakaofake.DefaultAdminKey), []byte("KakaoAK forged"))
	var proxy events.APIGatewayProxyResponse
	decodeStrict(t, "unlink forged", invoke(t, emu["UnlinkFunction"], forged), &proxy)
	if proxy.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unlink with a forged key: %d %s", proxy.StatusCode, proxy.Body)
	}
	decodeStrict(t, "unlink", invoke(t, emu["UnlinkFunction"], event(t, "unlink", nil)), &proxy)
	if proxy.StatusCode != http.StatusOK {
		t.Fatalf("unlink: %d %s", proxy.StatusCode, proxy.Body)
	}
	queued, err := sqs.NewFromConfig(s.aws).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &s.res.UnlinkQueueURL, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
	if err != nil || len(queued.Messages) != 1 {
		t.Fatalf("queued messages %v %v", queued, err)
	}
	req, err := workflow.DecodeUnlinkRequest(aws.ToString(queued.Messages[0].Body))
	if err != nil || req.KakaoID != demo.ID || req.ReferrerType != "UNLINK_FROM_APPS" || req.ID != "3f2e1d0c-9b8a-4765-8432-10fedcba9876" {
		t.Fatalf("queued request %+v %v", req, err)
	}
	if m, _ := reader.Mapping(ctx, demo.ID); m.Status != kakaoauth.StatusActive {
		t.Fatalf("the webhook changed the mapping itself: %s", m.Status)
	}

	// The worker, with the committed SQS event carrying that request: the
	// user is disabled and the mapping unlinked; reported failures none.
	vars["RECEIVED_AT"] = req.ReceivedAt.UTC().Format(time.RFC3339Nano)
	vars["UNLINK_MAC"] = aws.ToString(queued.Messages[0].MessageAttributes[kakaoauth.UnlinkMACAttribute].StringValue)
	// A forged message (the committed body, no MAC of ours) is refused and
	// changes nothing.
	forgedRec := bytes.ReplaceAll(event(t, "unlinkworker", vars), []byte(vars["UNLINK_MAC"]), []byte("v1.forged"))
	var refused events.SQSEventResponse
	decodeStrict(t, "unlinkworker forged", invoke(t, emu["UnlinkWorkerFunction"], forgedRec), &refused)
	if len(refused.BatchItemFailures) != 1 {
		t.Fatalf("a forged message was not refused: %+v", refused)
	}
	if m, _ := reader.Mapping(ctx, demo.ID); m.Status != kakaoauth.StatusActive {
		t.Fatalf("a forged message changed the mapping: %s", m.Status)
	}
	var batch events.SQSEventResponse
	decodeStrict(t, "unlinkworker", invoke(t, emu["UnlinkWorkerFunction"], event(t, "unlinkworker", vars)), &batch)
	if len(batch.BatchItemFailures) != 0 {
		t.Fatalf("unlinkworker reported failures %v", batch.BatchItemFailures)
	}
	m, err := reader.Mapping(ctx, demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("mapping status after the worker: %s", m.Status)
	}
	if user, err = idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &s.res.UserPoolID, Username: &subj.Username}); err != nil {
		t.Fatal(err)
	}
	if user.Enabled {
		t.Fatal("user still enabled after the unlink")
	}
	// A token Kakao vouched for before the unlink cannot bring it back.
	wantError(t, "upsertuser after unlink", invoke(t, emu["UpsertUserFunction"], event(t, "upsertuser", nil)), "AccountUnlinked")
}

// A function whose settings are missing fails its cold start (it exits
// before serving), so a misconfigured deploy fails at once, not on some
// later request with a half-wired handler.
func TestColdStartFailsWithoutSettings(t *testing.T) {
	s := newStack(t)
	fns := build(t)
	for _, c := range []struct{ function, override, logged string }{
		{"ValidateTokenFunction", "KAKAO_APP_ID=", "KAKAO_APP_ID is not set"},
		{"UpsertUserFunction", config.SecretPepper + "=kakaoauth/none/pepper", "ResourceNotFoundException"},
		{"PreAuthFunction", config.SecretProofKey + "=", config.SecretProofKey + " is not set"},
		// The production guard: a Kakao base URL that is not Kakao's,
		// without the non-production switch.
		{"ValidateTokenFunction", "ALLOW_NON_KAKAO_HOSTS=false", "ALLOW_NON_KAKAO_HOSTS=true"},
	} {
		t.Run(c.function, func(t *testing.T) {
			e, log := fns.start(t, c.function, append(s.environment(t, c.function), c.override))
			resp, err := e.Invoke(t.Context(), event(t, "validatetoken", map[string]string{"KAKAO_ACCESS_TOKEN": "unused"}))
			if !errors.Is(err, rie.ErrFunctionExited) {
				t.Fatalf("a function without its settings: err=%v, answered %s", err, resp.Payload)
			}
			// The emulator answers the failed invoke before it has passed
			// all of the function's output on: wait for the line a while.
			deadline := time.Now().Add(5 * time.Second)
			out := log.String()
			for (!strings.Contains(out, "cold start failed") || !strings.Contains(out, c.logged)) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				out = log.String()
			}
			if !strings.Contains(out, "cold start failed") || !strings.Contains(out, c.logged) {
				t.Fatalf("the cold start failure was not logged (want %q):\n%s", c.logged, out)
			}
		})
	}
}
