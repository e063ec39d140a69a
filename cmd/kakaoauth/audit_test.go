package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/audit/*.golden")

// opRecorder sees every AWS request on the wire and notes its operation:
// the X-Amz-Target of JSON protocols (DynamoDB), the Action of query
// protocols (CloudFormation).
type opRecorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *opRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	if op == "" && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		op = "Action=" + form.Get("Action")
	}
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *opRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := r.ops
	r.ops = nil
	return ops
}

// auditFixture is a pair of tables with a small, known history.
type auditFixture struct {
	motoURL string
	stack   provision.Stack
	rec     *opRecorder
}

var kst = time.FixedZone("KST", 9*3600)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	ctx := context.Background()
	motoURL := moto.ForTest(t).URL()
	cfg := moto.AWSConfig(ctx, motoURL)
	prefix := "cli-" + strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	stack, err := provision.Provision(ctx, cfg, "../../template.yaml", provision.NamesFor(prefix))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)

	mappings := store.NewMappings(db, stack.MappingTable)
	for _, mp := range []kakaoauth.Mapping{
		{KakaoID: 501, Sub: "sub-501", Username: "kakao_501", Email: "a@example.com", CreatedAt: at("2026-11-24T23:30:00Z"), LastLoginAt: at("2026-11-25T01:00:00Z"), PasswordNonce: "not-for-auditors"},
		{KakaoID: 502, Sub: "sub-502", Username: "kakao_502", CreatedAt: at("2026-11-25T10:15:00.250Z"), LastLoginAt: at("2026-11-25T10:15:00.300Z")},
		{KakaoID: 503, Sub: "sub-503", Username: "kakao_503", Email: "c@example.com", CreatedAt: at("2026-11-26T00:00:00Z")},
	} {
		if err := mappings.Create(ctx, mp); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mappings.MarkUnlinked(ctx, 502, at("2026-11-25T12:00:00Z"), kakaoauth.LifecycleEvent{ID: "e-502", Type: kakaoauth.EventUnlinked, Time: at("2026-11-25T12:00:00Z")}); err != nil {
		t.Fatal(err)
	}

	var now time.Time
	audit := store.NewAudit(db, stack.AuditTable, 400*24*time.Hour, func() time.Time { return now })
	user := func(id int64) kakaoauth.AuditEvent {
		return kakaoauth.AuditEvent{KakaoID: id, Sub: fmt.Sprintf("sub-%d", id), AppID: 1001, SourceIP: "203.0.113.1", UserAgent: "app/1.0 (iOS)"}
	}
	anon := kakaoauth.AuditEvent{Type: kakaoauth.EventLoginFailed, Outcome: "failure", Error: "InvalidKakaoToken", SourceIP: "198.51.100.9"}
	with := func(e kakaoauth.AuditEvent, typ, outcome, errName, exec string) kakaoauth.AuditEvent {
		e.Type, e.Outcome, e.Error, e.ExecutionID = typ, outcome, errName, exec
		return e
	}
	evil := anon
	evil.UserAgent = "curl/8.0\x1b[31m\tred"
	formula := anon
	formula.UserAgent, formula.Detail = `=HYPERLINK("http://evil.example","x")`, "@SUM(1+1)"
	unlinked := with(user(502), kakaoauth.EventUnlinked, "success", "", "")
	unlinked.Detail, unlinked.SourceIP, unlinked.UserAgent, unlinked.AppID = "UNLINK_FROM_APPS", "", "", 0
	for _, ev := range []struct {
		at string
		e  kakaoauth.AuditEvent
	}{
		{"2026-11-20T00:00:00Z", with(formula, kakaoauth.EventLoginFailed, "failure", "InvalidKakaoToken", "exec-0")},
		{"2026-11-24T23:30:00Z", with(user(501), kakaoauth.EventUserCreated, "success", "", "exec-1")},
		{"2026-11-24T23:30:00.120Z", with(user(501), kakaoauth.EventLoginSucceeded, "success", "", "exec-1")},
		{"2026-11-25T03:00:00Z", with(evil, kakaoauth.EventLoginFailed, "failure", "InvalidKakaoToken", "exec-2")},
		{"2026-11-25T10:15:00.250Z", with(user(502), kakaoauth.EventUserCreated, "success", "", "exec-3")},
		{"2026-11-25T10:15:00.300Z", with(user(502), kakaoauth.EventLoginSucceeded, "success", "", "exec-3")},
		{"2026-11-25T12:00:00Z", unlinked},
		{"2026-11-25T13:00:00Z", with(user(502), kakaoauth.EventLoginFailed, "failure", "AccountUnlinked", "exec-4")},
		{"2026-11-25T23:59:59.999Z", with(anon, kakaoauth.EventLoginFailed, "failure", "InvalidKakaoToken", "exec-5")},
		{"2026-11-26T00:00:00Z", with(user(503), kakaoauth.EventUserCreated, "success", "", "exec-6")},
		{"2026-11-26T00:00:00.050Z", with(user(503), kakaoauth.EventLoginSucceeded, "success", "", "exec-6")},
	} {
		now = at(ev.at)
		if err := audit.Record(ctx, ev.e); err != nil {
			t.Fatal(err)
		}
	}
	return &auditFixture{motoURL: motoURL, stack: stack, rec: &opRecorder{}}
}

// audit runs `kakaoauth audit args...` against the fixture's tables.
func (f *auditFixture) audit(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := AuditMain{Out: &out, Err: &errOut, HTTPClient: &http.Client{Transport: f.rec, Timeout: 30 * time.Second},
		Now: func() time.Time { return at("2026-11-27T00:00:00Z") }}
	args = append(args, "-endpoint-url", f.motoURL, "--mapping-table", f.stack.MappingTable, "--audit-table", f.stack.AuditTable)
	err := m.Run(context.Background(), args)
	return out.String(), err
}

func (f *auditFixture) mustAudit(t *testing.T, args ...string) string {
	t.Helper()
	out, err := f.audit(t, args...)
	if err != nil {
		t.Fatalf("audit %v: %v", args, err)
	}
	return out
}

// Event ids are random (UUIDv7); the rest of each output is fixed.
var eventIDs = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}`)

func golden(t *testing.T, name, got string) {
	t.Helper()
	got = eventIDs.ReplaceAllString(got, "xxxxxxxx-xxxx-7xxx-xxxx-xxxxxxxxxxxx")
	path := filepath.Join("testdata", "audit", name+".golden")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from %s:\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

func TestAuditOutputs(t *testing.T) {
	f := newAuditFixture(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"mapping-kakao-id", []string{"mapping", "--kakao-id", "502"}},
		{"mapping-sub-json", []string{"mapping", "--sub", "sub-501", "-json"}},
		// 501 was linked exactly at --since (08:30 KST), 503 exactly at --until.
		{"mappings", []string{"mappings", "--since", "2026-11-25T08:30:00+09:00", "--until", "2026-11-26"}},
		{"mappings-details-csv", []string{"mappings", "--since", "2026-11-25T08:30:00+09:00", "--until", "2026-11-26", "--details", "-csv"}},
		{"events-kakao-id", []string{"events", "--kakao-id", "502"}},
		{"events-day-json", []string{"events", "--since", "2026-11-25", "--until", "2026-11-26", "-json"}},
		{"events-day-csv", []string{"events", "--since", "2026-11-25", "--until", "2026-11-26", "-csv"}},
		{"events-invalid-token", []string{"events", "--since", "2026-11-25", "--until", "2026-11-26", "--type", "login_failed", "--error", "InvalidKakaoToken"}},
		{"stats", []string{"stats", "--since", "2026-11-24", "--until", "2026-11-27"}},
		{"stats-json", []string{"stats", "--since", "2026-11-24", "--until", "2026-11-27", "-json"}},
		{"empty-json", []string{"events", "--since", "2020-01-01", "--until", "2020-01-02", "-json"}},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, f.mustAudit(t, tc.args...)) })
	}

	// The default table fits a 100-column terminal; -wide prints every
	// column whole.
	t.Run("tables fit 100 columns", func(t *testing.T) {
		for _, args := range [][]string{
			{"mapping", "-kakao-id", "502"},
			{"mappings", "-since", "2026-11-24", "-until", "2026-11-27", "-details"},
			{"events", "-since", "2026-11-24", "-until", "2026-11-27"},
			{"stats", "-since", "2026-11-24", "-until", "2026-11-27"},
		} {
			narrow, wide := f.mustAudit(t, args...), f.mustAudit(t, append(args, "-wide")...)
			for _, line := range strings.Split(narrow, "\n") {
				if n := utf8.RuneCountInString(line); n > 100 {
					t.Errorf("%v: a line of %d columns:\n%s", args, n, line)
				}
			}
			if args[0] != "stats" && (len(wide) <= len(narrow) || !strings.Contains(wide, "EXPIRES_AT") && !strings.Contains(wide, "LAST_LOGIN_AT")) {
				t.Errorf("%v -wide prints no more than the table:\n%s", args, wide)
			}
		}
	})

	t.Run("machine-readable output parses", func(t *testing.T) {
		var events []map[string]any
		if err := json.Unmarshal([]byte(f.mustAudit(t, "events", "--since", "2026-11-25", "--until", "2026-11-26", "-json")), &events); err != nil {
			t.Fatal(err)
		}
		if len(events) != 6 || events[0]["userAgent"] != "curl/8.0\x1b[31m\tred" || events[1]["kakaoId"] != float64(502) {
			t.Fatalf("json events %v", events)
		}
		rows, err := csv.NewReader(strings.NewReader(f.mustAudit(t, "events", "--kakao-id", "502", "-csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 5 || rows[0][0] != "time" || rows[4][3] != "AccountUnlinked" {
			t.Fatalf("csv rows %q", rows)
		}
	})

	// A spreadsheet opening the CSV must not run what a client sent: a
	// cell starting with = + - @, a tab or a CR gets a leading '. JSON keeps
	// the text as sent.
	t.Run("csv neutralises formulas", func(t *testing.T) {
		rows, err := csv.NewReader(strings.NewReader(f.mustAudit(t, "events", "--since", "2026-11-20", "--until", "2026-11-21", "-csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		if len(rows) != 2 || rows[1][col["userAgent"]] != `'=HYPERLINK("http://evil.example","x")` || rows[1][col["detail"]] != "'@SUM(1+1)" ||
			rows[1][col["error"]] != "InvalidKakaoToken" {
			t.Fatalf("csv rows %q", rows)
		}
		var events []map[string]any
		if err := json.Unmarshal([]byte(f.mustAudit(t, "events", "--since", "2026-11-20", "--until", "2026-11-21", "-json")), &events); err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0]["userAgent"] != `=HYPERLINK("http://evil.example","x")` {
			t.Fatalf("json events %v", events)
		}
		for cell, want := range map[string]string{"+1": "'+1", "-1": "'-1", "\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b", "": ""} {
			if got := csvCell(cell); got != want {
				t.Errorf("csvCell(%q) = %q, want %q", cell, got, want)
			}
		}
	})

	t.Run("the table escapes control characters", func(t *testing.T) {
		out := f.mustAudit(t, "events", "--since", "2026-11-25T03:00:00Z", "--until", "2026-11-25T03:00:00.001Z", "-wide")
		if strings.ContainsAny(out, "\x1b\t") || !strings.Contains(out, `curl/8.0\x1b[31m\tred`) {
			t.Fatalf("table output:\n%q", out)
		}
	})

	t.Run("time zones", func(t *testing.T) {
		utc := f.mustAudit(t, "events", "--since", "2026-11-25T00:00:00Z", "--until", "2026-11-26T00:00:00Z", "-csv")
		for _, args := range [][]string{
			{"--since", "2026-11-25", "--until", "2026-11-26"},
			{"--since", "2026-11-25T09:00:00+09:00", "--until", "2026-11-26T09:00:00+09:00"},
			{"--since", "2026-11-24T19:00:00-05:00", "--until", "2026-11-25T19:00:00-05:00"},
		} {
			if got := f.mustAudit(t, append([]string{"events", "-csv"}, args...)...); got != utc {
				t.Fatalf("%v:\n%s\nwant\n%s", args, got, utc)
			}
		}
		// The KST day 25 November is another range: it has 501's events and not the late ones.
		kstDay := f.mustAudit(t, "events", "--since", "2026-11-25T00:00:00+09:00", "--until", "2026-11-26T00:00:00+09:00", "-csv")
		if got := strings.Count(kstDay, "\n") - 1; got != 7 || !strings.Contains(kstDay, "exec-1") || strings.Contains(kstDay, "exec-5") {
			t.Fatalf("KST day: %d events\n%s", got, kstDay)
		}
	})

	t.Run("limit", func(t *testing.T) {
		out := f.mustAudit(t, "events", "--since", "2026-11-24", "--until", "2026-11-27", "-csv", "--limit", "3", "--page-size", "1")
		if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 4 || !strings.Contains(rows[3], "2026-11-25T03:00:00.000Z") {
			t.Fatalf("limit 3:\n%s", out)
		}
	})
}

// Every query is answered with GetItem and Query only, whatever the page
// size: the recorder sees every request on the wire.
func TestAuditIssuesOnlyGetItemAndQuery(t *testing.T) {
	f := newAuditFixture(t)
	const get, query = "DynamoDB_20120810.GetItem", "DynamoDB_20120810.Query"
	for _, tc := range []struct {
		args []string
		want []string // exact, when the number of requests is fixed
	}{
		{args: []string{"mapping", "--kakao-id", "501"}, want: []string{get}},
		{args: []string{"mapping", "--sub", "sub-501"}, want: []string{query, get}},
		{args: []string{"mappings", "--since", "2026-11-24", "--until", "2026-11-27"}},
		{args: []string{"mappings", "--since", "2026-11-24", "--until", "2026-11-27", "--details"}},
		{args: []string{"events", "--kakao-id", "502"}},
		{args: []string{"events", "--kakao-id", "502", "--since", "2026-11-25T12:00:00Z", "--until", "2026-11-26", "--type", "login_failed"}},
		{args: []string{"events", "--since", "2026-11-24", "--until", "2026-11-27"}},
		{args: []string{"events", "--since", "2026-11-24", "--until", "2026-11-27", "--error", "InvalidKakaoToken"}},
		{args: []string{"stats", "--since", "2026-11-24", "--until", "2026-11-27"}},
	} {
		for _, pageSize := range []string{"0", "1"} {
			f.rec.take()
			out := f.mustAudit(t, append(tc.args, "--page-size", pageSize, "-csv")...)
			ops := f.rec.take()
			if len(ops) == 0 {
				t.Fatalf("%v: no request recorded", tc.args)
			}
			for _, op := range ops {
				if op != get && op != query {
					t.Fatalf("%v issued %s (all: %v)", tc.args, op, ops)
				}
			}
			if tc.want != nil && !slices.Equal(ops, tc.want) {
				t.Fatalf("%v: %v, want %v", tc.args, ops, tc.want)
			}
			if strings.Count(out, "\n") < 2 {
				t.Fatalf("%v answered nothing:\n%s", tc.args, out)
			}
			// Pages of one item are many requests and the same answer.
			if pageSize == "1" {
				if again := f.mustAudit(t, append(tc.args, "-csv")...); again != out {
					t.Fatalf("%v: page size 1 answered\n%s\nthe default\n%s", tc.args, out, again)
				}
				if rows := strings.Count(out, "\n") - 1; !slices.Contains(tc.args, "stats") && len(ops) <= rows/2 {
					t.Fatalf("%v: %d requests for %d rows in pages of 1", tc.args, len(ops), rows)
				}
			}
		}
	}
	// One Query per UTC day of the range: 24 to 26 November.
	f.rec.take()
	f.mustAudit(t, "stats", "--since", "2026-11-24", "--until", "2026-11-27")
	if ops := f.rec.take(); !slices.Equal(ops, []string{query, query, query}) {
		t.Fatalf("stats over 3 days: %v", ops)
	}
}

func TestAuditStackOutputs(t *testing.T) {
	f := newAuditFixture(t)
	ctx := context.Background()
	cfn := cloudformation.NewFromConfig(moto.AWSConfig(ctx, f.motoURL))
	name := "audit-" + strings.ToLower(strings.ReplaceAll(f.stack.AuditTable, "_", "-"))
	tpl := fmt.Sprintf(`{"Resources":{"Handle":{"Type":"AWS::CloudFormation::WaitConditionHandle"}},
		"Outputs":{"MappingTableName":{"Value":%q},"AuditTableName":{"Value":%q}}}`, f.stack.MappingTable, f.stack.AuditTable)
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: &name, TemplateBody: &tpl}); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	m := AuditMain{Out: &out, Err: io.Discard, HTTPClient: &http.Client{Transport: f.rec}}
	f.rec.take()
	if err := m.Run(ctx, []string{"mapping", "--kakao-id", "501", "-endpoint-url", f.motoURL, "--stack", name, "-csv"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "501,2026-11-24T23:30:00.000Z,active,sub-501,kakao_501,a@example.com") {
		t.Fatalf("via the stack's outputs:\n%s", out.String())
	}
	if ops := f.rec.take(); !slices.Equal(ops, []string{"Action=DescribeStacks", "DynamoDB_20120810.GetItem"}) {
		t.Fatalf("requests %v", ops)
	}
	err := m.Run(ctx, []string{"mapping", "--kakao-id", "501", "-endpoint-url", f.motoURL, "--stack", "no-such-stack"})
	if err == nil || !strings.Contains(err.Error(), "no-such-stack") {
		t.Fatalf("missing stack: %v", err)
	}
}

func TestAuditRefusesBadInvocations(t *testing.T) {
	// No real AWS configuration can leak in.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CA_BUNDLE", "") // it needs the SDK's own HTTP client, not the test's
	run := func(args ...string) error {
		m := AuditMain{Out: io.Discard, Err: io.Discard, HTTPClient: &http.Client{Transport: failingTransport{}}}
		return m.Run(context.Background(), args)
	}
	if err := run("-h"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if err := run(); err == nil || errors.Is(err, flag.ErrHelp) || !strings.Contains(err.Error(), "which query") {
		t.Fatalf("no query: %v", err)
	}
	local := "http://127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "unknown query"},
		{[]string{"mapping", "-endpoint-url", local}, "exactly one"},
		{[]string{"mapping", "--kakao-id", "1", "--sub", "s", "-endpoint-url", local}, "exactly one"},
		{[]string{"mapping", "--kakao-id", "1", "extra", "-endpoint-url", local}, "unexpected argument"},
		{[]string{"events", "--since", "yesterday", "-endpoint-url", local}, "want RFC 3339"},
		{[]string{"events", "--since", "2026-11-25 09:00", "-endpoint-url", local}, "want RFC 3339"},
		{[]string{"events", "-endpoint-url", local}, "-since is required"},
		{[]string{"stats", "-endpoint-url", local}, "-since is required"},
		{[]string{"mappings", "-endpoint-url", local}, "-since is required"},
		{[]string{"events", "--since", "2026-11-26", "--until", "2026-11-25", "-endpoint-url", local}, "is not before"},
		{[]string{"events", "--kakao-id", "1", "--since", "2026-11-26", "--until", "2026-11-26", "-endpoint-url", local}, "is not before"},
		{[]string{"events", "--since", "2026-11-25", "--type", "login_failure", "-endpoint-url", local}, "want one of"},
		{[]string{"events", "--since", "2026-11-25", "-output", "xml", "-endpoint-url", local}, "want one of table, wide, json, csv"},
		{[]string{"events", "--since", "2026-11-25", "--page-size", "-1", "-endpoint-url", local}, "must be positive"},
		{[]string{"mapping", "--kakao-id", "1", "-endpoint-url", local, "--profile", "prod"}, "does not apply"},
		{[]string{"mapping", "--kakao-id", "1", "-stack", "kakaoauth"}, "no AWS region"},
		{[]string{"mapping", "-kakao-id", "x"}, "-h lists the flags"},
		{[]string{"mapping", "--kakao-id", "1", "--region", "ap-northeast-2"}, "which mapping table"},
		{[]string{"events", "--kakao-id", "1", "--region", "ap-northeast-2", "--mapping-table", "m"}, "which audit table"},
	} {
		err := run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

// failingTransport fails any request: the invocations above must be refused
// before anything is sent.
type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no request expected")
}

func TestParseAuditTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-25":                       "2026-11-25T00:00:00Z",
		"2026-11-25T09:00:00+09:00":        "2026-11-25T00:00:00Z",
		"2026-11-25T00:00:00Z":             "2026-11-25T00:00:00Z",
		"2026-11-24T19:30:00.5-05:00":      "2026-11-25T00:30:00.5Z",
		"2026-11-25T08:59:59.999999+09:00": "2026-11-24T23:59:59.999999Z",
	} {
		got, err := parseAuditTime(in)
		if err != nil || got.Format(time.RFC3339Nano) != want || got.Location() != time.UTC {
			t.Errorf("%s: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2026-11-25T09:00:00", "25/11/2026", "2026-11-25 09:00:00Z", "now"} {
		if _, err := parseAuditTime(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// The issue's done-criterion: after a few logins through the local stack,
// every query answers from its tables, found by --endpoint alone.
func TestAuditAfterLocalLogins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stack, motoURL := startLocalStack(t)

	start := time.Now().UTC().Add(-time.Second)
	user := 5_000_000 + time.Now().UnixNano()%1_000_000 // fresh on every run against one moto
	login := LoginMain{APIURL: stack.APIURL(), KakaoURL: stack.KakaoURL(), UserID: user, Out: io.Discard, HTTP: &http.Client{Timeout: 30 * time.Second}}
	for range 2 {
		if err := login.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	bogus := login
	bogus.AccessToken = "not-a-kakao-token"
	if err := bogus.Run(ctx); err == nil || !strings.Contains(err.Error(), "InvalidKakaoToken") {
		t.Fatalf("bogus token: %v", err)
	}

	audit := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		m := AuditMain{Out: &out, Err: io.Discard}
		if err := m.Run(ctx, append(args, "-endpoint-url", motoURL, "-json")); err != nil {
			t.Fatalf("audit %v: %v", args, err)
		}
		return out.String()
	}
	id := fmt.Sprint(user)
	since := start.Format(time.RFC3339Nano)

	var mps []map[string]any
	if err := json.Unmarshal([]byte(audit("mapping", "--kakao-id", id)), &mps); err != nil {
		t.Fatal(err)
	}
	if len(mps) != 1 || mps[0]["username"] != "kakao_"+id || mps[0]["status"] != "active" ||
		mps[0]["email"] != "user"+id+"@example.com" || mps[0]["lastLoginAt"] == nil || mps[0]["createdAt"] == nil {
		t.Fatalf("mapping %v", mps)
	}
	sub := mps[0]["sub"].(string)
	if out := audit("mapping", "--sub", sub); !strings.Contains(out, `"kakaoId": `+id) {
		t.Fatalf("mapping by sub:\n%s", out)
	}
	if out := audit("mappings", "--since", since); !strings.Contains(out, `"kakaoId": `+id) {
		t.Fatalf("mappings:\n%s", out)
	}

	var evs []map[string]any
	if err := json.Unmarshal([]byte(audit("events", "--kakao-id", id)), &evs); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e["type"].(string))
		if e["sub"] != sub || e["executionId"] == nil || e["sourceIp"] == nil || e["userAgent"] == nil || e["appId"] == nil || e["expiresAt"] == nil {
			t.Fatalf("event lacks a field: %v", e)
		}
	}
	if !slices.Equal(types, []string{kakaoauth.EventUserCreated, kakaoauth.EventLoginSucceeded, kakaoauth.EventLoginSucceeded}) {
		t.Fatalf("events of %s: %v", id, types)
	}
	if err := json.Unmarshal([]byte(audit("events", "--since", since, "--type", "login_failed", "--error", "InvalidKakaoToken")), &evs); err != nil || len(evs) == 0 {
		t.Fatalf("failed logins since %s: %v %v", since, evs, err)
	}
	var counts []map[string]any
	if err := json.Unmarshal([]byte(audit("stats", "--since", since)), &counts); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, c := range counts {
		got[fmt.Sprint(c["type"], "/", c["error"])] += c["count"].(float64)
	}
	if got["login_succeeded/<nil>"] < 2 || got["user_created/<nil>"] < 1 || got["login_failed/InvalidKakaoToken"] < 1 {
		t.Fatalf("stats %v", counts)
	}
}
