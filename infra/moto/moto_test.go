package moto

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		lifetimeHelper(mode)
	}
	os.Exit(RunTests(m))
}

// helperEnv makes the test binary, re-executed, start a moto and exit
// without Close, as a crashed or killed parent would.
const helperEnv = "MOTO_LIFETIME_HELPER"

func lifetimeHelper(mode string) {
	srv, err := Start(context.Background(), Options{Detached: mode == "detached"})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	fmt.Println(srv.URL(), srv.cmd.Process.Pid)
	os.Exit(0) // no Close
}

func TestForTestServesAWSAndResets(t *testing.T) {
	ctx := context.Background()
	srv := ForTest(t)
	if again := ForTest(t); again != srv {
		t.Fatal("ForTest started a second server in one test binary")
	}
	client := secretsmanager.NewFromConfig(AWSConfig(ctx, srv.URL()))
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: ptr("moto-test/s"), SecretString: ptr("v")}); err != nil {
		t.Fatalf("CreateSecret through BaseEndpoint: %v", err)
	}
	if _, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: ptr("moto-test/s")}); err != nil {
		t.Fatalf("GetSecretValue: %v", err)
	}
	if err := srv.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: ptr("moto-test/s")}); err == nil {
		t.Fatal("secret survived Reset")
	}
}

func TestStartEnsureClose(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if srv.Reused() {
		t.Fatal("a started server reports Reused")
	}
	addr := strings.TrimPrefix(srv.URL(), "http://")

	reused, err := Ensure(ctx, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reused.Reused() || reused.URL() != srv.URL() {
		t.Fatalf("Ensure did not reuse the running moto: %+v", reused)
	}
	if err := reused.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, err := probe(ctx, srv.URL()); err != nil || !ok {
		t.Fatalf("closing a reused server stopped moto: %v", err)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("moto still listening after Close")
	}
}

func TestEnsureStartsWhenNothingListens(t *testing.T) {
	ctx := context.Background()
	port, err := freePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	srv, err := Ensure(ctx, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if srv.Reused() || srv.URL() != "http://"+addr {
		t.Fatalf("Ensure: got %s reused=%v", srv.URL(), srv.Reused())
	}
}

func TestEnsureRefusesSomethingElse(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>not moto</html>"))
	}))
	defer other.Close()
	_, err := Ensure(context.Background(), strings.TrimPrefix(other.URL, "http://"), Options{})
	if err == nil || !strings.Contains(err.Error(), "other than moto") {
		t.Fatalf("Ensure on a non-moto server: %v", err)
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	script := writeScript(t, "fake-moto", "echo boom >&2; exit 3")
	_, err := Start(context.Background(), Options{Command: []string{script}})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("want early-exit error with moto's output, got %v", err)
	}
}

func TestStartRefusesATakenPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{Port: port})
	if err == nil || !strings.Contains(err.Error(), "cannot bind") {
		t.Fatalf("Start on a taken port: %v", err)
	}
}

func TestMissingPythonIsExplained(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "install Python 3") {
		t.Fatalf("got %v", err)
	}
}

func TestMissingPipIsExplained(t *testing.T) {
	dir := t.TempDir()
	// A python3 whose "-m pip" fails, like a distro python without pip.
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "install pip") {
		t.Fatalf("got %v", err)
	}
}

func writeScript(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr(s string) *string { return &s }
