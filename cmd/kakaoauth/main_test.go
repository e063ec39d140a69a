package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// One moto_server and one Chromium for the package's tests, started on
// first use; the CLI binary some tests build is removed at the end.
func TestMain(m *testing.M) {
	code := moto.RunTests(m)
	chromium.Shutdown()
	removeCLI()
	os.Exit(code)
}

func TestUsage(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), nil, io.Discard, &stderr); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Fatalf("no command: %v", err)
	}
	for _, c := range []string{"local", "fake-kakao", "login", "tryit"} {
		if !strings.Contains(stderr.String(), c) {
			t.Fatalf("usage does not list %s:\n%s", c, stderr.String())
		}
	}
	if err := run(context.Background(), []string{"nope"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
}

// The quickstart's path (docs/quickstart.md): `kakaoauth local` comes up and prints its URLs, the
// `login` client gets Cognito tokens whose signature verifies against the
// pool's JWKS, and cancelling (Ctrl-C) stops it cleanly.
func TestLocalThenLogin(t *testing.T) {
	motoURL := moto.ForTest(t).URL()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"local", "-addr", "127.0.0.1:0", "-kakao-addr", "127.0.0.1:0",
			"-moto-addr", strings.TrimPrefix(motoURL, "http://"), "-template", "../../template.yaml"}, pw, io.Discard)
		pw.Close()
	}()
	urls := map[string]string{}
	lines := bufio.NewScanner(pr)
	re := regexp.MustCompile(`^\s+(try-it page|login endpoint|Kakao double)\s+(?:POST )?(http://[^/\s]+)`)
	for len(urls) < 3 && lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			urls[m[1]] = m[2]
		}
	}
	if len(urls) < 3 {
		t.Fatalf("local did not print its URLs (%v): %v", urls, <-done)
	}
	go io.Copy(io.Discard, pr)

	// The try-it page is on the login endpoint's address (the browser
	// tests in infra/tryit click through it).
	if urls["try-it page"] != urls["login endpoint"] {
		t.Fatalf("try-it page at %s, login endpoint at %s", urls["try-it page"], urls["login endpoint"])
	}
	resp, err := http.Get(urls["try-it page"] + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="kakao-login"`) {
		t.Fatalf("try-it page: %d", resp.StatusCode)
	}

	var out bytes.Buffer
	err = run(ctx, []string{"login", "-api-url", urls["login endpoint"], "-kakao-url", urls["Kakao double"], "-endpoint-url", motoURL, "-kakao-id", "777"}, &out, io.Discard)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, out.String())
	}
	for _, want := range []string{"HTTP 200", "username=kakao_777", "new_user=true", "ID token signature verified", "custom:kakao_id=777"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("login output lacks %q:\n%s", want, out.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("local after Ctrl-C: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("local did not stop")
	}
	// The endpoint is gone.
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(urls["login endpoint"], "http://"), time.Second); err == nil {
		c.Close()
		t.Fatal("the login endpoint still listens after Ctrl-C")
	}
}
