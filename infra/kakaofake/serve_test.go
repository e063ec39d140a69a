package kakaofake

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestMainServesUntilCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"-addr", "127.0.0.1:0", "-app-id", "77", "-app-keys", "k1, k2", "-admin-key", "secret-adm"}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no banner: %v (Main: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if strings.Contains(line, "secret-adm") {
		t.Fatalf("banner prints the admin key: %q", line)
	}
	fields := strings.Fields(line)
	var base string
	for _, f := range fields {
		if strings.HasPrefix(f, "http://") {
			base = f
		}
	}
	if base == "" {
		t.Fatalf("no URL in %q", line)
	}

	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["issuer"] != base {
		t.Fatalf("issuer %v, want the listener URL %s", disc["issuer"], base)
	}

	// The demo user is seeded, so the code flow works without setup: the
	// consent page offers it, and so does the programmatic shortcut.
	form := consentForm(t, do(t, http.MethodGet, base+"/oauth/authorize?"+url.Values{"client_id": {"k2"}, "redirect_uri": {"http://app/cb"}, "response_type": {"code"}}.Encode(), "", nil, ""))
	if form.Get("id") != "4242" {
		t.Fatalf("consent page offers %v, want the demo user", form)
	}
	r := do(t, http.MethodGet, base+"/oauth/authorize?"+url.Values{"client_id": {"k2"}, "redirect_uri": {"http://app/cb"}, "response_type": {"code"}, "user_id": {"4242"}}.Encode(), "", nil, "")
	if r.status != http.StatusFound {
		t.Fatalf("authorize with the second app key: %d", r.status)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
}

func TestMainFlagsFromEnv(t *testing.T) {
	t.Setenv("KAKAOFAKE_ADDR", "127.0.0.1:0")
	t.Setenv("KAKAOFAKE_APP_ID", "4321")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Main(ctx, nil, pw); pw.Close() }()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "app_id 4321") || strings.Contains(line, ":8081") {
		t.Fatalf("env not honoured: %q", line)
	}

	if err := Main(context.Background(), []string{"extra"}, io.Discard); err == nil {
		t.Fatal("stray argument accepted")
	}
	if err := Main(context.Background(), []string{"-nope"}, io.Discard); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func TestServeSetsBaseURL(t *testing.T) {
	f, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Serve(ctx, "127.0.0.1:0") }()
	deadline := time.Now().Add(5 * time.Second)
	for f.BaseURL() == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	resp, err := http.Get(f.BaseURL() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := f.Serve(context.Background(), "256.0.0.1:1"); err == nil {
		t.Fatal("bad address accepted")
	}
}
