package moto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
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
	t.Chdir(t.TempDir()) // outside the repository: no .cache/python either
	t.Setenv("PATH", t.TempDir())
	t.Setenv("PYTHON", "")
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "install Python 3") {
		t.Fatalf("got %v", err)
	}
}

// A python3 without moto, like a fresh distro python: the runner says moto
// is missing (its exit status 3); outside the repository there is no
// install-tools.sh to run, so the error says how to install it.
func TestMissingPipIsExplained(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\nif [ \"$1\" = -m ]; then exit 1; fi\necho 'moto is not installed' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // outside the repository: it says what to run
	t.Setenv("PATH", dir)
	t.Setenv("PYTHON", "")
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "moto is not installed for "+filepath.Join(dir, "python3")) ||
		!strings.Contains(err.Error(), `-m pip install "moto[server]==`+RequiredMoto+`"`) || !strings.Contains(err.Error(), "make tools-run") {
		t.Fatalf("got %v", err)
	}
}

// Another moto release than the layer's: the runner's own message, which
// names both releases and the command that installs the right one.
func TestWrongMotoIsExplained(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'kakaoauth moto layer: moto 9.9.9 is installed, but ... install that version with: python3 -m pip install \"moto[server]==" + RequiredMoto + "\"' >&2\nexit 4\n"
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // no .cache/python: $PYTHON is the interpreter
	t.Setenv("PYTHON", filepath.Join(dir, "python3"))
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "moto 9.9.9 is installed") || !strings.Contains(err.Error(), "moto[server]=="+RequiredMoto) {
		t.Fatalf("got %v", err)
	}
}

// The real runner refuses another release: its check, run against a
// package metadata that says 0.0.1.
func TestRunnerRefusesAnotherMoto(t *testing.T) {
	py, err := python()
	if err != nil {
		t.Fatal(err)
	}
	dir, _, err := layerDir()
	if err != nil {
		t.Fatal(err)
	}
	// importlib.metadata finds a moto-0.0.1.dist-info first on PYTHONPATH.
	site := t.TempDir()
	info := filepath.Join(site, "moto-0.0.1.dist-info")
	if err := os.MkdirAll(info, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(info, "METADATA"), []byte("Metadata-Version: 2.1\nName: moto\nVersion: 0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join(dir, "runner.py"), "-p", "1")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+site)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitWrongMoto {
		t.Fatalf("runner with moto 0.0.1: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "moto 0.0.1 is installed") || !strings.Contains(string(out), "moto[server]=="+RequiredMoto) {
		t.Fatalf("runner's message: %s", out)
	}
}

// A running moto_server without the layer (or with another checkout's) is
// not reused: its Cognito would lack what the stack relies on.
func TestEnsureRefusesAServerWithoutTheLayer(t *testing.T) {
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moto-api/config":
			_, _ = w.Write([]byte(`{"batch":{"use_docker":true}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer bare.Close()
	_, err := Ensure(context.Background(), strings.TrimPrefix(bare.URL, "http://"), Options{})
	if err == nil || !strings.Contains(err.Error(), "without kakaoauth's layer") {
		t.Fatalf("Ensure on a bare moto: %v", err)
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

// One moto release everywhere: the runner's check, this package's
// RequiredMoto and the one infra/requirements-run.txt pins (which
// install-tools.sh installs).
func TestOneMotoRelease(t *testing.T) {
	runner, err := layerFiles.ReadFile("ext/runner.py")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(runner), `REQUIRED_MOTO = "`+RequiredMoto+`"`) {
		t.Errorf("ext/runner.py's REQUIRED_MOTO is not %s", RequiredMoto)
	}
	reqs, err := os.ReadFile("../requirements-run.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(reqs), "\nmoto[server]=="+RequiredMoto+"\n") {
		t.Errorf("infra/requirements-run.txt does not pin moto[server]==%s", RequiredMoto)
	}
}
