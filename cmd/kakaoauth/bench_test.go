package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// benchJSON is the part of `bench --json` the test reads back.
type benchJSON struct {
	Run struct {
		ID                        string
		N, Concurrency, Accounts  int
		Mix                       string
		FirstKakaoID, LastKakaoID int64
		Seconds                   float64
	}
	ThroughputPerSecond float64
	Kinds               []struct {
		Kind              string
		Count, AsExpected int
		LatencyMs         struct{ Min, Mean, P50, P95, P99, Max float64 }
		Status            map[string]int
		Errors            map[string]int
	}
	Prepare struct {
		Count, AsExpected int
		Status            map[string]int
	}
	Errors  map[string]int
	Checked struct{ UserPoolID, MappingTable, AuditTable string }
	Checks  []struct {
		Name, Detail string
		OK           bool
		Examples     []string
	} `json:"invariants"`
	OK bool
}

// `kakaoauth bench` through its binary against a local stack on free
// ports: the counts per kind follow the mix, every bad variant is refused
// as it should be, and the invariants hold in the tables and the pool
// (which the test also reads for itself). Then a user created behind the
// broker's back in the run's id range makes the checks fail, and the
// command says which, with exit status 1.
func TestBenchThroughItsBinary(t *testing.T) {
	motoURL := moto.ForTest(t).URL()
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	prefix := "bench-" + hex.EncodeToString(id)
	stack := localstack.New(localstack.Config{
		MotoURL: motoURL, APIAddr: "127.0.0.1:0", KakaoAddr: "127.0.0.1:0",
		TemplatePath: "../../template.yaml", Prefix: prefix,
	})
	if err := stack.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	common := []string{"bench", "-api-url", stack.APIURL(), "-kakao-url", stack.KakaoURL(), "-endpoint-url", motoURL, "-prefix", prefix, "-settle", "0"}
	idp := cip.NewFromConfig(moto.AWSConfig(t.Context(), motoURL))
	poolID := stack.Stack().UserPoolID
	usersWithPrefix := func(p string) int {
		out, err := idp.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: &poolID, Filter: aws.String(`username ^= "kakao_` + p + `"`)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Users)
	}

	t.Run("invariants hold", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, append(common, "-n", "60", "-c", "4", "-accounts", "5", "-json")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		var rep benchJSON
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("--json output is not one JSON object: %v\n%s", err, stdout)
		}
		if rep.Run.N != 60 || rep.Run.Concurrency != 4 || rep.Run.Accounts != 5 || rep.Run.Mix != defaultBenchMix ||
			rep.Run.LastKakaoID-rep.Run.FirstKakaoID != 64 || rep.Run.Seconds <= 0 || rep.ThroughputPerSecond <= 0 {
			t.Fatalf("run %+v, throughput %v", rep.Run, rep.ThroughputPerSecond)
		}
		// new=20,returning=50,idtoken=20,bad=10 of 60; the six bad logins
		// are the five variants in turn: garbage, malformed, other app,
		// expired, wrong nonce, garbage.
		want := map[string]struct {
			count  int
			status map[string]int
		}{
			"new":       {12, map[string]int{"200": 12}},
			"returning": {30, map[string]int{"200": 30}},
			"idtoken":   {12, map[string]int{"200": 12}},
			"bad":       {6, map[string]int{"400": 1, "401": 5}},
			"all":       {60, map[string]int{"200": 54, "400": 1, "401": 5}},
		}
		if len(rep.Kinds) != len(want) {
			t.Fatalf("kinds %+v", rep.Kinds)
		}
		for _, k := range rep.Kinds {
			w := want[k.Kind]
			if k.Count != w.count || k.AsExpected != w.count || fmt.Sprint(k.Status) != fmt.Sprint(w.status) {
				t.Errorf("%s: count %d, as expected %d, status %v; want %d, %v", k.Kind, k.Count, k.AsExpected, k.Status, w.count, w.status)
			}
			l := k.LatencyMs
			if !(0 < l.Min && l.Min <= l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max && l.Min <= l.Mean && l.Mean <= l.Max) {
				t.Errorf("%s: latencies out of order: %+v", k.Kind, l)
			}
		}
		if fmt.Sprint(rep.Errors) != fmt.Sprint(map[string]int{"InvalidKakaoToken": 4, "InvalidRequest": 1, "WrongKakaoApp": 1}) {
			t.Errorf("errors by code %v", rep.Errors)
		}
		if rep.Prepare.Count != 5 || rep.Prepare.AsExpected != 5 || rep.Prepare.Status["200"] != 5 {
			t.Errorf("prepare %+v", rep.Prepare)
		}
		if rep.Checked.UserPoolID != poolID || rep.Checked.MappingTable != prefix+"-mappings" || rep.Checked.AuditTable != prefix+"-audit" {
			t.Errorf("checked %+v", rep.Checked)
		}
		wantDetails := map[string]string{
			"users_equal_logged_in_accounts": "17 users, 17 distinct Kakao ids logged in",
			"one_mapping_per_user":           "17 mappings, 17 users",
			"one_terminal_event_per_attempt": "65 attempts, 65 terminal events, 17 user_created for 17 new users",
			"no_orphan_user":                 "users without a mapping: 0",
			"no_unexpected_5xx":              "answers 5xx: 0",
			"answers_as_expected":            "answered otherwise: 0 of 65 attempts",
		}
		if len(rep.Checks) != len(wantDetails) || !rep.OK {
			t.Fatalf("invariants %+v, ok %v", rep.Checks, rep.OK)
		}
		for _, c := range rep.Checks {
			if !c.OK || c.Detail != wantDetails[c.Name] {
				t.Errorf("invariant %s: ok %v, %q; want %q", c.Name, c.OK, c.Detail, wantDetails[c.Name])
			}
		}
		// The pool, read here without the command: 5 prepared + 12 new.
		if n := usersWithPrefix(fmt.Sprint(rep.Run.FirstKakaoID / idSpan)); n != 17 {
			t.Errorf("the pool holds %d users of the run", n)
		}
		// Progress went to stderr as plain lines (not a terminal).
		if !strings.Contains(stderr, "bench: 60/60 (100%)") || strings.ContainsAny(stderr, "\r\033") {
			t.Errorf("progress on stderr: %q", stderr)
		}
	})

	t.Run("an orphan user fails the checks", func(t *testing.T) {
		const idPrefix = 4242424242
		orphan := fmt.Sprintf("kakao_%d999999", idPrefix)
		if _, err := idp.AdminCreateUser(t.Context(), &cip.AdminCreateUserInput{
			UserPoolId: &poolID, Username: aws.String(orphan), MessageAction: ciptypes.MessageActionTypeSuppress,
		}); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runCLI(t, append(common, "-n", "10", "-c", "2", "-accounts", "2", "-id-prefix", fmt.Sprint(idPrefix))...)
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
		}
		for _, want := range []string{
			"FAIL  users = distinct Kakao ids logged in", "user " + orphan + " never logged in",
			"FAIL  mappings = users, each pointing at its sub", "user " + orphan + " has no mapping",
			"FAIL  no orphan user (a user without a mapping)", "users without a mapping: 1",
			"ok    exactly one terminal audit event per attempt", "ok    no unexpected 5xx", "ok    every answer as expected",
			"KIND", "throughput:",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, stdout)
			}
		}
		if !strings.Contains(stderr, "kakaoauth: bench: 3 check(s) failed: users = distinct Kakao ids logged in; mappings = users") {
			t.Errorf("stderr: %s", stderr)
		}
	})
}

func TestBenchRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-mix", "new=1,old=2"}, `unknown kind "old"`},
		{[]string{"-mix", "new=0"}, "no kind has a weight"},
		{[]string{"-n", "0"}, "-n >= 1"},
		{[]string{"-c", "0"}, "-c >= 1"},
		{[]string{"-n", "999999", "-accounts", "1"}, "-n + -accounts < 1000000"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-id-prefix", "-1"}, "-id-prefix out of range"},
	} {
		err := run(context.Background(), append([]string{"bench"}, tc.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bench %v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// Before any login, the checks find their pool and tables, or the command
// stops with a reason: a misnamed stack does not cost a run.
func TestBenchChecksItsTargetsFirst(t *testing.T) {
	motoURL := moto.ForTest(t).URL()
	err := run(context.Background(), []string{"bench", "-endpoint-url", "http://127.0.0.1:1", "-endpoint-url", motoURL, "-prefix", "no-such-stack"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "0 user pools named no-such-stack-users") {
		t.Fatalf("bench against a missing stack: %v", err)
	}
	err = run(context.Background(), []string{"bench", "-endpoint-url", "http://127.0.0.1:1", "-endpoint-url", motoURL, "-user-pool-id", "us-east-1_nope", "-mapping-table", "t1", "-audit-table", "t2"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "user pool us-east-1_nope") {
		t.Fatalf("bench against a missing pool: %v", err)
	}
}
