package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// runUntil runs the CLI binary until it prints a line containing ready,
// then interrupts it (as Ctrl-C does) and returns what it printed up to
// there.
func runUntil(t *testing.T, ready string, args ...string) string {
	t.Helper()
	cmd := exec.Command(cliBinary(t), args...)
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out strings.Builder
	deadline := time.After(90 * time.Second)
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() {
			for range lines { // drain, so that the command can exit
			}
			_ = cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("kakaoauth %s did not stop on an interrupt", args[0])
		}
	}()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("kakaoauth %v ended before %q:\n%s\n%s", args, ready, out.String(), stderr.String())
			}
			out.WriteString(line + "\n")
			if strings.Contains(line, ready) {
				return out.String()
			}
		case <-deadline:
			t.Fatalf("kakaoauth %v did not print %q:\n%s\n%s", args, ready, out.String(), stderr.String())
		}
	}
}

// The local tools, run as a person runs them: bound to loopback they say
// nothing more; bound to every interface, each says which of its parts
// other machines can reach and what anyone could do there.
func TestExposedAddressesWarn(t *testing.T) {
	warned := func(out, what string) bool {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "warning: "+what+" listens on ") && strings.Contains(line, "other machines can reach") {
				return true
			}
		}
		return false
	}
	if out := runUntil(t, "fake Kakao listening", "fake-kakao", "-addr", "127.0.0.1:0"); strings.Contains(out, "warning:") {
		t.Errorf("fake-kakao on loopback warned:\n%s", out)
	}
	if out := runUntil(t, "fake Kakao listening", "fake-kakao", "-addr", "0.0.0.0:0"); !warned(out, "the Kakao double") {
		t.Errorf("fake-kakao on 0.0.0.0 did not warn:\n%s", out)
	}

	tryit := []string{"tryit", "-api-url", "http://127.0.0.1:1", "-user-pool-id", "us-east-1_Example", "-user-pool-client-id", "client",
		"-kakao-client-id", "restkey"}
	if out := runUntil(t, "CorsAllowedOrigins=", append(tryit, "-addr", "127.0.0.1:0")...); warned(out, "the try-it page (-addr)") {
		t.Errorf("tryit on loopback warned:\n%s", out)
	}
	if out := runUntil(t, "CorsAllowedOrigins=", append(tryit, "-addr", "0.0.0.0:0")...); !warned(out, "the try-it page (-addr)") {
		t.Errorf("tryit on 0.0.0.0 did not warn:\n%s", out)
	}

	motoAddr := strings.TrimPrefix(moto.ForTest(t).URL(), "http://")
	out := runUntil(t, "kakaoauth local stack is up", "local", "-addr", "0.0.0.0:0", "-kakao-addr", "0.0.0.0:0",
		"-moto-addr", motoAddr, "-template", "../../template.yaml", "-log-level", "warn")
	if !warned(out, "the login endpoint and try-it page (-addr)") || !warned(out, "the Kakao double (-kakao-addr)") || warned(out, "moto (-moto-addr)") {
		t.Errorf("kakaoauth local on 0.0.0.0 (moto on loopback):\n%s", out)
	}
}
