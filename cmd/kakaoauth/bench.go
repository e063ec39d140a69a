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
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/loadgen"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
)

func init() {
	commands["bench"] = command{summary: "load-test a login endpoint with a mix of logins, then check the invariants in the tables and the pool", run: runBench}
}

// Kinds of attempt. The mix chooses among the first four; prepare is the
// first login of each returning account, before the timed run.
const (
	kindNew       = "new"       // a Kakao account never seen: 200, new_user
	kindReturning = "returning" // a prepared account's fresh access token: 200
	kindIDToken   = "idtoken"   // a prepared account's ID token with its nonce: 200
	kindBad       = "bad"       // a login that must be refused (variants below)
	kindPrepare   = "prepare"
)

var benchKinds = []string{kindNew, kindReturning, kindIDToken, kindBad}

const defaultBenchMix = "new=20,returning=50,idtoken=20,bad=10"

// idSpan: a run's Kakao ids are prefix*idSpan + k with k < idSpan, so one
// ListUsers filter (username ^= "kakao_<prefix>") finds the run's users.
const idSpan = 1_000_000

// otherKakaoApp is the app id of tokens minted for "another app": not the
// stack's, whatever it is (Kakao app ids are far smaller).
const otherKakaoApp = 9_999_999_999

// BenchMain is `kakaoauth bench`: N logins at concurrency C against a
// login endpoint whose Kakao is the double at KakaoURL (the double's
// control API creates the accounts and mints their tokens), then the
// invariants, checked in the tables and the pool.
type BenchMain struct {
	N, C     int
	Mix      loadgen.Mix
	Accounts int // returning accounts prepared before the run
	Endpoint string
	KakaoURL string
	// IDPrefix fixes the run's Kakao ids (prefix*1000000 + k); 0 picks a
	// random one.
	IDPrefix int64
	// Check runs the invariant checks; Where says where the tables and the
	// pool are. Settle is how long checks that read indexes are retried
	// (DynamoDB indexes are eventually consistent).
	Check  bool
	Where  benchWhere
	Settle time.Duration
	JSON   bool

	HTTP     *http.Client   // the endpoint and the double
	AWSHTTP  aws.HTTPClient // AWS requests of the checks; nil: one with awsTimeout
	Out, Err io.Writer
	Terminal bool // Err is a terminal: draw a progress bar
}

// benchWhere locates the user pool and the tables: a local stack's (moto
// at Endpoint, names from Prefix) or a deployed one's (Stack outputs, or
// the explicit names, with the default credential chain).
type benchWhere struct {
	Endpoint, Region, Profile, Stack, Prefix string
	UserPoolID, MappingTable, AuditTable     string
}

// local is where a local stack is checked: no stack, region or profile.
func (w benchWhere) local() bool { return w.Stack == "" && w.Region == "" && w.Profile == "" }

const benchUsage = `usage: kakaoauth bench [flags]

Runs -n logins at concurrency -c against a login endpoint (default the local
stack), in the proportions of -mix:
  new        a Kakao account never seen before    200, new_user true
  returning  one of -accounts prepared accounts   200, new_user false
  idtoken    a prepared account's ID token        200, new_user false
  bad        garbage, expired or another app's token, a malformed body,
             a wrong nonce                         400/401
Accounts and tokens come from the Kakao double's control API (-kakao-url): a
deployed stack is benched the same way when its Kakao base URLs point at a
staging double. Prints throughput, latency percentiles and statuses per
kind, then checks through the tables and the pool (GetItem/Query/ListUsers,
never a Scan): users = distinct Kakao ids logged in, one mapping per user
pointing at its sub, exactly one terminal audit event per attempt, no
orphan user, no unexpected 5xx, every answer as expected. Exit status 1
when a check fails.

Where the checks look: the local stack by default (moto at -endpoint-url,
pool and tables named after -prefix); a deployed stack with -stack NAME
-region REGION (its outputs UserPoolId, MappingTableName, AuditTableName),
or with -region or -profile and -user-pool-id, -mapping-table, -audit-table.

flags:
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench", stderr, benchUsage)
	m := BenchMain{Out: stdout, Err: stderr}
	f.IntVar(&m.N, "n", 500, "logins in the timed run")
	f.IntVar(&m.C, "c", 8, "concurrent logins")
	mix := f.String("mix", defaultBenchMix, "kinds of login and their relative weights")
	f.IntVar(&m.Accounts, "accounts", 50, "returning accounts, each logged in once before the run")
	f.StringVar(&m.Endpoint, flagAPIURL, envOr("KAKAOAUTH_API_URL", "http://"+localstack.DefaultAPIAddr), "the login API's base URL (env KAKAOAUTH_API_URL)")
	f.StringVar(&m.KakaoURL, flagKakaoURL, envOr("KAKAOAUTH_KAKAO_URL", "http://"+kakaofake.DefaultAddr), "the Kakao double whose /_fake/ API creates accounts and mints tokens (env KAKAOAUTH_KAKAO_URL)")
	f.Int64Var(&m.IDPrefix, "id-prefix", 0, "the run's Kakao ids are this*1000000+k (default: random)")
	f.BoolVar(&m.Check, "check", true, "check the invariants in the tables and the pool after the run")
	f.DurationVar(&m.Settle, "settle", 10*time.Second, "how long failing index-based checks are retried (eventual consistency)")
	f.BoolVar(&m.JSON, "json", false, "print the results as one JSON object")
	target := awsTarget{command: "bench"}
	target.register(f, "the pool and the tables")
	f.StringVar(&m.Where.Prefix, "prefix", localstack.DefaultPrefix, "local stack: the prefix of the pool's and the tables' names")
	f.StringVar(&m.Where.UserPoolID, "user-pool-id", "", "the user pool (default: the stack's or the local one)")
	f.StringVar(&m.Where.MappingTable, "mapping-table", "", "the mapping table (default: the stack's or the local one)")
	f.StringVar(&m.Where.AuditTable, "audit-table", "", "the audit table (default: the stack's or the local one)")
	f.alias("endpoint", flagAPIURL) // bench's -endpoint was the login API
	f.alias("kakao", flagKakaoURL)
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	if err := checkURL(flagAPIURL, m.Endpoint, true); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := checkURL(flagKakaoURL, m.KakaoURL, true); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := target.check(f); err != nil {
		return err
	}
	m.Where.Endpoint, m.Where.Region, m.Where.Profile, m.Where.Stack = target.endpoint, target.region, target.profile, target.stack
	var err error
	if m.Mix, err = loadgen.ParseMix(*mix, benchKinds); err != nil {
		return fmt.Errorf("bench: -%w", err)
	}
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			m.Terminal = true
		}
	}
	defer m.Close()
	return m.Run(ctx)
}

// Close releases the connections the run kept open to the endpoint and
// the double.
func (m *BenchMain) Close() error {
	if m.HTTP != nil {
		m.HTTP.CloseIdleConnections()
	}
	return nil
}

// expectation is the answer an attempt must get.
type expectation struct {
	status  int
	code    string // the "error" field; "" for 200
	newUser *bool  // for 200
}

// attempt is one login and its answer.
type attempt struct {
	n       int // unique in the run; part of the User-Agent
	kind    string
	ordinal int    // among the attempts of its kind
	variant string // of a bad login
	kakaoID int64  // 0 when the login names no account
	want    expectation

	status  int // 0: no answer (transport error)
	code    string
	sub     string
	newUser *bool
	latency time.Duration
	err     string
}

func (a *attempt) asExpected() bool {
	if a.status != a.want.status || a.code != a.want.code {
		return false
	}
	return a.want.newUser == nil || (a.newUser != nil && *a.newUser == *a.want.newUser)
}

// benchRun is one run's state.
type benchRun struct {
	m        *BenchMain
	id       string // also in every User-Agent
	idPrefix int64
	accounts []int64
	base     string
	kakao    string
}

func (r *benchRun) userAgent(n int) string {
	return fmt.Sprintf("kakaoauth-bench/%s attempt/%d", r.id, n)
}

func (r *benchRun) firstID() int64 { return r.idPrefix * idSpan }

// Run prepares the accounts, runs the logins, checks and reports. It
// returns a *benchFailed when a check fails.
func (m *BenchMain) Run(ctx context.Context) error {
	if m.N < 1 || m.C < 1 || m.Accounts < 1 || m.N+m.Accounts >= idSpan {
		return fmt.Errorf("bench: need -n >= 1, -c >= 1, -accounts >= 1 and -n + -accounts < %d", idSpan)
	}
	if m.Mix == nil {
		m.Mix, _ = loadgen.ParseMix(defaultBenchMix, benchKinds)
	}
	if m.IDPrefix < 0 || m.IDPrefix >= (1<<63-1)/idSpan-1 {
		return errors.New("bench: -id-prefix out of range")
	}
	if m.HTTP == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = m.C + 4
		m.HTTP = &http.Client{Timeout: 35 * time.Second, Transport: tr}
	}
	if m.Out == nil {
		m.Out = io.Discard
	}
	if m.Err == nil {
		m.Err = io.Discard
	}

	var checker *benchChecker
	if m.Check {
		// Before the load: a wrong table name should not cost a run.
		var err error
		if checker, err = m.newChecker(ctx); err != nil {
			return err
		}
	}

	r := &benchRun{m: m, base: strings.TrimRight(m.Endpoint, "/"), kakao: strings.TrimRight(m.KakaoURL, "/")}
	var err error
	if r.id, r.idPrefix, err = runIdentity(m.IDPrefix); err != nil {
		return err
	}
	seed, _ := strconv.ParseUint(r.id, 16, 64)
	plan := m.Mix.Plan(m.N, seed)
	for k := range m.Accounts {
		r.accounts = append(r.accounts, r.firstID()+int64(k))
	}
	rep := &benchReport{}
	rep.Run.ID, rep.Run.Endpoint, rep.Run.N, rep.Run.Concurrency = r.id, r.base, m.N, m.C
	rep.Run.Mix, rep.Run.Accounts = m.Mix.String(), m.Accounts
	rep.Run.FirstKakaoID, rep.Run.LastKakaoID = r.firstID(), r.firstID()+int64(m.Accounts+m.N-1)
	rep.Run.Started = time.Now().UTC()
	if !m.JSON {
		fmt.Fprintf(m.Out, "kakaoauth bench: %d logins at concurrency %d against %s (run %s, Kakao ids %d..%d)\n",
			m.N, m.C, r.base, r.id, rep.Run.FirstKakaoID, rep.Run.LastKakaoID)
	}

	// Prepare: every returning account logs in once, at concurrency C.
	prepStart := time.Now()
	prep := make([]*attempt, m.Accounts)
	prepProgress := loadgen.NewProgress(m.Err, "bench: preparing accounts", m.Accounts, m.Terminal)
	err = loadgen.Run(ctx, m.Accounts, m.C, func(ctx context.Context, k int) {
		prep[k] = r.login(ctx, k, kindPrepare, k)
	}, prepProgress.Add)
	prepProgress.Stop()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	prepTime := time.Since(prepStart)
	for _, a := range prep {
		if !a.asExpected() {
			return fmt.Errorf("bench: preparing account %d: got %d %s%s, want 200 new_user (is %s the stack whose Kakao is %s?)",
				a.kakaoID, a.status, a.code, errSuffix(a.err), r.base, r.kakao)
		}
	}

	// The timed run.
	progress := loadgen.NewProgress(m.Err, "bench", m.N, m.Terminal)
	loadStart := time.Now()
	load := make([]*attempt, m.N)
	ordinal, seen := make([]int, m.N), map[string]int{}
	for i, kind := range plan {
		ordinal[i] = seen[kind]
		seen[kind]++
	}
	err = loadgen.Run(ctx, m.N, m.C, func(ctx context.Context, i int) {
		load[i] = r.login(ctx, m.Accounts+i, plan[i], ordinal[i])
	}, progress.Add)
	loadTime := time.Since(loadStart)
	progress.Stop()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	rep.Run.Seconds = loadTime.Seconds()
	rep.summarize(m.Mix, prep, prepTime, load, loadTime)

	all := append(append([]*attempt(nil), prep...), load...)
	if checker != nil {
		// Audit events carry the time the steps ran; a minute either side
		// absorbs a deployed stack's clock skew.
		tr := timeWindow(prepStart, time.Now())
		rep.Checks = checker.run(ctx, r, all, tr, m.Settle)
		rep.Where = checker.where
	}
	rep.OK = true
	var failed []string
	for _, c := range rep.Checks {
		if !c.OK {
			rep.OK = false
			failed = append(failed, c.label())
		}
	}
	if m.JSON {
		enc := json.NewEncoder(m.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.print(m.Out, m.Check)
	}
	if len(failed) > 0 {
		return &benchFailed{failed: failed}
	}
	return nil
}

func errSuffix(err string) string {
	if err == "" {
		return ""
	}
	return " (" + err + ")"
}

// runIdentity is a random run id and, unless fixed, a random ten-digit
// Kakao id prefix.
func runIdentity(fixedPrefix int64) (string, int64, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", 0, err
	}
	prefix := fixedPrefix
	if prefix == 0 {
		n, err := rand.Int(rand.Reader, big.NewInt(8_999_999_999))
		if err != nil {
			return "", 0, err
		}
		prefix = 1_000_000_000 + n.Int64()
	}
	return hex.EncodeToString(b), prefix, nil
}

// benchFailed is a run whose checks failed: exit status 1, not 2.
type benchFailed struct{ failed []string }

func (e *benchFailed) Error() string {
	return fmt.Sprintf("bench: %d check(s) failed: %s", len(e.failed), strings.Join(e.failed, "; "))
}

func (e *benchFailed) ExitCode() int { return 1 }

// login makes attempt n, the ordinal-th of its kind: creates the account
// or mints its tokens at the double (untimed), then times POST /auth/kakao.
func (r *benchRun) login(ctx context.Context, n int, kind string, ordinal int) *attempt {
	a := &attempt{n: n, kind: kind, ordinal: ordinal, want: expectation{status: http.StatusOK}}
	body, err := r.request(ctx, a)
	if err != nil {
		a.err = "kakao double: " + err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+localapi.LoginPath, bytes.NewReader(body))
	if err != nil {
		a.err = err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", r.userAgent(n))
	start := time.Now()
	resp, err := r.m.HTTP.Do(req)
	if err != nil {
		a.latency = time.Since(start)
		a.err = transportText(err)
		return a
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	a.latency = time.Since(start)
	a.status = resp.StatusCode
	var answer struct {
		Error   string `json:"error"`
		Sub     string `json:"sub"`
		NewUser *bool  `json:"new_user"`
	}
	if err != nil || json.Unmarshal(raw, &answer) != nil {
		a.err = "answer is not JSON"
	}
	a.code, a.sub, a.newUser = answer.Error, answer.Sub, answer.NewUser
	return a
}

// transportText names a transport failure without the request URL noise.
func transportText(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		err = ue.Unwrap()
	}
	return err.Error()
}

// badVariants are the ways a bad login is bad, taken in turn.
var badVariants = []string{"garbage-token", "malformed-body", "other-app", "expired-token", "wrong-nonce"}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

// request prepares attempt a at the double and returns its login body.
func (r *benchRun) request(ctx context.Context, a *attempt) ([]byte, error) {
	account := r.accounts[a.ordinal%len(r.accounts)]
	switch a.kind {
	case kindPrepare, kindNew:
		a.kakaoID = r.firstID() + int64(a.n) // a.n < Accounts for prepare
		a.want.newUser = yes
		if err := r.createAccount(ctx, a.kakaoID); err != nil {
			return nil, err
		}
		tok, err := r.mint(ctx, kakaofake.TokenRequest{UserID: a.kakaoID})
		return marshal(map[string]string{"access_token": tok.AccessToken}), err
	case kindReturning:
		a.kakaoID, a.want.newUser = account, no
		tok, err := r.mint(ctx, kakaofake.TokenRequest{UserID: account})
		return marshal(map[string]string{"access_token": tok.AccessToken}), err
	case kindIDToken:
		a.kakaoID, a.want.newUser = account, no
		// The hashed form: Kakao signs the nonce's SHA-256, the broker
		// gets the nonce.
		nonce := "nonce-" + r.id + "-" + strconv.Itoa(a.n)
		tok, err := r.mint(ctx, kakaofake.TokenRequest{UserID: account, OpenID: true, Nonce: kakao.HashNonce(nonce)})
		return marshal(map[string]string{"id_token": tok.IDToken, "nonce": nonce}), err
	}
	// A bad login: the variants in turn.
	a.variant = badVariants[a.ordinal%len(badVariants)]
	a.want = expectation{status: http.StatusUnauthorized, code: "InvalidKakaoToken"}
	switch a.variant {
	case "garbage-token":
		b := make([]byte, 27)
		_, _ = rand.Read(b)
		return marshal(map[string]string{"access_token": hex.EncodeToString(b)}), nil
	case "malformed-body":
		a.want = expectation{status: http.StatusBadRequest, code: "InvalidRequest"}
		return []byte(`{"access_token":`), nil
	case "other-app":
		a.want.code = "WrongKakaoApp"
		tok, err := r.mint(ctx, kakaofake.TokenRequest{UserID: account, AppID: otherKakaoApp})
		return marshal(map[string]string{"access_token": tok.AccessToken}), err
	case "expired-token":
		expired := int64(0)
		tok, err := r.mint(ctx, kakaofake.TokenRequest{UserID: account, ExpiresIn: &expired})
		return marshal(map[string]string{"access_token": tok.AccessToken}), err
	default: // wrong-nonce
		tok, err := r.mint(ctx, kakaofake.TokenRequest{UserID: account, OpenID: true, Nonce: kakao.HashNonce("nonce-" + r.id)})
		return marshal(map[string]string{"id_token": tok.IDToken, "nonce": "another-nonce-" + r.id}), err
	}
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// createAccount creates a Kakao account with a verified email at the double.
func (r *benchRun) createAccount(ctx context.Context, id int64) error {
	u := kakaofake.User{ID: id, Email: fmt.Sprintf("bench-%d@example.com", id), IsEmailValid: true, IsEmailVerified: true, Nickname: fmt.Sprintf("bench %d", id)}
	status, _, err := r.control(ctx, "/_fake/users", u)
	if err == nil && status != http.StatusCreated {
		err = fmt.Errorf("POST /_fake/users answered %d", status)
	}
	return err
}

func (r *benchRun) mint(ctx context.Context, req kakaofake.TokenRequest) (kakaofake.Tokens, error) {
	var tok kakaofake.Tokens
	status, raw, err := r.control(ctx, "/_fake/tokens", req)
	if err != nil {
		return tok, err
	}
	if status != http.StatusOK || json.Unmarshal(raw, &tok) != nil || tok.AccessToken == "" || (req.OpenID && tok.IDToken == "") {
		return tok, fmt.Errorf("POST /_fake/tokens answered %d", status)
	}
	return tok, nil
}

func (r *benchRun) control(ctx context.Context, path string, v any) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.kakao+path, bytes.NewReader(marshal(v)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.m.HTTP.Do(req)
	if err != nil {
		return 0, nil, errors.New(transportText(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, raw, err
}
