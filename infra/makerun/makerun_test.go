//go:build unix

// Package makerun_test proves `make run` needs only Go and Python: it
// brings the local stack up with a PATH that has no browser, no Node, no
// npm and no package manager, and the login endpoint answers.
package makerun_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// missing are the programs `make run` must not need: the browser tests'
// Chromium (and Chrome), Node and npm (the template tests' Velocity
// engine), and the package managers install-tools.sh would install them
// with.
var missing = map[string]bool{
	"chromium": true, "chromium-browser": true, "google-chrome": true, "google-chrome-stable": true,
	"node": true, "nodejs": true, "npm": true, "npx": true,
	"apt-get": true, "apt": true, "dpkg": true, "dpkg-query": true, "brew": true,
}

// pathWithout is a PATH of one directory holding a link to every program
// on PATH but the missing ones.
func pathWithout(t *testing.T) string {
	t.Helper()
	farm := t.TempDir()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if missing[name] {
				continue
			}
			target := filepath.Join(dir, name)
			if fi, err := os.Stat(target); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				continue
			}
			if _, err := os.Lstat(filepath.Join(farm, name)); err == nil {
				continue // an earlier PATH entry wins, as in a shell
			}
			if err := os.Symlink(target, filepath.Join(farm, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return farm
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

func TestMakeRunWithoutBrowserOrNode(t *testing.T) {
	path := pathWithout(t)
	for name := range missing {
		if _, err := exec.LookPath(filepath.Join(path, name)); err == nil {
			t.Fatalf("%s is still reachable", name)
		}
	}
	api, kakao, moto := freeAddr(t), freeAddr(t), freeAddr(t)
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "CHROMIUM" {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+path, "KAKAOAUTH_ADDR="+api, "KAKAOAUTH_KAKAO_ADDR="+kakao, "KAKAOAUTH_MOTO_ADDR="+moto)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Dir = "../.."
	cmd.Env = env
	// Its own process group, as a terminal's: Ctrl-C reaches make, go run,
	// kakaoauth local and the moto it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	up := make(chan struct{})
	var stdout bytes.Buffer
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			stdout.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "kakaoauth local stack is up.") {
				close(up)
			}
		}
		_, _ = io.Copy(io.Discard, out)
		done <- cmd.Wait()
	}()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Error("make run did not stop on Ctrl-C")
			<-done
		}
	}()
	select {
	case <-up:
	case err := <-done:
		t.Fatalf("make run exited before the stack came up: %v\n%s%s", err, stdout.String(), stderr.String())
	case <-ctx.Done():
		t.Fatalf("make run: the stack did not come up\n%s%s", stdout.String(), stderr.String())
	}

	// A login through the endpoint, with a token from the Kakao double.
	post := func(url, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	id := strconv.FormatInt(9_000_000+time.Now().UnixNano()%1_000_000, 10)
	if status, _ := post("http://"+kakao+"/_fake/users", `{"id":`+id+`,"email":null,"nickname":"n"}`); status != http.StatusCreated {
		t.Fatalf("creating a Kakao user at the double: %d", status)
	}
	_, tok := post("http://"+kakao+"/_fake/tokens", `{"user_id":`+id+`}`)
	status, body := post("http://"+api+"/auth/kakao", `{"access_token":"`+tok["access_token"].(string)+`"}`)
	if status != http.StatusOK || body["username"] != "kakao_"+id {
		t.Fatalf("POST /auth/kakao: %d %v\n%s", status, body, stderr.String())
	}
	if status, body := post("http://"+api+"/auth/kakao", `{}`); status != http.StatusBadRequest || body["error"] != "InvalidRequest" {
		t.Fatalf("POST /auth/kakao {}: %d %v", status, body)
	}
	for _, word := range []string{"chromium", "velocityjs", "npm"} {
		if strings.Contains(strings.ToLower(stdout.String()+stderr.String()), word) {
			t.Errorf("make run mentions %s:\n%s%s", word, stdout.String(), stderr.String())
		}
	}
}
