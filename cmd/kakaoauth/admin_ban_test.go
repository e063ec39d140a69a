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

// An operator's ban through the real binary: `admin ban` refuses the
// account's Kakao login (403 AccountBanned) and disables its user,
// `admin show` says so, `admin relink` will not undo it, `admin unban`
// lifts it; audited with the operator's identity.
func TestAdminBanThroughTheBinary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stack, motoURL := startLocalStack(t, func(c *localstack.Config) { c.SweepEvery = -1 })
	user := 8_000_000 + time.Now().UnixNano()%1_000_000
	id := fmt.Sprint(user)
	login := LoginMain{APIURL: stack.APIURL(), KakaoURL: stack.KakaoURL(), UserID: user, Out: io.Discard, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if err := login.Run(ctx); err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) (string, string, int) {
		t.Helper()
		return runCLI(t, append(append([]string{"admin"}, args...), "-kakao-id", id, "-endpoint-url", motoURL)...)
	}
	show := func() map[string]any {
		t.Helper()
		out, stderr, code := admin("show", "-json")
		var st map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("show: exit %d %s%s", code, out, stderr)
		}
		return st
	}

	if out, stderr, code := admin("ban", "-until", "72h", "-reason", "abuse report 42"); code != 0 || !strings.Contains(out, "banned until") {
		t.Fatalf("ban: exit %d %s%s", code, out, stderr)
	}
	st := show()
	if ban, _ := st["ban"].(string); !strings.Contains(ban, "by arn:aws:") || !strings.Contains(ban, "abuse report 42") || st["cognitoUser"] != "disabled, email user"+id+"@example.com" {
		t.Fatalf("show after the ban %v", st)
	}
	if err := login.Run(ctx); err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "AccountBanned") {
		t.Fatalf("login of a banned account: %v", err)
	}
	// A re-link cannot undo it either.
	if out, _, code := admin("unlink"); code != 0 || !strings.Contains(out, "unlinked") {
		t.Fatalf("unlink: %s", out)
	}
	if _, stderr, code := admin("relink"); code == 0 || !strings.Contains(stderr, "banned") {
		t.Fatalf("relink of a banned account: exit %d %s", code, stderr)
	}
	if out, stderr, code := admin("unban"); code != 0 || !strings.Contains(out, "unbanned") {
		t.Fatalf("unban: exit %d %s%s", code, out, stderr)
	}
	if out, _, code := admin("unban"); code != 0 || !strings.Contains(out, "not banned") {
		t.Fatalf("second unban: %s", out)
	}
	if err := login.Run(ctx); err != nil {
		t.Fatalf("login after the unban: %v", err)
	}
	reader := store.NewReader(dynamodb.NewFromConfig(moto.AWSConfig(ctx, motoURL)), stack.Stack().MappingTable, stack.Stack().AuditTable)
	var got []string
	for ev, err := range reader.UserEvents(ctx, user, store.TimeRange{}, store.EventFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == kakaoauth.EventBanned || ev.Type == kakaoauth.EventUnbanned {
			if !strings.Contains(ev.Detail, "by=arn:aws:") {
				t.Fatalf("%s without the operator: %s", ev.Type, ev.Detail)
			}
			got = append(got, ev.Type)
		}
	}
	if strings.Join(got, ",") != "banned,unbanned" {
		t.Fatalf("audit %v", got)
	}
	for _, bad := range [][]string{{"ban", "-until", "-5m"}, {"ban", "-until", "2001-01-01T00:00:00Z"}, {"unlink", "-reason", "x"}} {
		if _, stderr, code := admin(bad...); code == 0 || stderr == "" {
			t.Fatalf("admin %v: exit %d", bad, code)
		}
	}
}
