package examples_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// The docs' backend examples (docs/app-integration.md), run as an app
// team runs them, against tokens of the local stack: each verifies the
// pool's ID token itself and answers GET /profile, and refuses what API
// Gateway's Cognito authorizer refuses.

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// start runs cmd with env and waits for the address it prints.
func start(t *testing.T, cmd *exec.Cmd, env map[string]string) string {
	t.Helper()
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		var out struct{ Listening string }
		if err := json.Unmarshal([]byte(line), &out); err != nil || out.Listening == "" {
			t.Fatalf("%s printed %q: %v\n%s", cmd.Path, line, err, stderr.String())
		}
		return out.Listening
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start: %s", cmd.Path, stderr.String())
	}
	return ""
}

func get(t *testing.T, url, authorization string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestBackendsVerifyTheStacksTokens(t *testing.T) {
	s := localstack.ForTest(t, "../template.yaml")
	st := s.Stack()
	login := kakaoLogin(t, s)
	idToken := login["id_token"].(string)

	bin := filepath.Join(t.TempDir(), "go-backend")
	if out, err := exec.Command("go", "build", "-o", bin, "./go-backend").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join("node-backend", "node_modules", "aws-jwt-verify")); err != nil {
		t.Fatalf("aws-jwt-verify is not installed in examples/node-backend: run `make tools` (infra/install-tools.sh runs npm ci there): %v", err)
	}
	backends := map[string]string{
		"go": start(t, exec.Command(bin), map[string]string{"AWS_REGION": moto.Region, "USER_POOL_ID": st.UserPoolID,
			"USER_POOL_CLIENT_ID": st.UserPoolClientID, "COGNITO_ENDPOINT": s.MotoURL(), "PORT": "0"}),
		"node": start(t, exec.Command("node", filepath.Join("node-backend", "server.js")), map[string]string{"USER_POOL_ID": st.UserPoolID,
			"USER_POOL_CLIENT_ID": st.UserPoolClientID, "COGNITO_JWKS_URL": s.MotoURL() + "/" + st.UserPoolID + "/.well-known/jwks.json", "PORT": "0"}),
	}
	parts := strings.Split(idToken, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	for name, base := range backends {
		t.Run(name, func(t *testing.T) {
			for _, auth := range []string{"Bearer " + idToken, idToken} {
				status, body := get(t, base+"/profile", auth)
				if status != http.StatusOK || body["sub"] != login["sub"] || body["kakao_id"] != fmt.Sprint(kakaofake.DemoUser.ID) {
					t.Errorf("GET /profile with %.7s...: %d %v", auth, status, body)
				}
			}
			for what, auth := range map[string]string{
				"no token": "", "the access token": "Bearer " + login["access_token"].(string), "a forged signature": "Bearer " + forged,
				"the refresh token": "Bearer " + login["refresh_token"].(string),
			} {
				if status, body := get(t, base+"/profile", auth); status != http.StatusUnauthorized || body["error"] != "Unauthorized" {
					t.Errorf("%s: %d %v", what, status, body)
				}
			}
			if status, _ := get(t, base+"/elsewhere", "Bearer "+idToken); status != http.StatusNotFound {
				t.Errorf("another route: %d", status)
			}
		})
	}
}

// kakaoLogin logs the double's demo user in through the broker.
func kakaoLogin(t *testing.T, s *localstack.Main) map[string]any {
	t.Helper()
	post := func(url, body string) map[string]any {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", url, resp.StatusCode, out)
		}
		return out
	}
	tok := post(s.KakaoURL()+"/_fake/tokens", fmt.Sprintf(`{"user_id":%d}`, kakaofake.DemoUser.ID))
	return post(s.APIURL()+"/auth/kakao", fmt.Sprintf(`{"access_token":%q}`, tok["access_token"]))
}
