package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

// `kakaoauth local` killed with SIGKILL while 20 first logins run, then
// started again on the same moto: the next login of every account
// succeeds, and each account has exactly one Cognito user (by username and
// by email) and one active mapping with that user's sub. A crash can stop
// a login anywhere between AdminCreateUser and its last write; whatever it
// left, the next login finishes or adopts.
func TestLocalStackSurvivesKill9(t *testing.T) {
	motoURL := moto.ForTest(t).URL()
	apiAddr, kakaoAddr := freeAddr(t), freeAddr(t)
	api, kakao := "http://"+apiAddr, "http://"+kakaoAddr
	client := &http.Client{Timeout: 30 * time.Second}

	start := func() (*exec.Cmd, *bytes.Buffer) {
		t.Helper()
		var out bytes.Buffer
		cmd := exec.Command(cliBinary(t), "local", "-addr", apiAddr, "-kakao-addr", kakaoAddr,
			"-moto-addr", strings.TrimPrefix(motoURL, "http://"), "-template", "../../template.yaml", "-log-level", "warn")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			resp, err := client.Post(api+"/auth/kakao", "application/json", strings.NewReader(`{}`))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusBadRequest {
					return cmd, &out
				}
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("kakaoauth local did not come up:\n%s", out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	post := func(url string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		resp, err := client.Post(url, "application/json", bytes.NewReader(b))
		if err != nil {
			return 0, map[string]any{"transport": err.Error()}
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	const n = 20
	first := int64(9_000_000 + time.Now().UnixNano()%100_000*100) // fresh on every run against one moto
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	email := func(id int64) string { return fmt.Sprintf("crash%d@example.com", id) }
	// The double keeps its users in memory: they are made again after the
	// restart, as Kakao would still know them.
	tokens := func() []string {
		out := make([]string, n)
		for i, id := range ids {
			if status, body := post(kakao+"/_fake/users", map[string]any{"id": id, "email": email(id), "is_email_verified": true, "is_email_valid": true, "nickname": "c"}); status/100 != 2 {
				t.Fatalf("kakao user: %d %v", status, body)
			}
			status, body := post(kakao+"/_fake/tokens", map[string]any{"user_id": id})
			if status/100 != 2 {
				t.Fatalf("tokens: %d %v", status, body)
			}
			out[i] = body["access_token"].(string)
		}
		return out
	}

	cmd, out := start()
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, motoURL)
	names := provision.NamesFor(localstack.DefaultPrefix)
	idp := cip.NewFromConfig(cfg)
	poolID, err := localPoolID(ctx, idp, names.UserPool)
	if err != nil {
		t.Fatal(err)
	}
	mappings := store.NewMappings(dynamodb.NewFromConfig(cfg), names.MappingTable)
	exists := func(id int64) bool {
		_, err := idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(kakaoauth.Username(id))})
		return err == nil
	}
	toks := tokens()
	statuses := make([]int, n)
	answered := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses[i], _ = post(api+"/auth/kakao", map[string]string{"access_token": toks[i]})
			answered <- struct{}{}
		})
	}
	// Kill as soon as the first Cognito user exists: the other logins are
	// then before, in or just after their AdminCreateUser.
	for created := false; !created; {
		select {
		case <-answered:
			created = true
		default:
			for _, id := range ids {
				if exists(id) {
					created = true
					break
				}
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()
	done := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			done++
		}
	}
	t.Logf("%d of %d logins answered 200 before the kill", done, n)
	if done == n {
		t.Fatalf("every login finished before the kill: nothing was interrupted\n%s", out.String())
	}

	// What the crash left: users without a mapping are what the restart
	// must adopt.
	users, mapped := 0, 0
	for _, id := range ids {
		if exists(id) {
			users++
		}
		if _, err := mappings.Get(ctx, id); err == nil {
			mapped++
		}
	}
	t.Logf("after the kill: %d users, %d mappings for %d accounts", users, mapped, n)

	cmd, out = start()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	toks = tokens()
	subs := map[int64]string{}
	for i, id := range ids {
		status, body := post(api+"/auth/kakao", map[string]string{"access_token": toks[i]})
		if status != http.StatusOK {
			t.Fatalf("kakao %d after the restart: %d %v\n%s", id, status, body, out.String())
		}
		subs[id] = body["sub"].(string)
	}

	for _, id := range ids {
		users, err := idp.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(poolID), Filter: aws.String(fmt.Sprintf("email = %q", email(id)))})
		if err != nil {
			t.Fatal(err)
		}
		if len(users.Users) != 1 || aws.ToString(users.Users[0].Username) != kakaoauth.Username(id) {
			t.Errorf("kakao %d: users with its email: %d", id, len(users.Users))
		}
		m, err := mappings.Get(ctx, id)
		if err != nil || m.Sub != subs[id] || m.Status != kakaoauth.StatusActive {
			t.Errorf("kakao %d: mapping %+v %v, want active with sub %s", id, m, err, subs[id])
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
