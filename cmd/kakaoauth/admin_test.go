package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

// An operator's whole toolbox, through the real binary against the local
// stack: show, unlink, re-link and delete go through the lifecycle code,
// are audited with the operator's AWS identity and published on the bus,
// and the account behaves accordingly at its next login.
func TestAdminThroughTheBinary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stack, motoURL := startLocalStack(t)
	app, err := localstack.SubscribeToBus(ctx, moto.AWSConfig(ctx, motoURL), stack.Stack().EventBusName, fmt.Sprint("admin-test-", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}

	user := 6_000_000 + time.Now().UnixNano()%1_000_000 // fresh on every run against one moto
	id := fmt.Sprint(user)
	login := LoginMain{APIURL: stack.APIURL(), KakaoURL: stack.KakaoURL(), UserID: user, Out: io.Discard, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if err := login.Run(ctx); err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) string {
		t.Helper()
		out, stderr, code := runCLI(t, append(append([]string{"admin"}, args...), "-kakao-id", id, "-endpoint-url", motoURL)...)
		if code != 0 {
			t.Fatalf("kakaoauth admin %v: exit %d\n%s%s", args, code, out, stderr)
		}
		return out
	}
	show := func() map[string]any {
		t.Helper()
		var st map[string]any
		if err := json.Unmarshal([]byte(admin("show", "-json")), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	before := show()
	if before["status"] != "active" || before["cognitoUser"] != "enabled, email user"+id+"@example.com" || before["passwordState"] != "applied" {
		t.Fatalf("show %v", before)
	}
	if _, leaks := before["pwNonce"]; leaks {
		t.Fatal("show prints the password nonce")
	}
	table := admin("show")
	for _, want := range []string{"status", "active", "cognito user", "enabled, email user" + id + "@example.com", "last event", "user_created"} {
		if !strings.Contains(table, want) {
			t.Fatalf("show lacks %q:\n%s", want, table)
		}
	}

	if out := admin("unlink"); !strings.Contains(out, "unlinked: the Cognito user is disabled") {
		t.Fatalf("unlink: %s", out)
	}
	if st := show(); st["status"] != "unlinked" || st["cognitoUser"] != "disabled, no email" {
		t.Fatalf("after unlink %v", st)
	}
	if out := admin("relink"); !strings.Contains(out, "re-linked") {
		t.Fatalf("relink: %s", out)
	}
	if st := show(); st["status"] != "active" || st["sub"] != before["sub"] || st["cognitoUser"] != before["cognitoUser"] {
		t.Fatalf("after relink %v", st)
	}
	if err := login.Run(ctx); err != nil {
		t.Fatalf("login after the re-link: %v", err)
	}

	// Deletion asks for confirmation, through the exit status.
	if out, stderr, code := runCLI(t, "admin", "delete", "-kakao-id", id, "-endpoint-url", motoURL); code == 0 || !strings.Contains(stderr, "-yes") {
		t.Fatalf("delete without -yes: exit %d\n%s%s", code, out, stderr)
	}
	if out := admin("delete", "-yes"); !strings.Contains(out, "deleted: the Cognito user is gone") {
		t.Fatalf("delete: %s", out)
	}
	if st := show(); st["status"] != "deleted" || st["cognitoUser"] != "missing" || st["email"] != nil {
		t.Fatalf("after delete %v", st)
	}
	// The person may come back: a new user, the old sub kept.
	if err := login.Run(ctx); err != nil {
		t.Fatalf("login after the deletion: %v", err)
	}
	after := show()
	if after["status"] != "active" || after["sub"] == before["sub"] || fmt.Sprint(after["previousSubs"]) != fmt.Sprint([]any{before["sub"]}) {
		t.Fatalf("after the return %v", after)
	}

	// Audited with the operator's identity...
	reader := store.NewReader(dynamodb.NewFromConfig(moto.AWSConfig(ctx, motoURL)), stack.Stack().MappingTable, stack.Stack().AuditTable)
	var details []string
	for ev, err := range reader.UserEvents(ctx, user, store.TimeRange{}, store.EventFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == kakaoauth.EventUnlinked || ev.Type == kakaoauth.EventRelinked || ev.Type == kakaoauth.EventDeleted {
			details = append(details, ev.Type+": "+ev.Detail)
		}
	}
	if len(details) != 3 {
		t.Fatalf("operator events %v", details)
	}
	for _, d := range details {
		if !strings.Contains(d, "admin by=arn:aws:") {
			t.Fatalf("operator event without the operator: %s", d)
		}
	}
	// ...and published like any other transition.
	var got []string
	events, _ := app.WaitFor(ctx, 10*time.Second, func(e localstack.BusEvent) bool { return e.DetailType == kakaoauth.EventRecreated })
	for _, e := range events {
		if e.Detail.KakaoID == user {
			got = append(got, e.DetailType)
		}
	}
	if strings.Join(got, ",") != "user_created,unlinked,relinked,deleted,recreated" {
		t.Fatalf("events %v", got)
	}

	// Bad invocations: a clear message and a non-zero exit.
	for _, args := range [][]string{{"admin", "show"}, {"admin", "frobnicate", "-kakao-id", "1"}, {"admin", "show", "-kakao-id", "1"}} {
		if _, stderr, code := runCLI(t, args...); code == 0 || stderr == "" {
			t.Fatalf("kakaoauth %v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, stderr, code := runCLI(t, "admin", "show", "-kakao-id", "424242424242", "-endpoint-url", motoURL); code == 0 || !strings.Contains(stderr, "never logged in") {
		t.Fatalf("show of an unknown account: exit %d %s", code, stderr)
	}
}

// While an operator rotates the pepper, `admin peppers` (through the real
// binary) says how many accounts' passwords still derive with each
// version: the accounts the stack's logins made (the current version, 1),
// accounts already on a newer one, accounts from before versions were
// recorded (version 1), never a deleted account.
func TestAdminPeppersThroughTheBinary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stack, motoURL := startLocalStack(t)
	count := func() map[int]int {
		t.Helper()
		out, stderr, code := runCLI(t, "admin", "peppers", "-endpoint-url", motoURL, "-json")
		if code != 0 {
			t.Fatalf("admin peppers: exit %d\n%s%s", code, out, stderr)
		}
		var usage []store.PepperUsage
		if err := json.Unmarshal([]byte(out), &usage); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		m := map[int]int{}
		for _, u := range usage {
			m[u.Version] = u.Accounts
		}
		return m
	}
	// Other tests of this package share the local stack's table: compare
	// with what it held before.
	before := count()

	base := 7_000_000 + time.Now().UnixNano()%1_000_000
	login := LoginMain{APIURL: stack.APIURL(), KakaoURL: stack.KakaoURL(), UserID: base, Out: io.Discard, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if err := login.Run(ctx); err != nil {
		t.Fatal(err)
	}
	mappings := stack.Deps().Mappings()
	at := time.Now().UTC()
	for i, v := range []int{2, 2, 0} { // two on version 2, one from before versions
		m := kakaoauth.Mapping{KakaoID: base + 1 + int64(i), Sub: fmt.Sprint("sub-", base+1+int64(i)), Username: kakaoauth.Username(base + 1 + int64(i)),
			CreatedAt: at, PasswordNonce: "n", PasswordState: kakaoauth.PasswordApplied, PasswordSetAt: at, PepperVersion: v}
		if err := mappings.Create(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	deleted := kakaoauth.Mapping{KakaoID: base + 9, Sub: "sub-deleted", Username: kakaoauth.Username(base + 9), CreatedAt: at, Status: kakaoauth.StatusDeleted}
	if err := mappings.Create(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	after := count()
	if after[1]-before[1] != 2 || after[2]-before[2] != 2 || len(after) != 2 {
		t.Fatalf("pepper versions %v, before %v: want 2 more on version 1 (a login, a row from before versions) and 2 more on version 2", after, before)
	}
	out, _, code := runCLI(t, "admin", "peppers", "-endpoint-url", motoURL)
	if code != 0 || !strings.Contains(out, "PEPPER VERSION") || !strings.Contains(out, "not counted") {
		t.Fatalf("admin peppers table: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, "admin", "show", "-kakao-id", fmt.Sprint(base+1), "-endpoint-url", motoURL)
	if code != 0 || !strings.Contains(out, "pepper version") {
		t.Fatalf("admin show: exit %d\n%s", code, out)
	}
	if _, stderr, code := runCLI(t, "admin", "peppers", "-kakao-id", "1", "-endpoint-url", motoURL); code == 0 || !strings.Contains(stderr, "does not apply") {
		t.Fatalf("admin peppers -kakao-id: exit %d %s", code, stderr)
	}
}

// Kakao's unlink callback is answered before the unlink is carried out (the
// queue's worker does it): `admin show -wait-status unlinked`, run right
// after the callback as the quickstart does, waits for it and shows the
// account unlinked; a status that does not exist is refused before any call.
func TestAdminShowWaitsForTheUnlink(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stack, motoURL := startLocalStack(t)
	id := 8_000_000 + time.Now().UnixNano()%1_000_000
	login := LoginMain{APIURL: stack.APIURL(), KakaoURL: stack.KakaoURL(), UserID: id, Out: io.Discard, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if err := login.Run(ctx); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"user_id":%d,"referrer_type":"UNLINK_FROM_APPS"}`, id)
	resp, err := http.Post(stack.KakaoURL()+"/_fake/unlink", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the double's unlink: %s", resp.Status)
	}
	out, stderr, code := runCLI(t, "admin", "show", "-kakao-id", fmt.Sprint(id), "-wait-status", "unlinked", "-endpoint-url", motoURL, "-json")
	if code != 0 {
		t.Fatalf("admin show -wait-status unlinked: exit %d\n%s%s", code, out, stderr)
	}
	var st accountState
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if st.Status != kakaoauth.StatusUnlinked || !strings.HasPrefix(st.Cognito, "disabled") {
		t.Fatalf("after the wait: status %q, cognito user %q; want unlinked, disabled", st.Status, st.Cognito)
	}
	_, stderr, code = runCLI(t, "admin", "show", "-kakao-id", fmt.Sprint(id), "-wait-status", "gone", "-endpoint-url", motoURL)
	if code == 0 || !strings.Contains(stderr, "one of active, unlinked, deleted") {
		t.Fatalf("-wait-status gone: exit %d %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "admin", "unlink", "-kakao-id", fmt.Sprint(id), "-wait-status", "unlinked", "-endpoint-url", motoURL)
	if code == 0 || !strings.Contains(stderr, "-wait-status is show's") {
		t.Fatalf("admin unlink -wait-status: exit %d %s", code, stderr)
	}
}
